// The compute pipelines of one model: each WGSL kernel compiled with the override
// constants of the layer it serves, and the explicit bind group layouts they share.

import { ACTIVATION_CODE, layerInputs, LOSS_CODE, outputActivation, type ModelSpec } from '../model/model.ts';
import { OPTIMIZER_CODE, type OptimizerSpec } from '../model/optimizer.ts';
import { loadShader, type KernelName } from './shaders.ts';

type BindingKind = 'uniform' | 'read-only-storage' | 'storage';

/** The buffers each kernel binds in group 0, in binding order (see the .wgsl files). */
const GROUP0: Record<KernelName, BindingKind[]> = {
  gather_batch: ['uniform', 'read-only-storage', 'read-only-storage', 'read-only-storage', 'storage', 'storage'],
  forward: ['uniform', 'read-only-storage', 'read-only-storage', 'storage', 'storage'],
  softmax: ['uniform', 'read-only-storage', 'storage'],
  output_delta: ['uniform', 'read-only-storage', 'read-only-storage', 'read-only-storage', 'storage', 'storage', 'storage'],
  hidden_delta: ['uniform', 'read-only-storage', 'read-only-storage', 'read-only-storage', 'storage'],
  weight_update: ['uniform', 'read-only-storage', 'read-only-storage', 'storage', 'storage', 'storage', 'storage'],
  train_tiny: ['uniform', 'read-only-storage', 'read-only-storage', 'read-only-storage', 'storage', 'storage', 'storage', 'storage', 'storage'],
};

/** Kernels that also read the per-step uniforms (group 1, bound with a dynamic offset). */
const USES_STEP: ReadonlySet<KernelName> = new Set(['gather_batch', 'output_delta', 'weight_update']);

/** Bytes of the Step struct the layered kernels declare (5 × 4, rounded up to 16). */
export const STEP_UNIFORM_BYTES = 32;
/** Bytes of one Step in train_tiny.wgsl's storage array (5 × 4, no padding). */
export const STEP_STORAGE_BYTES = 20;
/** Bytes of the Layer struct (7 × 4, rounded up to 16). */
export const LAYER_UNIFORM_BYTES = 32;
/** Layers train_tiny.wgsl has override constants for. */
export const FUSED_MAX_LAYERS = 4;

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
  return spec.layers.length <= FUSED_MAX_LAYERS && Math.max(...widths) <= 64 && batch * Math.max(...widths) <= 4096;
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

class KernelFactory {
  private modules = new Map<KernelName, Promise<GPUShaderModule>>();

  constructor(
    readonly device: GPUDevice,
    readonly stepLayout: GPUBindGroupLayout,
  ) {}

  private module(name: KernelName): Promise<GPUShaderModule> {
    let module = this.modules.get(name);
    if (!module) {
      module = loadShader(name).then((code) => this.device.createShaderModule({ label: name, code }));
      this.modules.set(name, module);
    }
    return module;
  }

  async kernel(name: KernelName, constants: Record<string, number>, label: string = name): Promise<Kernel> {
    const device = this.device;
    const layout = device.createBindGroupLayout({
      label,
      entries: GROUP0[name].map((type, binding) => ({ binding, visibility: GPUShaderStage.COMPUTE, buffer: { type } })),
    });
    const pipeline = await device.createComputePipelineAsync({
      label,
      layout: device.createPipelineLayout({ bindGroupLayouts: USES_STEP.has(name) ? [layout, this.stepLayout] : [layout] }),
      compute: { module: await this.module(name), entryPoint: 'main', constants },
    });
    return { pipeline, layout };
  }

  async matmul(name: KernelName, tile: Tile, constants: Record<string, number>, label: string): Promise<MatmulKernel> {
    return { ...(await this.kernel(name, { ...constants, TILE_M: tile.m, TILE_N: tile.n, TILE_K: tile.k }, label)), tile };
  }
}

function stepLayoutOf(device: GPUDevice): GPUBindGroupLayout {
  return device.createBindGroupLayout({
    label: 'step',
    entries: [{ binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform', hasDynamicOffset: true, minBindingSize: STEP_UNIFORM_BYTES } }],
  });
}

async function forwardKernels(factory: KernelFactory, spec: ModelSpec, batch: number): Promise<ForwardKernels> {
  const tiles = layerTiles(spec, batch);
  const [forward, softmax] = await Promise.all([
    Promise.all(spec.layers.map((layer, l) => factory.matmul('forward', tiles[l].forward, { ACTIVATION: ACTIVATION_CODE[layer.activation] }, `forward layer${l}`))),
    factory.kernel('softmax', {}),
  ]);
  return { forward, softmax };
}

export async function createLayeredKernels(device: GPUDevice, spec: ModelSpec, optimizer: OptimizerSpec, batch: number): Promise<LayeredKernels> {
  const stepLayout = stepLayoutOf(device);
  const factory = new KernelFactory(device, stepLayout);
  const optimizerConstants: Record<string, number> = {
    OPTIMIZER: OPTIMIZER_CODE[optimizer.kind],
    TRAIN_BIASES: spec.trainBiases ? 1 : 0,
    ...(optimizer.kind === 'momentum' ? { MOMENTUM_FACTOR: optimizer.momentum } : {}),
    ...(optimizer.kind === 'adam' ? { BETA1: optimizer.beta1, BETA2: optimizer.beta2, EPSILON: optimizer.epsilon } : {}),
  };
  const tiles = layerTiles(spec, batch);
  const [forward, gather, outputDelta, hiddenDelta, weightUpdate] = await Promise.all([
    forwardKernels(factory, spec, batch),
    factory.kernel('gather_batch', {}),
    factory.kernel('output_delta', { ACTIVATION: ACTIVATION_CODE[outputActivation(spec)], LOSS: LOSS_CODE[spec.loss] }),
    Promise.all(
      spec.layers.map((layer, l) => {
        const tile = tiles[l].hidden;
        return tile ? factory.matmul('hidden_delta', tile, { ACTIVATION: ACTIVATION_CODE[layer.activation] }, `hidden_delta layer${l}`) : undefined;
      }),
    ),
    Promise.all(spec.layers.map((_, l) => factory.matmul('weight_update', tiles[l].update, optimizerConstants, `weight_update layer${l}`))),
  ]);
  return { path: 'layered', ...forward, gather, outputDelta, hiddenDelta, weightUpdate, stepLayout };
}

/** `network`: train_tiny.wgsl's override constants for this network (sizes, codes, offsets). */
export async function createFusedKernels(device: GPUDevice, spec: ModelSpec, batch: number, network: Record<string, number>): Promise<FusedKernels> {
  const factory = new KernelFactory(device, stepLayoutOf(device));
  const workgroupSize = fusedWorkgroupSize(spec, batch);
  const [forward, train] = await Promise.all([
    forwardKernels(factory, spec, batch),
    factory.kernel('train_tiny', { ...network, WORKGROUP_SIZE: workgroupSize }),
  ]);
  return { path: 'fused', ...forward, train, workgroupSize };
}
