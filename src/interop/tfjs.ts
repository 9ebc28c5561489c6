// TensorFlow.js layers-format export and import.
//
//   exportTfjs(model: Model, options?: { weightsPath?: string }): { modelJson: TfjsModelJson; weightsBin: Uint8Array }
//   tfjsWeightPaths(modelJson: unknown, source: string): string[]
//   importTfjs(modelJson: unknown, weightData: TfjsWeightData, source: string, options?: ImportOptions): Model
//
// Export writes what `model.save()` of a tf.sequential() of Dense layers writes: model.json
// (format "layers-model", a Keras-style Sequential topology, a weights manifest) and one
// weights file of float32 little-endian values, kernels in × out as Keras keeps them.
// `tf.loadLayersModel('…/model.json')` loads the pair. Our loss and trainBiases are kept in
// userDefinedMetadata, which TensorFlow.js carries along and ignores.
//
// Import reads Sequential models of Dense layers (an InputLayer first, and an Activation
// layer after a linear Dense, are accepted too); any other layer is refused naming its
// class, name and index. Dense layers without biases (useBias false) import with frozen
// zero biases. Weights paths must stay inside the model's folder. `weightData` is the contents of the manifest's files, in the
// order `tfjsWeightPaths` lists them (one buffer of them all, concatenated, will do).

import { z } from 'zod';
import { InputError, quoted } from '../errors.ts';
import { parseJson, zodError } from '../io/json.ts';
import { MODEL_LIMITS } from '../io/model-format.ts';
import { ACTIVATIONS, type Activation, type Loss } from '../model/model.ts';
import { ACTIVATION_OPS } from '../model/ops/activations.ts';
import { LOSS_NAMES, LOSS_OPS } from '../model/ops/losses.ts';
import type { Model } from '../model/network.ts';
import {
  checkLimits,
  denseLayers,
  float32Bytes,
  importedLoss,
  METADATA_KEY,
  modelFromLayers,
  readFloat32,
  recordedLoss,
  transpose,
  type DenseLayer,
  type ImportOptions,
} from './dense.ts';

/** The weights file's name that an exported model.json names. */
export const TFJS_WEIGHTS_PATH = 'weights.bin';

/** One tensor in a TF.js weights manifest: its name, shape and type. */
export interface TfjsWeightEntry {
  name: string;
  shape: number[];
  dtype: 'float32';
}

/** model.json, as TensorFlow.js's ModelJSON has it. */
export interface TfjsModelJson {
  format: 'layers-model';
  generatedBy: string;
  convertedBy: null;
  modelTopology: {
    class_name: 'Sequential';
    config: { name: string; layers: { class_name: string; config: Record<string, unknown> }[] };
    keras_version: string;
    backend: string;
  };
  weightsManifest: { paths: string[]; weights: TfjsWeightEntry[] }[];
  userDefinedMetadata: Record<string, { loss: Loss; trainBiases: boolean }>;
}

/** The bytes of the weight files a model.json names, in its order. */
export type TfjsWeightData = Uint8Array | ArrayBuffer | readonly (Uint8Array | ArrayBuffer)[];

/** Keras's initializers for what our init uses (the activation's record): He normal for the relu family, Glorot uniform otherwise. */
function kernelInitializer(activation: Activation) {
  return ACTIVATION_OPS[activation].init === 'he' ? { class_name: 'HeNormal', config: { seed: null } } : { class_name: 'GlorotUniform', config: { seed: null } };
}

