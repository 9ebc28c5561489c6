// `fit`'s options, with Keras's and TensorFlow.js's names and defaults, and the checks of
// those beyond the trainer's (train/options.ts checks those): the length of the run, the
// validation data, the metrics and early stopping. Each refusal is an InputError naming
// the option as the caller knows it (see FitOptions.names).
//
// A training option added later (a weight decay, gradient clipping, a learning-rate
// schedule, dropout) is a field of TrainOptionsInput: FitOptions, the command line and the
// checkpoint's options take it from there.

import type { BatchSchedule } from '../data/batches.ts';
import type { Dataset } from '../data/dataset.ts';
import { toDataset, type Rows } from '../data/validate.ts';
import type { Labels } from '../data/labels.ts';
import { asText, InputError, quoted } from '../errors.ts';
import type { Checkpoint } from '../io/checkpoint.ts';
import { checkKeys, optionKeys } from '../option-keys.ts';
import { METRICS, type Metric } from './metrics.ts';
import { positiveInteger, type TrainOptionsInput } from './options.ts';

/** The figures of an epoch: its mean batch loss, and the metrics asked for, on the training and validation data. */
export interface EpochLogs {
  loss: number;
  accuracy?: number;
  mae?: number;
  r2?: number;
  val_loss?: number;
  val_accuracy?: number;
  val_mae?: number;
  val_r2?: number;
}

/** A step's figures, for `onBatchEnd`. */
export interface BatchLogs {
  /** The step's batch loss (the mean of its samples' losses). */
  loss: number;
  /** The epoch the step belongs to (from 0, counted within the run). */
  epoch: number;
  /** The step, counted over the network's life. */
  step: number;
}

/**
 * Called as training goes, as TensorFlow.js's callbacks are. Steps run in chunks on the
 * GPU; `onBatchEnd` is called for each step of a chunk once the chunk is done, in order,
 * so no step waits for a read-back. Training waits for a callback's promise.
 */
export interface FitCallbacks {
  /**
   * Before the first step: `steps` is the run's length and `done` the steps of it already
   * taken (those of a checkpoint resumed from; else 0); `step` is where training begins,
   * counted over the network's life.
   */
  onTrainBegin?: ((logs: { step: number; steps: number; done: number }) => void | Promise<void>) | undefined;
  /** Before an epoch's first step (epochs count from 0). */
  onEpochBegin?: ((epoch: number) => void | Promise<void>) | undefined;
  /** After each step, with its batch loss; `batch` counts the steps of the epoch from 0. */
  onBatchEnd?: ((batch: number, logs: BatchLogs) => void | Promise<void>) | undefined;
  /** After each epoch, with its mean batch loss and the metrics asked for. */
  onEpochEnd?: ((epoch: number, logs: EpochLogs) => void | Promise<void>) | undefined;
  /** After the last step, with the history. */
  onTrainEnd?: ((history: History) => void | Promise<void>) | undefined;
}

/** Stops training once the monitored figure has not improved for `patience` epochs (Keras's EarlyStopping). */
export interface EarlyStopping {
  /** Default `val_loss` where there is validation data, else `loss`. */
  monitor?: keyof EpochLogs | undefined;
  /** Epochs without improvement before stopping (default 0: the first). */
  patience?: number | undefined;
  /** The least change that counts as an improvement (default 0). */
  minDelta?: number | undefined;
  /** At the end, go back to the weights of the best epoch (default false). */
  restoreBestWeights?: boolean | undefined;
}

/** Checkpoints as training goes, to resume from (`resume`) after a crash or a kill. */
export interface CheckpointOptions {
  /** Steps between checkpoints, counted over the network's life (a checkpoint at every multiple). */
  every: number;
  /** Gets each checkpoint, to write it out (`JSON.stringify(checkpoint)`); training waits for its promise. */
  save: (checkpoint: Checkpoint) => void | Promise<void>;
}

