// The app's WebGPU device, opened once and shared by its pages: the adapter's name, whether
// it runs on the CPU, and a keeper that replaces the device when it is lost.

import { DeviceKeeper } from 'webgpu-backprop';
import { adapterName, describeAdapter } from 'webgpu-backprop/trainers';

export interface AppGpu {
  adapter: string;
  /** A software adapter (SwiftShader): WebGPU on the CPU, whose timings say nothing about a GPU. */
  software: boolean;
  /** The app's device, replaced when lost; networks and benchmarks share it. */
  keeper: DeviceKeeper;
  /** A live device: the one opened at start, or the one opened after it was lost. */
  device(): Promise<GPUDevice>;
}

/** Opens the app's device, or says in the page why there is none. */
export async function openGpu(): Promise<AppGpu | undefined> {
  const banner = document.getElementById('no-webgpu')!;
  try {
    // When the device is lost (a driver reset, the tab in the background), the keeper opens
    // a new one at once: training resumes there from its last checkpoint.
    const keeper = await DeviceKeeper.open((message) => {
      banner.textContent = `The GPU device was lost (${message}). Training resumes from its last checkpoint on a new device.`;
      banner.hidden = false;
    });
    return { adapter: adapterName(keeper.adapter), software: describeAdapter(keeper.adapter).isFallbackAdapter, keeper, device: () => keeper.current() };
  } catch (error) {
    banner.textContent = `WebGPU is not available: ${(error as Error).message}. The worked examples still run on the float64 reference; training and benchmarks need WebGPU (Chrome 113 or later, or a browser with WebGPU enabled).`;
    banner.hidden = false;
    document.body.dataset.webgpu = 'unavailable';
    return undefined;
  }
}
