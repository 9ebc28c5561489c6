// The model file, read and written by the command line and the browser app:
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
// scaling them the same way.
//
// Files may come from anywhere, so they are parsed as data only (JSON.parse, never
// evaluated), checked against a schema, and their sizes bounded before anything is
// allocated for them.

import { z } from 'zod';
import { checkInputScaling, type InputScaling } from '../data/scaling.ts';
import { FLOAT32_MAX } from '../data/values.ts';
import { InputError } from '../errors.ts';
import { ACTIVATIONS, checkSpec, LOSSES, type Activation, type LayerSpec, type Loss, type ModelSpec } from '../model/model.ts';
import { ACTIVATION_PARAMETER_FIELDS, type ActivationParameterField } from '../model/ops/activations.ts';
import { createModel, layerBiases, layerWeights, setLayerParams, type Model } from '../model/network.ts';
import { parseJson, zodError } from './json.ts';

/** Bounds on what a model file may ask for, checked before any allocation. */
export const MODEL_LIMITS = {
  fileBytes: 512 * 1024 * 1024,
  layers: 64,
  units: 65_536,
  params: 1 << 28,
};

/** A weight or bias: the GPU holds it as a float32. */
const parameter = z.number().refine((value) => Math.abs(value) <= FLOAT32_MAX, `expected a number float32 can hold (|x| ≤ ${FLOAT32_MAX})`);

/** The layer fields of the activations' parameters (leaky-relu's negativeSlope, say): checked against the activation by checkSpec. */
const activationParameters = Object.fromEntries(ACTIVATION_PARAMETER_FIELDS.map((field) => [field, z.number().optional()])) as Record<ActivationParameterField, z.ZodOptional<z.ZodNumber>>;

const layerSchema = z
  .object({
    activation: z.enum(ACTIVATIONS),
    ...activationParameters,
    units: z.number().int().positive().max(MODEL_LIMITS.units).optional(),
    weights: z.array(z.array(parameter)).optional(),
    biases: z.array(parameter).optional(),
  })
  .strict();

const modelFileSchema = z
  .object({
    loss: z.enum(LOSSES),
    trainBiases: z.boolean().optional(),
    inputSize: z.number().int().positive().max(MODEL_LIMITS.units).optional(),
    seed: z.union([z.number(), z.string()]).optional(),
    layers: z.array(layerSchema).min(1).max(MODEL_LIMITS.layers),
    inputScaling: z.object({ mean: z.array(z.number()).max(MODEL_LIMITS.units), std: z.array(z.number()).max(MODEL_LIMITS.units) }).strict().optional(),
  })
  .strict();

/** One layer of a model file: its activation (and its parameter, where it takes one), and its size or its weights (out × in) and biases. */
export interface LayerFile extends Partial<Record<ActivationParameterField, number>> {
  activation: Activation;
  units?: number;
  /** weights[j][i]: from input i into neuron j. */
  weights?: number[][];
  biases?: number[];
}

/** A model file: the architecture with a seed, or every layer's weights. */
export interface ModelFile {
  loss: Loss;
  /** Default true; the articles freeze their biases. */
  trainBiases?: boolean;
  inputSize?: number;
  /** Seeds the initial weights of the architecture-only form (default 1). */
  seed?: number | string;
  layers: LayerFile[];
  /** The inputs' standardisation, where the network was trained on standardised inputs. */
  inputScaling?: InputScaling;
}

// The schema accepts exactly the interfaces above (checked by the compiler both ways).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const schemaMatchesModelFile: Same<z.input<typeof modelFileSchema>, ModelFile> = true;
void schemaMatchesModelFile;

/**
 * A model file, checked but not yet built: its network is known and within MODEL_LIMITS,
 * and nothing has been allocated for its parameters. Whoever reads one checks the
 * network against the data and the memory at hand before calling `create`.
 */
export interface ModelDeclaration {
  spec: ModelSpec;
  /** Weights and biases. */
  paramCount: number;
  /** Allocates the parameters: initialised from the seed, or set from the file's weights. */
  create(): Model;
}

/** Parses a model file's text; `source` names it in errors (a path, or an upload's name). */
export function parseModelFile(text: string, source: string): Model {
  return parseModelDeclaration(text, source).create();
}

/** Parses a model file's text into a declaration, allocating nothing for its parameters. */
export function parseModelDeclaration(text: string, source: string): ModelDeclaration {
  if (text.length > MODEL_LIMITS.fileBytes) {
    throw new InputError(source, `the file is larger than the ${MODEL_LIMITS.fileBytes / 2 ** 20} MiB a model file may be`);
  }
  return declareModel(parseJson(text, source), source);
}

/** Checks parsed JSON and builds the model it describes. */
export function modelFromJson(json: unknown, source: string): Model {
  return declareModel(json, source).create();
}

