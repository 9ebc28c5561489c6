// The formats the playground saves a network in and reads one from: the command line's
// model file (JSON: weights, and the inputs' standardisation), ONNX, and TensorFlow.js's
// layers format (model.json with its weights file). ONNX and TensorFlow.js files hold the
// standardisation folded into the first layer (see Network.export).

import { InputError, MODEL_LIMITS, type ModelSpec } from 'webgpu-backprop';
import type { NetworkWorker, WorkerNetwork, WorkerNetworkOptions } from 'webgpu-backprop/worker';
import type { PlaygroundConfig } from './config.ts';
import { outputChoice, type PreparedData } from './data.ts';

export interface SavedFile {
  name: string;
  contents: string | Uint8Array<ArrayBuffer>;
  type: string;
}

export interface SaveFormat {
  id: 'json' | 'onnx' | 'tfjs';
  label: string;
  /** The files to download: one, or (TensorFlow.js) model.json and its weights. */
  save(network: WorkerNetwork, dataset: string): Promise<SavedFile[]>;
}

/** A network's export in another engine's format, as files to download. */
async function exported(network: WorkerNetwork, format: 'onnx' | 'tfjs'): Promise<SavedFile[]> {
  return Object.entries(await network.export(format)).map(([name, contents]) => ({
    name,
    contents: contents as string | Uint8Array<ArrayBuffer>,
    type: typeof contents === 'string' ? 'application/json' : 'application/octet-stream',
  }));
}

export const SAVE_FORMATS: SaveFormat[] = [
  {
    id: 'json',
    label: 'model file (JSON)',
    // Not model.json: that is TensorFlow.js's name, and the two must not overwrite each other.
    save: async (network, dataset) => [{ name: `${dataset}.model-file.json`, contents: `${JSON.stringify(network.toJSON(), null, 2)}\n`, type: 'application/json' }],
  },
  { id: 'onnx', label: 'ONNX', save: (network) => exported(network, 'onnx') },
  { id: 'tfjs', label: 'TensorFlow.js', save: (network) => exported(network, 'tfjs') },
];

/** File types the load button offers: model files, ONNX, and TensorFlow.js's model.json with its weights. */
export const LOAD_ACCEPT = '.json,.onnx,.bin,application/json';

function checkSize(file: File): void {
  if (file.size > MODEL_LIMITS.fileBytes) throw new InputError(file.name, `the file is ${file.size} bytes; a model file may be at most ${MODEL_LIMITS.fileBytes}`);
}

/** Whether a file is JSON (a model file, or TensorFlow.js's model.json) rather than binary. */
function isJson(bytes: Uint8Array): boolean {
  const start = bytes.findIndex((byte) => byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09);
  return bytes[start] === 0x7b; // {
}

/**
 * The network of the files chosen (Network.import): a model file, an ONNX model, or a
 * TensorFlow.js model.json chosen together with the weight files it names. The main file
 * is the one that is JSON or named .onnx (weight files are neither). Sizes are checked
 * before anything is read.
 */
export async function readModel(files: File[], worker: NetworkWorker, options: Omit<WorkerNetworkOptions, 'worker'>): Promise<{ name: string; network: WorkerNetwork }> {
  files.forEach(checkSize);
  const bytes = await Promise.all(files.map(async (file) => new Uint8Array(await file.arrayBuffer())));
  const main = files.findIndex((file, k) => file.name.toLowerCase().endsWith('.onnx') || isJson(bytes[k]!));
  const chosen = files[main];
  if (!chosen) throw new InputError(files[0]?.name ?? 'load', 'choose a model file, an ONNX model, or a TensorFlow.js model.json with its weights');
  const weights = (path: string) => {
    const k = files.findIndex((other) => other.name === path.split('/').pop());
    if (k < 0) throw new InputError(chosen.name, `names the weights file ${path}: choose it together with ${chosen.name}`);
    return bytes[k]!;
  };
  const network = await worker.import(bytes[main]!, 'auto', { ...options, source: chosen.name, weights }).catch((error: unknown) => {
    throw notAModel(error, chosen.name, bytes[main]!);
  });
  return { name: chosen.name, network };
}

/**
 * A JSON file that is neither a model file nor a TensorFlow.js model (no `layers`, no
 * `modelTopology`) is "not a model file", rather than whatever its first field's check says.
 */
function notAModel(error: unknown, name: string, bytes: Uint8Array): unknown {
  if (!isJson(bytes)) return error;
  try {
    const parsed = JSON.parse(new TextDecoder().decode(bytes)) as unknown;
    const fields = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? Object.keys(parsed) : [];
    if (fields.includes('layers') || fields.includes('modelTopology')) return error;
    return new InputError(name, `not a model file: expected a model file ({"loss": …, "layers": […]}) or a TensorFlow.js model.json ({"modelTopology": …}), got ${fields.length > 0 ? `an object with ${fields.slice(0, 4).join(', ')}` : 'no such object'}`);
  } catch {
    return error;
  }
}

/** Throws an InputError naming the file where a loaded network's inputs or outputs are not the data's. */
export function checkModelFits(name: string, spec: ModelSpec, data: PreparedData): void {
  const last = spec.layers[spec.layers.length - 1];
  if (spec.inputSize !== data.train.inputSize || last.units !== data.train.outputSize) {
    throw new InputError(name, `the model takes ${spec.inputSize} inputs to ${last.units} outputs; this data has ${data.train.inputSize} inputs and ${data.train.outputSize} outputs`);
  }
}

/**
 * The settings of a loaded network, so that what the page shows is what trains: its hidden
 * layers, activation and dropout; output and loss stay auto where auto picks what the model has.
 */
export function configOfModel(config: PlaygroundConfig, spec: ModelSpec, data: PreparedData): PlaygroundConfig {
  const hidden = spec.layers.slice(0, -1);
  const last = spec.layers[spec.layers.length - 1];
  const auto = outputChoice({ ...config, output: 'auto', loss: 'auto' }, data);
  return {
    ...config,
    layers: hidden.map((layer) => layer.units),
    activation: hidden[0]?.activation ?? config.activation,
    dropout: hidden[0]?.dropout ?? 0,
    output: last.activation === auto.activation ? 'auto' : last.activation,
    loss: spec.loss === auto.loss ? 'auto' : spec.loss,
  };
}
