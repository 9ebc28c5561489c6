// WebGPU in Node through Dawn's bindings (the `webgpu` package). Used by the command
// line, the benchmarks and the tests; the library itself only ever receives a GPUDevice.
//
// On a machine with a GPU, Dawn finds its Vulkan driver. On one without, it falls back
// to SwiftShader, the CPU Vulkan driver that Debian's chromium package ships
// (`npm run setup` installs it): its driver file is added to the ones the Vulkan loader
// already knows, so a hardware adapter still wins where there is one.

import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { create, globals } from 'webgpu';

export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

let gpu: GPU | undefined;

/** Dawn's GPU object, as a browser's navigator.gpu (TensorFlow.js's WebGPU backend takes it there). */
export function nodeGpu(): GPU {
  if (!gpu) {
    Object.assign(globalThis, globals); // GPUBufferUsage, GPUMapMode, … as in a browser
    const env = process.env;
    env.XDG_RUNTIME_DIR ??= tmpdir(); // Dawn's display probing complains without it
    if (existsSync(SWIFTSHADER_ICD) && !env.VK_ICD_FILENAMES && !env.VK_DRIVER_FILES) {
      env.VK_ADD_DRIVER_FILES = [env.VK_ADD_DRIVER_FILES, SWIFTSHADER_ICD].filter(Boolean).join(':');
      // Debian 12's lavapipe is too old for Dawn: it would only print a warning.
      env.VK_LOADER_DRIVERS_DISABLE ??= 'lvp_icd*';
    }
    gpu = create([]);
  }
  return gpu;
}

export async function requestNodeAdapter(): Promise<GPUAdapter> {
  const adapter = await nodeGpu().requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) {
    throw new Error(
      `no WebGPU adapter: no GPU driver was found${existsSync(SWIFTSHADER_ICD) ? '' : ` and SwiftShader (${SWIFTSHADER_ICD}) is not installed; run npm run setup`}`,
    );
  }
  return adapter;
}
