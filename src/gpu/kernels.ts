// The compute pipelines of one model: each WGSL kernel compiled with the override
// constants of the layer it serves, with explicit bind group layouts from the binding
// table of abi.ts. Pipelines are cached per device, so a second trainer of the same
// shape (another `fit` on new data, a prediction) compiles nothing.

import { ACTIVATION_CODE, GROUP0, LOSS_CODE, OPTIMIZER_CODE, STEP_UNIFORM_BYTES, USES_STEP, type KernelName } from './abi.ts';
import { layerInputs, outputActivation, type ModelSpec } from '../model/model.ts';
import type { OptimizerSpec } from '../model/optimizer.ts';
import { shaderSource } from './shaders.ts';

/** Layers train_tiny.wgsl has override constants for. */
export const FUSED_MAX_LAYERS = 4;
/** The widest layer (or input) train_tiny.wgsl takes, and the most elements one phase may have. */
export const FUSED_MAX_UNITS = 64;
export const FUSED_MAX_PHASE = 4096;

export interface Kernel {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

/** The block of a matrix product one workgroup computes: TILE_M × TILE_N, TILE_K deep. */
export interface Tile {
  m: number;
  n: number;
  k: number;
}

export interface MatmulKernel extends Kernel {
  tile: Tile;
}

/** The forward pass, which every trainer needs (prediction runs it on its own). */
export interface ForwardKernels {
  forward: MatmulKernel[]; // per layer
  softmax: Kernel;
}

/** One kernel per job of a step, dispatched one after another. */
export interface LayeredKernels extends ForwardKernels {
  path: 'layered';
  gather: Kernel;
  outputDelta: Kernel;
  hiddenDelta: (MatmulKernel | undefined)[]; // per layer; none for the output layer
  weightUpdate: MatmulKernel[]; // per layer
  stepLayout: GPUBindGroupLayout;
}

/** train_tiny.wgsl: many whole steps in one dispatch. */
export interface FusedKernels extends ForwardKernels {
  path: 'fused';
  train: Kernel;
  workgroupSize: number;
}

/** The smallest of `sides` that covers `size`, else the largest. */
function cover(size: number, sides: number[]): number {
  return sides.find((side) => side >= size) ?? sides[sides.length - 1];
}

/**
 * The tile for an (M, N) product summing over K: 16, 32 or 64 rows and columns, so that
 * a small layer (or a batch of one) is not spread over a 256-thread workgroup that has
 * nothing to do; 4 to 32 deep. Two 64 × 32 f32 tiles are 16 KiB, the workgroup memory
 * every WebGPU adapter offers.
 */
export function matmulTile(m: number, n: number, k: number): Tile {
  return { m: cover(m, [16, 32, 64]), n: cover(n, [16, 32, 64]), k: cover(k, [4, 8, 16, 32]) };
}

/** The tiles of each layer's three products for a batch of `batch`. */
export function layerTiles(spec: ModelSpec, batch: number) {
  const L = spec.layers.length;
  return spec.layers.map((layer, l) => ({
    // (B, OUT) = (B, IN) · (IN, OUT)
    forward: matmulTile(batch, layer.units, layerInputs(spec, l)),
    // (B, OUT) = (B, NEXT) · (NEXT, OUT)
    hidden: l < L - 1 ? matmulTile(batch, layer.units, spec.layers[l + 1].units) : undefined,
    // (OUT, IN) = (OUT, B) · (B, IN)
    update: matmulTile(layer.units, layerInputs(spec, l), batch),
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
  modules: Map<KernelName, GPUShaderModule>;
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
    cache = { modules: new Map(), kernels: new Map(), stepLayout };
    caches.set(device, cache);
  }
  return cache;
}

function shaderModule(device: GPUDevice, name: KernelName): GPUShaderModule {
  const { modules } = deviceCache(device);
  let module = modules.get(name);
  if (!module) {
    module = device.createShaderModule({ label: name, code: shaderSource(name) });
    modules.set(name, module);
  }
  return module;
}

/** `name` compiled with `constants` (cached: the same kernel and constants compile once per device). */
export function kernel(device: GPUDevice, name: KernelName, constants: Record<string, number>, label: string = name): Promise<Kernel> {
  const cache = deviceCache(device);
  const key = `${name} ${JSON.stringify(Object.entries(constants).sort(([a], [b]) => a.localeCompare(b)))}`;
  let compiled = cache.kernels.get(key);
  if (!compiled) {
    const layout = device.createBindGroupLayout({
      label,
      entries: GROUP0[name].map((type, binding) => ({ binding, visibility: GPUShaderStage.COMPUTE, buffer: { type } })),
    });
    compiled = device
      .createComputePipelineAsync({
        label,
        layout: device.createPipelineLayout({ bindGroupLayouts: USES_STEP.has(name) ? [layout, cache.stepLayout] : [layout] }),
        compute: { module: shaderModule(device, name), entryPoint: 'main', constants },
      })
      .then((pipeline) => ({ pipeline, layout }));
    // A failed compilation is not kept: the next trainer tries again.
    compiled.catch(() => cache.kernels.delete(key));
    cache.kernels.set(key, compiled);
  }
  return compiled;
}

async function matmul(device: GPUDevice, name: KernelName, tile: Tile, constants: Record<string, number>, label: string): Promise<MatmulKernel> {
  return { ...(await kernel(device, name, { ...constants, TILE_M: tile.m, TILE_N: tile.n, TILE_K: tile.k }, label)), tile };
}

export async function createForwardKernels(device: GPUDevice, spec: ModelSpec, batch: number): Promise<ForwardKernels> {
  const tiles = layerTiles(spec, batch);
  const [forward, softmax] = await Promise.all([
    Promise.all(spec.layers.map((layer, l) => matmul(device, 'forward', tiles[l].forward, { ACTIVATION: ACTIVATION_CODE[layer.activation] }, `forward layer${l}`))),
    kernel(device, 'softmax', {}),
  ]);
  return { forward, softmax };
}

/** The optimizer's override constants (common.wgsl). */
export function optimizerConstants(spec: ModelSpec, optimizer: OptimizerSpec): Record<string, number> {
  return {
    OPTIMIZER: OPTIMIZER_CODE[optimizer.kind],
    TRAIN_BIASES: spec.trainBiases ? 1 : 0,
    ...(optimizer.kind === 'momentum' ? { MOMENTUM_FACTOR: optimizer.momentum } : {}),
    ...(optimizer.kind === 'adam' ? { BETA1: optimizer.beta1, BETA2: optimizer.beta2, EPSILON: optimizer.epsilon } : {}),
  };
}

export async function createLayeredKernels(device: GPUDevice, spec: ModelSpec, optimizer: OptimizerSpec, batch: number): Promise<LayeredKernels> {
  const tiles = layerTiles(spec, batch);
  const [forward, gather, outputDelta, hiddenDelta, weightUpdate] = await Promise.all([
    createForwardKernels(device, spec, batch),
    kernel(device, 'gather_batch', {}),
    kernel(device, 'output_delta', { ACTIVATION: ACTIVATION_CODE[outputActivation(spec)], LOSS: LOSS_CODE[spec.loss] }),
    Promise.all(
      spec.layers.map((layer, l) => {
        const tile = tiles[l].hidden;
        return tile ? matmul(device, 'hidden_delta', tile, { ACTIVATION: ACTIVATION_CODE[layer.activation] }, `hidden_delta layer${l}`) : undefined;
      }),
    ),
    Promise.all(spec.layers.map((_, l) => matmul(device, 'weight_update', tiles[l].update, optimizerConstants(spec, optimizer), `weight_update layer${l}`))),
  ]);
  return { path: 'layered', ...forward, gather, outputDelta, hiddenDelta, weightUpdate, stepLayout: deviceCache(device).stepLayout };
}

/** `network`: train_tiny.wgsl's override constants for this network (sizes, codes, offsets). */
export async function createFusedKernels(device: GPUDevice, spec: ModelSpec, batch: number, network: Record<string, number>): Promise<FusedKernels> {
  const workgroupSize = fusedWorkgroupSize(spec, batch);
  const [forward, train] = await Promise.all([createForwardKernels(device, spec, batch), kernel(device, 'train_tiny', { ...network, WORKGROUP_SIZE: workgroupSize })]);
  return { path: 'fused', ...forward, train, workgroupSize };
}
