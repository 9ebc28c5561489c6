// Checkpoints: everything a training run needs to continue exactly where it stopped.
// The parameters are a model file (the same form --out writes), the optimizer's state is
// laid out by the same parameter table, and the batch schedule needs only the step (it
// is a function of the step and the seed). JSON numbers round-trip float64 exactly, so a
// run resumed on the reference continues bit for bit as if never stopped.

import { z } from 'zod';
import { MAX_SEED } from '../data/batches.ts';
import type { Dataset } from '../data/dataset.ts';
import { InputError } from '../errors.ts';
import { paramView, type ParamLayout } from '../model/layout.ts';
import type { Model } from '../model/network.ts';
import { OPTIMIZER_KINDS, stateSlots } from '../model/optimizer.ts';
import type { TrainerState, TrainOptions } from '../model/trainer.ts';
import { parseJson, zodError } from './json.ts';
import { modelFromJson, modelToJson, MODEL_LIMITS } from './model-file.ts';

export const CHECKPOINT_FORMAT = 'webgpu-backprop checkpoint 1';

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
function namedArrays(layout: ParamLayout, flat: Float64Array): Record<string, number[] | number[][]> {
  const named: Record<string, number[] | number[][]> = {};
  for (const entry of layout.entries) {
    const view = Array.from(paramView(layout, flat, entry.layer, entry.kind));
    named[entry.name] = entry.kind === 'biases' ? view : Array.from({ length: entry.shape[0] }, (_, j) => view.slice(j * entry.shape[1], (j + 1) * entry.shape[1]));
  }
  return named;
}

function flatArray(layout: ParamLayout, named: Record<string, number[] | number[][]>, source: string): Float64Array {
  const flat = new Float64Array(layout.size);
  for (const entry of layout.entries) {
    const values = named[entry.name];
    const numbers = values?.flat() ?? [];
    if (numbers.length !== entry.length) {
      throw new InputError(`${source}: optimizerState.${entry.name}`, `expected ${entry.length} values (shape ${entry.shape.join(' × ')}), got ${numbers.length}`);
    }
    paramView(layout, flat, entry.layer, entry.kind).set(numbers);
  }
  return flat;
}

/** A checkpoint's JSON: the model, the options, the optimizer's state, the step and the data's fingerprint. */
export function checkpointToJson(model: Model, options: TrainOptions, state: TrainerState, dataset: Dataset): unknown {
  return {
    format: CHECKPOINT_FORMAT,
    step: state.step,
    data: datasetFingerprint(dataset),
    options: { ...options },
    model: modelToJson(model, state.params),
    optimizerState: state.optimizerState.map((flat) => namedArrays(model.layout, flat)),
  };
}

const namedSchema = z.record(z.string(), z.union([z.array(z.number()), z.array(z.array(z.number()))]));

const checkpointSchema = z
  .object({
    format: z.literal(CHECKPOINT_FORMAT),
    step: z.number().int().nonnegative(),
    data: z.string(),
    options: z.object({
      learningRate: z.number().positive(),
      batchSize: z.number().int().positive(),
      shuffle: z.boolean(),
      seed: z.number().int().nonnegative().max(MAX_SEED),
      optimizer: z.object({ kind: z.enum(OPTIMIZER_KINDS as [string, ...string[]]) }).passthrough(),
    }),
    model: z.unknown(),
    optimizerState: z.array(namedSchema).max(2),
  })
  .strict();

/**
 * Reads a checkpoint for resuming a run of `model` on `dataset` with `options`: refuses
 * one written for another network, other data, or other training options.
 */
export function parseCheckpoint(text: string, source: string, model: Model, options: TrainOptions, dataset: Dataset): TrainerState {
  if (text.length > 3 * MODEL_LIMITS.fileBytes) throw new InputError(source, 'the file is too large to be a checkpoint');
  const parsed = checkpointSchema.safeParse(parseJson(text, source));
  if (!parsed.success) throw zodError(parsed.error, source);
  const file = parsed.data;
  const saved = modelFromJson(file.model, `${source}: model`);
  if (JSON.stringify(saved.spec) !== JSON.stringify(model.spec)) {
    throw new InputError(`${source}: model`, 'was written for another network than --model describes (layers, activations, loss or trainBiases differ)');
  }
  if (file.data !== datasetFingerprint(dataset)) throw new InputError(`${source}: data`, 'was written for other data than --data holds');
  for (const key of ['learningRate', 'batchSize', 'shuffle', 'seed'] as const) {
    if (file.options[key] !== options[key]) {
      throw new InputError(`${source}: options.${key}`, `is ${JSON.stringify(file.options[key])}; this run has ${JSON.stringify(options[key])} (resume with the flags the run began with)`);
    }
  }
  if (JSON.stringify(file.options.optimizer) !== JSON.stringify(options.optimizer)) {
    throw new InputError(`${source}: options.optimizer`, `is ${JSON.stringify(file.options.optimizer)}; this run has ${JSON.stringify(options.optimizer)}`);
  }
  if (file.optimizerState.length !== stateSlots(options.optimizer)) {
    throw new InputError(`${source}: optimizerState`, `expected ${stateSlots(options.optimizer)} arrays for ${options.optimizer.kind}, got ${file.optimizerState.length}`);
  }
  return {
    step: file.step,
    params: saved.params,
    optimizerState: file.optimizerState.map((named) => flatArray(model.layout, named, source)),
  };
}
