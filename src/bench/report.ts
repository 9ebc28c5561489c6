// Benchmark results as JSON (with the adapter, versions and date) and as a Markdown table.

import type { Measurement } from './suite.ts';

export interface BenchReport {
  date: string;
  environment: Record<string, string>;
  measurements: Measurement[];
}

/** A figure for a table: '–' where not measured, 'n/a' where not finite, whole numbers from 100 up. */
export function figure(value: number | undefined, digits = 3): string {
  if (value === undefined) return '–';
  if (!Number.isFinite(value)) return 'n/a';
  return value >= 100 ? value.toFixed(0) : value.toPrecision(digits);
}

/** Where WebGPU beats (or loses to) another backend on the same workload, as a speed ratio. */
export function speedRatios(measurements: Measurement[], of: string, against: string): { workload: string; ratio: number }[] {
  const workloads = [...new Set(measurements.map((m) => m.workload))];
  return workloads.flatMap((workload) => {
    const a = measurements.find((m) => m.workload === workload && m.backend.startsWith(of));
    const b = measurements.find((m) => m.workload === workload && m.backend.startsWith(against));
    return a && b && Number.isFinite(a.msPerStep) && Number.isFinite(b.msPerStep) ? [{ workload, ratio: b.msPerStep / a.msPerStep }] : [];
  });
}

export function markdownTable(report: BenchReport): string {
  const lines = [
    `Benchmarks of ${report.date}. ${Object.entries(report.environment).map(([k, v]) => `${k}: ${v}`).join('; ')}.`,
    '',
    '| workload | backend | check | steps timed | ms/step | samples/s | GFLOP/s | dispatches/step | submits/step |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const m of report.measurements) {
    const check = m.error ? `error: ${m.error}` : m.check;
    lines.push(
      `| ${m.workload} (${m.title}) | ${m.backend} | ${check} | ${m.steps} | ${figure(m.msPerStep, 3)} | ${figure(m.samplesPerSecond, 3)} | ${figure(m.gflops, 3)} | ${figure(m.dispatchesPerStep, 3)} | ${figure(m.submitsPerStep, 3)} |`,
    );
  }
  return lines.join('\n');
}
