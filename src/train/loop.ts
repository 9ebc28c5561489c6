// The one training loop, under Network.fit, the command line's `train` and the app's
// playground: it runs steps in chunks (one read-back of the losses per chunk, sized to
// take about `chunkMs`), ends chunks where the caller must act (an epoch's end, a
// checkpoint), reports every chunk's losses, stops on request, and turns a non-finite
// loss into a DivergedError that names the first non-finite value.

import { float32Finite } from '../data/values.ts';
import { DivergedError } from '../errors.ts';
import { locateNonFinite, type NonFinite } from '../check/diagnose.ts';
import { nextTask } from '../gpu/pacing.ts';
import { parseLayerBuffer } from '../model/buffers.ts';
import type { Trainer, TrainerState } from '../model/trainer.ts';

/**
 * Steps per chunk (between read-backs of the losses), at the start and at most. The first
 * chunk is one step: on a large network a step can take seconds, and a stop asked for
 * waits for the chunk under way.
 */
const FIRST_CHUNK_STEPS = 1;
const MAX_CHUNK_STEPS = 1 << 16;

/** What `runTraining` reports after each chunk of steps. */
export interface TrainingChunk {
  /** The step (counted from 0, over the trainer's life) of the chunk's first loss. */
  firstStep: number;
  /** The batch loss of each step of the chunk, in order. */
  losses: Float64Array;
  /** Steps taken, over the trainer's life, after this chunk. */
  step: number;
}

/** `runTraining`'s options. */
export interface TrainingLoopOptions {
  /** Steps to run. */
  steps: number;
  /** Where a chunk must end besides checkpoints: the first step after `step` at which the caller acts (an epoch's end). */
  nextStop?: (step: number) => number;
  /** Steps between checkpoints (counted over the trainer's life): chunks end there and `onCheckpoint` gets the state. */
  checkpointEvery?: number;
  /** Gets the state at every checkpoint (to write it out). */
  onCheckpoint?: (state: TrainerState) => void | Promise<void>;
  /**
   * Where a chunk diverged: its losses up to and including the first non-finite one, before
   * the DivergedError is thrown (so a curve shows the run as it diverged).
   */
  onDiverged?: (chunk: TrainingChunk) => void | Promise<void>;
  /** After every chunk; return `false` to stop training there. */
  onChunk?: (chunk: TrainingChunk) => void | boolean | Promise<void | boolean>;
  /** Stops training: at the next chunk's end, or at once while a chunk is under way (see TrainingResult.settling). */
  signal?: AbortSignal;
  /** Wall time a chunk aims for (default 100 ms): shorter reports more often, longer syncs less. */
  chunkMs?: number;
  /** Steps of the first chunk (default 8); a caller running the loop again passes the last result's `chunkSteps`. */
  chunkSteps?: number;
}

/** How a run of `runTraining` ended. */
export interface TrainingResult {
  /** Steps run by this call. */
  steps: number;
  /** The last step's batch loss (NaN if no step ran). */
  lastLoss: number;
  /** Why training ended: every step ran, `onChunk` returned false, or the signal was aborted. */
  stoppedBy: 'done' | 'callback' | 'signal';
  /** The chunk size the loop had settled on: where the next run of the loop may start. */
  chunkSteps: number;
  /**
   * Where the signal was aborted while a chunk was under way: the loop returns at once,
   * and the trainer goes back to the chunk's start once the GPU is done with it, settling
   * this promise. `steps` leaves the chunk out.
   */
  settling?: Promise<void>;
}

/** `work`, or undefined as soon as `signal` is aborted (the work goes on, unawaited; a failure of it then is nobody's). */
export async function unlessAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T | undefined> {
  if (!signal) return work;
  let stop = () => {};
  const aborted = new Promise<undefined>((resolve) => {
    stop = () => resolve(undefined);
    if (signal.aborted) stop();
    signal.addEventListener('abort', stop, { once: true });
  });
  try {
    const winner = await Promise.race([work.then((result) => ({ result })), aborted]);
    if (winner) return winner.result;
    work.catch(() => {});
    return undefined;
  } finally {
    signal.removeEventListener('abort', stop);
  }
}

