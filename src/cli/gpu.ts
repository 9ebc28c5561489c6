// The command line's WebGPU device: Dawn's, on the machine's GPU or on SwiftShader.
// A device error or loss ends the command with its message.

import { adapterName, openDevice } from '../gpu/device.ts';
import { requestNodeAdapter } from '../node/dawn.ts';

export async function openCliDevice(): Promise<{ device: GPUDevice; adapter: string }> {
  const adapter = await requestNodeAdapter();
  const device = await openDevice(adapter);
  device.addEventListener('uncapturederror', (event) => {
    console.error(`webgpu-backprop: WebGPU error: ${(event as GPUUncapturedErrorEvent).error.message.split('\n')[0]}`);
    process.exit(3);
  });
  return { device, adapter: adapterName(adapter) };
}
