// Threads: the products of a step, and its large element-wise work, shared among the
// threads of one shared memory. The host (src/wasm/threads.ts) starts each worker on
// `worker_loop`; the thread that runs the step posts a task, does its own share, and
// waits for the others' shares: spinning a while, then blocked where it may block (not a
// browser's main thread). A worker spins a while too before it blocks, for the next
// task of the step. A worker that fails says so (its script sets `failed`), and the step
// traps rather than wait for it. Built without threads, a task runs whole.

import { Product, productPart, shareable, PACK_FLOATS } from './gemm';
import { Elementwise, elementwisePart, SHARED_ELEMENTS } from './elementwise';

/** What a task is: a Product, or an Elementwise. */
const PRODUCT = 0;
const ELEMENTWISE = 1;

/** The pool's control block, in shared memory. */
@unmanaged
export class Pool {
  /** Bumped for every task posted: the workers wait on it. */
  generation: i32;
  /** Shares finished of the current task (the posting thread's not counted). */
  done: i32;
  /** Set to make the workers return. */
  stop: i32;
  /** Set by a worker's script when its share threw: the posting thread traps. */
  failed: i32;
  /** Whether the posting thread may block (atomic.wait) once it has spun a while. */
  mayBlock: i32;
  /** Threads that share every task, the posting thread included: set once by the host. */
  threads: i32;
  /** The current task, and what it is (PRODUCT, ELEMENTWISE). */
  task: usize;
  kind: i32;
  /** The first thread's packing space; thread t's is PACK_FLOATS floats further per t. */
  pack: usize;
}

/** Bytes of the pool's control block. */
export function pool_bytes(): i32 {
  return offsetof<Pool>();
}

/** Floats of packing space each thread takes. */
export function pack_floats(): i32 {
  return PACK_FLOATS;
}

/** Loads of a counter a thread spins through before it blocks (about a few tens of microseconds). */
const SPINS = 1 << 14;

/** Where a worker's script marks its failure, and how many shares are done (it counts its own as done, so that no one waits for it). */
export function pool_failed_offset(): i32 {
  return offsetof<Pool>('failed');
}

export function pool_done_offset(): i32 {
  return offsetof<Pool>('done');
}

function packOf(pool: Pool, thread: i32): usize {
  return pool.pack + (<usize>thread * PACK_FLOATS << 2);
}

/** Share `part` of `parts` of a task. */
function sharePart(kind: i32, task: usize, part: i32, parts: i32, pack: usize): void {
  if (kind == PRODUCT) productPart(changetype<Product>(task), part, parts, pack);
  else elementwisePart(changetype<Elementwise>(task), part, parts);
}

/** Runs `product` on the pool's threads (on this one alone where it is small). */
export function runProduct(pool: Pool, product: Product): void {
  run(pool, PRODUCT, changetype<usize>(product), shareable(product));
}

/**
 * Whether element-wise work over `elements` elements is worth posting to the threads;
 * where not, the caller does it at once (a small network's step is mostly such work, and
 * a post costs more than it saves).
 */
export function sharesElements(pool: Pool, elements: i64): bool {
  return ASC_FEATURE_THREADS && pool.threads > 1 && elements >= SHARED_ELEMENTS;
}

/** Runs element-wise `work` on the pool's threads. */
export function runElementwise(pool: Pool, work: Elementwise): void {
  run(pool, ELEMENTWISE, changetype<usize>(work), true);
}

/** Runs a task of `kind`: on every thread where it is worth sharing, else on this one alone. */
function run(pool: Pool, kind: i32, task: usize, worthSharing: bool): void {
  const threads = pool.threads;
  if (!ASC_FEATURE_THREADS || threads <= 1 || !worthSharing) {
    sharePart(kind, task, 0, 1, packOf(pool, 0));
    return;
  }
  if (ASC_FEATURE_THREADS) {
    const base = changetype<usize>(pool);
    pool.task = task;
    pool.kind = kind;
    atomic.store<i32>(base + offsetof<Pool>('done'), 0);
    atomic.add<i32>(base + offsetof<Pool>('generation'), 1);
    atomic.notify(base + offsetof<Pool>('generation'), threads - 1);
    sharePart(kind, task, 0, threads, packOf(pool, 0));
    const done = base + offsetof<Pool>('done');
    for (let spins = 0; spins < SPINS && atomic.load<i32>(done) < threads - 1; spins++) {}
    for (;;) {
      const finished = atomic.load<i32>(done);
      if (finished >= threads - 1) break;
      if (atomic.load<i32>(base + offsetof<Pool>('failed'))) unreachable();
      // No timeout: with one, Node 20's V8 let this thread run on before the workers' shares
      // were done, in about one fresh process of three (never under --liftoff-only or
      // --no-liftoff); a worker that fails notifies, so nothing waits for ever.
      if (pool.mayBlock) atomic.wait<i32>(done, finished, -1);
    }
    if (atomic.load<i32>(base + offsetof<Pool>('failed'))) unreachable();
  }
}

/**
 * A worker's life: wait for a task, do share `thread` of it, repeat until stopped. The
 * tasks are counted from 0 (the host starts its workers before it posts any), so one
 * posted before the worker first looks is not missed.
 */
export function worker_loop(poolAddress: usize, thread: i32): void {
  if (!ASC_FEATURE_THREADS) return;
  if (ASC_FEATURE_THREADS) {
    const pool = changetype<Pool>(poolAddress);
    const generation = poolAddress + offsetof<Pool>('generation');
    let seen = 0;
    for (;;) {
      // A step's tasks come in quick succession: spin a while before blocking, as the posting thread does.
      for (let spins = 0; spins < SPINS && atomic.load<i32>(generation) == seen; spins++) {}
      atomic.wait<i32>(generation, seen, -1);
      const now = atomic.load<i32>(generation);
      if (now == seen) continue;
      seen = now;
      if (atomic.load<i32>(poolAddress + offsetof<Pool>('stop'))) return;
      sharePart(pool.kind, pool.task, thread, pool.threads, packOf(pool, thread));
      atomic.add<i32>(poolAddress + offsetof<Pool>('done'), 1);
      atomic.notify(poolAddress + offsetof<Pool>('done'), 1);
    }
  }
}
