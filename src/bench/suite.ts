// Measures workloads on backends: each backend is first checked against the float64
// reference on the same work, then timed.

import { crossCheck } from '../check/crosscheck.ts';
import type { Backend } from './backends.ts';
import { flopsPerStep, type Workload } from './workloads.ts';

export interface Measurement {
  workload: string;
  title: string;
  backend: string;
  device: string;
  /** 'reference' for the reference itself; else whether its buffers matched the reference's. */
  check: 'reference' | 'passed' | 'failed';
  checkMessage: string;
  steps: number;
  msPerStep: number;
  samplesPerSecond: number;
  gflops: number;
  dispatchesPerStep?: number;
  submitsPerStep?: number;
  error?: string;
}

export interface SuiteOptions {
  /** Steps the check trains before comparing. */
  checkSteps: number;
  /** The reference, and any backend slower than this per run, time fewer steps than the workload asks. */
  timeBudgetMs: number;
  /** Scale every workload's steps (0.1 for a quick run). */
  stepScale: number;
  log?: (line: string) => void;
}

export const DEFAULT_SUITE_OPTIONS: SuiteOptions = { checkSteps: 2, timeBudgetMs: 20_000, stepScale: 1 };

async function check(workload: Workload, backend: Backend, options: SuiteOptions): Promise<{ ok: boolean; message: string }> {
  if (backend.isReference) return { ok: true, message: 'is the reference' };
  const run = await backend.start(workload);
  try {
    const { model, dataset, options: trainOptions } = workload.build();
    const steps = Math.min(options.checkSteps, workload.steps);
    const comparisons = await crossCheck(run, model, dataset, trainOptions, steps, backend.checkable === 'params' ? ['params'] : undefined);
    const failed = comparisons.find((c) => !c.ok);
    return failed ? { ok: false, message: failed.message } : { ok: true, message: `${comparisons.length} buffers within float32 tolerance after ${steps} steps` };
  } finally {
    run.dispose();
  }
}

export async function measure(workload: Workload, backend: Backend, options: SuiteOptions = DEFAULT_SUITE_OPTIONS): Promise<Measurement> {
  const log = options.log ?? (() => {});
  const base = { workload: workload.name, title: workload.title, backend: backend.name, device: backend.device };
  let checked: { ok: boolean; message: string };
  try {
    checked = await check(workload, backend, options);
  } catch (error) {
    return { ...base, check: 'failed', checkMessage: '', steps: 0, msPerStep: NaN, samplesPerSecond: NaN, gflops: NaN, error: (error as Error).message };
  }
  log(`${workload.name} on ${backend.name}: check ${checked.ok ? 'passed' : 'FAILED'} (${checked.message})`);
  const result = { ...base, check: backend.isReference ? ('reference' as const) : checked.ok ? ('passed' as const) : ('failed' as const), checkMessage: checked.message };
  if (!checked.ok) return { ...result, steps: 0, msPerStep: NaN, samplesPerSecond: NaN, gflops: NaN };

  const run = await backend.start(workload);
  try {
    // Warm up (pipelines compile, caches fill), then see how long a step takes before
    // deciding how many to time within the budget.
    let t = performance.now();
    await run.train(1);
    const firstStep = performance.now() - t;
    const planned = Math.max(1, Math.round(workload.steps * options.stepScale));
    const steps = Math.max(1, Math.min(planned, Math.floor(options.timeBudgetMs / Math.max(firstStep, 1e-3))));
    await run.train(Math.min(steps, 10));
    const before = run.counts?.();
    t = performance.now();
    await run.train(steps);
    const elapsed = performance.now() - t;
    const after = run.counts?.();
    const msPerStep = elapsed / steps;
    const measurement: Measurement = {
      ...result,
      steps,
      msPerStep,
      samplesPerSecond: (workload.batch * 1000) / msPerStep,
      gflops: flopsPerStep(workload) / (msPerStep * 1e6),
    };
    if (before && after) {
      measurement.dispatchesPerStep = (after.dispatches - before.dispatches) / steps;
      measurement.submitsPerStep = (after.submits - before.submits) / steps;
    }
    log(`${workload.name} on ${backend.name}: ${msPerStep.toFixed(3)} ms/step over ${steps} steps`);
    return measurement;
  } catch (error) {
    return { ...result, steps: 0, msPerStep: NaN, samplesPerSecond: NaN, gflops: NaN, error: (error as Error).message };
  } finally {
    run.dispose();
  }
}

export async function runSuite(workloads: Workload[], backends: Backend[], options: SuiteOptions = DEFAULT_SUITE_OPTIONS): Promise<Measurement[]> {
  const measurements: Measurement[] = [];
  for (const workload of workloads) for (const backend of backends) measurements.push(await measure(workload, backend, options));
  return measurements;
}
