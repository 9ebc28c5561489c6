// webgpu-backprop/node: everything of the root entry point, plus what only Node has:
// WebGPU through Dawn (the optional `webgpu` package; SwiftShader where there is no GPU),
// worker threads for the WebAssembly backend,
// and files: reading model and data files from disk, writing outputs atomically, checking
// the memory a network needs, and reading numbers as the files and flags write them.
// Importing it makes Network, the trainers and requestAdapter find Dawn, the
// WebAssembly backend run its products on worker threads, and `backend: 'auto'` and the
// tuned tile plans keep their measurements in a file (src/node/calibration-file.ts);
// `auto` also knows a Linux machine without a GPU device (src/node/gpu-devices.ts).

import { setGpuProvider, setNoGpuProbe } from './gpu/device.ts';
import { nodeGpu } from './node/dawn.ts';
import { linuxWithoutGpu } from './node/gpu-devices.ts';
import { fileCalibrationStore } from './node/calibration-file.ts';
import { nodeCores, nodeWorkers } from './node/wasm-threads.ts';
import { setCalibrationStore } from './measurements.ts';
import { setWorkerStarter } from './wasm/threads.ts';

setGpuProvider(nodeGpu);
setNoGpuProbe(linuxWithoutGpu);
setWorkerStarter(nodeWorkers, nodeCores);
setCalibrationStore(fileCalibrationStore);

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