/** `fit`'s options, with Keras's and TensorFlow.js's names and defaults: the trainer's (TrainOptionsInput), and the run's. */
export interface FitOptions extends TrainOptionsInput {
  /** Passes over the training data (default 1). */
  epochs?: number | undefined;
  /** Steps to run instead of whole epochs (each one batch); the last epoch ends where the steps do. */
  steps?: number | undefined;
  /** Holds out this share of the rows, the last ones, as validation data: the first ⌊N·(1 − validationSplit)⌋ rows train, as TensorFlow.js splits them. */
  validationSplit?: number | undefined;
  /** Validation data of its own: [inputs, targets] (targets as rows, or class ids). */
  validationData?: readonly [Rows, Rows | Labels] | undefined;
  /**
   * Figures beside the loss at each epoch's end: `accuracy`, `mae`, `r2`, measured on the
   * whole training (and validation) data with the epoch's final weights.
   */
  metrics?: readonly Metric[] | undefined;
  callbacks?: FitCallbacks | undefined;
  /** `true` for the defaults, or the settings. */
  earlyStopping?: EarlyStopping | boolean | undefined;
  /** Checkpoints every `every` steps, each handed to `save`. */
  checkpoint?: CheckpointOptions | undefined;
  /**
   * Continues the run a checkpoint was taken in (the checkpoint, or its JSON text): its
   * weights, optimizer state and step, to the end `epochs` or `steps` gives that run.
   * The data and the training options must be the run's (else InputError).
   */
  resume?: Checkpoint | string | undefined;
  /**
   * Stops training at once, also while the kernels compile or a chunk of steps is under
   * way: `fit` then resolves with `aborted` set, the weights those after the last chunk
   * done (a chunk under way is undone once the GPU is through with it).
   */
  signal?: AbortSignal | undefined;
  /**
   * How messages name things: the options by the caller's names for them (a command
   * line's flags, a form's labels; `resume`: the checkpoint's file), and the training data.
   */
  names?: { options?: Partial<Record<keyof FitOptions | 'checkpoint.every', string>> | undefined; data?: string | undefined } | undefined;
}

/** What `fit` returns: per-epoch figures, as TensorFlow.js's History. */
export interface History {
  /** The epochs run, from 0. */
  epoch: number[];
  /** Each figure's value per epoch: `loss`, and `accuracy`, `val_loss`, … where measured. */
  history: Partial<Record<keyof EpochLogs, number[]>>;
  /** Steps run by this call. */
  steps: number;
  /** Early stopping ended training before the last epoch. */
  stoppedEarly: boolean;
  /** The signal ended training. */
  aborted: boolean;
}

/** Every key of FitOptions, checked by the compiler against the interface both ways. */
export const FIT_OPTION_KEYS = optionKeys<FitOptions>()([
  'learningRate',
  'batchSize',
  'shuffle',
  'seed',
  'optimizer',
  'weightDecay',
  'clipNorm',
  'epochs',
  'steps',
  'validationSplit',
  'validationData',
  'metrics',
  'callbacks',
  'earlyStopping',
  'checkpoint',
  'resume',
  'signal',
  'names',
]);
const CALLBACK_KEYS = optionKeys<FitCallbacks>()(['onTrainBegin', 'onEpochBegin', 'onBatchEnd', 'onEpochEnd', 'onTrainEnd']);
const CHECKPOINT_KEYS = optionKeys<CheckpointOptions>()(['every', 'save']);
const NAMES_KEYS = optionKeys<NonNullable<FitOptions['names']>>()(['options', 'data']);

/**
 * Refuses fit options no part of fit reads (`epoch` for `epochs`, `onEpochEnds`), naming
 * the key and the option it resembles; and callbacks that are not functions.
 */
export function checkFitOptions(options: FitOptions): void {
  if (typeof options !== 'object' || options === null) throw new InputError('options', `expected an object of fit options, got ${asText(options)}`);
  checkKeys(options, FIT_OPTION_KEYS, 'fit');
  const callbacks: unknown = options.callbacks;
  if (callbacks !== undefined) {
    if (typeof callbacks !== 'object' || callbacks === null) throw new InputError('callbacks', `expected an object of callbacks (onEpochEnd, …), got ${asText(callbacks)}`);
    checkKeys(callbacks, CALLBACK_KEYS, 'callbacks', 'callbacks.');
    for (const [name, callback] of Object.entries(callbacks)) {
      if (callback !== undefined && typeof callback !== 'function') throw new InputError(`callbacks.${name}`, `expected a function, got ${asText(callback)}`);
    }
  }
  checkKeys(options.checkpoint, CHECKPOINT_KEYS, 'checkpoint', 'checkpoint.');
  checkKeys(options.names, NAMES_KEYS, 'names', 'names.');
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal)) throw new InputError('signal', `expected an AbortSignal, got ${asText(options.signal)}`);
}

