// Benchmark results as JSON (with the adapter, versions, load and date) and as Markdown:
// the measurements, the ratios between backends, where WebGPU breaks even with the CPU
// paths in the sweep, and the roofline tables.

import type { Roofline } from './roofline.ts';
import type { Measurement } from './suite.ts';

/** A benchmark run as written to JSON and rendered as Markdown. */
export interface BenchReport {
  /** When it ran (ISO 8601). */
  date: string;
  /** What it ran on, shown as `key: value` pairs: the adapter, versions, load. */
  environment: Record<string, string>;
  measurements: Measurement[];
  rooflines?: Roofline[];
  /** The adapter's FP32 peak, where known (a flag or the table of adapters.ts), in TFLOP/s. */
  peakTflops?: number;
}

/** A figure for a table: '–' where not measured, 'n/a' where not finite, whole numbers from 100 up. */
export function figure(value: number | undefined, digits = 3): string {
  if (value === undefined) return '–';
  if (!Number.isFinite(value)) return 'n/a';
  return value >= 100 ? value.toFixed(0) : value.toPrecision(digits);
}

/** Where WebGPU beats (or loses to) another backend on the same workload, as a speed ratio of medians. */
export function speedRatios(measurements: Measurement[], of: string, against: string): { workload: string; ratio: number }[] {
  const workloads = [...new Set(measurements.map((m) => m.workload))];
  return workloads.flatMap((workload) => {
    const a = measurements.find((m) => m.workload === workload && m.backend.startsWith(of));
    const b = measurements.find((m) => m.workload === workload && m.backend.startsWith(against));
    return a && b && Number.isFinite(a.msPerStep) && Number.isFinite(b.msPerStep) ? [{ workload, ratio: b.msPerStep / a.msPerStep }] : [];
  });
}

/** The measurements as a Markdown table, one row per workload and backend, under a line naming the date and environment. */
export function markdownTable(report: BenchReport): string {
  const lines = [
    `Benchmarks of ${report.date}. ${Object.entries(report.environment).map(([k, v]) => `${k}: ${v}`).join('; ')}.`,
    '',
    'Each figure is the median of the repetitions (min–max beside it), interleaved across backends; GFLOP/s count the FLOPs of a step exactly (see bench/README.md).',
    '',
    '| workload | backend | check | reps × steps | ms/step (median) | min–max | samples/s | GFLOP/s | dispatches/step | submits/step |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const m of report.measurements) {
    const check = m.error ? `error: ${m.error}` : m.check;
    lines.push(
      `| ${m.workload} (${m.title}) | ${m.backend} | ${check} | ${m.reps} × ${m.stepsPerRep} | ${figure(m.msPerStep)} | ${figure(m.minMsPerStep)}–${figure(m.maxMsPerStep)} | ${figure(m.samplesPerSecond)} | ${figure(m.gflops)} | ${figure(m.dispatchesPerStep)} | ${figure(m.submitsPerStep)} |`,
    );
  }
  return lines.join('\n');
}

/** The sweep's widths and batches, from its workload names (`sweep w64 b16`). */
function sweepPoint(workload: string): { width: number; batch: number } | undefined {
  const match = /^sweep w(\d+) b(\d+)$/.exec(workload);
  return match ? { width: Number(match[1]), batch: Number(match[2]) } : undefined;
}

/**
 * Where WebGPU overtakes each other backend in the sweep: for each batch, the smallest
 * width from which on it is faster at every width measured; for each width, the smallest
 * batch likewise.
 */
export function breakEven(measurements: Measurement[], of: string): string[] {
  const points = measurements.flatMap((m) => {
    const point = sweepPoint(m.workload);
    return point && Number.isFinite(m.samplesPerSecond) ? [{ ...point, m }] : [];
  });
  const ours = points.filter((p) => p.m.backend.startsWith(of));
  const others = [...new Set(points.map((p) => p.m.backend))].filter((name) => !name.startsWith(of));
  const lines: string[] = [];
  for (const other of others) {
    const faster = new Map<string, boolean>();
    for (const p of ours) {
      const peer = points.find((q) => q.m.backend === other && q.width === p.width && q.batch === p.batch);
      if (peer) faster.set(`${p.width} ${p.batch}`, p.m.samplesPerSecond > peer.m.samplesPerSecond);
    }
    if (faster.size === 0) continue;
    const widths = [...new Set(ours.map((p) => p.width))].sort((a, b) => a - b);
    const batches = [...new Set(ours.map((p) => p.batch))].sort((a, b) => a - b);
    const from = (values: number[], wins: (value: number) => boolean | undefined) => {
      const first = values.findIndex((_, k) => values.slice(k).every((v) => wins(v) !== false));
      return first < 0 || wins(values[first]) === undefined ? undefined : values[first];
    };
    const byBatch = batches.map((batch) => {
      const width = from(widths, (w) => faster.get(`${w} ${batch}`));
      return `batch ${batch}: ${width === undefined ? 'never, up to width ' + widths[widths.length - 1] : `from width ${width}`}`;
    });
    const byWidth = widths.map((width) => {
      const batch = from(batches, (b) => faster.get(`${width} ${b}`));
      return `width ${width}: ${batch === undefined ? 'never, up to batch ' + batches[batches.length - 1] : `from batch ${batch}`}`;
    });
    lines.push(`WebGPU overtakes ${other}: ${byBatch.join('; ')}. By width: ${byWidth.join('; ')}.`);
  }
  return lines;
}

/** A roofline table: each kernel's time, FLOPs, bytes, what it achieved, its share of the step. */
export function rooflineMarkdown(roofline: Roofline, peakTflops?: number): string {
  const peak = peakTflops ? ` | of FP32 peak` : '';
  const lines = [
    `Roofline of ${roofline.workload} (${roofline.title}): median of ${roofline.stepsProfiled} profiled steps, times from ${roofline.source}; kernels add up to ${figure(roofline.kernelMs)} ms a step.`,
    '',
    `| kernel | tile | workgroups | ms | MFLOP | MB | GFLOP/s | GB/s | share of step${peak} |`,
    `|---|---|---|---|---|---|---|---|---${peakTflops ? '|---' : ''}|`,
  ];
  for (const row of roofline.rows) {
    const fraction = peakTflops ? ` | ${figure((100 * row.gflops) / (1000 * peakTflops), 2)}%` : '';
    lines.push(
      `| ${row.label} | ${row.tile ?? ''} | ${row.workgroups.join('×')} | ${figure(row.ms)} | ${figure(row.flops / 1e6)} | ${figure(row.bytes / 1e6)} | ${figure(row.gflops)} | ${figure(row.gbps)} | ${figure(100 * row.share, 2)}%${fraction} |`,
    );
  }
  const flops = roofline.rows.reduce((sum, row) => sum + row.flops, 0);
  const total = flops / (roofline.kernelMs * 1e6);
  lines.push(`| **step** | | | ${figure(roofline.kernelMs)} | ${figure(flops / 1e6)} | ${figure(roofline.rows.reduce((sum, row) => sum + row.bytes, 0) / 1e6)} | ${figure(total)} | | 100%${peakTflops ? ` | ${figure((100 * total) / (1000 * peakTflops), 2)}%` : ''} |`);
  return lines.join('\n');
}
