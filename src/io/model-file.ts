// Reading a model file (its form, and the writer, are in model-format.ts). Files may come
// from anywhere, so they are parsed as data only (JSON.parse, never evaluated), checked
// against a schema, and their sizes bounded before anything is allocated for them.

import { en } from 'zod/locales';
import * as z from 'zod/mini';
import { checkInputScaling } from '../data/scaling.ts';
import { FLOAT32_MAX } from '../data/values.ts';
import { InputError } from '../errors.ts';
import { ACTIVATIONS, checkSpec, LOSSES, type ModelSpec } from '../model/model.ts';
import { createModel, setLayerParams, type Model } from '../model/network.ts';
import { parseJson, zodError } from './json.ts';
import { MODEL_LIMITS, type LayerFile, type ModelFile } from './model-format.ts';

export { MODEL_LIMITS, modelToJson, type LayerFile, type ModelFile } from './model-format.ts';

// zod's small build (its functions tree-shake): this module loads with the first network
// made from a description. Its messages are zod's English ones.
z.config(en());

/** A weight or bias: the GPU holds it as a float32. */
const parameter = z.number().check(z.refine((value) => Math.abs(value) <= FLOAT32_MAX, `expected a number float32 can hold (|x| ≤ ${FLOAT32_MAX})`));
const count = (max: number) => z.number().check(z.int(), z.positive(), z.maximum(max));

const layerSchema = z.strictObject({
  activation: z.enum(ACTIVATIONS),
  units: z.optional(count(MODEL_LIMITS.units)),
  weights: z.optional(z.array(z.array(parameter))),
  biases: z.optional(z.array(parameter)),
});

const modelFileSchema = z.strictObject({
  loss: z.enum(LOSSES),
  trainBiases: z.optional(z.boolean()),
  inputSize: z.optional(count(MODEL_LIMITS.units)),
  seed: z.optional(z.union([z.number(), z.string()])),
  layers: z.array(layerSchema).check(z.minLength(1), z.maxLength(MODEL_LIMITS.layers)),
  inputScaling: z.optional(z.strictObject({ mean: z.array(z.number()).check(z.maxLength(MODEL_LIMITS.units)), std: z.array(z.number()).check(z.maxLength(MODEL_LIMITS.units)) })),
});

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
  /** Allocates the parameters: set from the file's weights, or initialised from `seed` (default: the file's seed, else 1). */
  create(seed?: number | string): Model;
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
  const create = (seed?: number | string) => {
    const model = createModel(spec, { seed: seed ?? file.seed ?? 1 });
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
    layers: file.layers.map((layer) => ({ units: layer.units!, activation: layer.activation })),
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
    return { units: weights.length, activation: layer.activation };
  });
  return { inputSize: file.layers[0].weights![0].length, layers, loss: file.loss, trainBiases: file.trainBiases ?? true };
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
