// The WebAssembly backend's worker threads: each runs the module's `worker_loop` on the
// one shared memory and takes its share of every large product and element-wise step.
// In Node they are worker_threads (src/node/wasm-threads.ts provides them); in a
// browser, Web Workers, where the page is cross-origin isolated (a shared memory needs
// SharedArrayBuffer).
// A worker's script is a few lines, kept here as text so that no bundler or server has to
// find a file for it.

import { BackpropError } from '../errors.ts';

/** Starts a worker running `source`; resolves once it has posted its first message. */
export type WorkerStarter = (source: WorkerSource, start: WorkerStart) => Promise<StartedWorker>;

/** What a worker is sent: the module, the memory, the pool's control block, and its thread number. */
export interface WorkerStart {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  pool: number;
  thread: number;
  /** Where in the pool's block a failure is marked, and the shares done are counted. */
  failed: number;
  done: number;
}

export interface StartedWorker {
  /** Lets the process (Node) exit while the worker waits for work. */
  unref?(): void;
}

/** The worker's script, in the form each environment runs. */
export interface WorkerSource {
  /** A classic Web Worker script. */
  browser: string;
  /** A Node worker_threads script (CommonJS, run with `eval`). */
  node: string;
}

/**
 * What the worker does once it has its start: instantiate, say so, and serve tasks
 * until stopped; if its share throws, it marks the failure and counts itself done, so
 * that the posting thread traps instead of waiting for ever.
 */
const BODY = `
  const fail = () => { throw new WebAssembly.RuntimeError('the host\\'s ops run on the posting thread only'); };
  const imports = { env: { memory: start.memory }, host: { activate: fail, derivative: fail, output: fail, update: fail } };
  const instance = new WebAssembly.Instance(start.module, imports);
  post('ready');
  try {
    instance.exports.worker_loop(start.pool, start.thread);
  } catch (error) {
    const words = new Int32Array(start.memory.buffer);
    Atomics.store(words, (start.pool + start.failed) >> 2, 1);
    Atomics.add(words, (start.pool + start.done) >> 2, 1);
    Atomics.notify(words, (start.pool + start.done) >> 2);
    throw error;
  }`;

export const WORKER_SOURCE: WorkerSource = {
  browser: `self.onmessage = ({ data: start }) => { const post = (m) => self.postMessage(m); ${BODY} };`,
  node: `const { parentPort } = require('node:worker_threads'); parentPort.once('message', (start) => { const post = (m) => parentPort.postMessage(m); ${BODY} });`,
};

/** Web Workers from a blob URL: what a cross-origin-isolated page uses. */
const browserWorkers: WorkerStarter = (source, start) =>
  new Promise((resolve, reject) => {
    const url = URL.createObjectURL(new Blob([source.browser], { type: 'text/javascript' }));
    const worker = new Worker(url);
    worker.onmessage = () => {
      URL.revokeObjectURL(url);
      resolve({});
    };
    worker.onerror = (event) => reject(new BackpropError(`a WebAssembly worker could not start: ${event.message}`));
    worker.postMessage(start);
  });

let starter: WorkerStarter | undefined;
let starterCores = 1;

/** Sets how workers start, and the cores there are (src/node.ts: worker_threads). */
export function setWorkerStarter(start: WorkerStarter, cores: number): void {
  starter = start;
  starterCores = cores;
}

/** How workers start here, or undefined where there can be none (no shared memory, or no workers). */
export function workerStarter(): WorkerStarter | undefined {
  if (starter) return starter;
  const isolated = typeof globalThis.crossOriginIsolated === 'boolean' && globalThis.crossOriginIsolated;
  if (isolated && typeof Worker !== 'undefined' && typeof SharedArrayBuffer !== 'undefined') return browserWorkers;
  return undefined;
}

/** Threads the backend uses by default: the CPU's, where workers can run (at most 8), else 1. */
export function defaultThreads(): number {
  if (!workerStarter()) return 1;
  const cores = starter ? starterCores : typeof navigator !== 'undefined' && navigator.hardwareConcurrency ? navigator.hardwareConcurrency : 1;
  return Math.max(1, Math.min(8, cores));
}
