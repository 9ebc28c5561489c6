// TensorFlow.js: what we export, tf.loadLayersModel loads (through its HTTP loader, as a
// page would) and predicts as our float64 reference does within float32 tolerance; what we
// import back is our weights exactly as float32; models TensorFlow.js itself saved are read
// too; other layers are refused naming their class, name and index.

import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ModelSpec } from '../src/model/model.ts';
import { ACTIVATION_OPS } from '../src/model/ops/activations.ts';
import { InputError } from '../src/errors.ts';
import { exportTfjs, importTfjs, tfjsWeightPaths, type TfjsWeightData } from '../src/interop/tfjs.ts';
import {
  asFloat32,
  firstDifference,
  float32PredictionTolerance,
  NETWORK_CASES,
  referencePredict,
  seededInputs,
  seededModel,
  worstRatio,
} from './support/interop.ts';

const ROWS = 13;
const BASE = 'https://models.example/net/';

/** Serves files as a web server would, to TensorFlow.js's own HTTP loader. */
function serve(files: Record<string, Uint8Array<ArrayBuffer> | string>): typeof fetch {
  return (async (url: string | URL | Request) => {
    const path = String(url).slice(BASE.length);
    const body = files[path];
    if (body === undefined) return new Response('not found', { status: 404 });
    return new Response(body, { status: 200, headers: { 'content-type': typeof body === 'string' ? 'application/json' : 'application/octet-stream' } });
  }) as typeof fetch;
}

async function loadExported(files: Record<string, Uint8Array<ArrayBuffer> | string>): Promise<tf.LayersModel> {
  return tf.loadLayersModel(`${BASE}model.json`, { fetchFunc: serve(files) });
}

function predict(model: tf.LayersModel, inputs: Float64Array, rows: number, inputSize: number): Float32Array {
  return tf.tidy(() => (model.predict(tf.tensor2d(Float32Array.from(inputs), [rows, inputSize])) as tf.Tensor).dataSync() as Float32Array);
}

/** What TensorFlow.js itself writes for a model: model.json and the weight data. */
async function savedByTfjs(model: tf.LayersModel): Promise<{ modelJson: unknown; weightData: ArrayBuffer }> {
  let saved: { modelJson: unknown; weightData: ArrayBuffer } | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = {
        modelJson: JSON.parse(JSON.stringify({ format: artifacts.format, modelTopology: artifacts.modelTopology, weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: artifacts.weightSpecs }] })),
        weightData: artifacts.weightData as ArrayBuffer,
      };
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return saved!;
}

