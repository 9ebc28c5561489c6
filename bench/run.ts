// `npm run bench`: first the jobs (src/bench/jobs.ts) from create to trained on every
// backend and TensorFlow.js's model.fit, each run in a fresh process (bench/jobs-run.ts);
// then the workloads per step on this project's WebGPU and WebAssembly trainers, its
// float64 reference, a tight float64 loop and TensorFlow.js (WebGPU on Dawn, wasm),
// interleaved in one run; then the roofline of W2 and W3 on WebGPU. Prints the tables and
// writes them, with the raw figures, to bench/results/. `--gpu` is the run for a machine
// with a GPU: W3 and the sweep on WebGPU (and TensorFlow.js's WebGPU backend), W3's
// roofline, and the fraction of the adapter's FP32 peak.

import { Command, Option } from 'commander';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { namesFrom, positiveInteger, positiveNumber } from './flags.ts';
import { JOB_BACKENDS, runJob } from './job.ts';
import { jobsMarkdown, jobsSummary, measureJobs, type JobRow } from './jobs-run.ts';
import { nodeGpu } from 'webgpu-backprop/node';
import { adapterName, describeAdapter, openDevice, requestAdapter } from 'webgpu-backprop/trainers';
import {
  BACKEND_NAMES,
  breakEven,
  DEFAULT_SUITE_OPTIONS,
  knownAdapter,
  markdownTable,
  profileWorkload,
  QUICK_SUITE_OPTIONS,
  referenceBackend,
  rooflineMarkdown,
  runSuite,
  speedRatios,
  STANDARD_WORKLOADS,
  sweepWorkloads,
  tfjsBackend,
  tightLoopBackend,
  wasmBackend,
  webgpuBackend,
  type Backend,
  type BenchReport,
  type Roofline,
  type Workload,
  JOBS,
} from 'webgpu-backprop/bench';

// A job's run in a process of its own (bench/jobs-run.ts starts it): its result on stdout, nothing else.
const childJob = process.argv.indexOf('--child-job');
if (childJob >= 0) {
  const result = JSON.stringify(await runJob(process.argv[childJob + 1], process.argv[childJob + 2]));
  // Exit once the line is written (stdout is a pipe: exiting at once cuts a long line
  // short); until then, wait here rather than run the rest of this file.
  process.stdout.write(`${result}\n`, () => process.exit(0));
  await new Promise(() => {});
}

const BACKENDS = ['webgpu', 'wasm', 'wasm-1', 'cpu', 'tight', 'tfjs-webgpu', 'tfjs-wasm'];
const WORKLOADS = [...STANDARD_WORKLOADS.map((w) => w.name), 'sweep'];
const JOB_NAMES = JOBS.map((job) => job.name);
const DEFAULT_JOB_BACKENDS = ['auto', 'webgpu', 'wasm', 'cpu', 'tfjs-wasm'];

const program = new Command('bench')
  .addOption(new Option('--workloads <names>', `comma-separated: ${WORKLOADS.join(', ')} ('none' for none)`).argParser(namesFrom([...WORKLOADS, 'none'])).default(['W1', 'W2', 'W3', 'sweep'], 'W1,W2,W3,sweep'))
  .addOption(new Option('--backends <names>', `comma-separated: ${BACKENDS.join(', ')}`).argParser(namesFrom(BACKENDS)).default(BACKENDS, BACKENDS.join(',')))
  .addOption(new Option('--jobs <names>', `jobs timed from create to trained, comma-separated: ${JOB_NAMES.join(', ')} ('none' for none)`).argParser(namesFrom([...JOB_NAMES, 'none'])).default(JOB_NAMES, JOB_NAMES.join(',')))
  .addOption(new Option('--job-backends <names>', `comma-separated: ${JOB_BACKENDS.join(', ')}`).argParser(namesFrom(JOB_BACKENDS)).default(DEFAULT_JOB_BACKENDS, DEFAULT_JOB_BACKENDS.join(',')))
  .option('--job-reps <n>', 'runs of each job per backend, each in a fresh process', positiveInteger, 3)
  .option('--reps <n>', 'timed repetitions per backend', positiveInteger, DEFAULT_SUITE_OPTIONS.reps)
  .option('--rep-ms <ms>', 'a repetition runs at least this long', positiveNumber, DEFAULT_SUITE_OPTIONS.repMs)
  .addOption(new Option('--roofline <names>', "workloads to profile kernel by kernel ('none' for none)").argParser(namesFrom([...WORKLOADS, 'none'])).default(['W2', 'W3'], 'W2,W3'))
  .option('--quick', 'three repetitions of a quarter second: a glance, not figures to quote')
  .option('--gpu', 'the run for a machine with a GPU: W3 and the sweep on WebGPU and TensorFlow.js WebGPU, W3 roofline, fraction of FP32 peak')
  .option('--peak-tflops <tflops>', "the adapter's FP32 peak, where the table of known adapters does not have it", positiveNumber)
  .option('--units <n>', "the adapter's compute units, where the table of known adapters does not have them", positiveInteger)
  .option('--out-dir <dir>', 'where to write the results', 'bench/results')
  .parse();
