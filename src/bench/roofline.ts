// Per-kernel timings of a training step, as a roofline table: each dispatch's time (from
// timestamp queries where the adapter has them, else the wall clock), the FLOPs and the
// bytes it must move (the layered plan's counts), what it achieved of each, and its share
// of the step. A reader sees which kernel bounds a workload, and whether by arithmetic or
// by memory.

import type { KernelTiming } from '../gpu/profile.ts';
import { GpuTrainer, type GpuTrainerOptions } from '../gpu/trainer.ts';
import { median } from './suite.ts';
import type { Workload } from './workloads.ts';

/** One dispatch of the step: its time, its work, and what it achieved. */
export interface RooflineRow {
  /** What it does, e.g. `forward layer1`. */
  label: string;
  /** Its kernel (.wgsl file) and entry point. */
  kernel: string;
  /** A matrix product's tile, where it is one. */
  tile?: string;
  workgroups: [number, number, number];
  /** Milliseconds, the median over the profiled steps. */
  ms: number;
  /** Floating-point operations it must do (the plan's count). */
  flops: number;
  /** Bytes it must read and write at least. */
  bytes: number;
  /** GFLOP/s: flops / ms / 10⁶. */
  gflops: number;
  /** GB/s: bytes / ms / 10⁶. */
  gbps: number;
  /** Its fraction (0 to 1) of the step's summed kernel time. */
  share: number;
}

/** A workload's training step, kernel by kernel (profileWorkload). */
export interface Roofline {
  /** The workload's name. */
  workload: string;
  title: string;
  /** Where the times come from: the GPU's timestamp queries, or the wall clock around each dispatch. */
  source: 'timestamp-query' | 'wall clock';
  stepsProfiled: number;
  /** The kernels' times added up: the step without launch gaps. */
  kernelMs: number;
  rows: RooflineRow[];
}

/** Profiles `steps` training steps of a workload on this project's trainer (after one to warm up). */
export async function profileWorkload(device: GPUDevice, workload: Workload, options: { steps?: number; gpu?: GpuTrainerOptions } = {}): Promise<Roofline> {
  const { model, dataset, options: trainOptions } = workload.build();
  const trainer = await GpuTrainer.create(device, model, dataset, trainOptions, { capture: false, ...options.gpu });
  try {
    await trainer.train(1);
    await trainer.takeLosses();
    const steps = options.steps ?? 3;
    const profiles: KernelTiming[][] = [];
    let source: Roofline['source'] = 'wall clock';
    for (let s = 0; s < steps; s++) {
      const profiled = await trainer.profileStep();
      profiles.push(profiled.timings);
      source = profiled.source;
    }
    await trainer.takeLosses();
    const rows = profiles[0].map((first, i): RooflineRow => {
      const ms = median(profiles.map((timings) => timings[i].ms));
      return { label: first.label, kernel: first.kernel, tile: first.tile, workgroups: first.workgroups, ms, flops: first.flops, bytes: first.bytes, gflops: first.flops / (ms * 1e6), gbps: first.bytes / (ms * 1e6), share: 0 };
    });
    const kernelMs = rows.reduce((sum, row) => sum + row.ms, 0);
    for (const row of rows) row.share = row.ms / kernelMs;
    return { workload: workload.name, title: workload.title, source, stepsProfiled: steps, kernelMs, rows };
  } finally {
    trainer.dispose();
  }
}
