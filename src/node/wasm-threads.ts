// The WebAssembly backend's threads in Node: worker_threads, each sent the module and the
// shared memory (src/wasm/threads.ts says what a worker does).

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { WorkerStarter } from '../wasm/threads.ts';

/** The cores Node may use. */
export const nodeCores = availableParallelism();

/** Starts a worker thread on the worker's script; resolves once it is ready. */
export const nodeWorkers: WorkerStarter = (source, start) =>
  new Promise((resolve, reject) => {
    const worker = new Worker(source.node, { eval: true });
    worker.once('message', () => resolve({ unref: () => worker.unref() }));
    worker.once('error', reject);
    worker.postMessage(start);
  });
