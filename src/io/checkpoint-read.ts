// Reading a checkpoint back (its form is checkpoint.ts): checked against a schema, and
// refused if it was written for another network, other data or other training options.
// Loaded only by a run that resumes, so the schema library stays out of every other page.

import * as z from 'zod/mini';
import { MAX_SEED } from '../data/batches.ts';
import type { Dataset } from '../data/dataset.ts';
import { asText, InputError } from '../errors.ts';
import { paramView, type ParamLayout } from '../model/layout.ts';
import type { Model } from '../model/network.ts';
import { OPTIMIZER_KINDS, stateSlots } from '../model/optimizer.ts';
import { OPTIMIZER_OPS } from '../model/ops/optimizers.ts';
import { valueProblem } from '../data/values.ts';
import type { TrainerState, TrainOptions } from '../model/trainer.ts';
import { CHECKPOINT_FORMAT, datasetFingerprint, type Checkpoint } from './checkpoint.ts';
import { parseJson, zodError } from './json.ts';
import { modelFromJson, MODEL_LIMITS } from './model-file.ts';

/**
 * What a checkpoint written before a training option existed means by it: the option's
 * value that changes nothing (a weight decay of 0, say). Options not here must be in the file.
 */
const ABSENT_OPTIONS: Partial<TrainOptions> = {};

// The arrays' values are checked by flatArray, which names the value at fault.
const namedSchema = z.record(z.string(), z.array(z.unknown()));

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

/**
 * A slot of the optimizer's state, named as the parameters, as one flat array: every
 * array the parameter table names, of its shape (weights as rows of equal length), no
 * other, each value one float32 holds (and ≥ 0 in a slot of squares).
 */
function flatArray(layout: ParamLayout, named: Record<string, unknown[]>, where: string, nonNegative: boolean): Float64Array {
  const flat = new Float64Array(layout.size);
  const known = new Set(layout.entries.map((entry) => entry.name));
  const extra = Object.keys(named).find((name) => !known.has(name));
  if (extra !== undefined) throw new InputError(`${where}.${extra.slice(0, 60)}`, `is not an array of this network (expected ${[...known].join(', ')})`);
  for (const entry of layout.entries) {
    const values = named[entry.name];
    if (values === undefined) throw new InputError(`${where}.${entry.name}`, `is missing (expected ${entry.length} values, shape ${entry.shape.join(' × ')})`);
    const rows = entry.kind === 'weights' ? entry.shape[0] : 1;
    const rowed = entry.kind === 'weights' ? values.length === rows && values.every((row) => Array.isArray(row) && row.length === entry.shape[1]) : values.every((v) => typeof v === 'number');
    const numbers = values.flat();
    if (!rowed || numbers.length !== entry.length) {
      throw new InputError(`${where}.${entry.name}`, `expected shape ${entry.shape.join(' × ')} (${entry.kind === 'weights' ? `${rows} rows of ${entry.shape[1]}` : `${entry.length} values`}), got ${numbers.length} values${entry.kind === 'weights' ? ` in ${values.length} rows` : ''}`);
    }
    numbers.forEach((value, k) => {
      const problem =
        typeof value !== 'number' ? `expected a number, got ${JSON.stringify(value)?.slice(0, 40)}` : (valueProblem(value) ?? (nonNegative && value < 0 ? `expected a number ≥ 0 (an average of squares), got ${value}` : undefined));
      if (problem) throw new InputError(`${where}.${entry.name}[${entry.kind === 'weights' ? `${Math.floor(k / entry.shape[1])}][${k % entry.shape[1]}` : k}]`, problem);
    });
    paramView(layout, flat, entry.layer, entry.kind).set(numbers as number[]);
  }
  return flat;
}

/** A network in a few words: 3-5 tanh, 2 softmax, cross-entropy. */
function describeSpec(spec: Model['spec']): string {
  return `${spec.inputSize}-${spec.layers.map((layer) => `${layer.units} ${layer.activation}`).join(', ')}, ${spec.loss}${spec.trainBiases ? '' : ', biases frozen'}`;
}

