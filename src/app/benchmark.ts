// The benchmark page: the standard workloads, described before anything runs, on WebGPU,
// WebAssembly, the float64 reference and TensorFlow.js in this browser, every timed run checked
// against the reference; a table with each backend's median, its spread and its speed-up
// over the reference, a one-line summary per workload, a chart, and a plain warning when
// the adapter is a software one (SwiftShader), whose figures say nothing about a GPU. The
// measuring is the library's (measureWorkload, all of a workload's backends interleaved);
// this page only chooses, runs one workload at a time, stops between repetitions, and shows.

import { BarController, BarElement, CategoryScale, Chart, Legend, LogarithmicScale, Tooltip } from 'chart.js';
import { BACKEND_NAMES, DEFAULT_SUITE_OPTIONS, QUICK_SUITE_OPTIONS, figure, flopsPerStep, markdownTable, measureWorkload, referenceBackend, STANDARD_WORKLOADS, sweepWorkloads, tfjsBackend, wasmBackend, webgpuBackend, type Backend, type BenchReport, type Measurement, type Workload } from 'webgpu-backprop/bench';
import { checkField, download, formatDuration, h } from './dom.ts';
import type { AppGpu } from './gpu.ts';

Chart.register(BarController, BarElement, CategoryScale, LogarithmicScale, Legend, Tooltip);

const COLORS = ['#2471a3', '#7f8c8d', '#c0392b', '#d68910'];

/** A figure from fewer repetitions than the suite's default (quick mode) is shown as rough. */
const rough = (m: Measurement) => m.reps < DEFAULT_SUITE_OPTIONS.reps;

const SWEEP = { widths: [16, 64, 256], batches: [1, 16, 128] };

const DESCRIPTIONS: Record<string, string> = {
  W1: 'The smallest network there is: one sample per step, so the time is all overhead (dispatch, submit). The CPU wins here; it shows what a step costs at least.',
  W2: 'An MNIST-sized network: mid-sized matrix products, where WebGPU starts to pay on a real GPU.',
  W3: 'Three 1,024-wide layers: large matrix products, the GPU’s home ground. On a software adapter each step takes seconds, and the float64 reference is slower still: minutes in all.',
};

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
    // Its threaded build's worker fails in a bundled page (it names a variable the bundle
    // renamed): the single-threaded SIMD build, also where the page is cross-origin isolated.
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    backends.push(tfjsBackend(tf, 'wasm', 'WebAssembly SIMD, one thread'));
  }
  return backends;
}

/** 86.0 FLOP, 26.5 MFLOP, 2.71 GFLOP. */
function formatFlops(flops: number): string {
  const [scale, unit] = flops >= 1e9 ? [1e9, 'GFLOP'] : flops >= 1e6 ? [1e6, 'MFLOP'] : flops >= 1e3 ? [1e3, 'kFLOP'] : [1, 'FLOP'];
  return `${figure(flops / scale)} ${unit}`;
}

function describeWorkload(workload: Workload): string {
  return `${workload.sizes.join('-')} sigmoid, batch ${workload.batch}; ${formatFlops(flopsPerStep(workload))} a step`;
}

/** Each backend's speed against the float64 reference on the same workload (its ms/step over theirs). */
function speedUp(measurements: Measurement[], m: Measurement): number | undefined {
  const reference = measurements.find((r) => r.workload === m.workload && r.check === 'reference');
  return reference && Number.isFinite(reference.msPerStep) && Number.isFinite(m.msPerStep) ? reference.msPerStep / m.msPerStep : undefined;
}

