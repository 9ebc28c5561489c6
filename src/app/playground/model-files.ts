// The formats the playground saves a network in and reads one from: the command line's
// model file (JSON: weights, and the inputs' standardisation), ONNX, and TensorFlow.js's
// layers format (model.json with its weights file). ONNX and TensorFlow.js files hold the
// standardisation folded into the first layer (see Network.export).

import { importFormat, importOnnx, importTfjs, InputError, MODEL_LIMITS, parseModelFile, tfjsWeightPaths, type Model, type Network } from 'webgpu-backprop';

export interface SavedFile {
  name: string;
  contents: string | Uint8Array<ArrayBuffer>;
  type: string;
}

export interface SaveFormat {
  id: 'json' | 'onnx' | 'tfjs';
  label: string;
  /** The files to download: one, or (TensorFlow.js) model.json and its weights. */
  save(network: Network): SavedFile[];
}

export const SAVE_FORMATS: SaveFormat[] = [
  {
    id: 'json',
    label: 'model file (JSON)',
    save: (network) => [{ name: 'model.json', contents: `${JSON.stringify(network.toJSON(), null, 2)}\n`, type: 'application/json' }],
  },
  {
    id: 'onnx',
    label: 'ONNX',
    save: (network) => Object.entries(network.export('onnx')).map(([name, contents]) => ({ name, contents: contents as Uint8Array<ArrayBuffer>, type: 'application/octet-stream' })),
  },
  {
    id: 'tfjs',
    label: 'TensorFlow.js',
    save: (network) =>
      Object.entries(network.export('tfjs')).map(([name, contents]) => ({
        name,
        contents: contents as string | Uint8Array<ArrayBuffer>,
        type: typeof contents === 'string' ? 'application/json' : 'application/octet-stream',
      })),
  },
];

/** File types the load button offers: model files, ONNX, and TensorFlow.js's model.json with its weights. */
export const LOAD_ACCEPT = '.json,.onnx,.bin,application/json';

function checkSize(file: File): void {
  if (file.size > MODEL_LIMITS.fileBytes) throw new InputError(file.name, `the file is ${file.size} bytes; a model file may be at most ${MODEL_LIMITS.fileBytes}`);
}

/**
 * The model in the files chosen: a model file, an ONNX model, or a TensorFlow.js model.json
 * chosen together with the weight files it names. Sizes are checked before anything is read.
 */
export async function readModel(files: File[]): Promise<{ name: string; model: Model }> {
  files.forEach(checkSize);
  const bytes = await Promise.all(files.map(async (file) => new Uint8Array(await file.arrayBuffer())));
  const formats = files.map((file, k) => importFormat(file.name, bytes[k]!));
  // The main file: the one that is not a TensorFlow.js weights file.
  const main = formats.findIndex((format, k) => format !== 'onnx' || files[k]!.name.toLowerCase().endsWith('.onnx'));
  if (main < 0) throw new InputError(files[0]?.name ?? 'load', 'choose a model file, an ONNX model, or a TensorFlow.js model.json with its weights');
  const file = files[main]!;
  switch (formats[main]) {
    case 'model-file':
      return { name: file.name, model: parseModelFile(new TextDecoder().decode(bytes[main]), file.name) };
    case 'onnx':
      return { name: file.name, model: importOnnx(bytes[main]!, file.name) };
    case 'tfjs': {
      const modelJson = new TextDecoder().decode(bytes[main]);
      const weights = tfjsWeightPaths(modelJson, file.name).map((path) => {
        const k = files.findIndex((other) => other.name === path.split('/').pop());
        if (k < 0) throw new InputError(file.name, `names the weights file ${path}: choose it together with ${file.name}`);
        return bytes[k]!;
      });
      return { name: file.name, model: importTfjs(modelJson, weights, file.name) };
    }
  }
}
