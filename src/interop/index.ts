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

export { exportOnnx, ONNX_BATCH, ONNX_INPUT, ONNX_OPSET, ONNX_OUTPUT } from './onnx.ts';
export { importOnnx } from './onnx-import.ts';
export { exportTfjs, importTfjs, tfjsWeightPaths, TFJS_WEIGHTS_PATH, type TfjsModelJson, type TfjsWeightData, type TfjsWeightEntry } from './tfjs.ts';
export { exportPytorch, PYTORCH_DEFAULTS_FILE, PYTORCH_MODEL_FILE, PYTORCH_SCRIPT, type PytorchExportOptions } from './pytorch.ts';
export { defaultLoss, type ImportOptions } from './dense.ts';
export { EXPORT_FORMATS, IMPORT_FORMATS, importFormat, type ExportFormat, type ImportFormat } from './formats.ts';
