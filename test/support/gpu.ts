// One WebGPU device per test file: the machine's GPU, or SwiftShader where it has none.
// The GPU tests never skip: without an adapter they fail, saying why.

import '../../src/node.ts'; // Dawn
import { openDevice, requestAdapter } from '../../src/trainers.ts';

let device: Promise<GPUDevice> | undefined;

export function testDevice(): Promise<GPUDevice> {
  device ??= requestAdapter().then(async (adapter) => {
    const opened = await openDevice(adapter);
    opened.addEventListener('uncapturederror', (event) => {
      throw new Error(`WebGPU error: ${(event as GPUUncapturedErrorEvent).error.message}`);
    });
    return opened;
  });
  return device;
}
