// Training options checked and completed with their defaults, the same for the API and
// the command line. Defaults follow Keras and PyTorch: learning rate 0.01 (0.001 with
// Adam), batch size 32 (or the whole dataset if smaller), shuffled, plain SGD.

import { FLOAT32_MIN_NORMAL, positiveFloat32Problem } from '../data/values.ts';
import { InputError, quoted } from '../errors.ts';
import { DEFAULT_OPTIMIZERS, OPTIMIZER_KINDS, type OptimizerKind, type OptimizerSpec } from '../model/optimizer.ts';
import { OPTIMIZER_OPS } from '../model/ops/optimizers.ts';
import type { TrainOptions } from '../model/trainer.ts';
import { checkSchedule, parseDecay, type Decay, type LearningRateSchedule } from '../model/schedule.ts';
import { checkKeys } from '../option-keys.ts';

/** The learning rate where none is given, by the optimizer's record: 0.01 for SGD and momentum, 0.001 for Adam. */
export const DEFAULT_LEARNING_RATE = Object.fromEntries(OPTIMIZER_KINDS.map((kind) => [kind, OPTIMIZER_OPS[kind].defaultLearningRate])) as Record<OptimizerKind, number>;
/** The batch size where none is given (or the dataset's size, if smaller). */
export const DEFAULT_BATCH_SIZE = 32;
/** The seed of the shuffling where none is given. */
export const DEFAULT_SEED = 1;

/**
 * Training options as a caller gives them, every field optional; `trainOptions` completes
 * them. A new option (a weight decay, a schedule) is a field here and in TrainOptions, and
 * reaches `fit`, the command line and the checkpoints from here.
 */
export interface TrainOptionsInput {
  /**
   * Default 0.01, or 0.001 with Adam; or an initial rate with a schedule (a decay, as an
   * object or as the command line writes it, `step:S:G`, `exponential:G`, `cosine:T`) and a
   * warmup of W steps; or a function of the 0-based step s that gives its rate.
   */
  learningRate?: number | { initial?: number | undefined; schedule?: Decay | string | undefined; warmup?: number | undefined } | ((step: number) => number) | undefined;
  /** Weight decay λ, PyTorch's weight_decay: added to the gradient (L2), or decoupled for `adamw` (default 0, 0.01 for `adamw`). */
  weightDecay?: number | undefined;
  /** Clips the batch's gradient to this global norm before weight decay and the update, as torch.nn.utils.clip_grad_norm_ (default: none). */
  clipNorm?: number | undefined;
  /** Samples per step (default 32); a batch larger than the training data takes the whole data, as Keras does. */
  batchSize?: number | undefined;
  /** A new order of the rows each epoch (default true); false takes them in order, wrapping around. */
  shuffle?: boolean | undefined;
  /** Seeds the shuffling (default 1). */
  seed?: number | undefined;
  /** `sgd` (default), `momentum` (0.9), `adam` (0.9, 0.999, 1e-8), `rmsprop` (0.99, 1e-8) or `adamw` (0.9, 0.999, 1e-8, decay 0.01), or a full specification. */
  optimizer?: OptimizerKind | OptimizerSpec | undefined;
}

function fail(where: string, expected: string, value: unknown): never {
  throw new InputError(where, `expected ${expected}, got ${quoted(value)}`);
}

export function positiveInteger(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) fail(where, 'a positive integer', value);
  return value;
}

/**
 * A constant in [0, 1) that the GPU holds as a float32: 0, or a normal float32 that does
 * not round up to 1 (0.999999999 would be 1 on the GPU and not on the reference).
 */
function inUnitInterval(value: unknown, where: string): number {
  if (typeof value !== 'number' || !(value >= 0) || value >= 1) fail(where, 'a number in [0, 1)', value);
  if (Math.fround(value) >= 1 || (value !== 0 && value < FLOAT32_MIN_NORMAL)) fail(where, `a number in [0, 1) that float32 holds as itself (0, or ${FLOAT32_MIN_NORMAL} to ${Math.fround(1 - 2 ** -24)})`, value);
  return value;
}

/** A positive constant the GPU holds as a float32 (see positiveFloat32Problem). */
export function positiveFloat32(value: unknown, where: string): number {
  const problem = positiveFloat32Problem(value);
  if (problem) throw new InputError(where, problem);
  return value as number;
}

/** A weight decay: 0, or a positive constant the GPU holds as a float32. */
function decayOf(value: unknown, where: string): number {
  return value === 0 ? 0 : positiveFloat32(value, where);
}

