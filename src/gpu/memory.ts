// GPU memory for a trainer: regions of buffers where named buffers live, where the
// dataset goes (all of it, or streamed), and the checks that refuse, before anything is
// allocated, a network or batch the device cannot hold.

import type { Dataset } from '../data/dataset.ts';
import { LimitError } from '../errors.ts';
import { stepBufferLayout } from '../model/buffers.ts';
import { alignUp, ALIGNMENT, type ParamLayout } from '../model/layout.ts';
import { layerInputs, type ModelSpec } from '../model/model.ts';
import { allocations, inScopes, throwScopeErrors, type Allocations } from './scopes.ts';

/**
 * The GPU trainer uploads its steps' batch rows and Step structs in groups (a `train` call
 * of more steps takes several): at most this many rows (16 MiB of u32) and steps at a time.
 * The training loop's chunks (train/loop.ts) are another thing: steps between read-backs.
 */
const MAX_UPLOAD_ROWS = 1 << 22;
const MAX_UPLOAD_STEPS = 1024;

/** A region of a GPU buffer: where a named buffer lives. */
export interface Region {
  buffer: GPUBuffer;
  offset: number; // floats
  length: number; // floats
}

/**
 * A region as a binding, its size rounded up to whole vec4s: kernels read some buffers as
 * array<vec4f>, whose last, partial vec4 must lie inside the binding. (Buffers are made
 * with that room, see f32Bytes; regions inside a buffer are 64 floats apart.)
 */
export function binding(region: Region): GPUBufferBinding {
  return { buffer: region.buffer, offset: 4 * region.offset, size: Math.min(f32Bytes(region.length), region.buffer.size - 4 * region.offset) };
}

export function whole(buffer: GPUBuffer): Region {
  return { buffer, offset: 0, length: buffer.size / 4 };
}

/** Bytes for `count` floats, in whole vec4s (16 bytes), at least one. */
export function f32Bytes(count: number): number {
  return Math.max(16 * Math.ceil(count / 4), 16);
}

/**
 * A storage buffer that can be written and read back, noted in `log` where given (for an
 * out-of-memory message). (GPUBufferUsage is read late: under Node it arrives with Dawn.)
 */
export function storageBuffer(device: GPUDevice, label: string, floats: number, log?: Allocations): GPUBuffer {
  const descriptor = { label, size: f32Bytes(floats), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST };
  return log ? log.buffer(device, descriptor) : device.createBuffer(descriptor);
}

/** Copies a region back to the CPU, as float64; `what` names it for an error (`reading back params`). */
export async function readRegion(device: GPUDevice, region: Region, what = 'reading back a buffer'): Promise<Float64Array> {
  const log = allocations();
  // The mapping is asked for inside the scopes too: on a buffer that could not be allocated it fails there, not uncaptured.
  const { result: staging, errors } = inScopes(device, () => {
    const buffer = log.buffer(device, { label: 'readback', size: f32Bytes(region.length), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const encoder = device.createCommandEncoder({ label: 'readback' });
    encoder.copyBufferToBuffer(region.buffer, 4 * region.offset, buffer, 0, 4 * region.length);
    device.queue.submit([encoder.finish()]);
    return { buffer, mapped: buffer.mapAsync(GPUMapMode.READ) };
  });
  try {
    const caught = await errors;
    if (caught.memory || caught.validation) {
      staging.mapped.catch(() => {});
      throwScopeErrors(caught, what, log);
    }
    await staging.mapped;
    return Float64Array.from(new Float32Array(staging.buffer.getMappedRange(), 0, region.length));
  } finally {
    staging.buffer.destroy();
  }
}

/**
 * Where the dataset lives on the GPU: all of it, uploaded once (resident); or, where it
 * would not fit in one binding, only the rows of the chunk being trained, uploaded with
 * each chunk (streamed).
 */
export interface DatasetPlacement {
  streamed: boolean;
  rows: number; //          rows the dataset buffer holds
  targetsOffset: number; // floats: where the targets start, after the inputs
  chunkSteps: number; //    steps per chunk
}

export function placeDataset(dataset: Dataset, batch: number, maxBinding: number): DatasetPlacement {
  const chunkSteps = Math.max(1, Math.min(MAX_UPLOAD_STEPS, Math.floor(MAX_UPLOAD_ROWS / batch)));
  const bytes = (rows: number) => 4 * (alignUp(rows * dataset.inputSize) + rows * dataset.outputSize);
  if (bytes(dataset.size) <= maxBinding) {
    return { streamed: false, rows: dataset.size, targetsOffset: alignUp(dataset.inputs.length), chunkSteps };
  }
  const rowBytes = 4 * (dataset.inputSize + dataset.outputSize);
  const steps = Math.min(chunkSteps, Math.floor((maxBinding - 4 * ALIGNMENT) / (rowBytes * batch)));
  if (steps < 1) {
    throw new LimitError(`batch size ${batch}`, `needs ${rowBytes * batch} bytes of data in one GPU buffer; this adapter allows ${maxBinding} (maxStorageBufferBindingSize)`, 'maxStorageBufferBindingSize');
  }
  const rows = steps * batch;
  return { streamed: true, rows, targetsOffset: alignUp(rows * dataset.inputSize), chunkSteps: steps };
}

/** The most bytes one binding may hold on `device`, or fewer where the caller caps it. */
export function maxBindingBytes(device: GPUDevice, cap = Infinity): number {
  return Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize, cap);
}

/** Refuses, before allocating anything, a network or batch this device cannot hold. */
export function checkDeviceLimits(device: GPUDevice, spec: ModelSpec, layout: ParamLayout, batch: number, maxBinding: number): void {
  const limits = device.limits;
  const check = (what: string, bytes: number) => {
    if (bytes > maxBinding) {
      throw new LimitError(
        what,
        `needs ${bytes} bytes in one GPU buffer; this adapter allows ${maxBinding} (maxStorageBufferBindingSize ${limits.maxStorageBufferBindingSize}, maxBufferSize ${limits.maxBufferSize})`,
        'maxStorageBufferBindingSize',
      );
    }
  };
  check('the parameters', 4 * layout.size);
  spec.layers.forEach((layer, l) => check(`layer ${l}'s activations for a batch of ${batch}`, 4 * batch * Math.max(layer.units, layerInputs(spec, l))));
  check(`the step's buffers for a batch of ${batch}`, 4 * stepBufferLayout(spec, batch).size);
  const tiles = Math.ceil(batch / 16); // the smallest tile
  if (tiles > limits.maxComputeWorkgroupsPerDimension) {
    throw new LimitError(
      `batch size ${batch}`,
      `needs ${tiles} workgroups in one dimension; this adapter allows ${limits.maxComputeWorkgroupsPerDimension} (maxComputeWorkgroupsPerDimension)`,
      'maxComputeWorkgroupsPerDimension',
    );
  }
}
