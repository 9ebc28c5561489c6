// The compute pipelines of one model: each WGSL kernel compiled with its override
// constants (its tile plan among them, tiles.ts), with explicit bind group layouts from
// the binding table of abi.ts. Pipelines are cached per device, so a second trainer of the
// same shape (another `fit` on new data) compiles nothing. No constant depends on the
// batch size, nor on what sets a layer apart but the choices that shape a kernel's code
// (constants.ts; the rest is the Layer uniform's), and a product takes a plan another
// pipeline of its kernel has where that is about as cheap as the best (choosePlans in
// tiles.ts): the layers' forward products share one pipeline where they can, a new batch
// size compiles nothing, nor does a prediction after training. A call compiles only the
// kernels it runs (gather_batch only where a trainer captures).

import { ACTIVATION_CODE, GROUP0, LOSS_CODE, STEP_UNIFORM_BYTES, USES_STEP, type KernelName } from './abi.ts';
import type { GpuProfile } from './adapters.ts';
import { forwardConstants, hiddenConstants, normGroups, NORM_THREADS, updateConstants, type TrainingSetting } from './constants.ts';
import { layerInputs, layerParameter, type ModelSpec } from '../model/model.ts';
import { shaderSource } from './shaders.ts';
import { choosePlans, holdsATile, planConstants, type ChooseOptions, type MatmulPlan, type MatmulShape, type PlanRequest } from './tiles.ts';
import { BackpropError } from '../errors.ts';

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

/** The forward pass alone (prediction): one product per layer, never split (the first reads rows by batch_rows), and a softmax output layer's own pass. */
export interface ForwardKernels {
  forward: MatmulKernel[]; // per layer
  softmax?: Kernel; //        where the output layer is a softmax
}