/** One line per workload: how each backend compares with ours and with the reference. */
function summaries(measurements: Measurement[]): string[] {
  const workloads = [...new Set(measurements.map((m) => m.workload))];
  return workloads.map((workload) => {
    const rows = measurements.filter((m) => m.workload === workload && Number.isFinite(m.msPerStep));
    const ours = rows.find((m) => m.backend === BACKEND_NAMES.webgpu);
    if (!ours) return `${workload}: no WebGPU figure${rows.length ? '' : ' (nothing measured)'}.`;
    const against = rows.filter((m) => m !== ours).map((m) => {
      const ratio = m.msPerStep / ours.msPerStep;
      return ratio >= 1 ? `${figure(ratio)}× as fast as ${m.backend}` : `${figure(1 / ratio)}× slower than ${m.backend}`;
    });
    return `${workload}: webgpu-backprop ${figure(ours.msPerStep)} ms a step${against.length ? `, ${against.join(', ')}` : ''}${rough(ours) ? ` (rough: ${ours.reps} repetitions)` : ''}.`;
  });
}

/** The results table's columns. */
const COLUMNS = ['workload', 'backend', 'check', 'repetitions × steps', 'ms/step (median)', 'min–max', 'speed-up vs reference', 'samples/s', 'GFLOP/s', 'dispatches/step'];

