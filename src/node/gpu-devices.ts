// Whether a Linux machine has a GPU, told without loading Dawn (which takes tens of
// milliseconds): every GPU driver that Vulkan can use opens a device file, /dev/dri's
// render nodes (Mesa's drivers: AMD, Intel, and virtual GPUs), /dev/nvidia* (NVIDIA's
// driver) or /dev/dxg (WSL). With none of them, only a software adapter can be found.
// Elsewhere it cannot be told, and the answer is no.

import { existsSync } from 'node:fs';

const GPU_DEVICE_FILES = ['/dev/dri', '/dev/nvidiactl', '/dev/nvidia0', '/dev/dxg'];

/** Whether this is Linux with none of the device files a GPU driver opens. */
export function linuxWithoutGpu(): boolean {
  return process.platform === 'linux' && !GPU_DEVICE_FILES.some((file) => existsSync(file));
}
