// What the benchmarks run a workload on: this project's WebGPU and WebAssembly trainers,
// its float64 reference, a tight float64 loop (tight.ts) and TensorFlow.js (peers.ts).

import { GpuTrainer, type GpuTrainerOptions } from '../gpu/trainer.ts';
import type { Model } from '../model/network.ts';
import { CpuTrainer } from '../reference/trainer.ts';
import type { Trainer, TrainOptions } from '../model/trainer.ts';
import { defaultThreads } from '../wasm/threads.ts';
import { WasmTrainer } from '../wasm/trainer.ts';
import { TightLoop, tightLoopRuns } from './tight.ts';
import type { Workload } from './workloads.ts';
import { InputError } from '../errors.ts';

/** A trainer as a benchmark runs it: steps with their losses taken, as fit takes them. */
function run(trainer: Trainer) {
  return {
    async train(steps: number) {
      await trainer.train(steps);
      await trainer.takeLosses();
    },
    params: () => trainer.read('params'),
    dispose: () => trainer.dispose(),
  };
}

/** A workload set up on a backend: trained in timed runs, its parameters read between them. */
export interface BenchRun {
  /**
   * Runs `steps` steps and resolves once they are done: for a GPU backend, once the
   * steps' losses are read back (ours a chunk at a time, TensorFlow.js its last loss).
   */
  train(steps: number): Promise<void>;
  /** The parameters now, in this project's layout (P). */
  params(): Promise<Float64Array>;
  /** Dispatches and submits so far, where the backend counts them. */
  counts?(): { dispatches: number; submits: number };
  /** Frees what the run holds (GPU buffers, tensors); the run is unusable after. */
  dispose(): void;
}

/** Something the benchmarks time a workload on: it sets up a run per workload. */
export interface Backend {
  /** As the tables show it, e.g. `webgpu-backprop (WebGPU)`. */
  name: string;
  /** Where it runs: the adapter, or the CPU. */
  device: string;
  /** The float64 reference: the others are checked against it (its own runs too, trivially). */
  isReference?: boolean;
  /** Builds the workload's model and data here and returns a run ready to train (nothing timed yet). */
  start(workload: Workload): Promise<BenchRun>;
}

/** Throws unless the workload is a standard one (sigmoid layers, half-sse, SGD, rows in data order). */
export function standardSetting(model: Model, options: TrainOptions, who: string): void {
  if (!tightLoopRuns(model, options)) throw new InputError(who, 'runs the standard workloads only: sigmoid layers, half-sse, SGD, rows in data order');
}

/** The names this project's backends carry in the measurements (what the reports and the app look them up by). */
export const BACKEND_NAMES = { webgpu: 'webgpu-backprop (WebGPU)', wasm: 'webgpu-backprop (wasm)', reference: 'float64 reference (CPU)', tight: 'float64 tight loop (CPU)' } as const;

/** This project's trainer, training as `fit` does: nothing written but what the next kernels read. */
export function webgpuBackend(device: GPUDevice, adapter: string, gpu: GpuTrainerOptions = {}): Backend {
  return {
    name: BACKEND_NAMES.webgpu,
    device: adapter,
    async start(workload) {
      const { model, dataset, options } = workload.build();
      const trainer = await GpuTrainer.create(device, model, dataset, options, { capture: false, ...gpu });
      return { ...run(trainer), counts: () => ({ ...trainer.counts }) };
    },
  };
}

/** This project's WebAssembly trainer on `threads` threads (default: as many as it takes here), named with its thread count. */
export function wasmBackend(threads = defaultThreads()): Backend {
  const count = `${threads} thread${threads === 1 ? '' : 's'}`;
  return {
    name: `${BACKEND_NAMES.wasm} ${count}`,
    device: `WebAssembly SIMD, ${count}`,
    async start(workload) {
      const { model, dataset, options } = workload.build();
      const trainer = await WasmTrainer.create(model, dataset, options, { threads });
      return run(trainer);
    },
  };
}

/** The float64 reference (CpuTrainer), which the other backends are checked against. */
export function referenceBackend(): Backend {
  return {
    name: BACKEND_NAMES.reference,
    device: 'JavaScript, one thread',
    isReference: true,
    async start(workload) {
      const { model, dataset, options } = workload.build();
      const trainer = new CpuTrainer(model, dataset, options);
      return run(trainer);
    },
  };
}

/** The tight float64 loop (tight.ts): standard workloads only. */
export function tightLoopBackend(): Backend {
  return {
    name: BACKEND_NAMES.tight,
    device: 'JavaScript, one thread',
    async start(workload) {
      const { model, dataset, options } = workload.build();
      const loop = new TightLoop(model, dataset, options);
      return {
        async train(steps) {
          loop.train(steps);
          loop.takeLosses();
        },
        params: async () => loop.params.slice(),
        dispose: () => {},
      };
    },
  };
}