/** Each layer's three products' plans. */
export interface LayerPlans {
  forward: MatmulPlan;
  hidden: MatmulPlan | undefined; // none for the output layer
  update: MatmulPlan; //             every layer's the same constants: one dispatch runs them all
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
  weightUpdate: MatmulKernel; //               every layer's in one dispatch (z: layer, split); `plan` is the first layer's
  updatePlans: MatmulPlan[]; //                 each layer's plan of it: the same constants, its own workgroups
  gather?: Kernel; //                           gather_batch.wgsl: the batch as named buffers (capture only)
  /** Where the gradient is clipped: grad_norm.wgsl over its workgroups, then weight_update.wgsl's `apply` (z: layer). */
  clip?: { norm: Kernel; groups: number; apply: Kernel };
  /** softmax.wgsl for a softmax output layer: not a step's, but the trainer's predictions run it after training's forward kernels. */
  softmax?: Kernel;
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

/** weight_update.wgsl's bias sums, kept in a_tile: (PHASES, TILE_M) floats, PHASES · TILE_M ≤ max(THREADS, TILE_M). */
export const biasSumFloats = (tileM: number, threads: number) => tileM + threads;

/** weight_update.wgsl's plan options: a column of bias workgroups, whose sums a_tile holds. */
export const UPDATE_OPTIONS: ChooseOptions = { extraColumns: 1, aTileFloats: biasSumFloats };

/** A matrix product tuned on its own (tune.ts): where it serves, its shape, its kernel, and what its plan is chosen with. */
export interface PlannedProduct {
  l: number;
  kind: keyof LayerPlans;
  /** Its dispatch's label, e.g. `forward layer0`: unique among a step's products. */
  label: string;
  shape: MatmulShape;
  options: ChooseOptions;
  name: KernelName;
  /** Its kernel's constants besides the plan's (needs a TrainingSetting). */
  constants: () => Record<string, number>;
  /** Its own `finish` pass adds a split up (the output layer's forward product is finished by output_delta.wgsl). */
  finishes: boolean;
  /** A training step's product (its layer's uniform as training packs it: layerUniform), or prediction's. */
  training: boolean;
}

/**
 * The products of a training step that run one to a dispatch, and so are tuned one by
 * one: each layer's forward product, and the δ of each layer below the output. (The
 * weight updates, one dispatch for every layer, take the cost model's plan.)
 */
export function stepProducts(spec: ModelSpec, batch: number, setting?: TrainingSetting): PlannedProduct[] {
  const L = spec.layers.length;
  return layerShapes(spec, batch).flatMap((shapes, l) => {
    const entries: PlannedProduct[] = [{ l, kind: 'forward', label: `forward layer${l}`, shape: shapes.forward, options: {}, name: 'forward', constants: () => forwardConstants(spec, l, setting!.capture, true), finishes: l < L - 1, training: true }];
    if (shapes.hidden) entries.push({ l, kind: 'hidden', label: `hidden delta layer${l}`, shape: shapes.hidden, options: {}, name: 'hidden_delta', constants: () => hiddenConstants(spec, l), finishes: true, training: true });
    return entries;
  });
}

/** The products of prediction: each layer's forward product over `batch` rows, never split. */
export function forwardProducts(spec: ModelSpec, batch: number, capture: boolean): PlannedProduct[] {
  return layerShapes(spec, batch).map((shapes, l) => ({ l, kind: 'forward', label: `predict layer${l}`, shape: shapes.forward, options: { noSplit: true }, name: 'forward', constants: () => forwardConstants(spec, l, capture, false), finishes: true, training: false }));
}

/** A product's request of choosePlans: its pipeline family is its kernel and constants (the plan's aside). */
function planRequest(device: GPUDevice | undefined, shapes: MatmulShape[], options: ChooseOptions, name: KernelName, constants: Record<string, number>, measured: MatmulPlan | undefined): PlanRequest {
  return { shapes, options, family: `${name} ${constantsKey(constants)}`, measured, compiled: device ? compiledPlans(device, name, constants) : [] };
}

/**
 * The tile plan of each layer's three products on this adapter (choosePlans): the weight
 * updates' one plan chosen for every layer's product together, as one dispatch runs them.
 */
export function layerPlans(spec: ModelSpec, batch: number, profile: GpuProfile, device?: GPUDevice, setting?: TrainingSetting, tuned?: ReadonlyMap<string, MatmulPlan>): LayerPlans[] {
  const products = stepProducts(spec, batch, setting);
  const known = setting && device; // plans compiled for the step's constants, where they are known
  const requests = products.map((product) => planRequest(known, [product.shape], product.options, product.name, setting ? product.constants() : {}, tuned?.get(product.label)));
  requests.push(planRequest(known, layerShapes(spec, batch).map((shape) => shape.update), UPDATE_OPTIONS, 'weight_update', setting ? updateConstants(spec, setting) : {}, undefined));
  const plans = choosePlans(requests, profile);
  const update = plans[plans.length - 1];
  return spec.layers.map((_, l) => {
    const plan = (kind: 'forward' | 'hidden') => {
      const k = products.findIndex((product) => product.kind === kind && product.l === l);
      return k < 0 ? undefined : plans[k][0];
    };
    return { forward: plan('forward')!, hidden: plan('hidden'), update: update[l] };
  });
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

/** A device's compiled modules and pipelines, by kernel and constants; and the plans compiled for each product kernel, by its other constants. */
interface DeviceCache {
  modules: Map<string, Promise<GPUShaderModule>>;
  layouts: Map<KernelName, GPUBindGroupLayout>;
  kernels: Map<string, Promise<Kernel>>;
  plans: Map<string, MatmulPlan[]>;
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
    cache = { modules: new Map(), layouts: new Map(), kernels: new Map(), plans: new Map(), stepLayout };
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

const constantsKey = (constants: Record<string, number>) => JSON.stringify(Object.entries(constants).sort(([a], [b]) => a.localeCompare(b)));

/** The plans compiled on `device` for product kernel `name` with `constants` (its plan's aside). */
export function compiledPlans(device: GPUDevice, name: KernelName, constants: Record<string, number>): readonly MatmulPlan[] {
  return deviceCache(device).plans.get(`${name} ${constantsKey(constants)}`) ?? [];
}

/** `name` compiled with `constants` (cached: the same kernel and constants compile once per device). */
export function kernel(device: GPUDevice, name: KernelName, constants: Record<string, number>, options: KernelOptions = {}): Promise<Kernel> {
  const cache = deviceCache(device);
  const entryPoint = options.entryPoint ?? 'main';
  const subgroups = Boolean(options.subgroups);
  const key = `${name} ${entryPoint} ${subgroups} ${constantsKey(constants)}`;
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
export async function matmul(device: GPUDevice, name: KernelName, plan: MatmulPlan, constants: Record<string, number>, label: string, finishes = true): Promise<MatmulKernel> {
  const all = { ...constants, ...planConstants(plan) };
  const finishConstants = { ...constants, SPLIT_K: plan.splitK, FINISH_THREADS };
  const main = kernel(device, name, all, { label });
  const family = `${name} ${constantsKey(constants)}`;
  const plans = deviceCache(device).plans;
  const known = plans.get(family) ?? [];
  if (!known.some((other) => constantsKey(planConstants(other)) === constantsKey(planConstants(plan)))) plans.set(family, [...known, plan]);
  // A plan whose compile failed is not offered again.
  main.catch(() => plans.set(family, (plans.get(family) ?? []).filter((other) => other !== plan)));
  const [compiledMain, finish] = await Promise.all([main, plan.splitK > 1 && finishes ? kernel(device, name, finishConstants, { entryPoint: 'finish', label: `${label} finish` }) : undefined]);
  return { plan, main: compiledMain, finish };
}

/** softmax.wgsl: a softmax output layer's out in prediction. */
export function createSoftmax(device: GPUDevice): Promise<Kernel> {
  return kernel(device, 'softmax', { WORKGROUP_SIZE: SOFTMAX_THREADS });
}

/**
 * The forward pass for prediction (as a trainer captures or not): rows in tiles of a plan
 * for `batch` rows, no split: a measured one (`tuned`, by product label), else where the
 * device holds training's kernel for a layer (same constants), its plan, and nothing compiles.
 */
export async function createForwardKernels(device: GPUDevice, spec: ModelSpec, batch: number, profile: GpuProfile, capture = false, tuned?: ReadonlyMap<string, MatmulPlan>): Promise<ForwardKernels> {
  const products = forwardProducts(spec, batch, capture);
  const constants = products.map((product) => product.constants());
  const plans = choosePlans(
    products.map((product, k) => planRequest(device, [product.shape], product.options, product.name, constants[k], tuned?.get(product.label))),
    profile,
  );
  const [forward, softmax] = await Promise.all([
    Promise.all(products.map((product, k) => matmul(device, 'forward', plans[k][0], constants[k], product.label))),
    spec.layers[spec.layers.length - 1].activation === 'softmax' ? createSoftmax(device) : undefined,
  ]);
  return { forward, softmax };
}

/** `plans`: the tile plans to compile for, where the caller has sized buffers by them (layerPlans). */
export async function createLayeredKernels(device: GPUDevice, spec: ModelSpec, setting: TrainingSetting, batch: number, profile: GpuProfile, plans: readonly LayerPlans[]): Promise<LayeredKernels> {
  const L = spec.layers.length;
  const { capture, clipNorm } = setting;
  const CAPTURE = capture ? 1 : 0;
  const groups = normGroups(spec);
  const update = updateConstants(spec, setting);
  // weight_update.wgsl keeps its bias sums in a_tile: a plan too small for them would overwrite its neighbours' memory.
  if (!holdsATile(plans[0].update, UPDATE_OPTIONS)) throw new BackpropError(`the weight update's tiles (${plans[0].update.tileK} × ${plans[0].update.tileM}) are too small for its bias sums`);
  const [forward, output, hiddenDelta, weightUpdate, gather, clip, softmax] = await Promise.all([
    // The output layer's split is finished by output_delta.wgsl.
    Promise.all(spec.layers.map((_, l) => matmul(device, 'forward', plans[l].forward, forwardConstants(spec, l, capture, true), `forward layer${l}`, l < L - 1))),
    kernel(
      device,
      'output_delta',
      { ACTIVATION: ACTIVATION_CODE[spec.layers[L - 1].activation], ACTIVATION_PARAMETER: layerParameter(spec.layers[L - 1]), LOSS: LOSS_CODE[spec.loss], SPLIT_K: plans[L - 1].forward.splitK, CAPTURE, THREADS: OUTPUT_THREADS },
      { subgroups: profile.subgroups, label: 'output delta' },
    ),
    Promise.all(spec.layers.map((_, l) => (plans[l].hidden ? matmul(device, 'hidden_delta', plans[l].hidden!, hiddenConstants(spec, l), `hidden delta layer${l}`) : undefined))),
    matmul(device, 'weight_update', plans[0].update, update, 'weight update'),
    // Only a capturing step gathers the batch (into `input` and `target`, for a check).
    capture ? kernel(device, 'gather_batch', { WORKGROUP_SIZE: GATHER_THREADS }) : undefined,
    clipNorm === undefined
      ? undefined
      : Promise.all([
          kernel(device, 'grad_norm', { RANGES: spec.layers.length * (spec.trainBiases ? 2 : 1), THREADS: NORM_THREADS }, { subgroups: profile.subgroups, label: 'gradient norm' }),
          kernel(device, 'weight_update', { ...update, FINISH_THREADS }, { entryPoint: 'apply', label: 'clipped update' }),
        ]).then(([norm, apply]) => ({ norm, groups, apply })),
    spec.layers[L - 1].activation === 'softmax' ? createSoftmax(device) : undefined,
  ]);
  return {
    path: 'layered',
    capture,
    forward,
    output,
    outputGroups: Math.ceil(batch / OUTPUT_THREADS),
    hiddenDelta,
    weightUpdate,
    updatePlans: plans.map((plan) => plan.update),
    gather,
    clip,
    softmax,
    stepLayout: deviceCache(device).stepLayout,
  };
}

/** The plans layered kernels were compiled for (and their trainer's buffers sized for). */
export function kernelPlans(kernels: LayeredKernels): LayerPlans[] {
  return kernels.forward.map((kernel, l) => ({ forward: kernel.plan, hidden: kernels.hiddenDelta[l]?.plan, update: kernels.updatePlans[l] }));
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
