// The playground's settings: their defaults, how they are written in the URL (so a link
// shares them and they survive a switch of page), and which of them need a new network.
// Data and architecture settings build a new network at once, as TensorFlow Playground
// does; the learning rate and its schedule, batch size, optimizer and weight decay apply to
// the network being trained.

import { ACTIVATIONS, LOSSES, OPTIMIZER_KINDS, type Activation, type BackendChoice, type Loss, type OptimizerKind, type TrainOptionsInput } from 'webgpu-backprop';
import { parseDecay } from 'webgpu-backprop/trainers';
import { SYNTHETIC_DATASETS } from 'webgpu-backprop/examples';
import { FEATURES, type Feature } from './features.ts';

export const DATASETS = [...SYNTHETIC_DATASETS, 'mnist', 'mnist-full', 'csv'] as const;
export type DatasetName = (typeof DATASETS)[number];
/** The backends a network can be made on, as Network.create's `backend` takes them. */
export const BACKENDS = ['auto', 'webgpu', 'wasm', 'cpu'] as const satisfies readonly BackendChoice[];

export const HIDDEN_ACTIVATIONS = ACTIVATIONS.filter((a) => a !== 'softmax');

export interface PlaygroundConfig {
  dataset: DatasetName;
  /** Units of each hidden layer. */
  layers: number[];
  activation: Activation;
  /** The output layer's activation and the loss: `auto` picks what the targets need. */
  output: Activation | 'auto';
  loss: Loss | 'auto';
  batchSize: number;
  learningRate: number;
  optimizer: OptimizerKind;
  /** λ, the optimizer's weight decay: L2 (λ·w added to the gradient), decoupled for AdamW. */
  weightDecay: number;
  /** How the learning rate falls: `none`, or a decay as the command line writes it (step:S:G, exponential:G, cosine:T). */
  schedule: string;
  /** Steps over which the learning rate rises linearly to its value (0: none). */
  warmup: number;
  /** The hidden layers' dropout p (0: none). */
  dropout: number;
  /** Where the network trains: auto (the faster here, by measurement), WebGPU, WebAssembly or the float64 reference. */
  backend: BackendChoice;
  seed: number;
  /** Percent of the rows held out as the test set (MNIST holds out its own fixed 10%). */
  testPercent: number;
  /** CSV: the target columns, comma-separated. */
  targets: string;
  /** CSV: standardise the inputs with the training rows' mean and standard deviation. */
  standardize: boolean;
  /** 2-D sets: the inputs beside x and y (x², y², xy, sin x, sin y). */
  features: Feature[];
  /** 2-D sets: percent of the training rows whose label is flipped. */
  noise: number;
}

export const DEFAULTS: PlaygroundConfig = {
  dataset: 'xor',
  layers: [8, 8],
  activation: 'tanh',
  output: 'auto',
  loss: 'auto',
  batchSize: 16,
  learningRate: 0.03,
  optimizer: 'adam',
  weightDecay: 0,
  schedule: 'none',
  warmup: 0,
  dropout: 0,
  backend: 'auto',
  seed: 1,
  testPercent: 30,
  targets: '',
  standardize: true,
  features: [],
  noise: 0,
};

/**
 * What a dataset starts from when chosen: MNIST wants a wider network and bigger batches
 * than the 2-D sets; a CSV file ReLU units, which do not saturate on targets of any size.
 */
export const PRESETS: Partial<Record<DatasetName, Partial<PlaygroundConfig>>> = {
  mnist: { layers: [64], activation: 'relu', batchSize: 64, learningRate: 0.003, optimizer: 'adam' },
  'mnist-full': { layers: [64], activation: 'relu', batchSize: 64, learningRate: 0.003, optimizer: 'adam' },
  csv: { activation: 'relu' },
};

const PRESET_KEYS = ['layers', 'activation', 'batchSize', 'learningRate', 'optimizer'] as const;