/** The name an option goes by in messages: the caller's (a flag, a label), or its own. */
export type OptionName = (option: string) => string;

/** The steps of the run: `steps`, or `epochs` passes over the data (default 1), counted from the run's first step. */
export function runSteps(options: FitOptions, schedule: BatchSchedule, name: OptionName): number {
  if (options.steps !== undefined && options.epochs !== undefined) throw new InputError(`${name('steps')}, ${name('epochs')}`, 'give one or the other, not both');
  const byEpochs = options.steps === undefined;
  const steps = byEpochs ? schedule.stepsForEpochs(options.epochs === undefined ? 1 : positiveInteger(options.epochs, name('epochs'))) : positiveInteger(options.steps, name('steps'));
  try {
    schedule.checkSteps(steps);
  } catch (error) {
    throw error instanceof InputError ? new InputError(name(byEpochs ? 'epochs' : 'steps'), error.problem) : error;
  }
  return steps;
}

/** Checkpoint settings, checked against a run of `steps` steps. */
export function checkCheckpoints(checkpoint: CheckpointOptions | undefined, steps: number, name: OptionName): CheckpointOptions | undefined {
  if (checkpoint === undefined) return undefined;
  const every = checkpoint.every;
  if (typeof every !== 'number' || !Number.isSafeInteger(every) || every < 1) throw new InputError(name('checkpoint.every'), `expected a positive integer, got ${asText(every)}`);
  if (every > steps) throw new InputError(name('checkpoint.every'), `${every} is more than the ${steps} steps of this run: no checkpoint would be written`);
  if (typeof checkpoint.save !== 'function') throw new InputError('checkpoint.save', 'expected a function that writes the checkpoint out');
  return checkpoint;
}

/** The metrics asked for, checked. */
export function checkMetrics(metrics: unknown, where = 'metrics'): Metric[] {
  if (metrics === undefined) return [];
  if (!Array.isArray(metrics)) throw new InputError(where, `expected an array of ${METRICS.join(', ')}`);
  metrics.forEach((metric, k) => {
    if (!(METRICS as readonly unknown[]).includes(metric)) throw new InputError(`${where}[${k}]`, `expected one of ${METRICS.join(', ')}, got ${quoted(metric)}`);
  });
  return metrics as Metric[];
}

/** Early stopping's settings, completed; undefined where it is off. */
export type EarlyStoppingSettings = Required<Omit<EarlyStopping, 'restoreBestWeights'>> & { restoreBestWeights: boolean };

/** The keys of EarlyStopping, checked by the compiler against the interface. */
const EARLY_STOPPING_KEYS = optionKeys<EarlyStopping>()(['monitor', 'patience', 'minDelta', 'restoreBestWeights']);

/**
 * Early stopping's settings, checked and completed (monitoring `val_loss` where there is
 * validation data, else `loss`); `measured` lists what each epoch's logs will hold.
 */
