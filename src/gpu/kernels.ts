// The compute pipelines of one model: each WGSL kernel compiled with the override
// constants of the layer it serves (its tile plan among them, tiles.ts), with explicit
// bind group layouts from the binding table of abi.ts. Pipelines are cached per device,
// so a second trainer of the same shape (another `fit` on new data, a prediction)
// compiles nothing.

import { ACTIVATION_CODE, GROUP0, LOSS_CODE, OPTIMIZER_CODE, STEP_UNIFORM_BYTES, USES_STEP, type KernelName } from './abi.ts';
import type { GpuProfile } from './adapters.ts';
import { layerInputs, layerParameter, type LayerSpec, type ModelSpec } from '../model/model.ts';
import { ACTIVATION_OPS } from '../model/ops/activations.ts';
import { dropoutThreshold, drops } from '../model/dropout.ts';
import { constantsOf, OPTIMIZER_OPS, weightDecayOf, type OptimizerSpec } from '../model/ops/optimizers.ts';
import { shaderSource } from './shaders.ts';
import { chooseMatmul, planConstants, type MatmulPlan, type MatmulShape } from './tiles.ts';

/** Layers train_tiny.wgsl has override constants for. */
export const FUSED_MAX_LAYERS = 4;
/** The widest layer (or input) train_tiny.wgsl takes, and the most elements one phase may have. */
export const FUSED_MAX_UNITS = 64;
export const FUSED_MAX_PHASE = 4096;
/** Threads of a split product's `finish` pass, per workgroup. */
export const FINISH_THREADS = 256;
/** Threads of softmax.wgsl (prediction), per workgroup. */
export const SOFTMAX_THREADS = 64;
/** Threads of gather_batch.wgsl, per workgroup. */
export const GATHER_THREADS = 64;
/** Threads per workgroup of the output stage (output_delta.wgsl): one per sample. */
export const OUTPUT_THREADS = 64;
/** Threads per workgroup of grad_norm.wgsl, and the most workgroups it takes (each leaves one partial sum). */
export const NORM_THREADS = 256;
export const MAX_NORM_GROUPS = 64;
/** Threads per workgroup of finite_check.wgsl, and the most workgroups it is dispatched with. */
export const FINITE_CHECK_THREADS = 256;
export const FINITE_CHECK_GROUPS = 256;

