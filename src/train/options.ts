// Training options checked and completed with their defaults, the same for the API and
// the command line. Defaults follow Keras and PyTorch: learning rate 0.01 (0.001 with
// Adam), batch size 32 (or the whole dataset if smaller), shuffled, plain SGD.

import { asText, InputError } from '../errors.ts';
import { DEFAULT_OPTIMIZERS, OPTIMIZER_KINDS, type OptimizerKind, type OptimizerSpec } from '../model/optimizer.ts';
import { OPTIMIZER_OPS } from '../model/ops/optimizers.ts';
import type { TrainOptions } from '../model/trainer.ts';
import { checkSchedule, parseDecay, type Decay, type LearningRateSchedule } from '../model/schedule.ts';

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
  learningRate?: number | { initial?: number; schedule?: Decay | string; warmup?: number } | ((step: number) => number);
  /** Weight decay λ, PyTorch's weight_decay: added to the gradient (L2), or decoupled for `adamw` (default 0, 0.01 for `adamw`). */
  weightDecay?: number;
  /** Clips the batch's gradient to this global norm before weight decay and the update, as torch.nn.utils.clip_grad_norm_ (default: none). */
  clipNorm?: number;
  /** Samples per step (default 32, or the training data if smaller). */
  batchSize?: number;
  /** A new order of the rows each epoch (default true); false takes them in order, wrapping around. */
  shuffle?: boolean;
  /** Seeds the shuffling (default 1). */
  seed?: number;
  /** `sgd` (default), `momentum` (0.9), `adam` (0.9, 0.999, 1e-8), `rmsprop` (0.99, 1e-8) or `adamw` (0.9, 0.999, 1e-8, decay 0.01), or a full specification. */
  optimizer?: OptimizerKind | OptimizerSpec;
}

function fail(where: string, expected: string, value: unknown): never {
  throw new InputError(where, `expected ${expected}, got ${typeof value === 'string' ? JSON.stringify(value) : asText(value)}`);
}

export function positiveInteger(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) fail(where, 'a positive integer', value);
  return value;
}

function inUnitInterval(value: unknown, where: string, open: boolean): number {
  if (typeof value !== 'number' || !(value >= 0) || (open ? value >= 1 : value > 1)) fail(where, `a number in [0, 1${open ? ')' : ']'}`, value);
  return value;
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
  // Each constant the record names, checked against its range.
  const given = value as unknown as Record<string, unknown>;
  const constants = Object.entries(OPTIMIZER_OPS[value.kind].constants).map(([name, { range }]) => {
    const constant = given[name];
    if (range === 'unit') return [name, inUnitInterval(constant, `${where}.${name}`, true)];
    if (typeof constant !== 'number' || !(constant > 0) || !Number.isFinite(constant)) fail(`${where}.${name}`, 'a positive number', constant);
    return [name, constant];
  });
  const weightDecay = value.weightDecay;
  if (weightDecay !== undefined && (typeof weightDecay !== 'number' || !(weightDecay >= 0) || !Number.isFinite(weightDecay))) fail(`${where}.weightDecay`, 'a number ≥ 0', weightDecay);
  return { kind: value.kind, ...Object.fromEntries(constants), ...(weightDecay !== undefined ? { weightDecay } : {}) } as OptimizerSpec;
}

/**
 * Complete, checked training options for a dataset of `samples` rows. `names` maps each
 * field to the name the caller knows it by (a command-line flag, say), and `data` names
 * the data, for the messages.
 */
export function trainOptions(input: TrainOptionsInput, samples: number, names: Partial<Record<keyof TrainOptionsInput, string>> = {}, data = 'the data'): TrainOptions {
  const name = (field: keyof TrainOptionsInput) => names[field] ?? field;
  let optimizer = optimizerSpec(input.optimizer, name('optimizer'));
  const weightDecay = input.weightDecay;
  if (weightDecay !== undefined) {
    if (typeof weightDecay !== 'number' || !(weightDecay >= 0) || !Number.isFinite(weightDecay)) fail(name('weightDecay'), 'a number ≥ 0', weightDecay);
    optimizer = { ...optimizer, weightDecay };
  }
  const clipNorm = input.clipNorm;
  if (clipNorm !== undefined && (typeof clipNorm !== 'number' || !(clipNorm > 0) || !Number.isFinite(clipNorm))) fail(name('clipNorm'), 'a positive number', clipNorm);
  const { learningRate, schedule } = learningRateOf(input.learningRate, DEFAULT_LEARNING_RATE[optimizer.kind], name('learningRate'));
  const batchSize = input.batchSize === undefined ? Math.min(DEFAULT_BATCH_SIZE, samples) : positiveInteger(input.batchSize, name('batchSize'));
  if (batchSize > samples) throw new InputError(name('batchSize'), `${batchSize} is more than the ${samples} samples in ${data}`);
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
  const positive = (rate: unknown, at: string) => {
    if (typeof rate !== 'number' || !Number.isFinite(rate) || rate <= 0) fail(at, 'a positive number', rate);
    return rate;
  };
  if (value === undefined) return { learningRate: fallback };
  if (typeof value === 'function') return { learningRate: fallback, schedule: value };
  if (typeof value !== 'object' || value === null) return { learningRate: positive(value, where) };
  const learningRate = value.initial === undefined ? fallback : positive(value.initial, `${where}.initial`);
  const decay = typeof value.schedule === 'string' ? parseDecay(value.schedule, `${where}.schedule`) : value.schedule;
  const schedule = { ...(decay !== undefined ? { decay } : {}), ...(value.warmup !== undefined ? { warmup: value.warmup } : {}) };
  checkSchedule(schedule, where, `${where}.schedule`);
  return Object.keys(schedule).length > 0 ? { learningRate, schedule } : { learningRate };
}
