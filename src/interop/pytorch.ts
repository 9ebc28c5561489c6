// The PyTorch hand-off: a folder that trains the network further with PyTorch's
// DistributedDataParallel, on one machine or many, and gives back a model file.
//
//   exportPytorch(model: Model, options?: PytorchExportOptions): Record<string, string>
//
// returns the folder's files by name: `model.json` (the model file, which train.py reads
// with nothing but the standard library and torch), `train.py` (train.py beside this
// file, the same for every network: it builds nn.Sequential(Linear, activation, …) and
// the loss from the model file) and `defaults.json` (the training settings given here, as
// the defaults of its flags, which mirror those of `webgpu-backprop train`). What train.py
// does and what is exact is told in its docstring and in the README's "Train on many
// machines with PyTorch".

import { InputError, quoted } from '../errors.ts';
import { checkKeys, optionKeys } from '../option-keys.ts';
import { modelToJson } from '../io/model-format.ts';
import type { Model } from '../model/network.ts';
import { constantsOf } from '../model/ops/optimizers.ts';
import { checkSchedule, type Decay } from '../model/schedule.ts';
import { DEFAULT_OPTIMIZERS, OPTIMIZER_KINDS, type OptimizerSpec } from '../model/optimizer.ts';
import { DEFAULT_LEARNING_RATE } from '../train/options.ts';
// Embedded as text when the module is built (as the WGSL is, see gpu/shaders.ts): no
// bundler or server has to find the file at run time.
import TRAIN_PY from './train.py?raw';

/** The model file in a PyTorch export folder. */
export const PYTORCH_MODEL_FILE = 'model.json';
/** The training script in a PyTorch export folder. */
export const PYTORCH_SCRIPT = 'train.py';
/** The defaults of the training script's flags in a PyTorch export folder. */
export const PYTORCH_DEFAULTS_FILE = 'defaults.json';

/** The defaults of train.py's flags; each left out is webgpu-backprop train's default. */
export interface PytorchExportOptions {
  /** The data file train.py trains on when --data is not given, as seen from where it runs. */
  data?: string | undefined;
  /** CSV: the target columns. */
  targets?: readonly string[] | undefined;
  /** Default SGD; momentum 0.9; Adam β1 0.9, β2 0.999, ε 1e-8; its weight decay (default 0, 0.01 for AdamW). */
  optimizer?: OptimizerSpec | undefined;
  /** Default 0.01, 0.001 with Adam. */
  learningRate?: number | undefined;
  /** How the rate changes from step to step, as `fit`'s (a function has no Python form). */
  schedule?: { decay?: Decay | undefined; warmup?: number | undefined } | undefined;
  /** Clips the gradient to this global norm (default: no clipping). */
  clipNorm?: number | undefined;
  /** The global batch, shared among the processes; default 32, or the data if smaller. */
  batchSize?: number | undefined;
  /** Give steps or epochs; default one epoch. */
  steps?: number | undefined;
  epochs?: number | undefined;
  /** Default true. */
  shuffle?: boolean | undefined;
  /** Default 1. */
  seed?: number | undefined;
  /** Default float32. */
  dtype?: 'float32' | 'float64' | undefined;
}

const EXPORT_OPTION_KEYS = optionKeys<PytorchExportOptions>()(['data', 'targets', 'optimizer', 'learningRate', 'schedule', 'clipNorm', 'batchSize', 'steps', 'epochs', 'shuffle', 'seed', 'dtype']);

function checkOptions(options: PytorchExportOptions): void {
  checkKeys(options, EXPORT_OPTION_KEYS, 'export');
  const positive = (name: keyof PytorchExportOptions, integer: boolean) => {
    const value = options[name];
    if (value === undefined) return;
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
      throw new InputError(name, `expected a positive ${integer ? 'integer' : 'number'}, got ${String(value)}`);
    }
  };
  positive('learningRate', false);
  positive('batchSize', true);
  positive('steps', true);
  positive('epochs', true);
  if (options.steps !== undefined && options.epochs !== undefined) throw new InputError('steps, epochs', 'give one or the other, not both');
  if (options.seed !== undefined && !(Number.isSafeInteger(options.seed) && options.seed >= 0)) throw new InputError('seed', `expected a non-negative integer, got ${options.seed}`);
  if (options.optimizer !== undefined && !OPTIMIZER_KINDS.includes(options.optimizer.kind)) {
    throw new InputError('optimizer.kind', `expected one of ${OPTIMIZER_KINDS.join(', ')}, got ${quoted(options.optimizer.kind)}`);
  }
  positive('clipNorm', false);
  checkSchedule(options.schedule, 'schedule');
  if (options.dtype !== undefined && options.dtype !== 'float32' && options.dtype !== 'float64') {
    throw new InputError('dtype', `expected float32 or float64, got ${quoted(options.dtype)}`);
  }
}

/**
 * defaults.json: the defaults of train.py's flags, as exported; with each optimizer's
 * constants and learning rate, which --optimizer may choose at run time.
 */
function defaultsFile(options: PytorchExportOptions): Record<string, unknown> {
  const chosen = options.optimizer ?? DEFAULT_OPTIMIZERS.sgd;
  // Every optimizer's constants by name (momentum, beta1, …): the chosen one's as given.
  const constants = Object.fromEntries([...OPTIMIZER_KINDS.map((kind) => DEFAULT_OPTIMIZERS[kind]), chosen].flatMap((spec) => Object.entries(constantsOf(spec))));
  return {
    data: options.data ?? null,
    targets: options.targets ?? null,
    optimizer: chosen.kind,
    lr: options.learningRate ?? null,
    learning_rates: Object.fromEntries(OPTIMIZER_KINDS.map((kind) => [kind, DEFAULT_LEARNING_RATE[kind]])),
    ...constants,
    weight_decay: chosen.weightDecay ?? null,
    clip_norm: options.clipNorm ?? null,
    lr_schedule: options.schedule?.decay ? decayText(options.schedule.decay) : null,
    lr_warmup: options.schedule?.warmup ?? null,
    batch_size: options.batchSize ?? null,
    steps: options.steps ?? null,
    epochs: options.steps !== undefined ? null : (options.epochs ?? 1),
    shuffle: options.shuffle ?? true,
    seed: options.seed ?? 1,
    dtype: options.dtype ?? 'float32',
  };
}

/** A decay as the command line and train.py write it: step:S:G, exponential:G, cosine:T. */
function decayText(decay: Decay): string {
  return decay.kind === 'step' ? `step:${decay.every}:${decay.gamma}` : decay.kind === 'exponential' ? `exponential:${decay.gamma}` : `cosine:${decay.steps}`;
}

/** The PyTorch folder: `model.json`, `train.py` (the same for every network) and `defaults.json`. */
export function exportPytorch(model: Model, options: PytorchExportOptions = {}): Record<string, string> {
  checkOptions(options);
  return {
    // The input scaling stays a step of its own before the first layer, which train.py does not train.
    [PYTORCH_MODEL_FILE]: `${JSON.stringify(modelToJson(model))}\n`,
    [PYTORCH_SCRIPT]: TRAIN_PY,
    [PYTORCH_DEFAULTS_FILE]: `${JSON.stringify(defaultsFile(options), null, 2)}\n`,
  };
}
