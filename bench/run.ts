// `npm run bench`: the workloads on this project's WebGPU trainer, its float64 reference
// and TensorFlow.js (WebGPU on Dawn, wasm), in one run. Prints a table and writes it,
// with the raw figures, to bench/results/.

import { Command, Option } from 'commander';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import {
  adapterName,
  DEFAULT_SUITE_OPTIONS,
  markdownTable,
  nodeGpu,
  openDevice,
  referenceBackend,
  requestAdapter,
  runSuite,
  speedRatios,
  STANDARD_WORKLOADS,
  sweepWorkloads,
  tfjsBackend,
  webgpuBackend,
  type Backend,
  type BenchReport,
  type Workload,
} from 'webgpu-backprop/node';

const BACKENDS = ['webgpu', 'cpu', 'tfjs-webgpu', 'tfjs-wasm'];

const program = new Command('bench')
  .addOption(new Option('--workloads <names>', 'comma-separated: W1, W2, W3, sweep').default('W1,W2,W3,sweep'))
  .addOption(new Option('--backends <names>', `comma-separated: ${BACKENDS.join(', ')}`).default(BACKENDS.join(',')))
  .option('--quick', 'a tenth of each workload\'s steps, and at most 5 s per measurement')
  .option('--out-dir <dir>', 'where to write the results', 'bench/results')
  .parse();
const flags = program.opts<{ workloads: string; backends: string; quick?: boolean; outDir: string }>();

function packageVersion(name: string): string {
  try {
    return JSON.parse(readFileSync(join('node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return 'not installed';
  }
}

const workloads: Workload[] = flags.workloads.split(',').flatMap((name) => {
  if (name === 'sweep') return sweepWorkloads();
  const workload = STANDARD_WORKLOADS.find((w) => w.name === name);
  if (!workload) throw new Error(`no workload ${name}`);
  return [workload];
});

const adapter = await requestAdapter();
const device = await openDevice(adapter);
const adapterText = adapterName(adapter);
const backends: Backend[] = [];
const wanted = flags.backends.split(',');
if (wanted.includes('webgpu')) backends.push(webgpuBackend(device, adapterText));
if (wanted.includes('cpu')) backends.push(referenceBackend());
if (wanted.some((name) => name.startsWith('tfjs-'))) {
  // TensorFlow.js's WebGPU backend looks for navigator.gpu: give it Dawn's.
  Object.defineProperty(globalThis, 'navigator', { value: { gpu: await nodeGpu() }, configurable: true });
  const tf = await import('@tensorflow/tfjs');
  if (wanted.includes('tfjs-webgpu')) {
    await import('@tensorflow/tfjs-backend-webgpu');
    backends.push(tfjsBackend(tf, 'webgpu', adapterText));
  }
  if (wanted.includes('tfjs-wasm')) {
    await import('@tensorflow/tfjs-backend-wasm');
    backends.push(tfjsBackend(tf, 'wasm', 'WebAssembly, one thread'));
  }
}

const options = { ...DEFAULT_SUITE_OPTIONS, log: (line: string) => console.error(line) };
if (flags.quick) Object.assign(options, { stepScale: 0.1, timeBudgetMs: 5_000 });
const measurements = await runSuite(workloads, backends, options);

const report: BenchReport = {
  date: new Date().toISOString(),
  environment: {
    adapter: adapterText,
    cpu: `${cpus()[0]?.model ?? 'unknown'} × ${cpus().length}`,
    node: process.version,
    webgpu: `webgpu (Dawn) ${packageVersion('webgpu')}`,
    tfjs: packageVersion('@tensorflow/tfjs'),
  },
  measurements,
};
const table = markdownTable(report);
const summary = [
  ...speedRatios(measurements, 'webgpu-backprop', 'TensorFlow.js 4.22.0 (webgpu)').map((r) => `${r.workload}: webgpu-backprop ${r.ratio.toFixed(2)}× the samples/s of TensorFlow.js WebGPU`),
  ...speedRatios(measurements, 'webgpu-backprop', 'float64 reference').map((r) => `${r.workload}: webgpu-backprop ${r.ratio.toFixed(2)}× the speed of the float64 reference`),
];
console.log(`${table}\n\n${summary.join('\n')}`);

mkdirSync(flags.outDir, { recursive: true });
const stem = join(flags.outDir, report.date.slice(0, 19).replace(/[:T]/g, '-'));
for (const [path, text] of [
  [`${stem}.json`, JSON.stringify(report, null, 2)],
  [`${stem}.md`, `${table}\n\n${summary.join('\n')}\n`],
]) {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}
console.error(`wrote ${stem}.json and ${stem}.md`);
process.exit(0);