/** The model as a TensorFlow.js layers model: model.json and its one weights file. */
export function exportTfjs(model: Model, options: { weightsPath?: string } = {}): { modelJson: TfjsModelJson; weightsBin: Uint8Array<ArrayBuffer> } {
  const layers = denseLayers(model);
  const weights: TfjsWeightEntry[] = [];
  const values: number[] = []; // every kernel (IN, OUT) and bias (OUT), in the manifest's order
  const topology = layers.flatMap((layer, l) => {
    const name = `dense_${l}`;
    const names = ACTIVATION_OPS[layer.activation].names;
    // An activation Keras has as a layer of its own follows a linear Dense.
    const activation = names.keras ?? (names.kerasLayer ? 'linear' : undefined);
    if (activation === undefined) throw new InputError(`layers[${l}].activation`, `${layer.activation} has no TensorFlow.js activation; export the model to PyTorch instead`);
    // Keras computes x·kernel + bias: the kernel is in × out, our weights transposed.
    weights.push({ name: `${name}/kernel`, shape: [layer.inputs, layer.units], dtype: 'float32' });
    weights.push({ name: `${name}/bias`, shape: [layer.units], dtype: 'float32' });
    for (const v of transpose(layer.weights, layer.units, layer.inputs)) values.push(v);
    for (const v of layer.biases) values.push(v);
    const dense = {
      class_name: 'Dense',
      config: {
        units: layer.units,
        activation,
        use_bias: true,
        kernel_initializer: kernelInitializer(layer.activation),
        bias_initializer: { class_name: 'Zeros', config: {} },
        kernel_regularizer: null,
        bias_regularizer: null,
        activity_regularizer: null,
        kernel_constraint: null,
        bias_constraint: null,
        name,
        trainable: true,
        ...(l === 0 ? { batch_input_shape: [null, layer.inputs] } : {}),
        dtype: 'float32',
      },
    };
    const own = names.kerasLayer && { class_name: names.kerasLayer.className, config: { [names.kerasLayer.parameterConfig]: layer.parameter, name: `${names.kerasLayer.className.toLowerCase()}_${l}`, trainable: true, dtype: 'float32' } };
    const dropout = layer.dropout && { class_name: 'Dropout', config: { rate: layer.dropout, name: `dropout_${l}`, trainable: true, dtype: 'float32' } };
    return [dense, ...(own ? [own] : []), ...(dropout ? [dropout] : [])];
  });
  const modelJson: TfjsModelJson = {
    format: 'layers-model',
    generatedBy: 'webgpu-backprop',
    convertedBy: null,
    modelTopology: {
      class_name: 'Sequential',
      config: { name: 'sequential', layers: topology },
      keras_version: 'tfjs-layers 4.22.0',
      backend: 'tensor_flow.js',
    },
    weightsManifest: [{ paths: [options.weightsPath ?? TFJS_WEIGHTS_PATH], weights }],
    userDefinedMetadata: { [METADATA_KEY]: { loss: model.spec.loss, trainBiases: model.spec.trainBiases } },
  };
  return { modelJson, weightsBin: float32Bytes(values) };
}

const weightEntrySchema = z
  .object({
    name: z.string(),
    shape: z.array(z.number().int().nonnegative()),
    dtype: z.string(),
    quantization: z.object({ dtype: z.string() }).passthrough().optional(),
  })
  .passthrough();

const layerSchema = z.object({ class_name: z.string(), config: z.record(z.string(), z.unknown()).optional() }).passthrough();

const modelJsonSchema = z
  .object({
    format: z.string().optional(),
    modelTopology: z.record(z.string(), z.unknown()),
    weightsManifest: z.array(z.object({ paths: z.array(z.string()), weights: z.array(weightEntrySchema) }).passthrough()),
    userDefinedMetadata: z.record(z.string(), z.unknown()).optional(),
    trainingConfig: z.object({ loss: z.unknown().optional() }).passthrough().optional(),
  })
  .passthrough();

type ModelJson = z.infer<typeof modelJsonSchema>;

function parseModelJson(modelJson: unknown, source: string): ModelJson {
  const json = typeof modelJson === 'string' ? parseJson(modelJson, source) : modelJson;
  const parsed = modelJsonSchema.safeParse(json);
  if (!parsed.success) throw zodError(parsed.error, source);
  if (parsed.data.format !== undefined && parsed.data.format !== 'layers-model') {
    throw new InputError(`${source}: format`, `is ${quoted(parsed.data.format)}; expected "layers-model" (a graph model from tfjs-converter has no layers to read)`);
  }
  return parsed.data;
}