const flags = program.opts<{
  jobs: string[];
  jobBackends: string[];
  jobReps: number;
  workloads: string[];
  backends: string[];
  reps: number;
  repMs: number;
  roofline: string[];
  quick?: boolean;
  gpu?: boolean;
  peakTflops?: number;
  units?: number;
  outDir: string;
}>();

function packageVersion(name: string): string {
  try {
    return JSON.parse(readFileSync(join('node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return 'not installed';
  }
}

function workloadsNamed(names: string[]): Workload[] {
  return names.filter((name) => name !== 'none').flatMap((name) => (name === 'sweep' ? sweepWorkloads() : STANDARD_WORKLOADS.filter((w) => w.name === name)));
}

const log = (line: string) => console.error(line);
const loadBefore = loadavg();
// The jobs first, before this process opens a device of its own.
const jobNames = flags.gpu ? [] : flags.jobs.filter((name) => name !== 'none');
const jobs: JobRow[] = jobNames.length ? await measureJobs(jobNames, flags.jobBackends, flags.jobReps, log) : [];

const workloads = workloadsNamed(flags.gpu ? ['W3', 'sweep'] : flags.workloads);
const wanted = flags.gpu ? ['webgpu', 'tfjs-webgpu'] : flags.backends;
const rooflineWorkloads = workloadsNamed(flags.gpu ? ['W3'] : flags.roofline);

// TensorFlow.js's WebGPU backend looks for navigator.gpu, and the tile choice reads the CPU's threads from navigator.
Object.defineProperty(globalThis, 'navigator', { value: { gpu: await nodeGpu(), hardwareConcurrency: cpus().length }, configurable: true });
const adapter = await requestAdapter();
const device = await openDevice(adapter);
const adapterText = adapterName(adapter);
const known = knownAdapter(adapter.info);
const peakTflops = flags.peakTflops ?? known?.peakTflops;
const gpuOptions = flags.units ? { profile: { units: flags.units } } : {};
if (flags.gpu && describeAdapter(adapter).isFallbackAdapter) console.error(`bench: --gpu on a software adapter (${adapterText}): its figures say nothing about a GPU`);

const backends: Backend[] = [];
if (wanted.includes('webgpu')) backends.push(webgpuBackend(device, adapterText, gpuOptions));
if (wanted.includes('wasm')) backends.push(wasmBackend(cpus().length));
if (wanted.includes('wasm-1')) backends.push(wasmBackend(1));
if (wanted.includes('cpu')) backends.push(referenceBackend());
if (wanted.includes('tight')) backends.push(tightLoopBackend());
if (wanted.some((name) => name.startsWith('tfjs-'))) {
  try {
    const tf = await import('@tensorflow/tfjs');
    if (wanted.includes('tfjs-webgpu')) {
      await import('@tensorflow/tfjs-backend-webgpu');
      backends.push(tfjsBackend(tf, 'webgpu', adapterText));
    }
    if (wanted.includes('tfjs-wasm')) {
      await import('@tensorflow/tfjs-backend-wasm');
      backends.push(tfjsBackend(tf, 'wasm', 'WebAssembly, one thread'));
    }
  } catch (error) {
    console.error(`bench: TensorFlow.js not measured: ${(error as Error).message}`);
  }
}

const measurements = await runSuite(workloads, backends, {
  ...(flags.quick ? QUICK_SUITE_OPTIONS : { reps: flags.reps, repMs: flags.repMs }),
  log,
});
const rooflines: Roofline[] = [];
for (const workload of rooflineWorkloads) {
  log(`profiling ${workload.name} kernel by kernel`);
  rooflines.push(await profileWorkload(device, workload, { steps: 3, gpu: gpuOptions }));
}
const loadAfter = loadavg();

const report: BenchReport = {
  date: new Date().toISOString(),
  environment: {
    adapter: adapterText,
    ...(peakTflops ? { 'FP32 peak': `${peakTflops} TFLOP/s${flags.peakTflops ? ' (--peak-tflops)' : ` (${known?.name})`}` } : {}),
    features: [...device.features].sort().join(', '),
    cpu: `${cpus()[0]?.model ?? 'unknown'} × ${cpus().length}`,
    'load average (1 min) before and after': `${loadBefore[0].toFixed(2)}, ${loadAfter[0].toFixed(2)}`,
    node: process.version,
    webgpu: `webgpu (Dawn) ${packageVersion('webgpu')}`,
    tfjs: packageVersion('@tensorflow/tfjs'),
  },
  measurements,
  rooflines,
  peakTflops,
};

const ours = BACKEND_NAMES.webgpu;
const wasmThreads = `${BACKEND_NAMES.wasm} ${cpus().length} thread`;
const wasmOne = `${BACKEND_NAMES.wasm} 1 thread`;
const tfjsWasm = measurements.find((m) => m.backend.startsWith('TensorFlow.js') && m.backend.endsWith('(wasm)'))?.backend;
const tfjsWebgpu = measurements.find((m) => m.backend.startsWith('TensorFlow.js') && m.backend.endsWith('(webgpu)'))?.backend;
const summary = [
  ...jobsSummary(jobs),
  ...(tfjsWasm ? speedRatios(measurements, wasmOne, tfjsWasm).map((r) => `${r.workload}: webgpu-backprop wasm, one thread, ${r.ratio.toFixed(2)}× the speed of TensorFlow.js wasm (one thread)`) : []),
  ...(cpus().length > 1 ? speedRatios(measurements, wasmThreads, wasmOne).map((r) => `${r.workload}: webgpu-backprop wasm, ${cpus().length} threads, ${r.ratio.toFixed(2)}× its own speed on one`) : []),
  ...speedRatios(measurements, wasmOne, BACKEND_NAMES.tight).map((r) => `${r.workload}: webgpu-backprop wasm, one thread, ${r.ratio.toFixed(2)}× the speed of the float64 tight loop`),
  ...(tfjsWebgpu ? speedRatios(measurements, ours, tfjsWebgpu).map((r) => `${r.workload}: webgpu-backprop ${r.ratio.toFixed(2)}× the samples/s of TensorFlow.js WebGPU`) : []),
  ...speedRatios(measurements, ours, BACKEND_NAMES.reference).map((r) => `${r.workload}: webgpu-backprop ${r.ratio.toFixed(2)}× the speed of the float64 reference`),
  ...speedRatios(measurements, ours, BACKEND_NAMES.tight).map((r) => `${r.workload}: webgpu-backprop ${r.ratio.toFixed(2)}× the speed of the float64 tight loop`),
  ...breakEven(measurements, ours),
];
if (peakTflops) {
  for (const m of measurements.filter((m) => m.backend.startsWith(ours) && Number.isFinite(m.gflops))) {
    summary.push(`${m.workload}: webgpu-backprop ${m.gflops.toPrecision(3)} GFLOP/s, ${((100 * m.gflops) / (1000 * peakTflops)).toPrecision(3)}% of the FP32 peak`);
  }
}
const text = [...(jobs.length ? [jobsMarkdown(jobs, flags.jobReps)] : []), markdownTable(report), summary.join('\n'), ...rooflines.map((roofline) => rooflineMarkdown(roofline, peakTflops))].join('\n\n');
console.log(text);

mkdirSync(flags.outDir, { recursive: true });
const kind = flags.gpu ? 'gpu' : describeAdapter(adapter).isFallbackAdapter ? 'swiftshader' : 'webgpu';
const stem = join(flags.outDir, `${report.date.slice(0, 19).replace(/[:T]/g, '-')}-${kind}${flags.quick ? '-quick' : ''}`);
for (const [path, content] of [
  [`${stem}.json`, JSON.stringify({ ...report, jobs }, null, 2)],
  [`${stem}.md`, `${text}\n`],
]) {
  writeFileSync(`${path}.tmp`, content);
  renameSync(`${path}.tmp`, path);
}
console.error(`wrote ${stem}.json and ${stem}.md`);
// A figure whose run disagreed with the reference, or a backend that failed, fails the command.
const failed = measurements.filter((m) => m.check === 'failed');
for (const m of failed) console.error(`bench: ${m.workload} on ${m.backend}: ${m.error ?? m.checkMessage}`);
const failedJobs = jobs.filter((row) => row.check === 'failed');
for (const row of failedJobs) console.error(`bench: ${row.job} on ${row.backend}: ${row.error ?? row.checkMessage}`);
process.exit(failed.length + failedJobs.length > 0 ? 1 : 0);