export interface Kernel {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

/** A matrix product: its tile plan, its kernel, and the pass that finishes a split product. */
export interface MatmulKernel {
  plan: MatmulPlan;
  main: Kernel;
  finish?: Kernel;
}

/** The forward pass alone (prediction): one product per layer, never split, and softmax. */
export interface ForwardKernels {
  forward: MatmulKernel[]; // per layer
  softmax: Kernel;
}

/** One kernel per job of a step, dispatched one after another. */
export interface LayeredKernels {
  path: 'layered';
  /** Compiled to write every named buffer (see GpuTrainerOptions.capture). */
  capture: boolean;
  forward: MatmulKernel[]; //                   per layer; the first reads the dataset, the last leaves its net to `output`
  output: Kernel; //                            output_delta.wgsl: out, loss and δ of the output layer
  outputGroups: number; //                      its workgroups: each leaves one share of the loss
  hiddenDelta: (MatmulKernel | undefined)[]; // per layer; none for the output layer
  weightUpdate: MatmulKernel[]; //              per layer; the first reads the dataset
  gather: Kernel; //                            gather_batch.wgsl: the batch as named buffers (capture only)
  /** Where the gradient is clipped: grad_norm.wgsl over its workgroups, then weight_update.wgsl's `apply` per layer. */
  clip?: { norm: Kernel; groups: number; apply: Kernel[] };
  stepLayout: GPUBindGroupLayout;
}

/** train_tiny.wgsl: many whole steps in one dispatch. */
export interface FusedKernels {
  path: 'fused';
  train: Kernel;
  workgroupSize: number;
}

/** The three products of each layer: their shapes for a batch of `batch`. */
function layerShapes(spec: ModelSpec, batch: number) {
  const L = spec.layers.length;
  return spec.layers.map((layer, l) => ({
    // (B, OUT) = (B, IN) · (IN, OUT)
    forward: { m: batch, n: layer.units, k: layerInputs(spec, l) } as MatmulShape,
    // (B, OUT) = (B, NEXT) · (NEXT, OUT)
    hidden: l < L - 1 ? ({ m: batch, n: layer.units, k: spec.layers[l + 1].units } as MatmulShape) : undefined,
    // (OUT, IN) = (OUT, B) · (B, IN)
    update: { m: layer.units, n: layerInputs(spec, l), k: batch } as MatmulShape,
  }));
}

/** weight_update.wgsl's own workgroup memory: the bias sums. */
export const updateStorage = (tileM: number, threads: number) => 4 * (tileM + threads);

/** The tile plan of each layer's three products on this adapter. */
export function layerPlans(spec: ModelSpec, batch: number, profile: GpuProfile) {
  return layerShapes(spec, batch).map((shapes) => ({
    forward: chooseMatmul(shapes.forward, profile),
    hidden: shapes.hidden ? chooseMatmul(shapes.hidden, profile) : undefined,
    update: chooseMatmul(shapes.update, profile, { extraColumns: 1, extraStorage: updateStorage }),
  }));
}

/**
 * Whether a network is small enough for train_tiny.wgsl: up to 4 layers of at most 64
 * units (and inputs), and phases of at most 4096 elements, where one workgroup does a
 * step faster than a dozen dispatches can be issued.
 */
export function fitsFusedKernel(spec: ModelSpec, batch: number): boolean {
  const widths = [spec.inputSize, ...spec.layers.map((layer) => layer.units)];
  return spec.layers.length <= FUSED_MAX_LAYERS && Math.max(...widths) <= FUSED_MAX_UNITS && batch * Math.max(...widths) <= FUSED_MAX_PHASE;
}

/**
 * Threads for train_tiny.wgsl: a power of two up to 64, no more than the widest phase has
 * elements (rounded down: a thread idle in every phase still waits at every barrier).
 */
export function fusedWorkgroupSize(spec: ModelSpec, batch: number): number {
  const widths = [spec.inputSize, ...spec.layers.map((layer) => layer.units)];
  const widest = Math.max(...spec.layers.map((layer, l) => layer.units * (layerInputs(spec, l) + 1)), batch * Math.max(...widths));
  return Math.min(64, 2 ** Math.floor(Math.log2(widest)));
}

/** A device's compiled modules and pipelines, by kernel and constants. */
interface DeviceCache {
  modules: Map<string, Promise<GPUShaderModule>>;
  layouts: Map<KernelName, GPUBindGroupLayout>;
  kernels: Map<string, Promise<Kernel>>;
  stepLayout: GPUBindGroupLayout;
}

const caches = new WeakMap<GPUDevice, DeviceCache>();

function deviceCache(device: GPUDevice): DeviceCache {
  let cache = caches.get(device);
  if (!cache) {
    const stepLayout = device.createBindGroupLayout({
      label: 'step',
      entries: [{ binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform', hasDynamicOffset: true, minBindingSize: STEP_UNIFORM_BYTES } }],
    });
    cache = { modules: new Map(), layouts: new Map(), kernels: new Map(), stepLayout };
    caches.set(device, cache);
  }
  return cache;
}

function shaderModule(device: GPUDevice, name: KernelName, subgroups: boolean): Promise<GPUShaderModule> {
  const { modules } = deviceCache(device);
  const key = `${name}${subgroups ? ' subgroups' : ''}`;
  let module = modules.get(key);
  if (!module) {
    module = shaderSource(name, { subgroups }).then((code) => device.createShaderModule({ label: name, code }));
    modules.set(key, module);
  }
  return module;
}

/** The layout of group 1: the Step uniform, at a dynamic offset. */
export function stepBindGroupLayout(device: GPUDevice): GPUBindGroupLayout {
  return deviceCache(device).stepLayout;
}

/** The bind group layout of a kernel's group 0 (one per kernel: every entry point and constant shares it). */
export function bindGroupLayout(device: GPUDevice, name: KernelName): GPUBindGroupLayout {
  const cache = deviceCache(device);
  let layout = cache.layouts.get(name);
  if (!layout) {
    layout = device.createBindGroupLayout({
      label: name,
      entries: GROUP0[name].map((type, binding) => ({ binding, visibility: GPUShaderStage.COMPUTE, buffer: { type } })),
    });
    cache.layouts.set(name, layout);
  }
  return layout;
}

export interface KernelOptions {
  /** The entry point (default `main`). */
  entryPoint?: string;
  /** Compile with the subgroup reductions (reduce_subgroups.wgsl) where the kernel reduces. */
  subgroups?: boolean;
  label?: string;
}

/** `name` compiled with `constants` (cached: the same kernel and constants compile once per device). */
export function kernel(device: GPUDevice, name: KernelName, constants: Record<string, number>, options: KernelOptions = {}): Promise<Kernel> {
  const cache = deviceCache(device);
  const entryPoint = options.entryPoint ?? 'main';
  const subgroups = Boolean(options.subgroups);
  const key = `${name} ${entryPoint} ${subgroups} ${JSON.stringify(Object.entries(constants).sort(([a], [b]) => a.localeCompare(b)))}`;
  let compiled = cache.kernels.get(key);
  if (!compiled) {
    const layout = bindGroupLayout(device, name);
    compiled = shaderModule(device, name, subgroups)
      .then((module) =>
        device.createComputePipelineAsync({
          label: options.label ?? name,
          layout: device.createPipelineLayout({ bindGroupLayouts: USES_STEP.has(name) ? [layout, cache.stepLayout] : [layout] }),
          compute: { module, entryPoint, constants },
        }),
      )
      .then((pipeline) => ({ pipeline, layout }));
    // A failed compilation is not kept: the next trainer tries again.
    compiled.catch(() => cache.kernels.delete(key));
    cache.kernels.set(key, compiled);
  }
  return compiled;
}

/** A product's kernel with its plan's constants, and its `finish` pass where the plan splits K. */
async function matmul(device: GPUDevice, name: KernelName, plan: MatmulPlan, constants: Record<string, number>, label: string, finishes = true): Promise<MatmulKernel> {
  const all = { ...constants, ...planConstants(plan) };
  const finishConstants = { ...constants, SPLIT_K: plan.splitK, FINISH_THREADS };
  const [main, finish] = await Promise.all([
    kernel(device, name, all, { label }),
    plan.splitK > 1 && finishes ? kernel(device, name, finishConstants, { entryPoint: 'finish', label: `${label} finish` }) : undefined,
  ]);
  return { plan, main, finish };
}

/** 1 where a width is a multiple of 4 (rows of that width are read as vec4s), else 0. */
const vec4 = (width: number) => (width % 4 === 0 ? 1 : 0);

/** A layer's activation as override constants: its code and parameter, and whether its slope needs net (ops.wgsl). */
function activationConstants(layer: LayerSpec): { ACTIVATION: number; ACTIVATION_PARAMETER: number; KEEP_NET: number } {
  return { ACTIVATION: ACTIVATION_CODE[layer.activation], ACTIVATION_PARAMETER: layerParameter(layer), KEEP_NET: ACTIVATION_OPS[layer.activation].derivativeNeedsNet ? 1 : 0 };
}

/** A training layer's activation and dropout (dropout.wgsl): a layer that drops keeps net, to take its slope before dropout. */
function trainingLayerConstants(layer: LayerSpec, l: number): Record<string, number> {
  const activation = activationConstants(layer);
  if (!drops(layer.dropout)) return activation;
  return { ...activation, KEEP_NET: 1, LAYER_INDEX: l, DROPOUT_THRESHOLD: dropoutThreshold(layer.dropout), DROPOUT_SCALE: 1 / (1 - layer.dropout) };
}

/** The forward pass for prediction: rows in tiles of the plan for `batch` rows, no split, every net written. */
export async function createForwardKernels(device: GPUDevice, spec: ModelSpec, batch: number, profile: GpuProfile): Promise<ForwardKernels> {
  const shapes = layerShapes(spec, batch);
  const [forward, softmax] = await Promise.all([
    Promise.all(
      spec.layers.map((layer, l) => {
        const plan = chooseMatmul(shapes[l].forward, profile, { noSplit: true });
        const { ACTIVATION, ACTIVATION_PARAMETER } = activationConstants(layer);
        return matmul(device, 'forward', plan, { ACTIVATION, ACTIVATION_PARAMETER, VEC4_LOADS: vec4(layerInputs(spec, l)) }, `predict layer${l}`);
      }),
    ),
    kernel(device, 'softmax', { WORKGROUP_SIZE: SOFTMAX_THREADS }),
  ]);
  return { forward, softmax };
}

/** The trained parameters (every weight, and the biases where they train): what clipping's norm is over. */
export function trainedCount(spec: ModelSpec): number {
  return spec.layers.reduce((sum, layer, l) => sum + layer.units * (layerInputs(spec, l) + (spec.trainBiases ? 1 : 0)), 0);
}

/** grad_norm.wgsl's workgroups: enough that each thread sums some 16 gradients, at most MAX_NORM_GROUPS. */
export function normGroups(spec: ModelSpec): number {
  return Math.max(1, Math.min(MAX_NORM_GROUPS, Math.ceil(trainedCount(spec) / (16 * NORM_THREADS))));
}

/**
 * The update's override constants: the optimizer's code, state slots and weight decay, and
 * the clipping norm (common.wgsl), its constants (ops.wgsl), by its record.
 */
export function optimizerConstants(spec: ModelSpec, optimizer: OptimizerSpec, clipNorm?: number): Record<string, number> {
  const op = OPTIMIZER_OPS[optimizer.kind];
  const values = constantsOf(optimizer);
  return {
    CLIP_NORM: clipNorm ?? 0,
    OPTIMIZER: OPTIMIZER_CODE[optimizer.kind],
    STATE_SLOTS: op.stateSlots,
    WEIGHT_DECAY: weightDecayOf(optimizer),
    DECOUPLED_DECAY: op.decoupledDecay ? 1 : 0,
    TRAIN_BIASES: spec.trainBiases ? 1 : 0,
    ...Object.fromEntries(Object.entries(op.constants).map(([name, constant]) => [constant.override, values[name]])),
  };
}

/** `clipNorm`: the training's clipping, if any; `plans`: the tile plans to compile for, where the caller has sized buffers by them. */
export async function createLayeredKernels(
  device: GPUDevice,
  spec: ModelSpec,
  optimizer: OptimizerSpec,
  batch: number,
  profile: GpuProfile,
  capture: boolean,
  clipNorm: number | undefined,
  plans = layerPlans(spec, batch, profile),
): Promise<LayeredKernels> {
  const L = spec.layers.length;
  const CAPTURE = capture ? 1 : 0;
  const groups = normGroups(spec);
  const update = (l: number) => ({ ...optimizerConstants(spec, optimizer, clipNorm), NORM_GROUPS: groups, GATHER: l === 0 ? 1 : 0, CAPTURE, VEC4_A: vec4(spec.layers[l].units), VEC4_B: vec4(layerInputs(spec, l)) });
  const [forward, output, hiddenDelta, weightUpdate, gather, clip] = await Promise.all([
    Promise.all(
      spec.layers.map((layer, l) => {
        const last = l === L - 1;
        const constants = { ...trainingLayerConstants(layer, l), GATHER: l === 0 ? 1 : 0, OUTPUT: last ? 1 : 0, CAPTURE, VEC4_LOADS: vec4(layerInputs(spec, l)) };
        // The output layer's split is finished by output_delta.wgsl.
        return matmul(device, 'forward', plans[l].forward, constants, `forward layer${l}`, !last);
      }),
    ),
    kernel(
      device,
      'output_delta',
      { ACTIVATION: ACTIVATION_CODE[spec.layers[L - 1].activation], ACTIVATION_PARAMETER: layerParameter(spec.layers[L - 1]), LOSS: LOSS_CODE[spec.loss], SPLIT_K: plans[L - 1].forward.splitK, CAPTURE, THREADS: OUTPUT_THREADS },
      { subgroups: profile.subgroups, label: 'output delta' },
    ),
    Promise.all(
      spec.layers.map((layer, l) => {
        const plan = plans[l].hidden;
        if (!plan) return undefined;
        const constants = { ...trainingLayerConstants(layer, l), VEC4_A: vec4(spec.layers[l + 1].units), VEC4_B: vec4(layer.units) };
        return matmul(device, 'hidden_delta', plan, constants, `hidden delta layer${l}`);
      }),
    ),
    Promise.all(spec.layers.map((_, l) => matmul(device, 'weight_update', plans[l].update, update(l), `weight update layer${l}`))),
    kernel(device, 'gather_batch', { WORKGROUP_SIZE: GATHER_THREADS }),
    clipNorm === undefined
      ? undefined
      : Promise.all([
          kernel(device, 'grad_norm', { RANGES: spec.layers.length * (spec.trainBiases ? 2 : 1), THREADS: NORM_THREADS }, { subgroups: profile.subgroups, label: 'gradient norm' }),
          Promise.all(spec.layers.map((_, l) => kernel(device, 'weight_update', { ...update(l), FINISH_THREADS }, { entryPoint: 'apply', label: `clipped update layer${l}` }))),
        ]).then(([norm, apply]) => ({ norm, groups, apply })),
  ]);
  return {
    path: 'layered',
    capture,
    forward,
    output,
    outputGroups: Math.ceil(batch / OUTPUT_THREADS),
    hiddenDelta,
    weightUpdate,
    gather,
    clip,
    stepLayout: deviceCache(device).stepLayout,
  };
}

/** `network`: train_tiny.wgsl's override constants for this network (sizes, codes, offsets). */
export async function createFusedKernels(device: GPUDevice, spec: ModelSpec, batch: number, network: Record<string, number>): Promise<FusedKernels> {
  const workgroupSize = fusedWorkgroupSize(spec, batch);
  const train = await kernel(device, 'train_tiny', { ...network, WORKGROUP_SIZE: workgroupSize });
  return { path: 'fused', train, workgroupSize };
}

/** finite_check.wgsl: whether the parameters and the optimizer's state are all finite, once per chunk. */
export function createFiniteCheck(device: GPUDevice): Promise<Kernel> {
  return kernel(device, 'finite_check', { WORKGROUP_SIZE: FINITE_CHECK_THREADS });
}
