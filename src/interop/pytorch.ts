// The PyTorch hand-off: a folder that trains the network further with PyTorch's
// DistributedDataParallel, on one machine or many, and gives back a model file.
//
//   exportPytorch(model: Model, options?: PytorchExportOptions): Record<string, string>
//
// returns the folder's files by name: `model.json` (the model file, which train.py reads
// with nothing but the standard library and torch) and `train.py`, generated from
// train-py.ts for this network: nn.Sequential(Linear, activation, …), its loss, and the
// training settings given here as the defaults of its flags (which mirror those of
// `webgpu-backprop train`). What train.py does and what is exact is told in its docstring
// and in the README's "When one machine is not enough".

import { BackpropError, InputError } from '../errors.ts';
import { modelToJson } from '../io/model-file.ts';
import type { Activation } from '../model/model.ts';
import type { Model } from '../model/network.ts';
import { DEFAULT_OPTIMIZERS, OPTIMIZER_KINDS, type OptimizerSpec } from '../model/optimizer.ts';
import { DEFAULT_LEARNING_RATE } from '../train/options.ts';
import { foldInputScaling } from './dense.ts';
import { TRAIN_PY_TEMPLATE } from './train-py.ts';

/** The model file in a PyTorch export folder. */
export const PYTORCH_MODEL_FILE = 'model.json';
/** The generated training script in a PyTorch export folder. */
export const PYTORCH_SCRIPT = 'train.py';

/** The defaults of train.py's flags; each left out is webgpu-backprop train's default. */
export interface PytorchExportOptions {
  /** The data file train.py trains on when --data is not given, as seen from where it runs. */
  data?: string;
  /** CSV: the target columns. */
  targets?: string[];
  /** Default SGD; momentum 0.9; Adam β1 0.9, β2 0.999, ε 1e-8. */
  optimizer?: OptimizerSpec;
  /** Default 0.01, 0.001 with Adam. */
  learningRate?: number;
  /** The global batch, shared among the processes; default 32, or the data if smaller. */
  batchSize?: number;
  /** Give steps or epochs; default one epoch. */
  steps?: number;
  epochs?: number;
  /** Default true. */
  shuffle?: boolean;
  /** Default 1. */
  seed?: number;
  /** Default float32. */
  dtype?: 'float32' | 'float64';
}

/** A JSON-like value as a Python literal. */
function python(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : JSON.stringify(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(python).join(', ')}]`;
  throw new BackpropError(`no Python literal for ${String(value)}`);
}

const MODULES: Record<Activation, string | undefined> = {
  sigmoid: 'nn.Sigmoid()',
  tanh: 'nn.Tanh()',
  relu: 'nn.ReLU()',
  softmax: 'nn.Softmax(dim=1)',
  linear: undefined,
};

const FUNCTIONS: Record<Activation, string> = {
  sigmoid: 'torch.sigmoid(net)',
  tanh: 'torch.tanh(net)',
  relu: 'torch.relu(net)',
  softmax: 'torch.softmax(net, dim=1)',
  linear: 'net',
};

function checkOptions(options: PytorchExportOptions): void {
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
    throw new InputError('optimizer.kind', `expected one of ${OPTIMIZER_KINDS.join(', ')}, got ${JSON.stringify(options.optimizer.kind)}`);
  }
  if (options.dtype !== undefined && options.dtype !== 'float32' && options.dtype !== 'float64') {
    throw new InputError('dtype', `expected float32 or float64, got ${JSON.stringify(options.dtype)}`);
  }
}

/** The settings block: the network's facts and the flags' defaults. */
function settingsCode(model: Model, options: PytorchExportOptions): string {
  const { spec } = model;
  const optimizer = options.optimizer ?? DEFAULT_OPTIMIZERS.sgd;
  const momentum = optimizer.kind === 'momentum' ? optimizer : DEFAULT_OPTIMIZERS.momentum;
  const adam = optimizer.kind === 'adam' ? optimizer : DEFAULT_OPTIMIZERS.adam;
  const last = spec.layers.length - 1;
  const outputLinear = spec.layers.slice(0, last).reduce((index, layer) => index + (MODULES[layer.activation] ? 2 : 1), 0);
  const defaults: [string, unknown, string][] = [
    ['data', options.data ?? null, 'JSON {"inputs", "targets"} or CSV'],
    ['targets', options.targets ?? null, 'CSV: the target columns'],
    ['optimizer', optimizer.kind, 'sgd | momentum | adam'],
    ['lr', options.learningRate ?? null, 'None: DEFAULT_LEARNING_RATES[optimizer]'],
    ['momentum', momentum.momentum, ''],
    ['beta1', adam.beta1, ''],
    ['beta2', adam.beta2, ''],
    ['epsilon', adam.epsilon, ''],
    ['batch_size', options.batchSize ?? null, 'the global batch; None: 32, or the data if smaller'],
    ['steps', options.steps ?? null, 'None: run epochs'],
    ['epochs', options.steps !== undefined ? null : (options.epochs ?? 1), ''],
    ['shuffle', options.shuffle ?? true, "False: data order, wrapping around"],
    ['seed', options.seed ?? 1, 'of the shuffling'],
    ['dtype', options.dtype ?? 'float32', 'float32 | float64'],
  ];
  const width = Math.max(...defaults.map(([key, value]) => `    "${key}": ${python(value)},`.length));
  return [
    `# The network and its loss; ${PYTORCH_MODEL_FILE} beside this script holds the weights.`,
    `MODEL_FILE = ${python(PYTORCH_MODEL_FILE)}`,
    `INPUT_SIZE = ${spec.inputSize}`,
    `OUTPUT_SIZE = ${spec.layers[last].units}`,
    `ACTIVATIONS = ${python(spec.layers.map((layer) => layer.activation))}  # layers[0], layers[1], … of the model file`,
    `OUTPUT_LINEAR = ${outputLinear}  # build_network()[${outputLinear}] is the output layer's Linear`,
    `LOSS = ${python(spec.loss)}  # per sample; the loss of a batch is the mean over its rows`,
    `TRAIN_BIASES = ${python(spec.trainBiases)}`,
    '',
    '# The defaults of the flags (python3 train.py --help), as exported.',
    'DEFAULTS = {',
    ...defaults.map(([key, value, comment]) => {
      const line = `    "${key}": ${python(value)},`;
      return comment ? `${line.padEnd(width)}  # ${comment}` : line;
    }),
    '}',
    `DEFAULT_LEARNING_RATES = {${OPTIMIZER_KINDS.map((kind) => `"${kind}": ${python(DEFAULT_LEARNING_RATE[kind])}`).join(', ')}}`,
  ].join('\n');
}