/** An optimizer by name or specification, checked. */
export function optimizerSpec(value: OptimizerKind | OptimizerSpec | undefined, where = 'optimizer'): OptimizerSpec {
  if (value === undefined) return DEFAULT_OPTIMIZERS.sgd;
  if (typeof value === 'string') {
    if (!(OPTIMIZER_KINDS as readonly string[]).includes(value)) fail(where, `one of ${OPTIMIZER_KINDS.join(', ')}`, value);
    return DEFAULT_OPTIMIZERS[value];
  }
  if (typeof value !== 'object' || value === null || !(OPTIMIZER_KINDS as readonly string[]).includes(value.kind)) {
    fail(`${where}.kind`, `one of ${OPTIMIZER_KINDS.join(', ')}`, (value as { kind?: unknown } | null)?.kind);
  }
  // Each constant the record names, checked against its range; no other key.
  const given = value as unknown as Record<string, unknown>;
  checkKeys(given, ['kind', ...Object.keys(OPTIMIZER_OPS[value.kind].constants), 'weightDecay'], `the ${value.kind} optimizer`, `${where}.`);
  const constants = Object.entries(OPTIMIZER_OPS[value.kind].constants).map(([name, { range }]) => {
    const constant = given[name];
    if (range === 'unit') return [name, inUnitInterval(constant, `${where}.${name}`)];
    return [name, positiveFloat32(constant, `${where}.${name}`)];
  });
  const weightDecay = value.weightDecay === undefined ? undefined : decayOf(value.weightDecay, `${where}.weightDecay`);
  return { kind: value.kind, ...Object.fromEntries(constants), ...(weightDecay !== undefined ? { weightDecay } : {}) } as OptimizerSpec;
}

/**
 * Complete, checked training options for a dataset of `samples` rows. `names` maps each
 * field to the name the caller knows it by (a command-line flag, say), for the messages.
 */
export function trainOptions(input: TrainOptionsInput, samples: number, names: Partial<Record<keyof TrainOptionsInput, string>> = {}): TrainOptions {
  const name = (field: keyof TrainOptionsInput) => names[field] ?? field;
  let optimizer = optimizerSpec(input.optimizer, name('optimizer'));
  const weightDecay = input.weightDecay;
  if (weightDecay !== undefined) {
    optimizer = { ...optimizer, weightDecay: decayOf(weightDecay, name('weightDecay')) };
  }
  const clipNorm = input.clipNorm === undefined ? undefined : positiveFloat32(input.clipNorm, name('clipNorm'));
  const { learningRate, schedule } = learningRateOf(input.learningRate, DEFAULT_LEARNING_RATE[optimizer.kind], name('learningRate'));
  // A batch larger than the data takes the whole data, as Keras and TensorFlow.js take it.
  const batchSize = Math.min(input.batchSize === undefined ? DEFAULT_BATCH_SIZE : positiveInteger(input.batchSize, name('batchSize')), samples);
  const shuffle = input.shuffle ?? true;
  if (typeof shuffle !== 'boolean') fail(name('shuffle'), 'true or false', shuffle);
  const seed = input.seed ?? DEFAULT_SEED;
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed) || seed < 0) fail(name('seed'), `a whole number from 0 to ${Number.MAX_SAFE_INTEGER}`, seed);
  return { learningRate, batchSize, shuffle, seed, optimizer, ...(schedule !== undefined ? { schedule } : {}), ...(clipNorm !== undefined ? { clipNorm } : {}) };
}

/**
 * The initial rate and the schedule, from a rate, a rate with its schedule, or a function
 * of the step (whose initial rate is nominal: the function gives every step's).
 */
function learningRateOf(value: TrainOptionsInput['learningRate'], fallback: number, where: string): { learningRate: number; schedule?: LearningRateSchedule } {
  const positive = positiveFloat32;
  if (value === undefined) return { learningRate: fallback };
  if (typeof value === 'function') return { learningRate: fallback, schedule: value };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { learningRate: positive(value, where) };
  checkKeys(value, ['initial', 'schedule', 'warmup'], 'a learning rate with a schedule', `${where}.`);
  const learningRate = value.initial === undefined ? fallback : positive(value.initial, `${where}.initial`);
  const decay = typeof value.schedule === 'string' ? parseDecay(value.schedule, `${where}.schedule`) : value.schedule;
  const schedule = { ...(decay !== undefined ? { decay } : {}), ...(value.warmup !== undefined ? { warmup: value.warmup } : {}) };
  checkSchedule(schedule, where, `${where}.schedule`);
  return Object.keys(schedule).length > 0 ? { learningRate, schedule } : { learningRate };
}
