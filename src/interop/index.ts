// Models in and out of other engines: ONNX, TensorFlow.js and PyTorch. Every function is
// pure (bytes and objects in, bytes and objects out), so the browser and Node share them;
// bad or unsupported input throws InputError with a one-line message naming the operator
// or layer and where it is.
//
//   exportOnnx(model: Model): Uint8Array                                     the .onnx file
//   importOnnx(bytes: Uint8Array, source: string, options?: ImportOptions): Model
//   exportTfjs(model: Model, options?: { weightsPath?: string }): { modelJson, weightsBin }
//                                                 model.json (JSON.stringify it) and weights.bin
//   tfjsWeightPaths(modelJson: unknown, source: string): string[]   the files model.json names
//   importTfjs(modelJson: unknown, weightData: TfjsWeightData, source: string, options?: ImportOptions): Model
//                                     modelJson: parsed or text; weightData: those files' bytes
//   exportPytorch(model: Model, options?: PytorchExportOptions): Record<string, string>
//                             { 'model.json': …, 'train.py': …, 'defaults.json': … } for a folder
//   importFormat(source: string, bytes: Uint8Array): ImportFormat       what a file to import is
//
// `source` names the file in error messages. ImportOptions give the loss and trainBiases
// where the file does not record them (our exports do).

export { exportOnnx, importOnnx, ONNX_BATCH, ONNX_INPUT, ONNX_OPSET, ONNX_OUTPUT } from './onnx.ts';
export { exportTfjs, importTfjs, tfjsWeightPaths, TFJS_WEIGHTS_PATH, type TfjsModelJson, type TfjsWeightData, type TfjsWeightEntry } from './tfjs.ts';
export { exportPytorch, PYTORCH_DEFAULTS_FILE, PYTORCH_MODEL_FILE, PYTORCH_SCRIPT, type PytorchExportOptions } from './pytorch.ts';
export { defaultLoss, type ImportOptions } from './dense.ts';

/** The formats `export` writes. */
export const EXPORT_FORMATS = ['onnx', 'tfjs', 'pytorch'] as const;
/** A format `export` writes. */
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** What a file given to `import` holds: an ONNX model, a TF.js model.json, or already our model file. */
export type ImportFormat = 'onnx' | 'tfjs' | 'model-file';

/**
 * Tells the formats apart by their contents: JSON with a `modelTopology` is TensorFlow.js's
 * model.json, other JSON our model file (what train.py writes back), anything else ONNX's
 * protobuf (which importOnnx checks).
 */
export function importFormat(source: string, bytes: Uint8Array): ImportFormat {
  const start = bytes.findIndex((byte) => byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09);
  if (start < 0 || bytes[start] !== 0x7b /* { */ || source.toLowerCase().endsWith('.onnx')) return 'onnx';
  // Our model files hold numbers and names only: the key cannot appear in one.
  return /"modelTopology"\s*:/.test(new TextDecoder().decode(bytes)) ? 'tfjs' : 'model-file';
}
