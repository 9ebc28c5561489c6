// The named buffers of a training step. The CPU reference and the GPU trainer both
// expose them under these names, so a test can compare any one of them.

import { alignUp } from './layout.ts';
import { layerInputs, outputSize, type ModelSpec } from './model.ts';
import { InputError } from '../errors.ts';

/** A layer's per-sample buffers: its net input, its output, and δ = ∂E/∂net. */
export type LayerBufferKind = 'net' | 'out' | 'delta';

/** The name of a buffer both trainers expose, e.g. `input`, `layer1.net`, `grads`. */
export type BufferName =
  | 'input' //  (B, IN)  the batch's inputs
  | 'target' // (B, OUT) the batch's targets
  | 'loss' //   (B)      each sample's loss
  | 'params' // (P)      weights and biases, flat, by the parameter layout
  | 'grads' //  (P)      ∂E/∂params of the batch (the mean over its samples), same layout
  | `layer${number}.${LayerBufferKind}`; // (B, UNITS) net input, output, and δ = ∂E/∂net

export function layerBuffer(layer: number, kind: LayerBufferKind): BufferName {
  return `layer${layer}.${kind}`;
}

/** A layer buffer's layer and kind (`layer1.delta`: 1, `delta`); undefined for any other name. */
export function parseLayerBuffer(name: string): { layer: number; kind: LayerBufferKind } | undefined {
  const match = /^layer(\d+)\.(net|out|delta)$/.exec(name);
  return match ? { layer: Number(match[1]), kind: match[2] as LayerBufferKind } : undefined;
}

/** Every buffer name of a model, in the order a step produces them. */
export function bufferNames(spec: ModelSpec): BufferName[] {
  const names: BufferName[] = ['input', 'target'];
  spec.layers.forEach((_, l) => names.push(layerBuffer(l, 'net'), layerBuffer(l, 'out')));
  names.push('loss');
  for (let l = spec.layers.length - 1; l >= 0; l--) names.push(layerBuffer(l, 'delta'));
  names.push('grads', 'params');
  return names;
}

/** The shape of a named buffer for a batch of `batch` samples (params and grads: the layout's size). */
export function bufferShape(spec: ModelSpec, batch: number, paramSize: number, name: BufferName): number[] {
  if (name === 'input') return [batch, layerInputs(spec, 0)];
  if (name === 'target') return [batch, outputSize(spec)];
  if (name === 'loss') return [batch];
  if (name === 'params' || name === 'grads') return [paramSize];
  const buffer = parseLayerBuffer(name);
  if (!buffer || buffer.layer >= spec.layers.length) throw new InputError(`buffer ${name}`, `is not a buffer of this network (its layers are layer0 … layer${spec.layers.length - 1})`);
  return [batch, spec.layers[buffer.layer].units];
}

/**
 * The GPU keeps every per-step buffer but the parameters in one array, laid out by this
 * table like the parameters are (offsets multiples of 64 floats, so each can be bound as
 * a slice of its own).
 */
export interface StepBufferEntry {
  name: BufferName;
  shape: number[];
  offset: number;
  length: number;
}

export interface StepBufferLayout {
  entries: StepBufferEntry[];
  size: number;
}

export function stepBufferLayout(spec: ModelSpec, batch: number): StepBufferLayout {
  const entries: StepBufferEntry[] = [];
  let offset = 0;
  for (const name of bufferNames(spec)) {
    if (name === 'params' || name === 'grads') continue;
    const shape = bufferShape(spec, batch, 0, name);
    const length = shape.reduce((a, b) => a * b, 1);
    entries.push({ name, shape, offset, length });
    offset += alignUp(length);
  }
  return { entries, size: offset };
}

export function stepBufferEntry(layout: StepBufferLayout, name: BufferName): StepBufferEntry {
  const entry = layout.entries.find((e) => e.name === name);
  if (!entry) throw new InputError(`buffer ${name}`, 'is not in this layout');
  return entry;
}
