// The browser app: the worked-example explorer, the training playground and the
// benchmark page, one at a time by the URL's hash. It uses the library as any user
// would, loads every kernel at start so training needs no network afterwards, and says
// plainly when the browser has no WebGPU.

import './style.css';
import { adapterName, openDevice, requestBrowserAdapter } from '../gpu/device.ts';
import { loadAllShaders } from '../gpu/shaders.ts';

export interface AppGpu {
  device: GPUDevice;
  adapter: string;
}

/** A view is mounted into the page's main element; it may leave a function to stop it. */
export type View = (root: HTMLElement, gpu: AppGpu | undefined) => (() => void) | void;

const VIEWS: Record<string, () => Promise<{ mount: View }>> = {
  explorer: () => import('./explorer.ts'),
  playground: () => import('./playground.ts'),
  benchmark: () => import('./benchmark.ts'),
};

async function openGpu(): Promise<AppGpu | undefined> {
  const banner = document.getElementById('no-webgpu')!;
  try {
    const adapter = await requestBrowserAdapter();
    const device = await openDevice(adapter);
    await loadAllShaders();
    device.lost.then((info) => {
      if (info.reason === 'destroyed') return;
      banner.textContent = `The GPU device was lost (${info.message || info.reason}). Reload the page to start again.`;
      banner.hidden = false;
    });
    return { device, adapter: adapterName(adapter) };
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
