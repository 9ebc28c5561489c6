// Measures workloads on backends, all of a workload's backends in one interleaved run:
// each backend is warmed up and calibrated (how many steps make a repetition of at least
// `repMs`), then the repetitions go round the backends in turn, so that a change in the
// machine's load falls on all of them alike. Each figure is the median of the
// repetitions, with their minimum and maximum. After every repetition the backend's
// parameters are read (outside the timed region); once the timing is over each of them
// is checked against the float64 reference trained to the same step, within the float32
// tolerance of src/check/: the runs that were timed are the runs that were checked.

import { ReferenceTrajectory } from '../check/crosscheck.ts';
import type { Backend, BenchRun } from './backends.ts';
import { flopsPerStep, type Workload } from './workloads.ts';

/**
 * One backend's figures on one workload: time per step over the repetitions, the
 * throughput that follows from it, and whether its runs matched the reference.
 */
export interface Measurement {
  /** The workload's name (`W2`, `sweep w64 b16`). */
  workload: string;
  title: string;
  /** The backend's name. */
  backend: string;
  /** Where the backend ran: the adapter, or the CPU. */
  device: string;
  /** 'reference' for the reference itself; else whether every timed run's parameters matched the reference's. */
  check: 'reference' | 'passed' | 'failed';
  /** What the check found, in words (the first difference out of tolerance where it failed). */
  checkMessage: string;
  /** Steps timed, over all repetitions. */
  steps: number;
  /** Repetitions timed. */
  reps: number;
  /** Steps in each repetition, from the calibration. */
  stepsPerRep: number;
  /** Median over the repetitions, and their extremes. */
  msPerStep: number;
  minMsPerStep: number;
  maxMsPerStep: number;
  /** Each repetition's ms per step, in order. */
  repMsPerStep: number[];
  /** Training samples per second at the median: batch × 1000 / msPerStep. */
  samplesPerSecond: number;
  /** GFLOP/s at the median: flopsPerStep / msPerStep / 10⁶. */
  gflops: number;
  /** The exact count the GFLOP/s come from (workloads.ts). */
  flopsPerStep: number;
  /** Compute dispatches per timed step, where the backend counts them (WebGPU). */
  dispatchesPerStep?: number;
  /** Queue submits per timed step, where the backend counts them (WebGPU). */
  submitsPerStep?: number;
  /** Why the backend has no figures (it failed, or was stopped before its first repetition); they are NaN then. */
  error?: string;
}

/** How a workload is measured: repetitions and their length, the check, progress and stopping. */
export interface SuiteOptions {
  /** Timed repetitions per backend (at least 5 for the figures the README quotes). */
  reps?: number;
  /** A repetition runs as many steps as take at least this long (one step where one takes longer). */
  repMs?: number;
  /** A quick run: QUICK_SUITE_OPTIONS (figures for a glance, not to quote). */
  quick?: boolean;
  /** Told each line of progress: a backend's calibration, its median, a failure. */
  log?: (line: string) => void;
  /**
   * Stops the measuring between repetitions: each backend keeps the repetitions it ran
   * (checked as usual); one stopped before its first has `error` 'stopped'.
   */
  signal?: AbortSignal;
}

/** A full run's settings: 5 repetitions of at least 1000 ms per backend. */
export const DEFAULT_SUITE_OPTIONS: Required<Pick<SuiteOptions, 'reps' | 'repMs'>> = { reps: 5, repMs: 1000 };
/** A quick run's settings: 3 repetitions of at least a quarter second. */
export const QUICK_SUITE_OPTIONS: Required<Pick<SuiteOptions, 'reps' | 'repMs'>> = { reps: 3, repMs: 250 };

/** Steps a repetition may take at most (a tiny network at a microsecond a step). */
const MAX_REP_STEPS = 200_000;

/** The median of `values` (the mean of the middle two where their number is even): every figure the benchmarks print. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

interface Running {
  backend: Backend;
  run?: BenchRun;
  error?: string;
  /** Steps run so far (warm-up and calibration included): the step its snapshots are at. */
  step: number;
  stepsPerRep: number;
  repMs: number[];
  snapshots: { step: number; params: Float32Array }[];
  /** Dispatches and submits over the timed repetitions, where the backend counts them. */
  counts?: { dispatches: number; submits: number };
}

async function timed(run: BenchRun, steps: number): Promise<number> {
  const started = performance.now();
  await run.train(steps);
  return performance.now() - started;
}

/** Warm-up (pipelines compile, caches fill), then steps per repetition from a first timing. */
async function calibrate(running: Running, repMs: number): Promise<void> {
  const run = running.run!;
  await run.train(1);
  running.step = 1;
  let steps = 1;
  for (;;) {
    const elapsed = await timed(run, steps);
    running.step += steps;
    const msPerStep = elapsed / steps;
    if (elapsed >= repMs / 4 || steps >= MAX_REP_STEPS) {
      running.stepsPerRep = Math.max(1, Math.min(MAX_REP_STEPS, Math.ceil(repMs / Math.max(msPerStep, 1e-6))));
      return;
    }
    steps = Math.min(MAX_REP_STEPS, Math.max(steps * 2, Math.ceil(repMs / 4 / Math.max(msPerStep, 1e-6))));
  }
}

