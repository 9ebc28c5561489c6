// The WebAssembly backend's runtime: the module (built from src/wasm/assembly/ and
// embedded at build time, scripts/vite-wasm.ts), one memory, the instance that runs the
// steps, and the worker threads that share its products. One runtime per thread count,
// made at first use and kept: every network of that count allocates its buffers in its
// memory (first fit, 64-byte aligned), so a second network compiles nothing and starts
// no thread.

import { LimitError } from '../errors.ts';
import { MAXIMUM_PAGES as maximumPages } from './pages.ts';
import { WORKER_SOURCE, workerStarter } from './threads.ts';

/** What the module exports (src/wasm/assembly/index.ts). */
export interface WasmExports {
  task_bytes(): number;
  pool_bytes(): number;
  pack_floats(): number;
  net_bytes(layers: number): number;
  set_pool(address: number, threads: number, pack: number, mayBlock: number): void;
  pool_failed_offset(): number;
  pool_done_offset(): number;
  set_net(...fields: number[]): void;
  set_layer(address: number, l: number, units: number, inputs: number, activation: number, parameter: number, ...fields: number[]): void;
  train_steps(net: number, steps: number, rows: number, rates: number, losses: number, first: number): void;
  forward_rows(net: number, input: number, count: number): void;
  output_rows(net: number, target: number, count: number): number;
  activate_rows(code: number, net: number, out: number, count: number, parameter: number): number;
  derivative_rows(code: number, net: number, out: number, delta: number, count: number, parameter: number): number;
  dropped_derivative_rows(code: number, net: number, mask: number, delta: number, count: number, parameter: number): number;
  dropout_draw(c0: number, c1: number, c2: number, c3: number, k0: number, k1: number, out: number): void;
  activate_row(code: number, net: number, out: number, count: number): number;
  has_activation(code: number): number;
  is_row_activation(code: number): number;
  loss_body(code: number): number;
  loss_term(code: number, out: number, t: number, outputs: number): number;
  loss_gradient(code: number, out: number, t: number, outputs: number): number;
  logits_softmax_loss(code: number, net: number, t: number, logSumExp: number): number;
  logits_sigmoid_loss(code: number, net: number, t: number): number;
  logits_delta(code: number, out: number, t: number, targetSum: number): number;
  optimizer_update(code: number, params: number, grads: number, s0: number, s1: number, count: number, constants: number, step: number, scale: number): number;
  has_optimizer(code: number): number;
}

/** The host's ops on one network's buffers, for the ops without a body (hooks.ts). */
export interface HostOps {
  activate(layer: number, count: number): void;
  derivative(layer: number, count: number): void;
  output(target: number, count: number): void;
  /** The optimizer's step t (1-based), at this learning rate, its gradient times clipping's factor. */
  update(step: number, learningRate: number, gradScale: number): void;
}

const PAGE = 65536;
/** Below this, the module's own data (its exp and log tables). */
const HEAP_BASE = PAGE;
const ALIGN = 64;

function bytesOf(base64: string): Uint8Array {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let k = 0; k < text.length; k++) bytes[k] = text.charCodeAt(k);
  return bytes;
}

const modules = new Map<boolean, Promise<WebAssembly.Module>>();

/** The module, compiled once per build (with threads or without); a page loads only the build it runs. */
function compiled(shared: boolean): Promise<WebAssembly.Module> {
  let module = modules.get(shared);
  if (!module) {
    const text = shared ? import('virtual:webgpu-backprop-wasm/threaded') : import('virtual:webgpu-backprop-wasm/single');
    module = text.then(({ default: base64 }) => WebAssembly.compile(bytesOf(base64) as Uint8Array<ArrayBuffer>));
    modules.set(shared, module);
  }
  return module;
}

export class WasmRuntime {
  readonly exports: WasmExports;
  /** Floats of packing space one thread takes. */
  private readonly free: { at: number; bytes: number }[] = [];
  private top = HEAP_BASE;
  private readonly hosts = new Map<number, HostOps>();
  private nextHandle = 1;
  private views?: { buffer: ArrayBufferLike; f32: Float32Array; f64: Float64Array; u32: Uint32Array };
  /** The pool's control block. */
  readonly pool: number;

  private constructor(
    readonly memory: WebAssembly.Memory,
    instance: WebAssembly.Instance,
    /** Threads that share each large product, this one included. */
    readonly threads: number,
  ) {
    this.exports = instance.exports as unknown as WasmExports;
    this.pool = this.allocateZeroed(this.exports.pool_bytes());
    const pack = this.allocate(threads * this.exports.pack_floats() * 4);
    // A browser's main thread may not block; Node's and a worker's may.
    const mayBlock = typeof window === 'undefined' ? 1 : 0;
    this.exports.set_pool(this.pool, threads, pack, mayBlock);
  }

