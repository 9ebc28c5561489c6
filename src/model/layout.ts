// The parameter layout: one table names every weight matrix and bias vector, with
// its shape and its offset in one flat array. The CPU reference (Float64Array) and
// the GPU trainer (one f32 storage buffer) allocate that array once and slice it by
// offset; checkpoints, model files and cross-checks walk the same table.

import { layerInputs, type ModelSpec } from './model.ts';
import { InputError } from '../errors.ts';

/**
 * Offsets into the flat arrays (parameters here, the step's buffers in buffers.ts, regions
 * of GPU buffers) are multiples of 64 floats (256 bytes), WebGPU's
 * minStorageBufferOffsetAlignment, so each entry can be bound on its own as a slice.
 */
export const ALIGNMENT = 64;

/** What a parameter entry holds: a weight matrix or a bias vector. */
export type ParamKind = 'weights' | 'biases';

/** One weight matrix or bias vector in the flat parameter array. */
export interface ParamEntry {
  /** `layer0.weights`, `layer0.biases`, `layer1.weights`, … */
  name: string;
  layer: number;
  kind: ParamKind;
  /** weights: [units, inputs] (out × in); biases: [units]. */
  shape: readonly number[];
  /** In elements, into the flat parameter array. */
  offset: number;
  length: number;
}

/** Every weight matrix and bias vector of a network: names, shapes and offsets. */
export interface ParamLayout {
  entries: readonly ParamEntry[];
  /** Elements in the flat array, padding included. */
  size: number;
}

/** `n` floats rounded up to the next multiple of ALIGNMENT. */
export function alignUp(n: number): number {
  return Math.ceil(n / ALIGNMENT) * ALIGNMENT;
}

/** The parameter layout of a network: each layer's weights, then its biases, each at an aligned offset. */
export function paramLayout(spec: ModelSpec): ParamLayout {
  const entries: ParamEntry[] = [];
  let offset = 0;
  const add = (layer: number, kind: ParamKind, shape: number[]) => {
    const length = shape.reduce((a, b) => a * b, 1);
    entries.push({ name: `layer${layer}.${kind}`, layer, kind, shape, offset, length });
    offset = alignUp(offset + length);
  };
  spec.layers.forEach((layer, l) => {
    add(l, 'weights', [layer.units, layerInputs(spec, l)]);
    add(l, 'biases', [layer.units]);
  });
  return { entries, size: offset };
}

/** The entry of layer `layer`'s weights or biases. */
export function paramEntry(layout: ParamLayout, layer: number, kind: ParamKind): ParamEntry {
  const entry = layout.entries.find((e) => e.layer === layer && e.kind === kind);
  if (!entry) throw new InputError(`layer ${layer}`, `has no ${kind} in this layout (it has ${layout.entries.length / 2} layers)`);
  return entry;
}

/** The entry's slice of a flat parameter (or gradient, or optimizer-state) array. */
export function paramView<T extends Float64Array | Float32Array>(
  layout: ParamLayout,
  flat: T,
  layer: number,
  kind: ParamKind,
): T {
  const entry = paramEntry(layout, layer, kind);
  return flat.subarray(entry.offset, entry.offset + entry.length) as T;
}

/** Names a flat index, e.g. `layer1.weights[0,1]` (neuron 0, input 1), for error messages. */
export function describeParamIndex(layout: ParamLayout, index: number): string {
  for (const entry of layout.entries) {
    if (index >= entry.offset && index < entry.offset + entry.length) {
      const k = index - entry.offset;
      if (entry.kind === 'biases') return `${entry.name}[${k}]`;
      const inputs = entry.shape[1];
      return `${entry.name}[${Math.floor(k / inputs)},${k % inputs}]`;
    }
  }
  return `padding[${index}]`;
}
