// What a kernel path (layered.ts, fused.ts) implements for the GPU trainer, and what the
// trainer hands it: the buffers, the regions of named buffers, and bind groups.

import type { Dataset } from '../data/dataset.ts';
import type { BufferName } from '../model/buffers.ts';
import type { ModelSpec } from '../model/model.ts';
import type { OptimizerSpec } from '../model/optimizer.ts';
import type { Kernel } from './kernels.ts';
import type { DatasetPlacement, Region } from './memory.ts';
import type { MatmulPlan } from './tiles.ts';

/** The GPU buffers of a trainer. */
export interface TrainerBuffers {
  dataset: GPUBuffer; //        (ROWS, IN) inputs, then (ROWS, OUT) targets: every row, or the chunk's when streamed
  batchRows: GPUBuffer; //      (CHUNK, B) u32
  steps: GPUBuffer; //          (CHUNK) Step structs: uniforms stepStride apart (layered), or packed (fused)
  lossHistory: GPUBuffer; //    (CHUNK, SHARES): each step's mean loss in shares, one per output workgroup
  params: GPUBuffer; //         (P)
  grads: GPUBuffer; //          (P)
  state: GPUBuffer; //          (2, P): momentum's velocity or Adam's m, then Adam's v
  marked: GPUBuffer; //         (P + 2S): params and state as of the last mark()
  previous: GPUBuffer; //       (P + 2S): as of the mark before it
  activations?: GPUBuffer; //   the layered path's activation buffer, values[0]: every layer's net, out and δ but the output layer's net (buffers.ts)
  values: GPUBuffer[]; //       the per-step buffers: the activation buffer, then one for each other (layered; buffers.ts), or one laid out by stepBufferLayout (fused)
  outputNet: GPUBuffer; //      (SPLIT_K, B, K): the output layer's net, with room for the split product's partial sums (layered)
  partials: GPUBuffer; //       the partial sums of the split products (layered): the largest (SPLIT_K, M, N)
  layerUniforms: GPUBuffer[]; // (L) Layer structs (layered)
  updateLayers: GPUBuffer; //   (⌈L / UPDATE_LAYERS⌉, UPDATE_LAYERS) UpdateLayer structs: weight_update.wgsl's `layers` (layered)
  finiteFlag: GPUBuffer; //     (1) u32: set by finite_check.wgsl once a parameter or state value is not finite
  /** Buffers the paths made for themselves, destroyed with the rest. */
  owned: GPUBuffer[];
}

/** What a path needs to build its encoder. */
export interface StepContext {
  device: GPUDevice;
  spec: ModelSpec;
  batch: number;
  optimizer: OptimizerSpec;
  /** The global norm the gradient is clipped to, if it is. */
  clipNorm?: number;
  dataset: Dataset;
  placement: DatasetPlacement;
  buffers: TrainerBuffers;
  stepStride: number; // bytes between Step structs in `steps`
  counts: { dispatches: number; submits: number };
  region(name: BufferName): Region;
  stateRegion(slot: 0 | 1): Region;
  bindGroup(kernel: Kernel, regions: Region[], label: string): GPUBindGroup;
}

/** Records steps into command encoders; `plan` is one step's dispatches. */
export interface StepEncoder {
  plan: Dispatch[];
  /** Steps per submit (the fused path: a whole chunk, since one dispatch runs it). */
  submitSteps: number;
  /** Records steps `first` ..< `first + count` of the chunk (their Step structs' slots). */
  encode(encoder: GPUCommandEncoder, first: number, count: number): void;
  /** Records one dispatch of the plan, for step slot offset `stepOffset` (bytes), into a pass of its own. */
  encodeDispatch(pass: GPUComputePassEncoder, dispatch: Dispatch, stepOffset: number): void;
}

/** One dispatch of a step, and what it costs. */
export interface Dispatch {
  /** What it does, e.g. `forward layer1`, `weight update finish`. */
  label: string;
  /** Its kernel (.wgsl file) and entry point. */
  kernel: string;
  pipeline: GPUComputePipeline;
  group: GPUBindGroup;
  /** Reads the Step uniform (group 1, at the step's dynamic offset). */
  usesStep: boolean;
  workgroups: [number, number, number];
  /** A matrix product's tile plan (tiles.ts). */
  plan?: MatmulPlan;
  /** Floating-point operations: 2 per multiply-add, 1 per other addition or multiplication it must do. */
  flops: number;
  /** Bytes it must read and write at least: each operand once. */
  bytes: number;
}