/**
 * Refuses a weights path that could leave the model's folder: model.json names its weight
 * files relative to itself, so an absolute path, a URL, a drive letter or a `..` segment
 * is no weights file of it (`../../../../etc/passwd`).
 */
function checkWeightsPath(path: string, where: string): void {
  const segments = path.split(/[\\/]/);
  const outside = path === '' || /^[\\/]/.test(path) || /^[a-zA-Z][a-zA-Z\d+.-]*:/.test(path) || segments.includes('..') || path.includes('\0');
  if (outside) throw new InputError(where, `${JSON.stringify(path.slice(0, 80))} is not a file beside model.json: weights paths are relative, inside its folder (no absolute path, URL or ..)`);
}

/** The weight files model.json names, in the order importTfjs wants their contents: each a path inside the model's folder. */
export function tfjsWeightPaths(modelJson: unknown, source: string): string[] {
  return parseModelJson(modelJson, source).weightsManifest.flatMap((group, g) =>
    group.paths.map((path, k) => {
      checkWeightsPath(path, `${source}: weightsManifest[${g}].paths[${k}]`);
      return path;
    }),
  );
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8, uint8: 1, uint16: 2, float16: 2 };

/** Every manifest entry's place in the concatenated weight data. */
function weightTable(json: ModelJson, data: Uint8Array, source: string): Map<string, { entry: z.infer<typeof weightEntrySchema>; offset: number }> {
  const table = new Map<string, { entry: z.infer<typeof weightEntrySchema>; offset: number }>();
  let offset = 0;
  json.weightsManifest.forEach((group, g) => {
    group.weights.forEach((entry, k) => {
      const dtype = entry.quantization?.dtype ?? entry.dtype;
      const size = DTYPE_BYTES[dtype];
      if (size === undefined) throw new InputError(`${source}: weightsManifest[${g}].weights[${k}]`, `${entry.name} has dtype ${dtype}; its size in the weight files is unknown`);
      table.set(entry.name.replace(/:0$/, ''), { entry, offset });
      offset += size * entry.shape.reduce((a, b) => a * b, 1);
    });
  });
  if (offset !== data.length) {
    throw new InputError(`${source}: weightsManifest`, `describes ${offset} bytes of weights; the weight files hold ${data.length}`);
  }
  return table;
}

function concatenate(weightData: TfjsWeightData): Uint8Array {
  const parts = (Array.isArray(weightData) ? weightData : [weightData]) as (Uint8Array | ArrayBuffer)[];
  const bytes = parts.map((part) => (part instanceof Uint8Array ? part : new Uint8Array(part)));
  if (bytes.length === 1) return bytes[0];
  const all = new Uint8Array(bytes.reduce((n, b) => n + b.length, 0));
  let offset = 0;
  for (const b of bytes) {
    all.set(b, offset);
    offset += b.length;
  }
  return all;
}

/** Keras and TensorFlow.js loss names, by what they compute per sample (the losses' records). */
const KERAS_LOSSES: Record<string, Loss> = Object.fromEntries(LOSS_NAMES.flatMap((loss) => LOSS_OPS[loss].keras.map((name) => [name, loss])));

/** Our activations by their Keras names (the activations' records). */
const KERAS_ACTIVATIONS: Record<string, Activation> = Object.fromEntries(ACTIVATIONS.flatMap((activation) => {
  const name = ACTIVATION_OPS[activation].names.keras;
  return name === undefined ? [] : [[name, activation]];
}));

/** Our activations that Keras has as layers of their own, by the layer's class (LeakyReLU). */
const KERAS_LAYERS = new Map(ACTIVATIONS.flatMap((activation) => {
  const layer = ACTIVATION_OPS[activation].names.kerasLayer;
  return layer ? [[layer.className, { activation, ...layer }] as const] : [];
}));

function activationOf(value: unknown, where: string): Activation {
  if (value === undefined || value === null) return 'linear';
  if (typeof value !== 'string' || !Object.hasOwn(KERAS_ACTIVATIONS, value)) {
    const names = Object.keys(KERAS_ACTIVATIONS);
    throw new InputError(where, `activation ${quoted(value)} is not supported (expected ${names.slice(0, -1).join(', ')} or ${names[names.length - 1]})`);
  }
  return KERAS_ACTIVATIONS[value];
}

