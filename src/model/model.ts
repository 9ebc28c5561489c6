// The model description shared by the float64 reference and the GPU trainer: layer
// sizes, activations, loss, and whether biases train. Weights are stored out × in:
// weights[j][i] is the weight from input i into neuron j (see layout.ts).

import { InputError, quoted } from '../errors.ts';
import { ACTIVATION_NAMES, ACTIVATION_OPS, ACTIVATION_PARAMETER_FIELDS, type Activation, type ActivationParameterField } from './ops/activations.ts';
import { LOSS_NAMES, LOSS_OPS, type Loss } from './ops/losses.ts';

/** The activations a layer may have (src/model/ops/activations.ts); softmax on the output layer only. */
export const ACTIVATIONS: readonly [Activation, ...Activation[]] = ACTIVATION_NAMES;
export type { Activation };

/**
 * Per-sample losses (src/model/ops/losses.ts); the loss of a batch is the mean of its samples' losses.
 * - half-sse: ½ Σ_k (t_k − o_k)², the articles' E_total
 * - sse: Σ_k (t_k − o_k)², the TensorFlow loop of article 004 (which also sums over the batch)
 * - mse: (1/K) Σ_k (t_k − o_k)²
 * - cross-entropy: −Σ_k t_k log o_k after a softmax output; with sigmoid outputs, the binary
 *   form −Σ_k [t_k log o_k + (1 − t_k) log(1 − o_k)]
 */
export const LOSSES: readonly [Loss, ...Loss[]] = LOSS_NAMES;
export type { Loss };

/**
 * One layer: its units and its activation, and the activation's parameter where it takes
 * one (a field named by its record, e.g. leaky-relu's `negativeSlope`; its default where
 * left out).
 */
export interface LayerSpec extends Partial<Record<ActivationParameterField, number>> {
  units: number;
  activation: Activation;
  /**
   * Inverted dropout on the layer's output in training, with this probability p of
   * dropping a unit (0 ≤ p < 1; hidden layers only; default 0, none). Kept outputs are
   * scaled by 1/(1 − p); prediction and evaluation never drop (see dropout.ts).
   */
  dropout?: number;
}

/** A network: its input size, its layers, its loss, and whether biases train. */
export interface ModelSpec {
  inputSize: number;
  layers: LayerSpec[];
  loss: Loss;
  /** The articles freeze their biases; PyTorch and TensorFlow train them. */
  trainBiases: boolean;
}

export function isActivation(name: unknown): name is Activation {
  return typeof name === 'string' && (ACTIVATIONS as readonly string[]).includes(name);
}

export function isLoss(name: unknown): name is Loss {
  return typeof name === 'string' && (LOSSES as readonly string[]).includes(name);
}

/** Number of inputs into layer `layer` (the input size, or the previous layer's units). */
export function layerInputs(spec: ModelSpec, layer: number): number {
  return layer === 0 ? spec.inputSize : spec.layers[layer - 1].units;
}

/** The number of outputs (the last layer's units). */
export function outputSize(spec: ModelSpec): number {
  return spec.layers[spec.layers.length - 1].units;
}

export function outputActivation(spec: ModelSpec): Activation {
  return spec.layers[spec.layers.length - 1].activation;
}

/** The layer's activation parameter: its own value, the record's default, or 0 where the activation takes none. */
export function layerParameter(layer: LayerSpec): number {
  const parameter = ACTIVATION_OPS[layer.activation].parameter;
  if (!parameter) return 0;
  return layer[parameter.field as ActivationParameterField] ?? parameter.default;
}

/** The parameter fields a layer gives, checked against its activation's. */
function checkLayerParameter(layer: LayerSpec, l: number): void {
  const parameter = ACTIVATION_OPS[layer.activation].parameter;
  for (const field of ACTIVATION_PARAMETER_FIELDS) {
    const value = layer[field];
    if (value === undefined) continue;
    if (parameter?.field !== field) {
      const takers = ACTIVATIONS.filter((name) => ACTIVATION_OPS[name].parameter?.field === field);
      throw new InputError(`layers[${l}].${field}`, `applies to ${takers.join(', ')} only, not ${layer.activation}`);
    }
    const problem = typeof value === 'number' && Number.isFinite(value) ? parameter.check(value) : 'a finite number';
    if (problem) throw new InputError(`layers[${l}].${field}`, `expected ${problem}, got ${value}`);
  }
}