/** The settings a dataset starts from, where choosing it changes them (else undefined). */
export function presetChange(from: DatasetName, to: DatasetName): Partial<PlaygroundConfig> | undefined {
  const preset = (dataset: DatasetName) => Object.fromEntries(PRESET_KEYS.map((key) => [key, PRESETS[dataset]?.[key] ?? DEFAULTS[key]])) as Partial<PlaygroundConfig>;
  const [before, after] = [preset(from), preset(to)];
  return JSON.stringify(before) === JSON.stringify(after) ? undefined : after;
}

/** Settings the running network takes on at once; every other setting builds a new network. */
export const LIVE_SETTINGS = ['learningRate', 'batchSize', 'optimizer', 'weightDecay', 'schedule', 'warmup'] as const satisfies readonly (keyof PlaygroundConfig)[];

/** The live settings as the notice of their change mid-run words them. */
export const SETTING_WORDS: Record<(typeof LIVE_SETTINGS)[number], string> = {
  learningRate: 'learning rate',
  batchSize: 'batch size',
  optimizer: 'optimizer',
  weightDecay: 'weight decay',
  schedule: 'schedule',
  warmup: 'warmup',
};

export const MAX_UNITS = 1024;

const NAMES: Record<keyof PlaygroundConfig, string> = {
  dataset: 'dataset',
  layers: 'layers',
  activation: 'activation',
  output: 'output',
  loss: 'loss',
  batchSize: 'batch',
  learningRate: 'lr',
  optimizer: 'optimizer',
  weightDecay: 'l2',
  schedule: 'schedule',
  warmup: 'warmup',
  dropout: 'dropout',
  backend: 'backend',
  seed: 'seed',
  testPercent: 'test',
  targets: 'targets',
  standardize: 'standardize',
  features: 'features',
  noise: 'noise',
};

/** A setting's value from text, or an error naming the setting and what it expects. */
export function parseSetting<K extends keyof PlaygroundConfig>(key: K, text: string): PlaygroundConfig[K] {
  const fail = (expected: string): never => {
    throw new Error(`${NAMES[key]}: expected ${expected}, got ${JSON.stringify(text)}`);
  };
  const oneOf = (options: readonly string[]) => (options.includes(text) ? text : fail(`one of ${options.join(', ')}`));
  const number = (integer: boolean, min: number, max: number) => {
    const value = Number(text);
    if (text.trim() === '' || !Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min || value > max) {
      fail(`${integer ? 'a whole number' : 'a number'} from ${min} to ${max}`);
    }
    return value;
  };
  const value: unknown = (() => {
    switch (key) {
      case 'dataset':
        return oneOf(DATASETS);
      case 'layers': {
        const parts = text.split(',').map((part) => part.trim()).filter(Boolean);
        const units = parts.map(Number);
        if (units.some((u) => !Number.isInteger(u) || u < 1 || u > MAX_UNITS)) fail(`comma-separated whole numbers of units from 1 to ${MAX_UNITS} (or nothing, for no hidden layer)`);
        return units;
      }
      case 'activation':
        return oneOf(HIDDEN_ACTIVATIONS);
      case 'output':
        return oneOf(['auto', ...ACTIVATIONS]);
      case 'loss':
        return oneOf(['auto', ...LOSSES]);
      case 'batchSize':
        return number(true, 1, 65_536);
      case 'learningRate': {
        const rate = number(false, 0, 10);
        return rate > 0 ? rate : fail('a number above 0, up to 10');
      }
      case 'optimizer':
        return oneOf(OPTIMIZER_KINDS);
      case 'weightDecay':
        return number(false, 0, 1);
      case 'schedule':
        if (text === 'none') return text;
        try {
          parseDecay(text, NAMES[key]);
        } catch {
          fail('none, step:S:G, exponential:G or cosine:T (S and T positive whole numbers, G a positive number)');
        }
        return text;
      case 'warmup':
        return number(true, 0, 1_000_000);
      case 'dropout': {
        const p = number(false, 0, 1);
        return p < 1 ? p : fail('a number from 0 up to (not including) 1');
      }
      case 'backend':
        return oneOf(BACKENDS);
      case 'seed':
        return number(true, 0, 2 ** 31 - 1);
      case 'testPercent':
        return number(true, 5, 90);
      case 'targets':
        return text.trim();
      case 'standardize':
        return text === 'true' || text === 'on' ? true : text === 'false' || text === 'off' ? false : fail('true or false');
      case 'features': {
        const chosen = text.split(',').map((part) => part.trim()).filter(Boolean);
        if (chosen.some((f) => !(FEATURES as readonly string[]).includes(f))) fail(`comma-separated features from ${FEATURES.join(', ')} (or nothing)`);
        return FEATURES.filter((f) => chosen.includes(f));
      }
      case 'noise':
        return number(true, 0, 50);
    }
  })();
  return value as PlaygroundConfig[K];
}