/** Runs `options.steps` steps of `trainer`; throws DivergedError at the first non-finite batch loss. */
export async function runTraining(trainer: Trainer, options: TrainingLoopOptions): Promise<TrainingResult> {
  const until = trainer.step + options.steps;
  const every = options.checkpointEvery;
  const chunkMs = options.chunkMs ?? 100;
  let chunkSteps = Math.max(1, Math.min(MAX_CHUNK_STEPS, options.chunkSteps ?? FIRST_CHUNK_STEPS));
  let lastLoss = NaN;
  while (trainer.step < until) {
    // A task's turn between chunks: a stop, or a message in a worker, is seen even on a backend that never waits.
    await nextTask();
    if (options.signal?.aborted) return { steps: options.steps - (until - trainer.step), lastLoss, stoppedBy: 'signal', chunkSteps };
    const step = trainer.step;
    const nextCheckpoint = every ? (Math.floor(step / every) + 1) * every : Infinity;
    const count = Math.min(chunkSteps, until - step, nextCheckpoint - step, (options.nextStop?.(step) ?? Infinity) - step);
    const started = performance.now();
    trainer.mark();
    await trainer.train(count);
    const losses = await unlessAborted(trainer.takeLosses(), options.signal);
    if (!losses) return { steps: options.steps - (until - step), lastLoss, stoppedBy: 'signal', chunkSteps, settling: trainer.rewind().catch(() => {}) };
    const bad = losses.findIndex((loss) => !float32Finite(loss));
    if (bad >= 0) {
      await options.onDiverged?.({ firstStep: step, losses: losses.slice(0, bad + 1), step: step + bad + 1 });
      throw await divergence(trainer, step + count);
    }
    lastLoss = losses[losses.length - 1];
    // Aim the next chunk at chunkMs, growing at most fourfold at a time. A chunk cut short
    // (by an epoch's end) says little about the speed unless it took long.
    const elapsed = performance.now() - started;
    if (count === chunkSteps || elapsed > chunkMs) chunkSteps = Math.max(1, Math.min(MAX_CHUNK_STEPS, 4 * chunkSteps, Math.round((count * chunkMs) / Math.max(elapsed, 1e-3))));
    if (every && trainer.step % every === 0) await options.onCheckpoint?.(await trainer.readState());
    if ((await options.onChunk?.({ firstStep: step, losses, step: trainer.step })) === false) {
      return { steps: options.steps - (until - trainer.step), lastLoss, stoppedBy: 'callback', chunkSteps };
    }
    // A turn of the event loop between chunks: the reference computes without awaiting
    // anything, and a timer (a stop, a dispose, a page's events) must get its turn.
    await nextTask();
  }
  return { steps: options.steps, lastLoss, stoppedBy: 'done', chunkSteps };
}

/** Whether the value went wrong in the forward pass (net, out, loss): the weights the step began with overflow. */
function inForwardPass(found: NonFinite): boolean {
  const kind = parseLayerBuffer(found.buffer)?.kind;
  return found.buffer === 'loss' || found.buffer === 'batch loss' || kind === 'net' || kind === 'out';
}

/**
 * Replays the chunk from its mark, step by step, to name the first non-finite value; then
 * rolls the trainer back to its last finite state: the weights (and optimizer state) the
 * step that went wrong began with, or, where their own forward pass overflowed, those the
 * step before it began with (from the previous chunk's mark, where it began the chunk).
 * The trainer's capture is as it was.
 */
async function divergence(trainer: Trainer, until: number): Promise<DivergedError> {
  const capture = trainer.capture;
  await trainer.rewind();
  const marked = trainer.step;
  const found = await locateNonFinite(trainer, until);
  const kept = !found ? marked : inForwardPass(found) ? Math.max(0, found.step - 1) : found.step;
  await trainer.rewind(kept < marked ? 'previous' : 'last');
  if (capture === false) await trainer.setCapture?.(false);
  if (kept > trainer.step) {
    await trainer.train(kept - trainer.step);
    await trainer.takeLosses();
  }
  trainer.mark();
  const back = `the network is back at its last finite weights, those before step ${trainer.step}`;
  if (!found) return new DivergedError(`training diverged: a batch loss was not finite; ${back}`, undefined, undefined, trainer.step);
  const what = Number.isFinite(found.value) ? "the first value beyond float32's range" : 'the first non-finite value';
  return new DivergedError(`training diverged: ${what} was ${found.where} = ${found.value} at step ${found.step}; ${back}`, found.step, found.where, trainer.step);
}

/** A loss over a whole dataset that is not finite is a divergence, not a result; `step`: the steps trained. */
export function checkFiniteLoss(loss: number, what: string, step?: number): number {
  if (!Number.isFinite(loss)) throw new DivergedError(`training diverged: the loss over ${what} is ${loss}${step === undefined ? '' : ` after step ${step}`}`, step);
  return loss;
}