export function mount(root: HTMLElement, gpu: AppGpu | undefined): () => void {
  const checkbox = (id: string, checked: boolean) => h('input', { type: 'checkbox', id, checked });
  const sweep = sweepWorkloads(SWEEP.widths, SWEEP.batches);
  const workloadBoxes = [...STANDARD_WORKLOADS.map((w) => ({ name: w.name, box: checkbox(`workload-${w.name}`, w.name !== 'W3'), workloads: [w] })), { name: 'sweep', box: checkbox('workload-sweep', false), workloads: sweep }];
  const backendBoxes = {
    webgpu: checkbox('backend-webgpu', true),
    wasm: checkbox('backend-wasm', false),
    reference: checkbox('backend-reference', true),
    tfjsWebgpu: checkbox('backend-tfjs-webgpu', true),
    tfjsWasm: checkbox('backend-tfjs-wasm', false),
  };
  const quick = checkbox('quick', true);
  const runButton = h('button', { type: 'button', id: 'run', class: 'primary', disabled: !gpu }, 'Run benchmarks');
  const stopButton = h('button', { type: 'button', id: 'stop', disabled: true }, 'Stop');
  const exportButton = h('button', { type: 'button', id: 'export', disabled: true }, 'Export Markdown');
  const exportJsonButton = h('button', { type: 'button', id: 'export-json', disabled: true }, 'Export JSON');
  const progress = h('p', { class: 'status', id: 'bench-progress', 'aria-live': 'polite' });
  const log = h('pre', { class: 'log', id: 'log' });
  const summary = h('ul', { class: 'summary', id: 'summary' });
  const table = h('table', { class: 'results', id: 'results' });
  const canvas = h('canvas', { id: 'bench-chart' });
  let chart: Chart | undefined;
  let markdown = '';
  let report: BenchReport | undefined;
  let stop: AbortController | undefined;

  const render = (measurements: Measurement[]) => {
    table.replaceChildren(
      h('thead', {}, h('tr', {}, ...COLUMNS.map((t) => h('th', {}, t)))),
      h(
        'tbody',
        {},
        ...measurements.map((m) => {
          const ratio = speedUp(measurements, m);
          return h(
            'tr',
            { 'data-backend': m.backend, 'data-workload': m.workload },
            h('td', {}, `${m.workload} (${m.title})`),
            h('td', {}, m.backend),
            // Stopped before its first repetition is no failure: it says so, plainly.
            h('td', { class: m.check === 'failed' && m.error !== 'stopped' ? 'disagrees' : '', title: m.checkMessage }, m.error === 'stopped' ? 'stopped before it ran' : m.error ? `error: ${m.error}` : m.check),
            h('td', { class: rough(m) ? 'disagrees' : '', title: rough(m) ? 'too few repetitions for a steady figure' : '' }, `${m.reps} × ${m.stepsPerRep}${rough(m) && m.reps > 0 ? ' (rough)' : ''}`),
            h('td', { class: 'ms' }, figure(m.msPerStep)),
            h('td', {}, m.reps > 0 ? `${figure(m.minMsPerStep)}–${figure(m.maxMsPerStep)}` : '–'),
            h('td', { class: 'speedup' }, m.check === 'reference' ? '1× (is the reference)' : ratio === undefined ? '–' : `${figure(ratio)}×`),
            h('td', {}, figure(m.samplesPerSecond)),
            h('td', {}, figure(m.gflops)),
            h('td', {}, figure(m.dispatchesPerStep)),
          );
        }),
      ),
    );
    // Each cell names its column: under 500 px the rows are cards.
    for (const row of table.querySelectorAll('tbody tr')) [...row.children].forEach((cell, k) => cell.setAttribute('data-label', COLUMNS[k]));
    summary.replaceChildren(...summaries(measurements).map((line) => h('li', {}, line)));
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
      options: { animation: false, responsive: true, maintainAspectRatio: false, scales: { y: { type: 'logarithmic', title: { display: true, text: 'samples per second' } } } },
    });
  };

  runButton.addEventListener('click', async () => {
    if (!gpu) return;
    runButton.disabled = true;
    stopButton.disabled = false;
    exportButton.disabled = true;
    exportJsonButton.disabled = true;
    const controller = (stop = new AbortController());
    root.dataset.state = 'running';
    log.textContent = '';
    const started = performance.now();
    const measurements: Measurement[] = [];
    try {
      const workloads = workloadBoxes.filter(({ box }) => box.checked).flatMap(({ workloads }) => workloads);
      const backends: Backend[] = [];
      if (backendBoxes.webgpu.checked) backends.push(webgpuBackend(await gpu.device(), gpu.adapter));
      if (backendBoxes.wasm.checked) backends.push(wasmBackend());
      if (backendBoxes.reference.checked) backends.push(referenceBackend());
      backends.push(...(await tfjsBackends(gpu.adapter, { webgpu: backendBoxes.tfjsWebgpu.checked, wasm: backendBoxes.tfjsWasm.checked })));
      let stoppedIn: string | undefined;
      for (const [k, workload] of workloads.entries()) {
        progress.textContent = `Workload ${k + 1} of ${workloads.length}: ${workload.name} on ${backends.length} backends, interleaved… (${formatDuration(performance.now() - started)} so far)`;
        measurements.push(...(await measureWorkload(workload, backends, { quick: quick.checked, signal: controller.signal, log: (line) => (log.textContent += `${line}\n`) })));
        render(measurements);
        if (controller.signal.aborted) {
          stoppedIn = `${workload.name} (${k + 1} of ${workloads.length} workloads)`;
          break;
        }
      }
      const elapsed = formatDuration(performance.now() - started);
      progress.textContent = stoppedIn ? `Stopped during ${stoppedIn} after ${elapsed}; the repetitions run so far are shown, checked.` : `${workloads.length} workload${workloads.length === 1 ? '' : 's'} in ${elapsed}.`;
      const stopped = stoppedIn !== undefined;
      // Cross-origin isolation decides whether WebAssembly (ours and TensorFlow.js's) runs threads here.
      const environment = { adapter: gpu.adapter, software: String(gpu.software), browser: navigator.userAgent, 'cross-origin isolated': String(globalThis.crossOriginIsolated === true), cores: String(navigator.hardwareConcurrency) };
      report = { date: new Date().toISOString(), environment, measurements };
      markdown = markdownTable(report);
      exportButton.disabled = measurements.length === 0;
      exportJsonButton.disabled = measurements.length === 0;
      root.dataset.state = stopped ? 'stopped' : 'done';
    } catch (error) {
      log.textContent += `failed: ${(error as Error).message}\n`;
      root.dataset.state = 'error';
    } finally {
      runButton.disabled = false;
      stopButton.disabled = true;
    }
  });
  stopButton.addEventListener('click', () => {
    stop?.abort();
    stopButton.disabled = true;
    progress.textContent = `${progress.textContent} Stopping after this repetition…`;
  });
  exportButton.addEventListener('click', () => download('benchmarks.md', `${markdown}\n`, 'text/markdown'));
  exportJsonButton.addEventListener('click', () => download('benchmarks.json', `${JSON.stringify(report, null, 2)}\n`, 'application/json'));

  const workloadCard = (name: string, box: HTMLInputElement, title: string, detail: string, text: string) =>
    h('div', { class: 'workload', 'data-workload': name }, h('label', {}, box, ` ${name}: ${title}`), h('div', { class: 'hint' }, detail), h('div', {}, text));

  root.append(
    h(
      'section',
      { class: 'benchmark' },
      h('h2', {}, 'Benchmark'),
      h('p', { class: 'lede' }, 'Each workload trains the same network from the same weights on each backend. Each backend is warmed up (its kernels compile) and calibrated, then timed repetitions (of at least a second; a quarter in quick mode) go round the backends in turn, so that a change in this machine’s load falls on all of them alike; each figure is the median of the repetitions, shown with their extremes. A repetition ends when its work is done (its losses read back), and after each one the parameters are compared with the float64 reference trained to the same step, within float32 tolerance: the runs that were timed are the runs that were checked.'),
      gpu
        ? h('p', {}, 'Adapter: ', h('b', { id: 'bench-adapter' }, gpu.adapter))
        : h('p', { class: 'message' }, 'This browser has no WebGPU: the benchmarks need it.'),
      gpu?.software
        ? h(
            'p',
            { class: 'software-note', id: 'software-note', role: 'note' },
            h('b', {}, 'This adapter is a software one (SwiftShader): WebGPU runs on this machine’s CPU. '),
            'Its figures say nothing about a GPU: on a GPU the WebGPU columns would be many times faster, and a CPU backend beating WebGPU here means nothing there. Only ratios measured side by side in one run, on one machine, compare.',
          )
        : null,
      h('h3', {}, 'Workloads'),
      h(
        'div',
        { class: 'workloads' },
        ...STANDARD_WORKLOADS.map((w) => workloadCard(w.name, workloadBoxes.find((b) => b.name === w.name)!.box, w.title, describeWorkload(w), DESCRIPTIONS[w.name] ?? '')),
        workloadCard(
          'sweep',
          workloadBoxes[workloadBoxes.length - 1].box,
          'width × batch',
          `${sweep.length} networks width-width-width-10, widths ${SWEEP.widths.join(', ')}, batches ${SWEEP.batches.join(', ')}`,
          'Where WebGPU starts beating the CPU on this adapter, as the network and the batch grow.',
        ),
      ),
      h('h3', {}, 'Backends'),
      h('div', { class: 'row' }, checkField(BACKEND_NAMES.webgpu, backendBoxes.webgpu), checkField(BACKEND_NAMES.wasm, backendBoxes.wasm), checkField(BACKEND_NAMES.reference, backendBoxes.reference), checkField('TensorFlow.js WebGPU', backendBoxes.tfjsWebgpu), checkField('TensorFlow.js wasm', backendBoxes.tfjsWasm)),
      h('div', { class: 'row' }, checkField(`quick: ${QUICK_SUITE_OPTIONS.reps} repetitions of ${QUICK_SUITE_OPTIONS.repMs / 1000} s each, instead of ${DEFAULT_SUITE_OPTIONS.reps} of ${DEFAULT_SUITE_OPTIONS.repMs / 1000} s (figures marked rough)`, quick)),
      h('div', { class: 'row controls' }, runButton, stopButton, exportButton, exportJsonButton),
      progress,
      summary,
      h('div', { class: 'table-scroll' }, table),
      h('div', { class: 'bench-chart' }, canvas),
      h('details', {}, h('summary', {}, 'Log'), log),
    ),
  );
  return () => {
    stop?.abort();
    chart?.destroy();
  };
}