function networkCode(model: Model): string {
  let inputs = model.spec.inputSize;
  const lines = model.spec.layers.flatMap((layer, l) => {
    const linear = `        nn.Linear(${inputs}, ${layer.units}),  # layers[${l}]`;
    inputs = layer.units;
    const activation = MODULES[layer.activation];
    return activation ? [linear, `        ${activation},`] : [linear];
  });
  return ['return nn.Sequential(', ...lines, '    )'].join('\n');
}

function lossCode(model: Model): string {
  const { spec } = model;
  const activation = spec.layers[spec.layers.length - 1].activation;
  if (spec.loss === 'cross-entropy' && activation === 'softmax') {
    return ['# −Σ_k t_k log softmax(net)_k, with log softmax(net) = net − log Σ_j e^net_j', 'return -(target * torch.log_softmax(net, dim=1)).sum(dim=1)'].join('\n    ');
  }
  if (spec.loss === 'cross-entropy') {
    return [
      '# binary: −Σ_k [t_k log σ(net_k) + (1 − t_k) log(1 − σ(net_k))], from net',
      'return F.binary_cross_entropy_with_logits(net, target, reduction="none").sum(dim=1)',
    ].join('\n    ');
  }
  const squared = {
    'half-sse': ['½ Σ_k (t_k − out_k)², the articles\' E_total', 'return 0.5 * ((target - out) ** 2).sum(dim=1)'],
    sse: ['Σ_k (t_k − out_k)²', 'return ((target - out) ** 2).sum(dim=1)'],
    mse: ['(1/K) Σ_k (t_k − out_k)²', 'return ((target - out) ** 2).mean(dim=1)'],
  }[spec.loss];
  return [`out = ${FUNCTIONS[activation]}`, `# ${squared[0]}`, squared[1]].join('\n    ');
}

/** The summary line of train.py's docstring. */
function summary(model: Model): string {
  const { spec } = model;
  const sizes = [spec.inputSize, ...spec.layers.map((layer) => `${layer.units} ${layer.activation}`)].join(' → ');
  return `a ${sizes} network (${spec.loss} loss) with PyTorch DistributedDataParallel.`;
}

/** The PyTorch folder: `model.json` and a `train.py` generated for this network. */
export function exportPytorch(model: Model, options: PytorchExportOptions = {}): Record<string, string> {
  checkOptions(options);
  const script = TRAIN_PY_TEMPLATE.replace('# @summary@', summary(model))
    .replace('# @settings@', settingsCode(model, options))
    .replace('# @network@', networkCode(model))
    .replace('# @loss@', lossCode(model));
  return {
    [PYTORCH_MODEL_FILE]: `${JSON.stringify(modelToJson(foldInputScaling(model)))}\n`,
    [PYTORCH_SCRIPT]: script,
  };
}