/** A fingerprint's shape in words: `10x3+2:…` is 10 rows of 3 inputs and 2 targets. */
function shapeInWords(fingerprint: string): string {
  const match = /^(\d+)x(\d+)\+(\d+):/.exec(fingerprint);
  return match ? `${match[1]} rows of ${match[2]} inputs and ${match[3]} targets` : JSON.stringify(fingerprint.slice(0, 40));
}

/** A value as JSON, or, where it cannot be written as JSON (nested past the stack), in words. */
function json(value: unknown): string {
  try {
    return String(JSON.stringify(value));
  } catch {
    return asText(value);
  }
}

/** Refuses a checkpoint whose options differ from this run's, naming the first that does. */
function checkOptions(saved: Record<string, unknown>, options: TrainOptions, source: string): void {
  const run = options as unknown as Record<string, unknown>;
  const absent = ABSENT_OPTIONS as Record<string, unknown>;
  for (const key of new Set([...Object.keys(run), ...Object.keys(saved)])) {
    const [was, is] = [json(saved[key] ?? absent[key]), json(run[key] ?? absent[key])];
    if (was === is) continue;
    const advice = typeof run[key] === 'object' ? '' : ' (resume with the flags the run began with)';
    throw new InputError(`${source}: options.${key.slice(0, 60)}`, `is ${was}; this run has ${is}${advice}`);
  }
}

/**
 * Reads a checkpoint (its JSON text, or the object) for resuming a run of `model` on
 * `dataset` with `options`: refuses one written for another network, other data, or
 * other training options. `start` is the step the checkpoint's run began at.
 */
export function parseCheckpoint(text: string | Checkpoint, source: string, model: Model, options: TrainOptions, dataset: Dataset, dataName = 'this run trains on'): TrainerState & { start: number } {
  if (typeof text === 'string' && text.length > 3 * MODEL_LIMITS.fileBytes) throw new InputError(source, 'the file is too large to be a checkpoint');
  const parsed = checkpointSchema.safeParse(typeof text === 'string' ? parseJson(text, source) : text);
  if (!parsed.success) throw zodError(parsed.error, source);
  const file = parsed.data;
  const saved = modelFromJson(file.model, `${source}: model`);
  if (JSON.stringify(saved.spec) !== JSON.stringify(model.spec)) {
    throw new InputError(`${source}: model`, `was written for another network (${describeSpec(saved.spec)}) than this one (${describeSpec(model.spec)})`);
  }
  const fingerprint = datasetFingerprint(dataset);
  if (file.data !== fingerprint) {
    const shape = (print: string) => print.split(':')[0];
    const how = shape(file.data) === shape(fingerprint) ? 'rows of the same shape with other values' : `${shapeInWords(file.data)}, not ${shapeInWords(fingerprint)}`;
    throw new InputError(`${source}: data`, `was written for other data than ${dataName}: ${how}`);
  }
  checkOptions(file.options, options, source);
  if (file.optimizerState.length !== stateSlots(options.optimizer)) {
    throw new InputError(`${source}: optimizerState`, `expected ${stateSlots(options.optimizer)} arrays for ${options.optimizer.kind}, got ${file.optimizerState.length}`);
  }
  const start = file.start ?? 0;
  if (start > file.step) throw new InputError(`${source}: start`, `is ${start}, after the checkpoint's step ${file.step}`);
  const nonNegative = new Set(OPTIMIZER_OPS[options.optimizer.kind].nonNegativeSlots ?? []);
  return {
    step: file.step,
    start,
    params: saved.params,
    optimizerState: file.optimizerState.map((named, slot) => flatArray(model.layout, named, `${source}: optimizerState[${slot}]`, nonNegative.has(slot))),
  };
}
