// The formats the playground saves a network in and reads one from. Today the model file
// of the command line (JSON, weights and input standardisation); further formats (ONNX,
// TensorFlow.js) are added here as entries of SAVE_FORMATS and cases of readModelFile,
// and the page offers whatever this module lists.

import { InputError, MODEL_LIMITS, type Network } from 'webgpu-backprop';

export interface SavedModel {
  name: string;
  contents: string | Blob;
  type: string;
}

export interface SaveFormat {
  id: string;
  label: string;
  save(network: Network): Promise<SavedModel>;
}

export const SAVE_FORMATS: SaveFormat[] = [
  {
    id: 'json',
    label: 'model file (JSON)',
    save: async (network) => ({ name: 'model.json', contents: `${JSON.stringify(network.toJSON(), null, 2)}\n`, type: 'application/json' }),
  },
];

/** File types the load button offers. */
export const LOAD_ACCEPT = '.json,application/json';

/** A model file's text, checked for size before it is read: a file may come from anywhere. */
export async function readModelFile(file: File): Promise<string> {
  if (file.size > MODEL_LIMITS.fileBytes) throw new InputError(file.name, `the file is ${file.size} bytes; a model file may be at most ${MODEL_LIMITS.fileBytes}`);
  return file.text();
}
