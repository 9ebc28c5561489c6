// WebGPU in Node through Dawn's bindings (the `webgpu` package, an optional peer
// dependency: only Node users of the WebGPU backend need it).
//
// On a machine with a GPU, Dawn finds its Vulkan driver. On one without, it falls back
// to SwiftShader, the CPU Vulkan driver that Debian's chromium package ships: its driver
// file is added to the ones the Vulkan loader already knows, so a hardware adapter still
// wins where there is one.

import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { WebGpuUnavailableError } from '../errors.ts';

/** SwiftShader's Vulkan driver, as Debian's chromium package installs it. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

let gpu: Promise<GPU> | undefined;

/** Dawn's GPU object, as a browser's navigator.gpu; the GPU* globals (GPUBufferUsage, …) are installed with it. */
export async function nodeGpu(): Promise<GPU> {
  gpu ??= openDawn();
  return gpu;
}

async function openDawn(): Promise<GPU> {
  let dawn: typeof import('webgpu');
  try {
    dawn = await import('webgpu');
  } catch {
    throw new WebGpuUnavailableError("WebGPU in Node needs Dawn's bindings: npm install webgpu");
  }
  Object.assign(globalThis, dawn.globals);
  const env = process.env;
  env.XDG_RUNTIME_DIR ??= tmpdir(); // Dawn's display probing complains without it
  if (existsSync(SWIFTSHADER_ICD) && !env.VK_ICD_FILENAMES && !env.VK_DRIVER_FILES) {
    env.VK_ADD_DRIVER_FILES = [env.VK_ADD_DRIVER_FILES, SWIFTSHADER_ICD].filter(Boolean).join(':');
    // Debian 12's lavapipe is too old for Dawn: it would only print a warning.
    env.VK_LOADER_DRIVERS_DISABLE ??= 'lvp_icd*';
  }
  return dawn.create([...DAWN_FLAGS]);
}

/**
 * Dawn zero-initialises workgroup memory (as WGSL requires) by the shader's own code rather
 * than through Vulkan's VK_KHR_zero_initialize_workgroup_memory: SwiftShader's take on that
 * extension compiles into code that grows with the workgroup memory's size, some 3 ms per
 * 16 bytes (a kernel with 16 KiB of it: 3.4 s), half or more of a tiled product's compile
 * time, while the shader's own loop compiles in milliseconds at any size. On a GPU the
 * loop costs a few stores per thread and a barrier at a kernel's start.
 */
export const DAWN_FLAGS: readonly string[] = ['disable-dawn-features=use_vulkan_zero_initialize_workgroup_memory_extension'];
