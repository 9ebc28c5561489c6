// One job on one backend in this fresh process, as a new user runs it (src/bench/jobs.ts):
// the clock starts at `Network.create` (TensorFlow.js: at choosing its backend) and stops
// when `fit` (`model.fit`) resolves; the first step's end is taken from its batch
// callback. The library and TensorFlow.js are imported before the clock; everything
// after is in it: loading Dawn's bindings where the library first asks for WebGPU, the
// WebAssembly module's compiling, the device, the pipelines'.
// Prints one line of JSON: the times, each compile, and the trained parameters in this
// project's layout (bench/run.ts checks them against the reference).
// bench/run.ts runs it in a child process of its own: `run.ts --child-job J1 wasm`.

import { jobData, jobFitOptions, JOBS } from 'webgpu-backprop/bench';
import { Network, nodeGpu } from 'webgpu-backprop/node';
import { CompileTimes } from './compile-times.ts';
import { tfjsFit } from './tfjs-fit.ts';

/** The backends a job runs on. */
export const JOB_BACKENDS = ['auto', 'webgpu', 'wasm', 'cpu', 'tfjs-wasm', 'tfjs-webgpu'];

/** What a job's run prints: its times, its compiles, its trained parameters. */
export interface JobResult {
  job: string;
  backend: string;
  /** The backend the network chose, and why (our backends). */
  reason: string;
  firstStepMs: number;
  trainedMs: number;
  steps: number;
  compiles: { label: string; ms: number }[];
  params: number[];
}

export async function runJob(jobName: string, backend: string): Promise<JobResult> {
  const job = JOBS.find((j) => j.name === jobName);
  if (!job || !JOB_BACKENDS.includes(backend)) throw new Error(`no job ${jobName} on ${backend}`);

  let clock = 0;
  const now = () => performance.now() - clock;
  const compiles = new CompileTimes(now);
  compiles.timePipelines();
  compiles.time(WebAssembly, 'compile', () => 'WebAssembly module');
  compiles.time(WebAssembly, 'instantiate', ([source]) => (source instanceof WebAssembly.Module ? 'WebAssembly instance' : 'WebAssembly module'));

  const { inputs, targets } = jobData(job);
  const tfjs = backend.startsWith('tfjs-') ? await import('@tensorflow/tfjs') : undefined;
  if (backend === 'tfjs-wasm') await import('@tensorflow/tfjs-backend-wasm');
  if (backend === 'tfjs-webgpu') {
    Object.defineProperty(globalThis, 'navigator', { value: { gpu: await nodeGpu() }, configurable: true });
    await import('@tensorflow/tfjs-backend-webgpu');
  }

  let firstStep = NaN;
  let params: Float64Array;
  let reason = '';
  let steps = 0;
  clock = performance.now();
  if (tfjs) {
    ({ params, steps } = await tfjsFit(tfjs, backend.slice('tfjs-'.length), job, inputs, targets, () => (firstStep = Number.isNaN(firstStep) ? now() : firstStep)));
  } else {
    const network = await Network.create(job.description, backend === 'auto' ? {} : { backend: backend as 'webgpu' | 'wasm' | 'cpu' });
    reason = `${network.backend}: ${network.backendReason}`;
    const history = await network.fit(inputs, targets, { ...jobFitOptions(job), callbacks: { onBatchEnd: () => void (firstStep = Number.isNaN(firstStep) ? now() : firstStep) } });
    steps = history.steps;
    params = network.params();
    network.dispose();
  }
  const trained = now();

  return { job: job.name, backend, reason, firstStepMs: firstStep, trainedMs: trained, steps, compiles: compiles.ownTimes(0), params: Array.from(params) };
}
