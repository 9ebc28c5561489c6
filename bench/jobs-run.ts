// The jobs of src/bench/jobs.ts from create to trained, each run in a fresh process
// (bench/job.ts, through this command's `--child-job`), repetitions interleaved across
// backends, medians with their extremes, every run's parameters checked against the
// float64 reference. `auto` runs first once on an empty store of measurements (what a
// first run on a machine costs), then with the measurements kept, as every later run.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { figure, JOBS, JobCheck, median, type Job } from 'webgpu-backprop/bench';
import type { JobResult } from './job.ts';

/** One job on one backend over its repetitions. */
export interface JobRow {
  job: string;
  title: string;
  backend: string;
  /** The backend the network chose and why (ours); empty for TensorFlow.js. */
  reason: string;
  check: 'passed' | 'failed';
  checkMessage: string;
  firstStepMs: number[];
  trainedMs: number[];
  /** Each compile's median time over the repetitions, by label. */
  compiles: { label: string; ms: number }[];
  error?: string;
}

function child(job: Job, backend: string, env: NodeJS.ProcessEnv): JobResult {
  const run = spawnSync(process.execPath, [...process.execArgv, process.argv[1], '--child-job', job.name, backend], { env, encoding: 'utf8', maxBuffer: 1 << 28 });
  const line = run.stdout.trim().split('\n').pop() ?? '';
  if (run.status !== 0 || !line.startsWith('{')) throw new Error(`${job.name} on ${backend}: ${(run.stderr || run.stdout).trim().split('\n').pop()}`);
  return JSON.parse(line) as JobResult;
}

/** Medians of each compile's time by label (the same labels every repetition). */
function compileMedians(results: JobResult[]): { label: string; ms: number }[] {
  const labels = [...new Set(results.flatMap((r) => r.compiles.map((c) => c.label)))];
  return labels.map((label) => ({ label, ms: median(results.map((r) => r.compiles.filter((c) => c.label === label).reduce((sum, c) => sum + c.ms, 0))) }));
}

export async function measureJobs(names: string[], backends: string[], reps: number, log: (line: string) => void): Promise<JobRow[]> {
  const store = mkdtempSync(join(tmpdir(), 'webgpu-backprop-jobs-'));
  const env = { ...process.env, WEBGPU_BACKPROP_CALIBRATION: join(store, 'calibration.json') };
  const rows: JobRow[] = [];
  try {
    for (const job of JOBS.filter((j) => names.includes(j.name))) {
      const check = new JobCheck(job);
      const runs = new Map<string, JobResult[]>(backends.map((backend) => [backend, []]));
      const errors = new Map<string, string>();
      const order = backends.includes('auto') ? [{ backend: 'auto', label: 'auto, first run on this machine (measures both backends)' }] : [];
      const firstAuto: JobResult[] = [];
      for (const { backend, label } of order) {
        try {
          firstAuto.push(child(job, backend, env));
          log(`${job.name} ${label}: ${firstAuto[0].trainedMs.toFixed(0)} ms`);
        } catch (error) {
          errors.set(label, (error as Error).message);
        }
      }
      for (let rep = 0; rep < reps; rep++) {
        for (const backend of backends) {
          if (errors.has(backend)) continue;
          try {
            const result = child(job, backend, env);
            runs.get(backend)!.push(result);
            log(`${job.name} on ${backend}, repetition ${rep + 1}: first step ${result.firstStepMs.toFixed(0)} ms, trained ${result.trainedMs.toFixed(0)} ms`);
          } catch (error) {
            errors.set(backend, (error as Error).message);
            log((error as Error).message);
          }
        }
      }
      const entries: [string, JobResult[]][] = [...(firstAuto.length ? [['auto, first run on this machine (measures both backends)', firstAuto] as [string, JobResult[]]] : []), ...runs];
      for (const [backend, results] of entries) {
        let failed = '';
        for (const result of results) {
          const comparison = await check.compare(result.params);
          if (!comparison.ok && !failed) failed = comparison.message;
        }
        rows.push({
          job: job.name,
          title: job.title,
          backend,
          reason: results[0]?.reason ?? '',
          check: failed || results.length === 0 ? 'failed' : 'passed',
          checkMessage: failed || (results.length ? `every run's parameters within float32 tolerance of the reference after ${results[0].steps} steps` : 'no run'),
          firstStepMs: results.map((r) => r.firstStepMs),
          trainedMs: results.map((r) => r.trainedMs),
          compiles: compileMedians(results),
          error: errors.get(backend),
        });
      }
    }
  } finally {
    rmSync(store, { recursive: true, force: true });
  }
  return rows;
}

const spread = (values: number[]) => (values.length ? `${figure(median(values))} (${figure(Math.min(...values))}–${figure(Math.max(...values))})` : '–');

/** The rows as Markdown: the times, then each backend's compiles, then auto's reasons. */
export function jobsMarkdown(rows: JobRow[], reps: number): string {
  const lines = [
    `Time from \`Network.create\` to the first step and to a trained network, in a fresh process each run: median of ${reps} interleaved runs (min–max), ms. Compiling: the sum of the medians of each compile (pipelines, WebAssembly modules).`,
    '',
    '| job | backend | check | first step | trained | compiling |',
    '|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.job} (${r.title}) | ${r.backend} | ${r.error ? `error: ${r.error}` : r.check} | ${spread(r.firstStepMs)} | ${spread(r.trainedMs)} | ${figure(r.compiles.reduce((sum, c) => sum + c.ms, 0))} |`),
    '',
    'Compile time per pipeline or module (median ms):',
    '',
    ...rows.filter((r) => r.compiles.length).map((r) => `- ${r.job} ${r.backend}: ${r.compiles.map((c) => `${c.label} ${figure(c.ms)}`).join('; ')}`),
    '',
    'What each network ran on, and why:',
    '',
    ...rows.filter((r) => r.reason).map((r) => `- ${r.job} ${r.backend}: ${r.reason}`),
  ];
  return lines.join('\n');
}

/** Per job: auto against TensorFlow.js wasm's model.fit and against the faster of the forced backends. */
export function jobsSummary(rows: JobRow[]): string[] {
  return [...new Set(rows.map((r) => r.job))].flatMap((job) => {
    const of = (backend: string) => rows.find((r) => r.job === job && r.backend === backend && r.trainedMs.length);
    const auto = of('auto');
    if (!auto) return [];
    const a = median(auto.trainedMs);
    const lines: string[] = [];
    const tf = of('tfjs-wasm');
    if (tf) lines.push(`${job}: auto trained in ${figure(a)} ms, ${(median(tf.trainedMs) / a).toFixed(2)}× the speed of TensorFlow.js wasm model.fit (${figure(median(tf.trainedMs))} ms)`);
    const forced = ['webgpu', 'wasm', 'cpu'].flatMap((backend) => (of(backend) ? [{ backend, ms: median(of(backend)!.trainedMs) }] : [])).sort((x, y) => x.ms - y.ms)[0];
    if (forced) lines.push(`${job}: auto ${(forced.ms / a).toFixed(2)}× the speed of the fastest forced backend (${forced.backend}, ${figure(forced.ms)} ms)`);
    return lines;
  });
}
