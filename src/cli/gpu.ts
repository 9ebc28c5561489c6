// The command line's WebGPU device: Dawn's, on the machine's GPU or on SwiftShader,
// reopened if lost. A WebGPU error ends the command with its message (exit status 3).

import { DeviceKeeper } from 'webgpu-backprop/node';
import { adapterName } from 'webgpu-backprop/trainers';

export const EXIT_WEBGPU_ERROR = 3;

export async function openCliDevice(): Promise<{ keeper: DeviceKeeper; adapter: string }> {
  const keeper = await DeviceKeeper.open((message) => console.error(`webgpu-backprop: the GPU device was lost (${message})`));
  const device = await keeper.current();
  device.addEventListener('uncapturederror', (event) => {
    console.error(`webgpu-backprop: WebGPU error: ${(event as GPUUncapturedErrorEvent).error.message.split('\n')[0]}`);
    process.exit(EXIT_WEBGPU_ERROR);
  });
  return { keeper, adapter: adapterName(keeper.adapter) };
}