  /** A runtime with `threads` threads (1: the build without threads, on memory of its own). */
  static async create(threads: number): Promise<WasmRuntime> {
    const start = workerStarter();
    const shared = threads > 1 && start !== undefined;
    const module = await compiled(shared);
    const memory = new WebAssembly.Memory({ initial: 2, maximum: maximumPages, shared });
    let runtime: WasmRuntime | undefined;
    const host = (pick: (ops: HostOps) => (...args: number[]) => void) => (handle: number, ...args: number[]) => pick(runtime!.hosts.get(handle)!)(...args);
    const imports = {
      env: { memory },
      host: {
        activate: host((ops) => ops.activate.bind(ops)),
        derivative: host((ops) => ops.derivative.bind(ops)),
        output: host((ops) => ops.output.bind(ops)),
        update: host((ops) => ops.update.bind(ops)),
      },
    };
    const instance = await WebAssembly.instantiate(module, imports);
    runtime = new WasmRuntime(memory, instance, shared ? threads : 1);
    if (shared) {
      const exports = runtime.exports;
      const workers = await Promise.all(Array.from({ length: threads - 1 }, (_, k) => start!(WORKER_SOURCE, { module, memory, pool: runtime!.pool, thread: k + 1, failed: exports.pool_failed_offset(), done: exports.pool_done_offset() })));
      for (const worker of workers) worker.unref?.();
    }
    return runtime;
  }

  /** `bytes` of memory, 64-byte aligned, not zeroed; LimitError past the memory's maximum. */
  allocate(bytes: number): number {
    const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    const fit = this.free.findIndex((block) => block.bytes >= size);
    if (fit >= 0) {
      const block = this.free[fit];
      const at = block.at;
      if (block.bytes === size) this.free.splice(fit, 1);
      else Object.assign(block, { at: at + size, bytes: block.bytes - size });
      return at;
    }
    const at = this.top;
    const end = at + size;
    const pages = Math.ceil(end / PAGE) - this.memory.buffer.byteLength / PAGE;
    if (pages > 0) {
      const total = this.memory.buffer.byteLength / PAGE + pages;
      if (total > maximumPages) throw new LimitError('the WebAssembly backend', `needs ${Math.ceil(end / 2 ** 20)} MiB; its memory holds at most ${(maximumPages * PAGE) / 2 ** 20} MiB`, 'a smaller dataset or network');
      this.memory.grow(pages);
    }
    this.top = end;
    return at;
  }

  /** `bytes` of memory, zeroed. */
  allocateZeroed(bytes: number): number {
    const at = this.allocate(bytes);
    new Uint8Array(this.memory.buffer, at, bytes).fill(0);
    return at;
  }

  /** Gives back what `allocate` gave (`bytes` as asked). */
  release(at: number, bytes: number): void {
    const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    this.free.push({ at, bytes: size });
    this.free.sort((a, b) => a.at - b.at);
    // Neighbours merge, and a block at the top goes back to it.
    for (let k = this.free.length - 1; k > 0; k--) {
      const [before, after] = [this.free[k - 1], this.free[k]];
      if (before.at + before.bytes === after.at) {
        before.bytes += after.bytes;
        this.free.splice(k, 1);
      }
    }
    const last = this.free[this.free.length - 1];
    if (last && last.at + last.bytes === this.top) {
      this.top = last.at;
      this.free.pop();
    }
  }

  /** Views of the memory as it is now (a growth replaces its buffer). */
  private current() {
    const buffer = this.memory.buffer;
    if (this.views?.buffer !== buffer) this.views = { buffer, f32: new Float32Array(buffer), f64: new Float64Array(buffer), u32: new Uint32Array(buffer) };
    return this.views;
  }

  /** `length` floats at `at`. */
  f32(at: number, length: number): Float32Array {
    return this.current().f32.subarray(at / 4, at / 4 + length);
  }

  f64(at: number, length: number): Float64Array {
    return this.current().f64.subarray(at / 8, at / 8 + length);
  }

  u32(at: number, length: number): Uint32Array {
    return this.current().u32.subarray(at / 4, at / 4 + length);
  }

  /** Registers a network's host ops; the handle the module calls them by. */
  register(ops: HostOps): number {
    const handle = this.nextHandle++;
    this.hosts.set(handle, ops);
    return handle;
  }

  unregister(handle: number): void {
    this.hosts.delete(handle);
  }
}

const runtimes = new Map<number, Promise<WasmRuntime>>();

/** The runtime with `threads` threads, made at first use. */
export function wasmRuntime(threads: number): Promise<WasmRuntime> {
  let runtime = runtimes.get(threads);
  if (!runtime) {
    runtime = WasmRuntime.create(threads);
    runtime.catch(() => runtimes.delete(threads));
    runtimes.set(threads, runtime);
  }
  return runtime;
}
