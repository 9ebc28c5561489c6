// The benchmark page: the standard workloads (bench/) in this browser, on WebGPU, on the
// float64 reference and on TensorFlow.js, each checked against the reference before it
// is timed; a table, a chart, and the adapter's name.

import { BarController, BarElement, CategoryScale, Chart, Legend, LogarithmicScale, Tooltip } from 'chart.js';
import { figure, markdownTable, referenceBackend, runSuite, STANDARD_WORKLOADS, sweepWorkloads, tfjsBackend, webgpuBackend, type Backend, type Measurement, type Workload } from 'webgpu-backprop';
import { download, field, h } from './dom.ts';
import type { AppGpu } from './main.ts';

Chart.register(BarController, BarElement, CategoryScale, LogarithmicScale, Legend, Tooltip);

const COLORS = ['#2471a3', '#7f8c8d', '#c0392b', '#d68910'];

async function tfjsBackends(adapter: string, wanted: { webgpu: boolean; wasm: boolean }): Promise<Backend[]> {
  if (!wanted.webgpu && !wanted.wasm) return [];
  const tf = await import('@tensorflow/tfjs');
  const backends: Backend[] = [];
  if (wanted.webgpu) {
    await import('@tensorflow/tfjs-backend-webgpu');
    backends.push(tfjsBackend(tf, 'webgpu', adapter));
  }
  if (wanted.wasm) {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    // The wasm binaries are bundled with the app, so no CDN is needed.
    const [plain, simd, threaded] = await Promise.all([
      import('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url'),
      import('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url'),
      import('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url'),
    ]);
    wasm.setWasmPaths({
      'tfjs-backend-wasm.wasm': plain.default,
      'tfjs-backend-wasm-simd.wasm': simd.default,
      'tfjs-backend-wasm-threaded-simd.wasm': threaded.default,
    });
    backends.push(tfjsBackend(tf, 'wasm', 'WebAssembly'));
  }
  return backends;
}

export function mount(root: HTMLElement, gpu: AppGpu | undefined): void {
  const checkbox = (id: string, checked: boolean) => h('input', { type: 'checkbox', id, checked });
  const workloadBoxes = [...STANDARD_WORKLOADS.map((w) => [w.name, checkbox(`workload-${w.name}`, w.name !== 'W3')] as const), ['sweep', checkbox('workload-sweep', false)] as const];
  const backendBoxes = {
    webgpu: checkbox('backend-webgpu', true),
    reference: checkbox('backend-reference', true),
    tfjsWebgpu: checkbox('backend-tfjs-webgpu', true),
    tfjsWasm: checkbox('backend-tfjs-wasm', false),
  };
  const quick = checkbox('quick', true);
  const runButton = h('button', { type: 'button', id: 'run', class: 'primary', disabled: !gpu }, 'Run benchmarks');
  const exportButton = h('button', { type: 'button', id: 'export', disabled: true }, 'Export Markdown');
  const log = h('pre', { class: 'log', id: 'log' });
  const table = h('table', { class: 'results', id: 'results' });
  const canvas = h('canvas', { id: 'bench-chart', width: 760, height: 320 });
  let chart: Chart | undefined;
  let markdown = '';

  const render = (measurements: Measurement[]) => {
    table.replaceChildren(
      h('thead', {}, h('tr', {}, ...['workload', 'backend', 'check', 'steps', 'ms/step', 'samples/s', 'GFLOP/s', 'dispatches/step', 'submits/step'].map((t) => h('th', {}, t)))),
      h(
        'tbody',
        {},
        ...measurements.map((m) =>
          h(
            'tr',
            { 'data-backend': m.backend, 'data-workload': m.workload },
            h('td', {}, `${m.workload} (${m.title})`),
            h('td', {}, m.backend),
            h('td', { class: m.check === 'failed' ? 'disagrees' : '' }, m.error ? `error: ${m.error}` : m.check),
            h('td', {}, m.steps),
            h('td', { class: 'ms' }, figure(m.msPerStep)),
            h('td', {}, figure(m.samplesPerSecond)),
            h('td', {}, figure(m.gflops)),
            h('td', {}, figure(m.dispatchesPerStep)),
            h('td', {}, figure(m.submitsPerStep)),
          ),
        ),
      ),
    );
    const workloads = [...new Set(measurements.map((m) => m.workload))];
    const backends = [...new Set(measurements.map((m) => m.backend))];
    chart?.destroy();
    chart = new Chart(canvas, {
      type: 'bar',
      data: {
        labels: workloads,
        datasets: backends.map((backend, k) => ({
          label: backend,
          backgroundColor: COLORS[k % COLORS.length],
          data: workloads.map((w) => measurements.find((m) => m.workload === w && m.backend === backend)?.samplesPerSecond ?? null),
        })),
      },
      options: { animation: false, responsive: false, scales: { y: { type: 'logarithmic', title: { display: true, text: 'samples per second' } } } },
    });
  };

  runButton.addEventListener('click', async () => {
    if (!gpu) return;
    runButton.disabled = true;
    root.dataset.state = 'running';
    log.textContent = '';
    try {
      const workloads: Workload[] = workloadBoxes.filter(([, box]) => box.checked).flatMap(([name]) => (name === 'sweep' ? sweepWorkloads([16, 64, 256], [1, 16, 128]) : STANDARD_WORKLOADS.filter((w) => w.name === name)));
      const backends: Backend[] = [];
      if (backendBoxes.webgpu.checked) backends.push(webgpuBackend(await gpu.device(), gpu.adapter));
      if (backendBoxes.reference.checked) backends.push(referenceBackend());
      backends.push(...(await tfjsBackends(gpu.adapter, { webgpu: backendBoxes.tfjsWebgpu.checked, wasm: backendBoxes.tfjsWasm.checked })));
      const measurements = await runSuite(workloads, backends, {
        checkSteps: 2,
        timeBudgetMs: quick.checked ? 2_000 : 20_000,
        stepScale: quick.checked ? 0.1 : 1,
        log: (line) => (log.textContent += `${line}\n`),
      });
      render(measurements);
      markdown = markdownTable({ date: new Date().toISOString(), environment: { adapter: gpu.adapter, browser: navigator.userAgent }, measurements });
      exportButton.disabled = false;
      root.dataset.state = 'done';
    } catch (error) {
      log.textContent += `failed: ${(error as Error).message}\n`;
      root.dataset.state = 'error';
    } finally {
      runButton.disabled = false;
    }
  });
  exportButton.addEventListener('click', () => download('benchmarks.md', `${markdown}\n`, 'text/markdown'));

  root.append(
    h(
      'section',
      { class: 'benchmark' },
      h('h2', {}, 'Benchmark'),
      h('p', {}, gpu ? `Adapter: ${gpu.adapter}` : 'This browser has no WebGPU: the benchmarks need it.', h('span', { id: 'bench-adapter', hidden: true }, gpu?.adapter ?? '')),
      h('div', { class: 'row' }, ...workloadBoxes.map(([name, box]) => field(name, box))),
      h('div', { class: 'row' }, field('webgpu-backprop', backendBoxes.webgpu), field('float64 reference', backendBoxes.reference), field('TensorFlow.js WebGPU', backendBoxes.tfjsWebgpu), field('TensorFlow.js wasm', backendBoxes.tfjsWasm), field('quick (a tenth of the steps, 2 s a measurement)', quick)),
      h('div', { class: 'row controls' }, runButton, exportButton),
      log,
      table,
      canvas,
    ),
  );
}
