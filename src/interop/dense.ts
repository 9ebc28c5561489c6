// What the ONNX, TensorFlow.js and PyTorch formats share with ours: a chain of dense
// layers, each y = f(x·Wᵀ + b), stored as float32 little-endian tensors elsewhere and as
// float64 here. Exporters read layers out of a Model; importers build a Model from layers
// and check it against the model file's limits before allocating it.

import { InputError, quoted } from '../errors.ts';
import { MODEL_LIMITS } from '../io/model-format.ts';
import { paramLayout, paramView } from '../model/layout.ts';
import { isLoss, layerParameter, LOSSES, type Activation, type LayerSpec, type Loss, type ModelSpec } from '../model/model.ts';
import { ACTIVATION_OPS, type ActivationParameterField } from '../model/ops/activations.ts';
import { createModel, type Model } from '../model/network.ts';

/** One dense layer, weights out × in as everywhere in this library. */
export interface DenseLayer {
  activation: Activation;
  /** The activation's parameter, where it takes one (leaky-relu's negative slope). */
  parameter?: number;
  /** Dropout's probability in training, where the layer has it. */
  dropout?: number;
  units: number; //           OUT
  inputs: number; //          IN
  weights: Float32Array | Float64Array; // (OUT, IN)
  biases: Float32Array | Float64Array; //  (OUT)
}

/** What an imported file may not say: the loss and whether biases train. */
export interface ImportOptions {
  /** Overrides the loss the file records; without either, see `defaultLoss`. */
  loss?: Loss | undefined;
  /** Overrides the file's record; default true. */
  trainBiases?: boolean | undefined;
  /** Told what the import had to guess (a loss the file does not record). */
  warn?: ((message: string) => void) | undefined;
}

/**
 * The loss of an imported network: the options', else the one the file records, else
 * (with a warning) the one its output activation suggests.
 */
export function importedLoss(options: ImportOptions, recorded: Loss | undefined, output: Activation, source: string): Loss {
  if (options.loss !== undefined) return options.loss;
  if (recorded !== undefined) return recorded;
  const guessed = defaultLoss(output);
  options.warn?.(`${source}: records no loss; taking ${guessed}, as its ${output} output suggests (give the loss to choose another)`);
  return guessed;
}

/** The key under which exports record our loss and trainBiases (ONNX metadata, TF.js userDefinedMetadata). */
export const METADATA_KEY = 'webgpu-backprop';

/**
 * The loss of a network whose file does not say: cross-entropy after softmax or sigmoid
 * outputs (what Keras and PyTorch users pair them with), the mean squared error otherwise.
 */
export function defaultLoss(outputActivation: Activation): Loss {
  return outputActivation === 'softmax' || outputActivation === 'sigmoid' ? 'cross-entropy' : 'mse';
}

/** A recorded loss name, checked. */
export function recordedLoss(value: unknown, where: string): Loss {
  if (!isLoss(value)) throw new InputError(where, `expected one of ${LOSSES.join(', ')}, got ${quoted(value)}`);
  return value;
}

/**
 * The same function with the input scaling folded into the first layer, for engines that
 * know dense layers only: x' = (x − mean)/std, so w'_ji = w_ji/std_i and
 * b'_j = b_j − Σ_i w_ji·mean_i/std_i. (The function is the same; training it further on
 * raw inputs is less well conditioned than on standardised ones.)
 */
export function foldInputScaling(model: Model): Model {
  const scaling = model.inputScaling;
  if (!scaling) return model;
  const params = model.params.slice();
  const weights = paramView(model.layout, params, 0, 'weights'); // (OUT, IN)
  const biases = paramView(model.layout, params, 0, 'biases'); //   (OUT)
  const inputs = model.spec.inputSize;
  for (let j = 0; j < biases.length; j++) {
    for (let i = 0; i < inputs; i++) {
      weights[j * inputs + i] /= scaling.std[i];
      biases[j] -= weights[j * inputs + i] * scaling.mean[i];
    }
  }
  return { spec: model.spec, layout: model.layout, params };
}

