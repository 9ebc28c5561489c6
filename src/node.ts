// webgpu-backprop/node: everything of the main entry point, plus what only Node has:
// WebGPU through Dawn (the optional `webgpu` package; SwiftShader where there is no GPU)
// and files. Importing it makes Network, createTrainer and requestAdapter find Dawn.

import { setGpuProvider } from './gpu/device.ts';
import { nodeGpu } from './node/dawn.ts';

setGpuProvider(nodeGpu);

export * from './index.ts';
export { nodeGpu, SWIFTSHADER_ICD } from './node/dawn.ts';
export { loadModelFile, readBinaryFile, readTextFile, writeFileAtomically } from './node/files.ts';
export { readDataFile } from './node/data-file.ts';
export type { ReadDataOptions } from './node/data-file.ts';
export { availableMemory, checkTrainingMemory, trainingBytes } from './node/memory.ts';
