// `webgpu-backprop export` and `webgpu-backprop import`: a model file to ONNX, the
// TensorFlow.js layers format or a PyTorch folder, and ONNX or TensorFlow.js models back
// to a model file. The formats are the library's (Network.export, importOnnx, importTfjs).

import { mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  importFormat,
  importOnnx,
  importTfjs,
  InputError,
  loadModelFile,
  MODEL_LIMITS,
  modelToJson,
  Network,
  parseModelFile,
  readBinaryFile,
  tfjsWeightPaths,
  writeFileAtomically,
  type ExportFormat,
  type Loss,
} from 'webgpu-backprop/node';

export interface ExportFlags {
  model: string;
  format: ExportFormat;
  /** ONNX: the .onnx file; tfjs and pytorch: a folder (made if missing). */
  out: string;
}

/** Writes the export; returns the paths written. */
export async function exportModel(flags: ExportFlags): Promise<string[]> {
  const network = await Network.fromModel(loadModelFile(flags.model), { backend: 'cpu' });
  const files = network.export(flags.format);
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

/** Reads an ONNX model, a TensorFlow.js model.json (with its weight files) or a model file; writes a model file. */
export function importModel(flags: ImportFlags): string {
  const bytes = readBinaryFile(flags.from, 'model to import', MODEL_LIMITS.fileBytes);
  const options = { loss: flags.loss };
  let model;
  switch (importFormat(flags.from, bytes)) {
    case 'onnx':
      model = importOnnx(bytes, flags.from, options);
      break;
    case 'tfjs': {
      const modelJson = new TextDecoder().decode(bytes);
      const weights = tfjsWeightPaths(modelJson, flags.from).map((path) => readBinaryFile(join(dirname(flags.from), path), 'weights file', MODEL_LIMITS.fileBytes));
      model = importTfjs(modelJson, weights, flags.from, options);
      break;
    }
    case 'model-file':
      model = parseModelFile(new TextDecoder().decode(bytes), flags.from);
  }
  writeFileAtomically(flags.out, `${JSON.stringify(modelToJson(model), null, 2)}\n`);
  return `${model.spec.inputSize}-${model.spec.layers.map((layer) => `${layer.units} ${layer.activation}`).join(', ')}, ${model.spec.loss}`;
}