/** One workload on every backend, interleaved. */
export async function measureWorkload(workload: Workload, backends: Backend[], options: SuiteOptions = {}): Promise<Measurement[]> {
  const quick = options.quick ?? false;
  const settings = quick ? QUICK_SUITE_OPTIONS : DEFAULT_SUITE_OPTIONS;
  const reps = options.reps ?? settings.reps;
  const repMs = options.repMs ?? settings.repMs;
  const log = options.log ?? (() => {});
  const running: Running[] = backends.map((backend) => ({ backend, step: 0, stepsPerRep: 0, repMs: [], snapshots: [] }));
  const fail = (r: Running, error: unknown) => {
    r.error = (error as Error).message ?? String(error);
    log(`${workload.name} on ${r.backend.name}: ${r.error}`);
    r.run?.dispose();
    r.run = undefined;
  };

  const stopped = () => options.signal?.aborted ?? false;
  for (const r of running) {
    if (stopped()) break;
    try {
      r.run = await r.backend.start(workload);
      await calibrate(r, repMs);
      log(`${workload.name} on ${r.backend.name}: ${r.stepsPerRep} steps a repetition`);
    } catch (error) {
      fail(r, error);
    }
  }
  for (let rep = 0; rep < reps && !stopped(); rep++) {
    for (const r of running) {
      if (!r.run || stopped()) continue;
      try {
        const before = r.run.counts?.();
        const elapsed = await timed(r.run, r.stepsPerRep);
        const after = r.run.counts?.();
        r.step += r.stepsPerRep;
        r.repMs.push(elapsed / r.stepsPerRep);
        if (before && after) {
          r.counts ??= { dispatches: 0, submits: 0 };
          r.counts.dispatches += after.dispatches - before.dispatches;
          r.counts.submits += after.submits - before.submits;
        }
        r.snapshots.push({ step: r.step, params: Float32Array.from(await r.run.params()) });
      } catch (error) {
        fail(r, error);
      }
    }
  }
  for (const r of running) r.run?.dispose();

  // The reference, trained once through every step a snapshot was taken at.
  const checks = new Map<Running, { ok: boolean; message: string }>();
  const pending = running.flatMap((r) => (r.backend.isReference || r.error ? [] : r.snapshots.map((snapshot) => ({ r, snapshot }))));
  if (pending.length > 0) {
    const { model, dataset, options: trainOptions } = workload.build();
    const trajectory = new ReferenceTrajectory(model, dataset, trainOptions);
    pending.sort((a, b) => a.snapshot.step - b.snapshot.step);
    for (const { r, snapshot } of pending) {
      await trajectory.advanceTo(snapshot.step);
      const comparison = trajectory.compare('params', snapshot.params);
      const previous = checks.get(r);
      if (!previous || previous.ok) checks.set(r, comparison.ok ? { ok: true, message: `every timed run's parameters within float32 tolerance of the reference (up to step ${snapshot.step})` } : { ok: false, message: `after step ${snapshot.step}: ${comparison.message}` });
    }
  }

  const flops = flopsPerStep(workload);
  return running.map((r): Measurement => {
    const base = { workload: workload.name, title: workload.title, backend: r.backend.name, device: r.backend.device, flopsPerStep: flops };
    const checked = checks.get(r);
    const check = r.backend.isReference ? ('reference' as const) : checked?.ok ? ('passed' as const) : ('failed' as const);
    const checkMessage = r.backend.isReference ? 'is the reference' : (checked?.message ?? 'not checked');
    if (r.error || r.repMs.length === 0) {
      return { ...base, check: 'failed', checkMessage, steps: 0, reps: 0, stepsPerRep: r.stepsPerRep, msPerStep: NaN, minMsPerStep: NaN, maxMsPerStep: NaN, repMsPerStep: r.repMs, samplesPerSecond: NaN, gflops: NaN, error: r.error ?? (stopped() ? 'stopped' : 'no repetition ran') };
    }
    const msPerStep = median(r.repMs);
    const steps = r.repMs.length * r.stepsPerRep;
    const measurement: Measurement = {
      ...base,
      check,
      checkMessage,
      steps,
      reps: r.repMs.length,
      stepsPerRep: r.stepsPerRep,
      msPerStep,
      minMsPerStep: Math.min(...r.repMs),
      maxMsPerStep: Math.max(...r.repMs),
      repMsPerStep: r.repMs,
      samplesPerSecond: (workload.batch * 1000) / msPerStep,
      gflops: flops / (msPerStep * 1e6),
    };
    if (r.counts) {
      measurement.dispatchesPerStep = r.counts.dispatches / steps;
      measurement.submitsPerStep = r.counts.submits / steps;
    }
    log(`${workload.name} on ${r.backend.name}: median ${msPerStep.toPrecision(4)} ms/step (${measurement.minMsPerStep.toPrecision(4)}–${measurement.maxMsPerStep.toPrecision(4)}), check ${measurement.check}`);
    return measurement;
  });
}

/** Each workload in turn on every backend (measureWorkload): all the measurements, workload by workload. */
export async function runSuite(workloads: Workload[], backends: Backend[], options: SuiteOptions = {}): Promise<Measurement[]> {
  const measurements: Measurement[] = [];
  for (const workload of workloads) measurements.push(...(await measureWorkload(workload, backends, options)));
  return measurements;
}

