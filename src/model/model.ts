// The model description shared by the float64 reference and the GPU trainer: layer
// sizes, activations, loss, and whether biases train. Weights are stored out × in:
// weights[j][i] is the weight from input i into neuron j (see layout.ts).

import { InputError } from '../errors.ts';

/** The activations a layer may have; softmax on the output layer only. */
export const ACTIVATIONS = ['sigmoid', 'linear', 'tanh', 'relu', 'softmax'] as const;
/** An activation: `sigmoid`, `linear`, `tanh`, `relu` or `softmax`. */
export type Activation = (typeof ACTIVATIONS)[number];

/**
 * Per-sample losses; the loss of a batch is the mean of its samples' losses.
 * - half-sse: ½ Σ_k (t_k − o_k)², the articles' E_total
 * - sse: Σ_k (t_k − o_k)², the TensorFlow loop of article 004 (which also sums over the batch)
 * - mse: (1/K) Σ_k (t_k − o_k)²
 * - cross-entropy: −Σ_k t_k log o_k after a softmax output; with sigmoid outputs, the binary
 *   form −Σ_k [t_k log o_k + (1 − t_k) log(1 − o_k)]
 */
export const LOSSES = ['half-sse', 'sse', 'mse', 'cross-entropy'] as const;
/** A per-sample loss: `half-sse`, `sse`, `mse` or `cross-entropy`. */
export type Loss = (typeof LOSSES)[number];


/** One layer: its units and its activation. */
export interface LayerSpec {
  units: number;
  activation: Activation;
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

/** Checks a spec's structure; throws an InputError naming the offending field. */
export function checkSpec(spec: ModelSpec): void {
  if (!Number.isInteger(spec.inputSize) || spec.inputSize < 1) {
    throw new InputError('inputSize', `expected a positive integer, got ${spec.inputSize}`);
  }
  if (spec.layers.length === 0) throw new InputError('layers', 'expected at least one layer');
  if (!isLoss(spec.loss)) {
    throw new InputError('loss', `expected one of ${LOSSES.join(', ')}, got ${JSON.stringify(spec.loss)}`);
  }
  const last = spec.layers.length - 1;
  spec.layers.forEach((layer, l) => {
    if (!Number.isInteger(layer.units) || layer.units < 1) {
      throw new InputError(`layers[${l}].units`, `expected a positive integer, got ${layer.units}`);
    }
    if (!isActivation(layer.activation)) {
      throw new InputError(
        `layers[${l}].activation`,
        `expected one of ${ACTIVATIONS.join(', ')}, got ${JSON.stringify(layer.activation)}`,
      );
    }
    if (layer.activation === 'softmax' && l !== last) {
      throw new InputError(`layers[${l}].activation`, 'softmax is allowed on the output layer only');
    }
  });
  const outAct = spec.layers[last].activation;
  if (outAct === 'softmax' && spec.layers[last].units === 1) {
    throw new InputError(`layers[${last}].activation`, 'softmax over one output is always 1 and learns nothing; for one 0/1 target use sigmoid (with cross-entropy)');
  }
  if (spec.loss === 'cross-entropy' && outAct !== 'softmax' && outAct !== 'sigmoid') {
    throw new InputError(
      `layers[${last}].activation`,
      `cross-entropy needs a softmax or sigmoid output layer (its outputs must be probabilities), got ${outAct}`,
    );
  }
}
