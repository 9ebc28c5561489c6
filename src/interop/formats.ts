// The formats models go out in and come back from, and telling them apart: small enough
// to load with every page, unlike the codecs (onnx.ts, onnx-import.ts, tfjs.ts,
// pytorch.ts), which Network.export and Network.import load only when a model goes out or
// comes in.

/** The formats `export` writes. */
export const EXPORT_FORMATS = ['onnx', 'tfjs', 'pytorch'] as const;
/** A format `export` writes: ONNX, TensorFlow.js's layers format, or a PyTorch folder. */
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** What a file given to `import` holds: an ONNX model, a TF.js model.json, or already our model file. */
export type ImportFormat = 'onnx' | 'tfjs' | 'model-file';
/** The formats `import` reads. */
export const IMPORT_FORMATS: readonly ImportFormat[] = ['onnx', 'tfjs', 'model-file'];

/**
 * Tells the formats apart by their name and contents: a `.onnx` name, or anything not
 * JSON, is ONNX's protobuf (which importOnnx checks); JSON with a `modelTopology` is
 * TensorFlow.js's model.json; other JSON (or a `.json` name) our model file, such as
 * train.py writes back.
 */
export function importFormat(source: string, bytes: Uint8Array): ImportFormat {
  const name = source.toLowerCase();
  if (name.endsWith('.onnx')) return 'onnx';
  const start = bytes.findIndex((byte) => byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09);
  if ((start < 0 || bytes[start] !== 0x7b) /* { */) return name.endsWith('.json') ? 'model-file' : 'onnx';
  // Our model files hold numbers and names only: the key cannot appear in one.
  return /"modelTopology"\s*:/.test(new TextDecoder().decode(bytes)) ? 'tfjs' : 'model-file';
}

/**
 * Whether the bytes are a PyTorch file (what torch.save writes: a zip archive, or a pickle
 * in older versions), which no format here reads: it holds Python objects, not a graph.
 */
export function isPytorchFile(source: string, bytes: Uint8Array): boolean {
  const zip = bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04; // PK\3\4
  const pickle = bytes[0] === 0x80 && bytes[1] >= 2 && bytes[1] <= 5; // PROTO 2…5
  return /\.(pt|pth)$/i.test(source) || zip || pickle;
}

/** What to do with a PyTorch file instead. */
export const PYTORCH_FILE_ADVICE =
  'is a PyTorch file (torch.save), which holds Python objects rather than a network others can read: export it to ONNX with torch.onnx.export(model, torch.zeros(1, inputs), "model.onnx") and import model.onnx';