/** The feature count a layer's batch input shape declares, if it declares one. */
function declaredInputs(config: Record<string, unknown>): number | undefined {
  const shape = config.batch_input_shape ?? config.batchInputShape ?? config.batch_shape;
  if (Array.isArray(shape) && shape.length === 2 && typeof shape[1] === 'number') return shape[1];
  const inputShape = config.input_shape ?? config.inputShape;
  if (Array.isArray(inputShape) && inputShape.length === 1 && typeof inputShape[0] === 'number') return inputShape[0];
  return undefined;
}

/** A TensorFlow.js layers model of Dense layers as our model. */
export function importTfjs(modelJson: unknown, weightData: TfjsWeightData, source: string, options: ImportOptions = {}): Model {
  const json = parseModelJson(modelJson, source);
  const data = concatenate(weightData);
  if (data.length > MODEL_LIMITS.fileBytes) throw new InputError(source, `the weights are larger than the ${MODEL_LIMITS.fileBytes / 2 ** 20} MiB a model file may be`);
  const weights = weightTable(json, data, source);

  const topology = (json.modelTopology.model_config ?? json.modelTopology) as Record<string, unknown>;
  if (topology.class_name !== 'Sequential') {
    throw new InputError(`${source}: modelTopology`, `a ${quoted(topology.class_name)} model is not supported; expected a Sequential model of Dense layers`);
  }
  const config = topology.config as { layers?: unknown } | unknown[] | undefined;
  const rawLayers = Array.isArray(config) ? config : config?.layers;
  const parsedLayers = z.array(layerSchema).safeParse(rawLayers);
  if (!parsedLayers.success) throw zodError(parsedLayers.error, `${source}: modelTopology.config.layers`);

  const layers: DenseLayer[] = [];
  const names: string[] = []; // how errors name each of our layers
  const biased: boolean[] = []; // each Dense layer's use_bias
  let inputs: number | undefined;
  let activated = true;
  parsedLayers.data.forEach((layer, index) => {
    const config = layer.config ?? {};
    const name = typeof config.name === 'string' ? config.name : `#${index}`;
    const where = `${source}: layer ${index} (${name}, ${layer.class_name})`;
    if (layer.class_name === 'InputLayer' && layers.length === 0) {
      inputs = declaredInputs(config);
    } else if (layer.class_name === 'Activation' && layers.length > 0 && !activated) {
      layers[layers.length - 1].activation = activationOf(config.activation, where);
      activated = true;
    } else if (KERAS_LAYERS.has(layer.class_name) && layers.length > 0 && !activated) {
      const own = KERAS_LAYERS.get(layer.class_name)!;
      const parameter = config[own.parameterConfig] ?? own.kerasDefault;
      if (typeof parameter !== 'number' || !Number.isFinite(parameter)) throw new InputError(`${where}: ${own.parameterConfig}`, `expected a number, got ${JSON.stringify(parameter)}`);
      Object.assign(layers[layers.length - 1], { activation: own.activation, parameter });
      activated = true;
    } else if (layer.class_name === 'Dropout' && layers.length > 0 && layers[layers.length - 1].dropout === undefined) {
      const rate = config.rate;
      if (typeof rate !== 'number' || !(rate >= 0 && rate < 1)) throw new InputError(`${where}: rate`, `expected a probability p with 0 ≤ p < 1, got ${JSON.stringify(rate)}`);
      layers[layers.length - 1].dropout = rate;
      activated = true;
    } else if (layer.class_name === 'Dense') {
      const units = config.units;
      if (typeof units !== 'number' || !Number.isInteger(units) || units < 1) throw new InputError(`${where}: units`, `expected a positive integer, got ${quoted(units)}`);
      if (layers.length === 0) inputs = declaredInputs(config) ?? inputs;
      const kernel = weightOf(weights, data, name, 'kernel', where); // (IN, OUT)
      const [kernelInputs, kernelUnits] = kernel.shape;
      if (kernel.shape.length !== 2 || kernelUnits !== units) throw new InputError(where, `the kernel has shape ${kernel.shape.join(' × ')}; expected inputs × ${units}`);
      const previous = layers.length === 0 ? inputs : layers[layers.length - 1].units;
      if (previous !== undefined && previous !== kernelInputs) throw new InputError(where, `the kernel takes ${kernelInputs} inputs; the layer before gives ${previous}`);
      checkLimits(kernelInputs, [units], where);
      let biases: Float32Array = new Float32Array(units); // (OUT)
      const useBias = (config.use_bias ?? config.useBias ?? true) !== false;
      biased.push(useBias);
      if (useBias) {
        const bias = weightOf(weights, data, name, 'bias', where);
        if (bias.shape.length !== 1 || bias.shape[0] !== units) throw new InputError(where, `the bias has shape ${bias.shape.join(' × ')}; expected ${units}`);
        biases = bias.values;
      }
      const activation = activationOf(config.activation, where);
      layers.push({ activation, units, inputs: kernelInputs, weights: transpose(kernel.values, kernelInputs, units), biases });
      names.push(where);
      activated = activation !== 'linear';
    } else {
      throw new InputError(where, `layer class ${layer.class_name} is not supported (expected Dense layers, an InputLayer first, an Activation or ${[...KERAS_LAYERS.keys()].join(', ')} after a linear Dense, or a Dropout)`);
    }
  });

  const last = layers[layers.length - 1];
  const ours = json.userDefinedMetadata?.[METADATA_KEY] as { loss?: unknown; trainBiases?: unknown } | undefined;
  const kerasLoss = json.trainingConfig?.loss;
  const recorded =
    ours?.loss !== undefined
      ? recordedLoss(ours.loss, `${source}: userDefinedMetadata.${METADATA_KEY}.loss`)
      : typeof kerasLoss === 'string' && kerasLoss in KERAS_LOSSES
        ? KERAS_LOSSES[kerasLoss]
        : undefined;
  const loss = importedLoss(options, recorded, last?.activation ?? 'linear', source);
  // useBias: false is a bias fixed at zero: frozen. Biases train for all layers or none here.
  const withoutBias = biased.filter((b) => !b).length;
  if (options.trainBiases === undefined && withoutBias > 0 && withoutBias < biased.length) {
    const first = biased.indexOf(false);
    throw new InputError(names[first], 'has useBias false while other Dense layers have biases: biases train in every layer or in none here (give trainBiases to choose)');
  }
  const trainBiases = options.trainBiases ?? (withoutBias === 0 && ours?.trainBiases !== false);
  return modelFromLayers(layers[0]?.inputs ?? 0, layers, loss, trainBiases, source, (l) => names[l]);
}

/** A Dense layer's kernel or bias as float32, found by the name TensorFlow.js gives it. */
function weightOf(
  table: ReturnType<typeof weightTable>,
  data: Uint8Array,
  layer: string,
  kind: 'kernel' | 'bias',
  where: string,
): { shape: number[]; values: Float32Array } {
  const suffix = `${layer}/${kind}`;
  let found = table.get(suffix);
  if (!found) {
    // Keras writes scoped names (sequential/dense/kernel); take the one that ends so.
    const candidates = [...table.keys()].filter((name) => name.endsWith(`/${suffix}`));
    if (candidates.length === 1) found = table.get(candidates[0]);
  }
  if (!found) throw new InputError(where, `no weight named ${suffix} in the weights manifest`);
  const { entry, offset } = found;
  if (entry.quantization) throw new InputError(where, `${entry.name} is quantized to ${entry.quantization.dtype}; only float32 weights are supported`);
  if (entry.dtype !== 'float32') throw new InputError(where, `${entry.name} has dtype ${entry.dtype}; only float32 weights are supported`);
  const count = entry.shape.reduce((a, b) => a * b, 1);
  return { shape: entry.shape, values: readFloat32(data, offset, count) };
}
