// What the benchmarks run a workload on: this project's WebGPU trainer, its float64
// reference, and (bench/tfjs.ts) TensorFlow.js.

import type { Checkable } from '../check/crosscheck.ts';
import { GpuTrainer } from '../gpu/trainer.ts';
import { CpuTrainer } from '../reference/trainer.ts';
import type { Workload } from './workloads.ts';

/** A workload set up on a backend, ready to train and to be checked. */
export interface BenchRun extends Checkable {
  /** Dispatches and submits so far, where the backend counts them. */
  counts?(): { dispatches: number; submits: number };
  dispose(): void;
}

export interface Backend {
  name: string;
  /** Where it runs: the adapter, or the CPU. */
  device: string;
  /** The float64 reference: what the others are checked against, never checked itself. */
  isReference?: boolean;
  /** Buffers it can be checked on (default: all of them). */
  checkable?: 'params';
  start(workload: Workload): Promise<BenchRun>;
}

export function webgpuBackend(device: GPUDevice, adapter: string): Backend {
  return {
    name: 'webgpu-backprop (WebGPU)',
    device: adapter,
    async start(workload) {
      const { model, dataset, options } = workload.build();
      const trainer = await GpuTrainer.create(device, model, dataset, options);
      return {
        train: (steps) => trainer.train(steps),
        read: (name) => trainer.read(name),
        takeLosses: () => trainer.takeLosses(),
        counts: () => ({ ...trainer.counts }),
        dispose: () => trainer.dispose(),
      };
    },
  };
}

export function referenceBackend(): Backend {
  return {
    name: 'float64 reference (CPU)',
    device: 'JavaScript, one thread',
    isReference: true,
    async start(workload) {
      const { model, dataset, options } = workload.build();
      const trainer = new CpuTrainer(model, dataset, options);
      return {
        train: (steps) => trainer.train(steps),
        read: (name) => trainer.read(name),
        takeLosses: () => trainer.takeLosses(),
        dispose: () => trainer.dispose(),
      };
    },
  };
}
