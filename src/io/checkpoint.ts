// Checkpoints: everything a training run needs to continue exactly where it stopped.
// The parameters are a model file (the same form --out writes), the optimizer's state is
// laid out by the same parameter table, and the batch schedule needs only the step (it
// is a function of the step and the seed). JSON numbers round-trip float64 exactly, so a
// run resumed on the reference continues bit for bit as if never stopped.
//
// A training option added later (a weight decay, a learning-rate schedule) is one more
// field of `options`, compared on resume like the others; anything random it brings
// (dropout) must be a function of the seed and the step, as the batches are, so the
// checkpoint needs nothing else. Reading one back is checkpoint-read.ts.

import type { Dataset } from '../data/dataset.ts';
import { paramView, type ParamLayout } from '../model/layout.ts';
import type { Model } from '../model/network.ts';
import type { TrainerState, TrainOptions } from '../model/trainer.ts';
import { modelToJson, type ModelFile } from './model-format.ts';

export const CHECKPOINT_FORMAT = 'webgpu-backprop checkpoint 1';

/** Arrays by the parameter table's names (`layer0.weights`: rows, out × in; `layer0.biases`). */
export type NamedArrays = Record<string, number[] | number[][]>;

/**
 * A training run as it stood at a step, as JSON: what `fit`'s `checkpoint.save` gets and
 * `fit`'s `resume` takes back (as it is, or as the text of `JSON.stringify`).
 */
export interface Checkpoint {
  format: typeof CHECKPOINT_FORMAT;
  /** Steps taken, over the network's life. */
  step: number;
  /** The step the run began at, where it was not 0 (a network trained before). */
  start?: number;
  /** A fingerprint of the training data: a run resumes on the same data only. */
  data: string;
  /** The training options, complete; a run resumes with the same ones only. */
  options: TrainOptions;
  /** The network and its parameters at `step`. */
  model: ModelFile;
  /** The optimizer's state (none for SGD, velocity for momentum, m and v for Adam), named as the parameters (`layer0.weights`: rows, out × in). */
  optimizerState: Record<string, number[] | number[][]>[];
}

/** FNV-1a over the data's float64 bytes: a resumed run must train on the same data. */
export function datasetFingerprint(dataset: Dataset): string {
  let hash = 0x811c9dc5;
  for (const array of [dataset.inputs, dataset.targets]) {
    const bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
    for (const byte of bytes) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  }
  return `${dataset.size}x${dataset.inputSize}+${dataset.outputSize}:${hash.toString(16).padStart(8, '0')}`;
}

/** A flat array laid out by the parameter table, as named arrays (weights as rows). */
function namedArrays(layout: ParamLayout, flat: Float64Array): NamedArrays {
  const named: NamedArrays = {};
  for (const entry of layout.entries) {
    const view = Array.from(paramView(layout, flat, entry.layer, entry.kind));
    named[entry.name] = entry.kind === 'biases' ? view : Array.from({ length: entry.shape[0] }, (_, j) => view.slice(j * entry.shape[1], (j + 1) * entry.shape[1]));
  }
  return named;
}

/** The checkpoint of a run of `model` on `dataset` with `options`, at `state`; `start`: the run's first step. */
export function checkpointToJson(model: Model, options: TrainOptions, state: TrainerState, dataset: Dataset, start = 0): Checkpoint {
  return {
    format: CHECKPOINT_FORMAT,
    step: state.step,
    ...(start === 0 ? {} : { start }),
    data: datasetFingerprint(dataset),
    options: { ...options },
    model: modelToJson(model, state.params),
    optimizerState: state.optimizerState.map((flat) => namedArrays(model.layout, flat)),
  };
}