/** The layers of a model (its input scaling folded in), as views into its float64 parameters. */
export function denseLayers(scaled: Model): DenseLayer[] {
  const { spec, layout, params } = foldInputScaling(scaled);
  let inputs = spec.inputSize;
  return spec.layers.map((layer, l) => {
    const dense: DenseLayer = {
      activation: layer.activation,
      ...(ACTIVATION_OPS[layer.activation].parameter ? { parameter: layerParameter(layer) } : {}),
      ...(layer.dropout ? { dropout: layer.dropout } : {}),
      units: layer.units,
      inputs,
      weights: paramView(layout, params, l, 'weights'),
      biases: paramView(layout, params, l, 'biases'),
    };
    inputs = layer.units;
    return dense;
  });
}

/** A dense layer's LayerSpec: its units and activation, with the activation's parameter and the dropout where it has them. */
function layerSpec(layer: DenseLayer): LayerSpec {
  const parameter = ACTIVATION_OPS[layer.activation].parameter;
  const field = parameter?.field as ActivationParameterField | undefined;
  return {
    units: layer.units,
    activation: layer.activation,
    // Its parameter where not the default (a file that gave none reads back as it was).
    ...(field && layer.parameter !== undefined && layer.parameter !== parameter!.default ? { [field]: layer.parameter } : {}),
    ...(layer.dropout ? { dropout: layer.dropout } : {}),
  };
}

/** Values as float32, little-endian (what ONNX raw_data and TF.js weight files hold). */
export function float32Bytes(values: ArrayLike<number>): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  for (let k = 0; k < values.length; k++) view.setFloat32(k * 4, values[k], true);
  return bytes;
}

/** `count` little-endian float32 values from `bytes` at `offset`. */
export function readFloat32(bytes: Uint8Array, offset: number, count: number): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, count * 4);
  const values = new Float32Array(count);
  for (let k = 0; k < count; k++) values[k] = view.getFloat32(k * 4, true);
  return values;
}

/** The transpose of a (rows, columns) row-major matrix: (columns, rows). */
export function transpose(matrix: ArrayLike<number>, rows: number, columns: number): Float32Array {
  const out = new Float32Array(rows * columns);
  for (let r = 0; r < rows; r++) for (let c = 0; c < columns; c++) out[c * rows + r] = matrix[r * columns + c];
  return out;
}

/** Refuses sizes a model file could not ask for either, before anything is allocated. */
export function checkLimits(inputSize: number, units: readonly number[], source: string): void {
  if (units.length > MODEL_LIMITS.layers) throw new InputError(source, `${units.length} layers; at most ${MODEL_LIMITS.layers} are allowed`);
  let params = 0;
  let inputs = inputSize;
  for (const [l, n] of [inputSize, ...units].entries()) {
    if (n > MODEL_LIMITS.units) {
      const what = l === 0 ? 'the input' : `layer ${l - 1}`;
      throw new InputError(source, `${what} has ${n} units; at most ${MODEL_LIMITS.units} are allowed`);
    }
  }
  for (const n of units) {
    params += n * (inputs + 1);
    inputs = n;
  }
  if (params > MODEL_LIMITS.params) throw new InputError(source, `the network has ${params} parameters; at most ${MODEL_LIMITS.params} are allowed`);
}

/**
 * A model from imported layers. `where(l)` names layer l in the file (a node, a layer
 * name) for errors. Values must be finite: a model file cannot hold anything else.
 */
export function modelFromLayers(
  inputSize: number,
  layers: readonly DenseLayer[],
  loss: Loss,
  trainBiases: boolean,
  source: string,
  where: (layer: number) => string,
): Model {
  if (layers.length === 0) throw new InputError(source, 'expected at least one dense layer, found none');
  checkLimits(inputSize, layers.map((layer) => layer.units), source);
  const spec: ModelSpec = { inputSize, layers: layers.map(layerSpec), loss, trainBiases };
  const last = layers.length - 1;
  layers.forEach((layer, l) => {
    if (layer.activation === 'softmax' && l !== last) {
      throw new InputError(where(l), 'softmax is supported on the output layer only');
    }
    for (const [kind, values] of [['weights', layer.weights], ['biases', layer.biases]] as const) {
      const bad = values.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) throw new InputError(where(l), `${kind}[${bad}] is ${values[bad]}: expected a finite number`);
    }
  });
  const layout = paramLayout(spec);
  const params = new Float64Array(layout.size);
  layers.forEach((layer, l) => {
    paramView(layout, params, l, 'weights').set(layer.weights);
    paramView(layout, params, l, 'biases').set(layer.biases);
  });
  try {
    return createModel(spec, { params });
  } catch (error) {
    throw error instanceof InputError ? error.inFile(source) : error;
  }
}
