// The browser app: a landing section, the worked-example explorer, the training
// playground and the benchmark page, one at a time by the URL's hash (`#playground?…`
// carries the playground's settings). It uses the library's public API as any user
// would, and says plainly when the browser has no WebGPU.

import './style.css';
import { h } from './dom.ts';
import { openGpu, type AppGpu } from './gpu.ts';


/** A view mounts into the page's main element (with the hash's query), and may return a function that stops it. */
type View = (root: HTMLElement, gpu: AppGpu | undefined, query: string) => (() => void) | void;

const VIEWS: Record<string, () => Promise<{ mount: View }>> = {
  home: async () => ({ mount: landing }),
  explorer: () => import('./explorer.ts'),
  playground: () => import('./playground/page.ts'),
  benchmark: () => import('./benchmark.ts'),
  errata: () => import('./errata.ts'),
};

const PAGES = [
  { page: 'explorer', title: 'Worked examples', text: 'The classic backpropagation articles (Mazur, hmkcode, Lamsal, MissingLink) value by value: each formula with its numbers, the article, the float64 reference and the GPU side by side.' },
  { page: 'playground', title: 'Playground', text: 'Train a network on WebGPU in this tab: XOR, spirals, circles, the MNIST digits or your own CSV, with training and test curves.' },
  { page: 'benchmark', title: 'Benchmark', text: 'The standard workloads on WebGPU, the float64 reference and TensorFlow.js in this browser, each checked before it is timed.' },
];

function landing(root: HTMLElement, gpu: AppGpu | undefined): void {
  root.append(
    h(
      'section',
      { class: 'landing' },
      h('h2', {}, 'Backpropagation on WebGPU, checked number by number'),
      h(
        'p',
        { class: 'lede', id: 'what' },
        'webgpu-backprop is a TypeScript library that trains dense neural networks with WGSL compute shaders on WebGPU, in the browser and in Node, and checks every GPU buffer against a float64 reference and the classic worked examples. This app is its first user: step through the worked examples, train networks in this tab, and benchmark WebGPU.',
      ),
      h('div', { class: 'cards' }, ...PAGES.map((p) => h('a', { class: 'card', href: `#${p.page}`, 'data-card': p.page }, h('h3', {}, p.title), h('p', {}, p.text)))),
      gpu?.software ? h('p', { class: 'hint' }, `This browser's WebGPU adapter, ${gpu.adapter}, runs on the CPU: everything works, more slowly, and its timings say nothing about a GPU.`) : null,
    ),
  );
}


/** `#playground?dataset=spirals` → page and query. */
function parseHash(hash: string): { name: string; query: string } {
  const [name, query = ''] = hash.replace(/^#/, '').split('?', 2);
  return { name: name in VIEWS ? name : 'home', query };
}

async function start(): Promise<void> {
  const gpu = await openGpu();
  if (gpu) {
    document.getElementById('adapter')!.textContent = `WebGPU: ${gpu.adapter}`;
    document.body.dataset.webgpu = 'available';
  }
  const root = document.getElementById('app')!;
  let stop: (() => void) | void;
  let shown = '';
  const route = async () => {
    const { name, query } = parseHash(location.hash);
    // The playground rewrites its own URL as settings change: that is no new page.
    if (name === shown && name === 'playground' && !query) return;
    shown = name;
    stop?.();
    stop = undefined;
    root.replaceChildren();
    root.removeAttribute('data-state');
    for (const link of document.querySelectorAll('nav a')) link.classList.toggle('current', link.getAttribute('data-page') === name);
    const { mount } = await VIEWS[name]();
    if (parseHash(location.hash).name !== name) return; // another page was asked for meanwhile
    stop = mount(root, gpu, query);
  };
  window.addEventListener('hashchange', route);
  await route();
}

start();
