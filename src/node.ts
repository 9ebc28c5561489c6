// webgpu-backprop/node: everything of the root entry point, plus what only Node has:
// WebGPU through Dawn (the optional `webgpu` package; SwiftShader where there is no GPU),
// and files: reading model and data files from disk, writing outputs atomically, checking
// the memory a network needs, and reading numbers as the files and flags write them.
// Importing it makes Network, the trainers and requestAdapter find Dawn.

import { setGpuProvider } from './gpu/device.ts';
import { nodeGpu } from './node/dawn.ts';

setGpuProvider(nodeGpu);

export * from './index.ts';
export { nodeGpu } from './node/dawn.ts';
export { readBinaryFile, readFileBeside, readTextFile, writeFileAtomically } from './node/files.ts';
export { readDataFile } from './node/data-file.ts';
export type { ReadDataOptions } from './node/data-file.ts';
export { checkDataFits } from './io/data-file.ts';
export type { DataTable } from './io/data-table.ts';
export { checkTrainingMemory } from './node/memory.ts';
export { parseDecimal } from './io/numbers.ts';
export { FLOAT32_MAX, FLOAT32_MIN_NORMAL } from './data/values.ts';
export { MAX_SEED } from './data/batches.ts';
