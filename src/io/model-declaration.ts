// A model file checked and sized, nothing allocated for its parameters: the network it
// describes, within MODEL_LIMITS, every layer's weights of the right shape. Files come
// here through their schema (model-file.ts, which takes any JSON); a description handed
// to Network.create comes here directly, typed, and has its values checked here, so that
// a page that makes networks without reading files needs no schema library.

import { checkClasses } from '../data/labels.ts';
import { checkInputScaling } from '../data/scaling.ts';
import { FLOAT32_MAX } from '../data/values.ts';
import { asText, InputError } from '../errors.ts';
import { checkSpec, type ModelSpec } from '../model/model.ts';
import { createModel, setLayerParams, type Model } from '../model/network.ts';
import { layerActivation, MODEL_LIMITS, type ModelDescription } from './model-format.ts';

/**
 * A model file, checked but not yet built: its network is known and within MODEL_LIMITS,
 * and nothing has been allocated for its parameters. Whoever reads one checks the
 * network against the data and the memory at hand before calling `create`.
 */
export interface ModelDeclaration {
  spec: ModelSpec;
  /** Weights and biases. */
  paramCount: number;
  /** The class each output unit stands for (the file's `classes`), if the file names them. */
  classes: readonly string[] | undefined;
  /** Allocates the parameters: set from the file's weights, or initialised from `seed` (default: the file's seed, else 1). */
  create(seed?: number | string): Model;
  /** The same declaration with these class names (checked: one per output unit; `where` names them in errors). */
  withClasses(classes: readonly string[], where: string): ModelDeclaration;
}

/** Refuses what a typed description can still get wrong at run time (from JavaScript): the schema's checks, for files, come first. */
function checkDescription(file: ModelDescription, source: string): void {
  const fail = (where: string, problem: string): never => {
    throw new InputError(`${source}: ${where}`, problem);
  };
  const count = (value: unknown, where: string, max: number) => {
    if (value !== undefined && !(Number.isInteger(value) && (value as number) >= 1 && (value as number) <= max)) fail(where, `expected a whole number from 1 to ${max}, got ${asText(value)}`);
  };
  const parameters = (values: unknown, where: string) => {
    if (!Array.isArray(values)) fail(where, `expected an array of numbers, got ${asText(values)}`);
    (values as unknown[]).forEach((value, k) => {
      if (typeof value !== 'number' || !(Math.abs(value) <= FLOAT32_MAX)) fail(`${where}[${k}]`, `expected a number float32 can hold (|x| ≤ ${FLOAT32_MAX})`);
    });
  };
  if (typeof file !== 'object' || file === null) fail('model', 'expected an object with loss and layers');
  if (!Array.isArray(file.layers) || file.layers.length < 1 || file.layers.length > MODEL_LIMITS.layers) fail('layers', `expected an array of 1 to ${MODEL_LIMITS.layers} layers`);
  count(file.inputSize, 'inputSize', MODEL_LIMITS.units);
  if (file.trainBiases !== undefined && typeof file.trainBiases !== 'boolean') fail('trainBiases', `expected true or false, got ${asText(file.trainBiases)}`);
  if (file.seed !== undefined && typeof file.seed !== 'number' && typeof file.seed !== 'string') fail('seed', `expected a number or a string, got ${asText(file.seed)}`);
  file.layers.forEach((layer, l) => {
    if (typeof layer !== 'object' || layer === null) fail(`layers[${l}]`, 'expected an object with activation, and units or weights');
    count(layer.units, `layers[${l}].units`, MODEL_LIMITS.units);
    if (layer.weights !== undefined) {
      if (!Array.isArray(layer.weights)) fail(`layers[${l}].weights`, 'expected rows of weights, one per neuron');
      layer.weights.forEach((row, j) => parameters(row, `layers[${l}].weights[${j}]`));
    }
    if (layer.biases !== undefined) parameters(layer.biases, `layers[${l}].biases`);
  });
}

/**
 * Checks a model file's contents (the schema's checks, for a file, already done: `parsed`):
 * the shapes and the limits, before anything is allocated.
 */
export function declareDescription(file: ModelDescription, source: string, parsed = false): ModelDeclaration {
  if (!parsed) checkDescription(file, source);
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
  if (file.classes !== undefined) checkClasses(file.classes, outputUnits(spec), `${source}: classes`);
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
  return declaration(spec, paramCount, create, file.classes);
}

function outputUnits(spec: ModelSpec): number {
  return spec.layers[spec.layers.length - 1].units;
}

/** A declaration whose models carry `classes`. */
function declaration(spec: ModelSpec, paramCount: number, create: (seed?: number | string) => Model, classes: readonly string[] | undefined): ModelDeclaration {
  return {
    spec,
    paramCount,
    classes,
    create: (seed) => ({ ...create(seed), ...(classes ? { classes: [...classes] } : {}) }),
    withClasses: (names, where) => {
      checkClasses(names, outputUnits(spec), where);
      return declaration(spec, paramCount, create, [...names]);
    },
  };
}

function architectureSpec(file: ModelDescription, source: string): ModelSpec {
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

function weightsSpec(file: ModelDescription, source: string): ModelSpec {
  let inputs = file.inputSize ?? file.layers[0].weights![0]?.length ?? 0;
  if (inputs === 0) throw new InputError(`${source}: layers[0].weights[0]`, 'expected at least one weight per neuron');
  const layers = file.layers.map((layer, l) => {
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
