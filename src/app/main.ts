// The browser app: the worked-example explorer, the training playground and the
// benchmark page, one at a time by the URL's hash. It uses the library as any user
// would, loads every kernel at start so training needs no network afterwards, and says
// plainly when the browser has no WebGPU.

import './style.css';
import { adapterName, openDevice, requestBrowserAdapter } from '../gpu/device.ts';
import { loadAllShaders } from '../gpu/shaders.ts';

export interface AppGpu {
  adapter: string;
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
    let adapter = await requestBrowserAdapter();
    let current = openDevice(adapter);
    // When the device is lost (a driver reset, the tab in the background), open a new one
    // at once: training resumes there from its last checkpoint (see ResilientTrainer).
    const watch = (device: GPUDevice) =>
      device.lost.then((info) => {
        banner.textContent = `The GPU device was lost (${info.message || info.reason}). Training resumes from its last checkpoint on a new device.`;
        banner.hidden = false;
        current = requestBrowserAdapter().then((next) => ((adapter = next), openDevice(next)));
        current.then(watch, (error) => (banner.textContent = `The GPU device was lost and no new one could be opened: ${(error as Error).message}`));
      });
    watch(await current);
    await loadAllShaders();
    return { adapter: adapterName(adapter), device: () => current };
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