/** Checks a spec's structure; throws an InputError naming the offending field. */
export function checkSpec(spec: ModelSpec): void {
  if (!Number.isInteger(spec.inputSize) || spec.inputSize < 1) {
    throw new InputError('inputSize', `expected a positive integer, got ${spec.inputSize}`);
  }
  if (spec.layers.length === 0) throw new InputError('layers', 'expected at least one layer');
  if (!isLoss(spec.loss)) {
    throw new InputError('loss', `expected one of ${LOSSES.join(', ')}, got ${quoted(spec.loss)}`);
  }
  const last = spec.layers.length - 1;
  spec.layers.forEach((layer, l) => {
    if (!Number.isInteger(layer.units) || layer.units < 1) {
      throw new InputError(`layers[${l}].units`, `expected a positive integer, got ${layer.units}`);
    }
    if (!isActivation(layer.activation)) {
      throw new InputError(
        `layers[${l}].activation`,
        `expected one of ${ACTIVATIONS.join(', ')}, got ${quoted(layer.activation)}`,
      );
    }
    if (ACTIVATION_OPS[layer.activation].kind === 'row' && l !== last) {
      throw new InputError(`layers[${l}].activation`, `${layer.activation} is allowed on the output layer only`);
    }
    checkLayerParameter(layer, l);
    if (layer.dropout !== undefined) {
      if (typeof layer.dropout !== 'number' || !(layer.dropout >= 0 && layer.dropout < 1)) {
        throw new InputError(`layers[${l}].dropout`, `expected a probability p with 0 ≤ p < 1, got ${layer.dropout}`);
      }
      if (l === last && layer.dropout > 0) throw new InputError(`layers[${l}].dropout`, 'dropout applies to hidden layers only, not the output layer');
    }
  });
  const outAct = spec.layers[last].activation;
  if (ACTIVATION_OPS[outAct].kind === 'row' && spec.layers[last].units === 1) {
    throw new InputError(`layers[${last}].activation`, `${outAct} over one output is always 1 and learns nothing; for one 0/1 target use sigmoid (with cross-entropy)`);
  }
  if (LOSS_OPS[spec.loss].kind === 'logits' && outAct !== 'softmax' && outAct !== 'sigmoid') {
    throw new InputError(
      `layers[${last}].activation`,
      `${spec.loss} needs a softmax or sigmoid output layer (its outputs must be probabilities), got ${outAct}`,
    );
  }
}

/**
 * Refuses targets (N, OUT), flat, that the loss cannot take: cross-entropy's are
 * probabilities, each in [0, 1] (soft labels such as 0.2 or 0.7 included), as PyTorch's
 * and Keras's are; a target of 3 gives a loss below zero that training drives to −∞.
 * `name` names the rows in the message (`targets`, `data.csv: targets`).
 */
export function checkTargets(spec: ModelSpec, targets: ArrayLike<number>, name = 'targets'): void {
  if (LOSS_OPS[spec.loss].kind !== 'logits') return;
  const width = outputSize(spec);
  for (let k = 0; k < targets.length; k++) {
    const t = targets[k];
    if (!(t >= 0 && t <= 1)) {
      throw new InputError(`${name}[${Math.floor(k / width)}][${k % width}]`, `${spec.loss} takes targets in [0, 1] (probabilities, soft labels included), got ${t}; for numbers to predict, use a linear output layer and mse`);
    }
  }
}

/**
 * The layers a forward pass is asked for, as indices from 0 (the first hidden layer) to
 * L − 1 (the output layer), checked; `where` names the argument in the message.
 */
export function checkLayerIndices(layers: readonly number[], spec: ModelSpec, where = 'layer'): void {
  const L = spec.layers.length;
  if (!Array.isArray(layers) || layers.length === 0) throw new InputError(where, 'expected at least one layer index');
  for (const l of layers) {
    if (!Number.isInteger(l) || l < 0 || l >= L) throw new InputError(where, `expected a layer index from 0 to ${L - 1} (this network has ${L} layers), got ${l}`);
  }
}
