// The model file's form, and the writer (the reader, with its schema, is model-file.ts):
//
//   {"loss": "half-sse", "trainBiases": false,
//    "layers": [{"activation": "sigmoid", "weights": [[0.15, 0.2], [0.25, 0.3]], "biases": [0.35, 0.35]}, …]}
//
// weights[j][i] is the weight from input i into neuron j. The architecture-only form
// gives sizes and a seed instead of numbers:
//
//   {"inputSize": 784, "seed": 1, "loss": "cross-entropy",
//    "layers": [{"units": 128, "activation": "relu"}, {"units": 10, "activation": "softmax"}]}
//
// Either form may carry `"inputScaling": {"mean": [...], "std": [...]}`, one of each per
// input: the network was trained on (x − mean) / std, and predicts from raw inputs by
// scaling them the same way; and `"classes": ["setosa", "versicolor", …]`, the class each
// output unit stands for (class id k is classes[k]). Writing needs no schema: a page that saves networks but
// never reads a file does not load one.

import type { InputScaling } from '../data/scaling.ts';
import type { Activation, LayerSpec, Loss } from '../model/model.ts';
import { ACTIVATION_PARAMETER_FIELDS, type ActivationParameterField } from '../model/ops/activations.ts';
import { layerBiases, layerWeights, type Model } from '../model/network.ts';

/** Bounds on what a model file may ask for, checked before any allocation. */
export const MODEL_LIMITS = {
  fileBytes: 512 * 1024 * 1024,
  layers: 64,
  units: 65_536,
  params: 1 << 28,
};

/** One layer of a model file: its activation (and its parameter, where it takes one), and its size or its weights (out × in) and biases. */
export interface LayerFile extends Partial<Record<ActivationParameterField, number | undefined>> {
  activation: Activation;
  /** Dropout's probability in training, on a hidden layer (default 0). */
  dropout?: number | undefined;
  units?: number | undefined;
  /** weights[j][i]: from input i into neuron j. */
  weights?: number[][] | undefined;
  biases?: number[] | undefined;
}

/** A model file: the architecture with a seed, or every layer's weights. */
export interface ModelFile {
  loss: Loss;
  /** Default true; the articles freeze their biases. */
  trainBiases?: boolean | undefined;
  inputSize?: number | undefined;
  /** Seeds the initial weights of the architecture-only form (default 1). */
  seed?: number | string | undefined;
  layers: LayerFile[];
  /** The inputs' standardisation, where the network was trained on standardised inputs. */
  inputScaling?: InputScaling | undefined;
  /** The class each output unit stands for, one distinct name per unit, where the labels it was trained on were names. */
  classes?: string[] | undefined;
}

/**
 * A model file as a caller may write it, to create a network from: the fields of
 * ModelFile, every one read-only (so a description written `as const` is one).
 */
export interface ModelDescription {
  readonly loss: Loss;
  readonly trainBiases?: boolean | undefined;
  readonly inputSize?: number | undefined;
  readonly seed?: number | string | undefined;
  readonly layers: readonly ({
    readonly activation: Activation;
    readonly units?: number | undefined;
    readonly weights?: readonly (readonly number[])[] | undefined;
    readonly biases?: readonly number[] | undefined;
    readonly dropout?: number | undefined;
  } & { readonly [F in ActivationParameterField]?: number | undefined })[];
  readonly inputScaling?: { readonly mean: readonly number[]; readonly std: readonly number[] } | undefined;
  readonly classes?: readonly string[] | undefined;
}

// Every model file is a description, and a description has no field a model file lacks (checked by the compiler).
const fileIsDescription: [ModelFile] extends [ModelDescription] ? (keyof ModelDescription extends keyof ModelFile ? true : never) : never = true;
void fileIsDescription;

/** The model file of a model: its weights written out, the same form the command line reads. */
export function modelToJson(model: Model, params: Float64Array = model.params): ModelFile {
  const { spec, layout } = model;
  const file: ModelFile = {
    loss: spec.loss,
    trainBiases: spec.trainBiases,
    layers: spec.layers.map((layer, l) => ({
      ...layerActivation(layer),
      weights: layerWeights(layout, params, l),
      biases: layerBiases(layout, params, l),
    })),
  };
  if (model.inputScaling) file.inputScaling = { mean: [...model.inputScaling.mean], std: [...model.inputScaling.std] };
  if (model.classes) file.classes = [...model.classes];
  return file;
}

/** A layer's activation, with the parameter fields and the dropout it gives (checkSpec checks them). */
export function layerActivation(layer: ModelDescription['layers'][number] | LayerSpec): Omit<LayerSpec, 'units'> {
  const spec: Omit<LayerSpec, 'units'> = { activation: layer.activation };
  for (const field of ACTIVATION_PARAMETER_FIELDS) if (layer[field] !== undefined) spec[field] = layer[field];
  if (layer.dropout !== undefined) spec.dropout = layer.dropout;
  return spec;
}
