// The playground's training runs: `fit` in the session's worker, step by step counted as
// the worker reports them (so the figures are of the steps that ran, Pause or not), the
// batch losses a point a chunk on the curve (a diverging run's included, up to its first
// non-finite loss), and measurements while the run goes (predict and evaluate in the
// worker, between its chunks).

import type { FitOptions } from 'webgpu-backprop';
import type { WorkerNetwork, WorkerRows } from 'webgpu-backprop/worker';
import { onRows } from './failures.ts';

/** Steps one `fit` may run; the session starts another where it ends. */
export const STEPS_PER_FIT = 1_000_000;

/** What a run reports as it goes. */
export interface RunListener {
  /** A step ran, with its batch loss. */
  step(step: number, loss: number): void;
  /** The steps of a chunk have all been reported. */
  chunk(): void;
}

/**
 * One `fit` of `network` on the training rows, reporting each step; measurements run
 * meanwhile (`measure`, every `every()` ms once the first chunk is in), and the last one
 * has ended before this resolves.
 */
export async function fitAndMeasure(
  network: WorkerNetwork,
  rows: { inputs: WorkerRows; targets: WorkerRows },
  options: FitOptions,
  listener: RunListener,
  measure?: { every: () => number; run: () => Promise<void> },
): Promise<void> {
  let running = true;
  let started: () => void = () => {};
  const firstChunk = new Promise<void>((resolve) => (started = resolve));
  let chunkOpen = false;
  const fitting = onRows('all', network.fit(rows.inputs, rows.targets, {
      ...options,
      callbacks: {
        onBatchEnd: (_, logs) => {
          listener.step(logs.step + 1, logs.loss);
          if (chunkOpen) return;
          // A chunk's steps come in one message, called back one after another: the chunk ends with them.
          chunkOpen = true;
          queueMicrotask(() => {
            chunkOpen = false;
            listener.chunk();
            started();
          });
        },
      },
    }))
    .finally(() => {
      running = false;
      started();
    });
  const measuring = (async () => {
    if (!measure) return;
    // Only once the worker trains: the trainer it makes at a fit's start replaces the one a measurement would use.
    await firstChunk;
    while (running) {
      await Promise.race([fitting.catch(() => {}), new Promise((resolve) => setTimeout(resolve, measure.every()))]);
      if (running) await measure.run();
    }
  })();
  try {
    await fitting;
  } finally {
    await measuring.catch(() => {});
  }
}
