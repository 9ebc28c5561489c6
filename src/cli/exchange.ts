// `webgpu-backprop export` and `webgpu-backprop import`: a model file to ONNX, the
// TensorFlow.js layers format or a PyTorch folder, and ONNX or TensorFlow.js models back
// to a model file. The formats are the library's (Network.export, Network.import).

import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, MODEL_LIMITS, Network, readBinaryFile, readFileBeside, readTextFile, writeFileAtomically, type ExportFormat, type Loss, type NetworkOptions } from 'webgpu-backprop/node';

export interface ExportFlags {
  model: string;
  format: ExportFormat;
  /** ONNX: the .onnx file; tfjs and pytorch: a folder (made if missing). */
  out: string;
}

/** Writes the export; returns the paths written. */
export async function exportModel(flags: ExportFlags): Promise<string[]> {
  const network = await Network.fromJSON(readTextFile(flags.model, 'model file', MODEL_LIMITS.fileBytes), { backend: 'cpu', source: flags.model });
  const files = await network.export(flags.format);
  const target = (name: string) => (flags.format === 'onnx' ? flags.out : join(flags.out, name));
  if (flags.format !== 'onnx') {
    try {
      mkdirSync(flags.out, { recursive: true });
    } catch (error) {
      throw new InputError(flags.out, `cannot make the folder (${(error as { code?: string }).code})`);
    }
  } else if (isFolder(flags.out)) {
    throw new InputError('--out', `${flags.out} is a folder; ONNX export writes one file (e.g. ${join(flags.out, 'model.onnx')})`);
  }
  return Object.entries(files).map(([name, contents]) => {
    writeFileAtomically(target(name), contents);
    return target(name);
  });
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

export interface ImportFlags {
  from: string;
  out: string;
  loss?: Loss;
}

/**
 * A model file from disk, an ONNX model or a TensorFlow.js model.json (its weight files
 * read from beside it), as a network (Network.import); `what` names the file in messages.
 */
export async function readNetwork(path: string, what: string, options: NetworkOptions & { loss?: Loss } = {}): Promise<Network> {
  const bytes = readBinaryFile(path, what, MODEL_LIMITS.fileBytes);
  // Weight files beside model.json, and no other: the library refuses paths out of its folder, this a link out of it.
  const weights = (file: string) => readFileBeside(path, file, 'weights file', MODEL_LIMITS.fileBytes);
  const onWarning = (message: string) => console.error(`webgpu-backprop: warning: ${message}`);
  return Network.import(bytes, 'auto', { ...options, source: path, weights, onWarning });
}

/** Reads an ONNX model, a TensorFlow.js model.json (with its weight files) or a model file; writes a model file. */
export async function importModel(flags: ImportFlags): Promise<string> {
  const network = await readNetwork(flags.from, 'model to import', { backend: 'cpu', loss: flags.loss });
  writeFileAtomically(flags.out, `${JSON.stringify(network.toJSON(), null, 2)}\n`);
  network.dispose();
  const { spec } = network;
  return `${spec.inputSize}-${spec.layers.map((layer) => `${layer.units} ${layer.activation}`).join(', ')}, ${spec.loss}`;
}
