// The browser app: the worked-example explorer, the training playground and the
// benchmark page, one at a time by the URL's hash. It uses the library's public API as
// any user would (the kernels come embedded in it), and says plainly when the browser
// has no WebGPU.

import './style.css';
import { adapterName, DeviceKeeper } from 'webgpu-backprop';

export interface AppGpu {
  adapter: string;
  /** The app's device, replaced when lost; networks and benchmarks share it. */
  keeper: DeviceKeeper;
  /** A live device: the one opened at start, or the one opened after it was lost. */
  device(): Promise<GPUDevice>;
}

/** A view mounts into the page's main element, and may return a function that stops it. */
type View = (root: HTMLElement, gpu: AppGpu | undefined) => (() => void) | void;

const VIEWS: Record<string, () => Promise<{ mount: View }>> = {
  explorer: () => import('./explorer.ts'),
  playground: () => import('./playground.ts'),
  benchmark: () => import('./benchmark.ts'),
};

async function openGpu(): Promise<AppGpu | undefined> {
  const banner = document.getElementById('no-webgpu')!;
  try {
    // When the device is lost (a driver reset, the tab in the background), the keeper opens
    // a new one at once: training resumes there from its last checkpoint.
    const keeper = await DeviceKeeper.open((message) => {
      banner.textContent = `The GPU device was lost (${message}). Training resumes from its last checkpoint on a new device.`;
      banner.hidden = false;
    });
    return { adapter: adapterName(keeper.adapter), keeper, device: () => keeper.current() };
  } catch (error) {
    banner.textContent = `WebGPU is not available: ${(error as Error).message}. The worked examples still run on the float64 reference; training and benchmarks need WebGPU (Chrome 113 or later, or a browser with WebGPU enabled).`;
    banner.hidden = false;
    document.body.dataset.webgpu = 'unavailable';
    return undefined;
  }
}

async function start(): Promise<void> {
  const gpu = await openGpu();
  if (gpu) {
    document.getElementById('adapter')!.textContent = `WebGPU: ${gpu.adapter}`;
    document.body.dataset.webgpu = 'available';
  }
  const root = document.getElementById('app')!;
  let stop: (() => void) | void;
  const route = async () => {
    const name = location.hash.slice(1) in VIEWS ? location.hash.slice(1) : 'explorer';
    stop?.();
    root.replaceChildren();
    for (const link of document.querySelectorAll('nav a')) link.classList.toggle('current', link.getAttribute('href') === `#${name}`);
    const { mount } = await VIEWS[name]();
    stop = mount(root, gpu);
  };
  window.addEventListener('hashchange', route);
  await route();
}

start();