export function formatSetting(value: PlaygroundConfig[keyof PlaygroundConfig]): string {
  return Array.isArray(value) ? value.join(',') : String(value);
}

/** The settings as URL parameters (`dataset=spirals&layers=8,8&…`). */
export function configToQuery(config: PlaygroundConfig): string {
  const params = new URLSearchParams();
  for (const key of Object.keys(NAMES) as (keyof PlaygroundConfig)[]) {
    if (key === 'targets' && config.dataset !== 'csv') continue;
    if (key === 'standardize' && config.dataset !== 'csv') continue;
    if ((key === 'features' || key === 'noise') && !isPlane(config.dataset)) continue;
    params.set(NAMES[key], formatSetting(config[key]));
  }
  return params.toString().replace(/%2C/g, ',').replace(/%3A/g, ':');
}

/** Settings from URL parameters: missing ones take their defaults; bad ones too, each with a message. */
export function configFromQuery(query: string): { config: PlaygroundConfig; problems: string[] } {
  const params = new URLSearchParams(query);
  const dataset = params.get('dataset');
  const base = { ...DEFAULTS, ...(dataset && (DATASETS as readonly string[]).includes(dataset) ? PRESETS[dataset as DatasetName] : {}) };
  const config: PlaygroundConfig = { ...base, layers: [...base.layers], features: [...base.features] };
  const problems: string[] = [];
  for (const key of Object.keys(NAMES) as (keyof PlaygroundConfig)[]) {
    const text = params.get(NAMES[key]);
    if (text === null) continue;
    try {
      (config as unknown as Record<string, unknown>)[key] = parseSetting(key, text);
    } catch (error) {
      problems.push(`${(error as Error).message}; using ${formatSetting(config[key])}`);
    }
  }
  return { config, problems };
}

/** Whether a dataset is a set of points in the plane (XOR, spirals, circles). */
export function isPlane(dataset: DatasetName): boolean {
  return (SYNTHETIC_DATASETS as readonly string[]).includes(dataset);
}

/** Whether a dataset is MNIST (the package's subset, or the full database). */
export function isMnist(dataset: DatasetName): dataset is 'mnist' | 'mnist-full' {
  return dataset === 'mnist' || dataset === 'mnist-full';
}

export function sameConfig(a: PlaygroundConfig, b: PlaygroundConfig): boolean {
  return configToQuery(a) === configToQuery(b);
}

/** Whether going from one configuration to the other needs a new network (anything but the live settings changed). */
export function needsNewNetwork(from: PlaygroundConfig, to: PlaygroundConfig): boolean {
  const live = Object.fromEntries(LIVE_SETTINGS.map((key) => [key, DEFAULTS[key]]));
  const strip = (config: PlaygroundConfig) => configToQuery({ ...config, ...live });
  return strip(from) !== strip(to);
}

/** The learning rate `fit` takes: the rate, or the rate with its schedule and warmup. */
export function learningRateOption(config: PlaygroundConfig): TrainOptionsInput['learningRate'] {
  if (config.schedule === 'none' && config.warmup === 0) return config.learningRate;
  return { initial: config.learningRate, ...(config.schedule !== 'none' ? { schedule: config.schedule } : {}), ...(config.warmup > 0 ? { warmup: config.warmup } : {}) };
}