/** Checks parsed JSON: the schema, the shapes and the limits, before anything is allocated. */
export function declareModel(json: unknown, source: string): ModelDeclaration {
  const parsed = modelFileSchema.safeParse(json);
  if (!parsed.success) throw zodError(parsed.error, source);
  const file = parsed.data;
  const withWeights = file.layers.filter((layer) => layer.weights !== undefined).length;
  if (withWeights !== 0 && withWeights !== file.layers.length) {
    const missing = file.layers.findIndex((layer) => layer.weights === undefined);
    throw new InputError(
      `${source}: layers[${missing}].weights`,
      'expected weights on every layer or on none (the architecture-only form gives inputSize, units and seed instead)',
    );
  }
  const spec = withWeights === 0 ? architectureSpec(file, source) : weightsSpec(file, source);
  const paramCount = checkParamCount(spec, source);
  try {
    checkSpec(spec);
    if (file.inputScaling) checkInputScaling(file.inputScaling, spec.inputSize, 'inputScaling');
  } catch (error) {
    throw error instanceof InputError ? error.inFile(source) : error;
  }
  const create = () => {
    const model = createModel(spec, { seed: file.seed ?? 1 });
    if (withWeights !== 0) {
      file.layers.forEach((layer, l) => {
        setLayerParams(model, l, layer.weights!, layer.biases ?? new Array(layer.weights!.length).fill(0));
      });
    }
    if (file.inputScaling) model.inputScaling = { mean: [...file.inputScaling.mean], std: [...file.inputScaling.std] };
    return model;
  };
  return { spec, paramCount, create };
}

function architectureSpec(file: z.infer<typeof modelFileSchema>, source: string): ModelSpec {
  if (file.inputSize === undefined) {
    throw new InputError(`${source}: inputSize`, 'expected the number of inputs (needed when layers give units instead of weights)');
  }
  file.layers.forEach((layer, l) => {
    if (layer.units === undefined) throw new InputError(`${source}: layers[${l}].units`, 'expected a positive integer');
    if (layer.biases !== undefined) {
      throw new InputError(`${source}: layers[${l}].biases`, 'biases need weights beside them (the architecture-only form starts biases at zero)');
    }
  });
  return {
    inputSize: file.inputSize,
    layers: file.layers.map((layer) => ({ units: layer.units!, ...layerActivation(layer) })),
    loss: file.loss,
    trainBiases: file.trainBiases ?? true,
  };
}

function weightsSpec(file: z.infer<typeof modelFileSchema>, source: string): ModelSpec {
  let inputs = file.inputSize ?? file.layers[0].weights![0]?.length ?? 0;
  if (inputs === 0) throw new InputError(`${source}: layers[0].weights[0]`, 'expected at least one weight per neuron');
  const layers = file.layers.map((layer: LayerFile, l) => {
    const weights = layer.weights!;
    const where = `${source}: layers[${l}]`;
    const from = l === 0 ? 'the model' : `layers[${l - 1}]`;
    if (weights.length === 0) throw new InputError(`${where}.weights`, 'expected one row of weights per neuron, got none');
    weights.forEach((row, j) => {
      if (row.length !== inputs) {
        throw new InputError(`${where}.weights[${j}]`, `expected ${inputs} weights (one per input from ${from}), got ${row.length}`);
      }
    });
    if (layer.units !== undefined && layer.units !== weights.length) {
      throw new InputError(`${where}.units`, `is ${layer.units} but weights has ${weights.length} rows`);
    }
    if (layer.biases !== undefined && layer.biases.length !== weights.length) {
      throw new InputError(`${where}.biases`, `expected ${weights.length} biases (one per neuron), got ${layer.biases.length}`);
    }
    inputs = weights.length;
    return { units: weights.length, ...layerActivation(layer) };
  });
  return { inputSize: file.layers[0].weights![0].length, layers, loss: file.loss, trainBiases: file.trainBiases ?? true };
}

/** A layer's activation, with the parameter fields the file gives (checkSpec checks them). */
function layerActivation(layer: LayerFile): Omit<LayerSpec, 'units'> {
  const spec: Omit<LayerSpec, 'units'> = { activation: layer.activation };
  for (const field of ACTIVATION_PARAMETER_FIELDS) if (layer[field] !== undefined) spec[field] = layer[field];
  return spec;
}

/** The network's weights and biases, refused past MODEL_LIMITS.params. */
function checkParamCount(spec: ModelSpec, source: string): number {
  let params = 0;
  let inputs = spec.inputSize;
  for (const layer of spec.layers) {
    params += layer.units * (inputs + 1);
    inputs = layer.units;
  }
  if (params > MODEL_LIMITS.params) {
    throw new InputError(`${source}: layers`, `the network has ${params} parameters; at most ${MODEL_LIMITS.params} are allowed`);
  }
  return params;
}

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
  return file;
}