export function earlyStopping(value: EarlyStopping | boolean | undefined, measured: readonly string[], validation: boolean): EarlyStoppingSettings | undefined {
  if (value === undefined || value === false) return undefined;
  if (value !== true && (typeof value !== 'object' || value === null)) throw new InputError('earlyStopping', `expected true, false or the settings, got ${asText(value)}`);
  const settings = value === true ? {} : value;
  checkKeys(settings, EARLY_STOPPING_KEYS, 'earlyStopping', 'earlyStopping.');
  const patience = settings.patience ?? 0;
  if (!Number.isSafeInteger(patience) || patience < 0) throw new InputError('earlyStopping.patience', `expected a whole number ≥ 0, got ${asText(patience)}`);
  const minDelta = settings.minDelta ?? 0;
  if (typeof minDelta !== 'number' || !(minDelta >= 0) || !Number.isFinite(minDelta)) throw new InputError('earlyStopping.minDelta', `expected a finite number ≥ 0, got ${asText(minDelta)}`);
  const restoreBestWeights = settings.restoreBestWeights ?? false;
  if (typeof restoreBestWeights !== 'boolean') throw new InputError('earlyStopping.restoreBestWeights', `expected true or false, got ${asText(restoreBestWeights)}`);
  const monitor = settings.monitor ?? (validation ? 'val_loss' : 'loss');
  if (!measured.includes(monitor)) {
    throw new InputError('earlyStopping.monitor', `${quoted(monitor)} is not measured; each epoch measures ${measured.join(', ')} (add a metric, or give validation data)`);
  }
  return { monitor, patience, minDelta, restoreBestWeights };
}

/**
 * Keras's EarlyStopping (and TensorFlow.js's): an epoch improves on the best so far where
 * the monitored figure beats it by more than minDelta (lower for losses and the mean
 * absolute error, higher for the rest); training stops at the end of the epoch that makes
 * `patience` epochs in a row without improvement (the first such epoch, for patience 0).
 */
export class EarlyStopper {
  /** The best value so far and its epoch. */
  best: { value: number; epoch: number } | undefined;
  /** Epochs since the best. */
  private wait = 0;
  private readonly lowerIsBetter: boolean;

  constructor(private readonly settings: EarlyStoppingSettings) {
    this.lowerIsBetter = settings.monitor.endsWith('loss') || settings.monitor.endsWith('mae');
  }

  /** Takes epoch `epoch`'s value; says whether it is the best so far, and whether training stops after it. */
  update(epoch: number, value: number): { improved: boolean; stop: boolean } {
    const { minDelta, patience } = this.settings;
    // Compared as Keras and TensorFlow.js compare them (value ± minDelta against the best), to the last bit.
    const improved = this.best === undefined || (this.lowerIsBetter ? value + minDelta < this.best.value : value - minDelta > this.best.value);
    if (improved) {
      this.best = { value, epoch };
      this.wait = 0;
      return { improved: true, stop: false };
    }
    this.wait++;
    return { improved: false, stop: this.wait >= Math.max(patience, 1) };
  }
}

/**
 * Held-out rows: `validationData` (as given; `prepare` scales it as the training data),
 * or the last `validationSplit` of the rows (as Keras takes them).
 */
export function splitValidation(all: Dataset, options: FitOptions, prepare: (data: Dataset) => Dataset): { training: Dataset; validation?: Dataset } {
  if (options.validationData !== undefined) {
    if (options.validationSplit !== undefined) throw new InputError('validationSplit', 'give validationSplit or validationData, not both');
    const data: readonly [Rows, Rows | Labels] = options.validationData;
    if (!Array.isArray(data) || data.length !== 2) throw new InputError('validationData', 'expected [inputs, targets]');
    return { training: all, validation: prepare(toDataset(data[0], data[1], all.inputSize, all.outputSize, { inputs: 'validationData[0]', targets: 'validationData[1]' })) };
  }
  const split = options.validationSplit;
  if (split === undefined) return { training: all };
  if (typeof split !== 'number' || !(split > 0 && split < 1)) throw new InputError('validationSplit', `expected a number between 0 and 1, got ${asText(split)}`);
  // TensorFlow.js's split: the first ⌊N·(1 − split)⌋ rows train, the rest validate.
  const trained = Math.floor(all.size * (1 - split));
  if (trained < 1 || trained >= all.size) throw new InputError('validationSplit', `${split} of ${all.size} rows leaves ${all.size - trained} for validation and ${trained} for training; each needs at least one`);
  const rows = (from: number, to: number): Dataset => ({
    inputs: all.inputs.slice(from * all.inputSize, to * all.inputSize),
    targets: all.targets.slice(from * all.outputSize, to * all.outputSize),
    size: to - from,
    inputSize: all.inputSize,
    outputSize: all.outputSize,
  });
  return { training: rows(0, trained), validation: rows(trained, all.size) };
}
