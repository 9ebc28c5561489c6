// Reading a checkpoint back (its form is checkpoint.ts): checked against a schema, and
// refused if it was written for another network, other data or other training options.
// Loaded only by a run that resumes, so the schema library stays out of every other page.

import * as z from 'zod/mini';
import { MAX_SEED } from '../data/batches.ts';
import type { Dataset } from '../data/dataset.ts';
import { InputError } from '../errors.ts';
import { paramView, type ParamLayout } from '../model/layout.ts';
import type { Model } from '../model/network.ts';
import { OPTIMIZER_KINDS, stateSlots } from '../model/optimizer.ts';
import type { TrainerState, TrainOptions } from '../model/trainer.ts';
import { CHECKPOINT_FORMAT, datasetFingerprint, type Checkpoint, type NamedArrays } from './checkpoint.ts';
import { parseJson, zodError } from './json.ts';
import { modelFromJson, MODEL_LIMITS } from './model-file.ts';

/**
 * What a checkpoint written before a training option existed means by it: the option's
 * value that changes nothing (a weight decay of 0, say). Options not here must be in the file.
 */
const ABSENT_OPTIONS: Partial<TrainOptions> = {};

const namedSchema = z.record(z.string(), z.union([z.array(z.number()), z.array(z.array(z.number()))]));

const checkpointSchema = z.strictObject({
  format: z.literal(CHECKPOINT_FORMAT),
  step: z.number().check(z.int(), z.nonnegative()),
  start: z.optional(z.number().check(z.int(), z.nonnegative())),
  data: z.string(),
  // Options beyond these (added later) are kept, and compared like the others.
  options: z.looseObject({
    learningRate: z.number().check(z.positive()),
    batchSize: z.number().check(z.int(), z.positive()),
    shuffle: z.boolean(),
    seed: z.number().check(z.int(), z.nonnegative(), z.maximum(MAX_SEED)),
    optimizer: z.looseObject({ kind: z.enum(OPTIMIZER_KINDS as [string, ...string[]]) }),
  }),
  model: z.unknown(),
  optimizerState: z.array(namedSchema).check(z.maxLength(2)),
});

function flatArray(layout: ParamLayout, named: NamedArrays, source: string): Float64Array {
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

/** Refuses a checkpoint whose options differ from this run's, naming the first that does. */
function checkOptions(saved: Record<string, unknown>, options: TrainOptions, source: string): void {
  const run = options as unknown as Record<string, unknown>;
  const absent = ABSENT_OPTIONS as Record<string, unknown>;
  for (const key of new Set([...Object.keys(run), ...Object.keys(saved)])) {
    const [was, is] = [saved[key] ?? absent[key], run[key] ?? absent[key]];
    if (JSON.stringify(was) === JSON.stringify(is)) continue;
    const advice = typeof is === 'object' ? '' : ' (resume with the flags the run began with)';
    throw new InputError(`${source}: options.${key}`, `is ${JSON.stringify(was)}; this run has ${JSON.stringify(is)}${advice}`);
  }
}

/**
 * Reads a checkpoint (its JSON text, or the object) for resuming a run of `model` on
 * `dataset` with `options`: refuses one written for another network, other data, or
 * other training options. `start` is the step the checkpoint's run began at.
 */
export function parseCheckpoint(text: string | Checkpoint, source: string, model: Model, options: TrainOptions, dataset: Dataset): TrainerState & { start: number } {
  if (typeof text === 'string' && text.length > 3 * MODEL_LIMITS.fileBytes) throw new InputError(source, 'the file is too large to be a checkpoint');
  const parsed = checkpointSchema.safeParse(typeof text === 'string' ? parseJson(text, source) : text);
  if (!parsed.success) throw zodError(parsed.error, source);
  const file = parsed.data;
  const saved = modelFromJson(file.model, `${source}: model`);
  if (JSON.stringify(saved.spec) !== JSON.stringify(model.spec)) {
    throw new InputError(`${source}: model`, 'was written for another network than --model describes (layers, activations, loss or trainBiases differ)');
  }
  if (file.data !== datasetFingerprint(dataset)) throw new InputError(`${source}: data`, 'was written for other data than --data holds');
  checkOptions(file.options, options, source);
  if (file.optimizerState.length !== stateSlots(options.optimizer)) {
    throw new InputError(`${source}: optimizerState`, `expected ${stateSlots(options.optimizer)} arrays for ${options.optimizer.kind}, got ${file.optimizerState.length}`);
  }
  const start = file.start ?? 0;
  if (start > file.step) throw new InputError(`${source}: start`, `is ${start}, after the checkpoint's step ${file.step}`);
  return {
    step: file.step,
    start,
    params: saved.params,
    optimizerState: file.optimizerState.map((named) => flatArray(model.layout, named, source)),
  };
}
