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
};

/** Kernels that also read the per-step uniforms (group 1, bound with a dynamic offset). */
const USES_STEP: ReadonlySet<KernelName> = new Set(['gather_batch', 'output_delta', 'weight_update']);

/** Bytes of the Step struct the kernels declare (5 × 4, rounded up to 16). */
export const STEP_UNIFORM_BYTES = 32;
/** Bytes of the Layer struct (7 × 4, rounded up to 16). */
export const LAYER_UNIFORM_BYTES = 32;

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

export interface ModelKernels {
  gather: Kernel;
  forward: MatmulKernel[]; // per layer
  softmax: Kernel;
  outputDelta: Kernel;
  hiddenDelta: (MatmulKernel | undefined)[]; // per layer; none for the output layer
  weightUpdate: MatmulKernel[]; // per layer
  stepLayout: GPUBindGroupLayout;
}

function bindGroupLayout(device: GPUDevice, kinds: BindingKind[], label: string): GPUBindGroupLayout {
  return device.createBindGroupLayout({
    label,
    entries: kinds.map((kind, binding) => ({
      binding,
      visibility: GPUShaderStage.COMPUTE,
      buffer: { type: kind },
    })),
  });
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

export async function createKernels(device: GPUDevice, spec: ModelSpec, optimizer: OptimizerSpec, batch: number): Promise<ModelKernels> {
  const stepLayout = device.createBindGroupLayout({
    label: 'step',
    entries: [{ binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform', hasDynamicOffset: true, minBindingSize: STEP_UNIFORM_BYTES } }],
  });
  const modules = new Map<KernelName, GPUShaderModule>();
  const moduleFor = async (name: KernelName) => {
    if (!modules.has(name)) modules.set(name, device.createShaderModule({ label: name, code: await loadShader(name) }));
    return modules.get(name)!;
  };

  const kernel = async (name: KernelName, constants: Record<string, number>, label: string = name): Promise<Kernel> => {
    const layout = bindGroupLayout(device, GROUP0[name], label);
    const pipeline = await device.createComputePipelineAsync({
      label,
      layout: device.createPipelineLayout({ bindGroupLayouts: USES_STEP.has(name) ? [layout, stepLayout] : [layout] }),
      compute: { module: await moduleFor(name), entryPoint: 'main', constants },
    });
    return { pipeline, layout };
  };

  const matmul = async (name: KernelName, tile: Tile, constants: Record<string, number>, label: string): Promise<MatmulKernel> => ({
    ...(await kernel(name, { ...constants, TILE_M: tile.m, TILE_N: tile.n, TILE_K: tile.k }, label)),
    tile,
  });
  const optimizerConstants: Record<string, number> = {
    OPTIMIZER: OPTIMIZER_CODE[optimizer.kind],
    TRAIN_BIASES: spec.trainBiases ? 1 : 0,
    ...(optimizer.kind === 'momentum' ? { MOMENTUM_FACTOR: optimizer.momentum } : {}),
    ...(optimizer.kind === 'adam' ? { BETA1: optimizer.beta1, BETA2: optimizer.beta2, EPSILON: optimizer.epsilon } : {}),
  };
  const tiles = layerTiles(spec, batch);
  const [gather, softmax, outputDelta, forward, hiddenDelta, weightUpdate] = await Promise.all([
    kernel('gather_batch', {}),
    kernel('softmax', {}),
    kernel('output_delta', { ACTIVATION: ACTIVATION_CODE[outputActivation(spec)], LOSS: LOSS_CODE[spec.loss] }),
    Promise.all(
      spec.layers.map((layer, l) => matmul('forward', tiles[l].forward, { ACTIVATION: ACTIVATION_CODE[layer.activation] }, `forward layer${l}`)),
    ),
    Promise.all(
      spec.layers.map((layer, l) =>
        tiles[l].hidden ? matmul('hidden_delta', tiles[l].hidden, { ACTIVATION: ACTIVATION_CODE[layer.activation] }, `hidden_delta layer${l}`) : undefined,
      ),
    ),
    Promise.all(spec.layers.map((_, l) => matmul('weight_update', tiles[l].update, optimizerConstants, `weight_update layer${l}`))),
  ]);
  return { gather, forward, softmax, outputDelta, hiddenDelta, weightUpdate, stepLayout };
}
