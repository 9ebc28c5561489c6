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

/** A device of the caller's own, beside the file's: its cache of pipelines (and so of plans to reuse) starts empty. */
export async function freshDevice(): Promise<GPUDevice> {
  return openDevice(await requestAdapter());
}