function importError(modelJson: unknown, weightData: TfjsWeightData): InputError {
  try {
    importTfjs(modelJson, weightData, 'model.json');
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error('expected an InputError');
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Whether TensorFlow.js has each of a network's activations (as a Dense's activation, or a layer of its own). */
const inTfjs = (spec: ModelSpec) => spec.layers.every(({ activation }) => ACTIVATION_OPS[activation].names.keras ?? ACTIVATION_OPS[activation].names.kerasLayer);

describe('TensorFlow.js export', () => {
  it('refuses an activation TensorFlow.js has no exact form of, naming it: gelu (its gelu is the erf form; its gelu_new does not load)', () => {
    const gelu = NETWORK_CASES.find(({ spec }) => !inTfjs(spec))!;
    expect(() => exportTfjs(seededModel(gelu.spec, 1))).toThrow(/^layers\[0\]\.activation: gelu has no TensorFlow\.js activation; export the model to PyTorch instead$/);
  });

  for (const [c, { name, spec }] of NETWORK_CASES.entries()) {
    if (!inTfjs(spec)) continue;
    it(`loads with tf.loadLayersModel and predicts as the reference does: ${name}`, async () => {
      const model = seededModel(spec, c + 1);
      const { modelJson, weightsBin } = exportTfjs(model);
      const loaded = await loadExported({ 'model.json': JSON.stringify(modelJson), 'weights.bin': weightsBin });
      // Each Dense with its activation as its record names it in Keras (or a linear Dense and that activation's own layer), and a Dropout where the layer drops.
      expect(loaded.layers.map((layer) => [layer.getClassName(), (layer.getConfig() as { activation?: string }).activation])).toEqual(
        spec.layers.flatMap((layer) => {
          const names = ACTIVATION_OPS[layer.activation].names;
          return [['Dense', names.keras ?? 'linear'], ...(names.kerasLayer ? [[names.kerasLayer.className, undefined]] : []), ...(layer.dropout ? [['Dropout', undefined]] : [])];
        }),
      );
      const inputs = seededInputs(spec.inputSize, ROWS, c);
      const got = predict(loaded, inputs, ROWS, spec.inputSize);
      expect(worstRatio(got, referencePredict(model, inputs, ROWS), float32PredictionTolerance(model, inputs, ROWS))).toBeLessThanOrEqual(1);
      loaded.dispose();
    });

    it(`imports back to our weights exactly as float32: ${name}`, () => {
      const model = seededModel(spec, c + 1);
      const { modelJson, weightsBin } = exportTfjs(model);
      const back = importTfjs(JSON.stringify(modelJson), weightsBin, 'model.json');
      expect(back.spec).toEqual(model.spec);
      expect(firstDifference(back.params, asFloat32(model.params))).toBeUndefined();
    });
  }

  it('stores kernels in × out and names the weight file in the manifest', () => {
    const { modelJson, weightsBin } = exportTfjs(seededModel(NETWORK_CASES[4].spec, 1), { weightsPath: 'net.weights.bin' });
    expect(modelJson.weightsManifest[0].weights.map((w) => [w.name, w.shape])).toEqual([
      ['dense_0/kernel', [3, 4]],
      ['dense_0/bias', [4]],
      ['dense_1/kernel', [4, 4]],
      ['dense_1/bias', [4]],
      ['dense_2/kernel', [4, 2]],
      ['dense_2/bias', [2]],
    ]);
    expect(tfjsWeightPaths(modelJson, 'model.json')).toEqual(['net.weights.bin']);
    expect(weightsBin.length).toBe(4 * (12 + 4 + 16 + 4 + 8 + 2));
  });
});

describe('TensorFlow.js import', () => {
  it('reads a model TensorFlow.js saved, weights exactly, predictions within float32 tolerance', async () => {
    const original = tf.sequential({
      layers: [
        tf.layers.dense({ units: 7, inputShape: [4], activation: 'relu' }),
        tf.layers.dense({ units: 5 }),
        tf.layers.activation({ activation: 'tanh' }),
        tf.layers.dense({ units: 3, activation: 'softmax' }),
      ],
    });
    // Non-zero biases, so that a bias read from the wrong place shows.
    original.layers.forEach((layer) => {
      const weights = layer.getWeights();
      if (weights.length === 2) layer.setWeights([weights[0], tf.randomUniform(weights[1].shape, -0.5, 0.5, 'float32', 3)]);
    });
    const { modelJson, weightData } = await savedByTfjs(original);
    const model = importTfjs(modelJson, [weightData], 'model.json');
    expect(model.spec.layers).toEqual([
      { units: 7, activation: 'relu' },
      { units: 5, activation: 'tanh' },
      { units: 3, activation: 'softmax' },
    ]);
    expect(model.spec.loss).toBe('cross-entropy'); // nothing recorded: the default after softmax
    // Kernels are in × out there, weights out × in here.
    const kernel = original.layers[1].getWeights()[0].arraySync() as number[][];
    const weights = model.params.subarray(model.layout.entries[2].offset, model.layout.entries[2].offset + 35);
    expect(Array.from(weights)).toEqual(kernel[0].map((_, j) => kernel.map((row) => row[j])).flat());
    const inputs = seededInputs(4, ROWS, 11);
    const got = predict(original, inputs, ROWS, 4);
    expect(worstRatio(got, referencePredict(model, inputs, ROWS), float32PredictionTolerance(model, inputs, ROWS))).toBeLessThanOrEqual(1);
    original.dispose();
  });

  it('takes the loss from the options, our metadata or the training config, in that order', () => {
    const { modelJson, weightsBin } = exportTfjs(seededModel(NETWORK_CASES[0].spec, 1));
    expect(importTfjs(modelJson, weightsBin, 'model.json').spec.loss).toBe('half-sse');
    expect(importTfjs(modelJson, weightsBin, 'model.json', { loss: 'sse' }).spec.loss).toBe('sse');
    const keras = { ...modelJson, userDefinedMetadata: undefined, trainingConfig: { loss: 'mean_squared_error' } };
    expect(importTfjs(keras, weightsBin, 'model.json').spec.loss).toBe('mse');
  });

  const exported = () => exportTfjs(seededModel(NETWORK_CASES[0].spec, 1));
  const withLayer = (layer: object, at: number) => {
    const { modelJson, weightsBin } = exported();
    const json = JSON.parse(JSON.stringify(modelJson));
    json.modelTopology.config.layers.splice(at, 0, layer);
    return { json, weightsBin };
  };
  const refusals: [string, () => { json: unknown; weightsBin: TfjsWeightData }, RegExp][] = [
    [
      'a BatchNormalization layer',
      () => withLayer({ class_name: 'BatchNormalization', config: { name: 'batch_normalization_1' } }, 1),
      /^model\.json: layer 1 \(batch_normalization_1, BatchNormalization\): layer class BatchNormalization is not supported/,
    ],
    [
      'a Dropout layer whose rate is not a probability below 1',
      () => withLayer({ class_name: 'Dropout', config: { name: 'dropout_1', rate: 1 } }, 1),
      /^model\.json: layer 1 \(dropout_1, Dropout\): rate: expected a probability p with 0 ≤ p < 1, got 1$/,
    ],
    [
      'a convolution',
      () => withLayer({ class_name: 'Conv2D', config: { name: 'conv', filters: 3 } }, 0),
      /^model\.json: layer 0 \(conv, Conv2D\): layer class Conv2D is not supported/,
    ],
    [
      'an unsupported activation',
      () => {
        const { modelJson, weightsBin } = exported();
        const json = JSON.parse(JSON.stringify(modelJson));
        json.modelTopology.config.layers[1].config.activation = 'selu';
        return { json, weightsBin };
      },
      /^model\.json: layer 1 \(dense_1, Dense\): activation "selu" is not supported/,
    ],
    [
      'a functional model',
      () => {
        const { modelJson, weightsBin } = exported();
        return { json: { ...modelJson, modelTopology: { ...modelJson.modelTopology, class_name: 'Functional' } }, weightsBin };
      },
      /^model\.json: modelTopology: a "Functional" model is not supported/,
    ],
    [
      'weights that are too short',
      () => ({ json: exported().modelJson, weightsBin: exported().weightsBin.subarray(0, 20) }),
      /^model\.json: weightsManifest: describes 68 bytes of weights; the weight files hold 20/,
    ],
    [
      'quantized weights',
      () => {
        const { modelJson, weightsBin } = exported();
        const json = JSON.parse(JSON.stringify(modelJson));
        json.weightsManifest[0].weights[0].quantization = { dtype: 'uint8', scale: 0.01, min: -1 };
        const quantized = new Uint8Array(6 + weightsBin.length - 24); // the 2 × 3 kernel in one byte each
        quantized.set(weightsBin.subarray(24), 6);
        return { json, weightsBin: quantized };
      },
      /^model\.json: layer 0 \(dense_0, Dense\): dense_0\/kernel is quantized to uint8; only float32 weights are supported/,
    ],
    [
      'a graph model',
      () => ({ json: { ...exported().modelJson, format: 'graph-model' }, weightsBin: exported().weightsBin }),
      /^model\.json: format: is "graph-model"; expected "layers-model"/,
    ],
    ['text that is not JSON', () => ({ json: '{"format": "layers-model",', weightsBin: new Uint8Array(0) }), /^model\.json: line 1, column 27: not valid JSON/],
  ];
  for (const [what, make, message] of refusals) {
    it(`refuses ${what}, naming it and where it is, in one line`, () => {
      const { json, weightsBin } = make();
      const error = importError(json, weightsBin);
      expect(error.message).toMatch(message);
      expect(error.message).not.toContain('\n');
    });
  }
});

describe('TensorFlow.js import: biases and weights paths', () => {
  it('Dense layers without biases (useBias: false) import with frozen zero biases, which training leaves at zero', async () => {
    const original = tf.sequential({
      layers: [tf.layers.dense({ units: 4, inputShape: [3], activation: 'tanh', useBias: false }), tf.layers.dense({ units: 2, useBias: false })],
    });
    const { modelJson, weightData } = await savedByTfjs(original);
    const model = importTfjs(modelJson, [weightData], 'model.json');
    expect(model.spec.trainBiases).toBe(false);
    expect(model.layout.entries.filter((e) => e.kind === 'biases').flatMap((e) => Array.from(model.params.subarray(e.offset, e.offset + e.length)))).toEqual([0, 0, 0, 0, 0, 0]);
    const { Network } = await import('../src/index.ts');
    const { modelToJson } = await import('../src/io/model-format.ts');
    const net = await Network.create(modelToJson(model), { backend: 'cpu' });
    await net.fit([[1, 2, 3], [0, -1, 2]], [[1, 0], [0, 1]], { epochs: 5, learningRate: 0.1 });
    expect(net.toJSON().layers.flatMap((layer) => layer.biases)).toEqual([0, 0, 0, 0, 0, 0]);
    // Some layers with biases, some without: biases train everywhere or nowhere here, so the caller says which.
    const mixed = tf.sequential({ layers: [tf.layers.dense({ units: 4, inputShape: [3], useBias: false }), tf.layers.dense({ units: 2 })] });
    const saved = await savedByTfjs(mixed);
    expect(importError(saved.modelJson, [saved.weightData]).message).toMatch(/^model\.json: layer 0 \(dense_Dense\d+, Dense\): has useBias false while other Dense layers have biases: biases train in every layer or in none here \(give trainBiases to choose\)$/);
    expect(importTfjs(saved.modelJson, [saved.weightData], 'model.json', { trainBiases: true }).spec.trainBiases).toBe(true);
    original.dispose();
    mixed.dispose();
  });

  it.each(['../../../../etc/passwd', '/etc/passwd', 'C:\\Windows\\win.ini', 'https://example.com/w.bin', 'shards/../../w.bin', '..\\w.bin'])('a weights path out of the model folder is refused before any file is read: %s', async (path) => {
    const { modelJson, weightsBin } = exportTfjs(seededModel(NETWORK_CASES[0].spec, 1));
    const json = JSON.stringify({ ...modelJson, weightsManifest: [{ ...modelJson.weightsManifest[0], paths: [path] }] });
    const { Network } = await import('../src/index.ts');
    const read: string[] = [];
    const made = Network.import(json, 'tfjs', { source: 'model.json', backend: 'cpu', weights: (file) => (read.push(file), weightsBin) });
    await expect(made).rejects.toThrow(/^model\.json: weightsManifest\[0\]\.paths\[0\]: ".+" is not a file beside model\.json: weights paths are relative, inside its folder \(no absolute path, URL or \.\.\)$/);
    expect(read).toEqual([]);
  });
});
