// Timing each dispatch of one step on its own, for the benchmarks' roofline table: with
// timestamp queries where the device has them, else by the wall clock, one submit per
// dispatch (which adds each submit's overhead to each).

import type { Dispatch, StepEncoder } from './encoder.ts';
import type { Pacer } from './pacing.ts';
import { describePlan } from './tiles.ts';

/** One kernel's time in a profiled step. */
export interface KernelTiming {
  label: string;
  kernel: string;
  /** A matrix product's tile, e.g. `128×128×32, 8×16 a thread, split 1`. */
  tile?: string;
  ms: number;
  flops: number;
  bytes: number;
  workgroups: [number, number, number];
}

function timing(dispatch: Dispatch, ms: number): KernelTiming {
  return {
    label: dispatch.label,
    kernel: dispatch.kernel,
    tile: dispatch.plan && describePlan(dispatch.plan),
    ms,
    flops: dispatch.flops,
    bytes: dispatch.bytes,
    workgroups: dispatch.workgroups,
  };
}

/**
 * Runs the step uploaded to step slot 0, timing each dispatch of `encoder`'s plan. The
 * fused path's one dispatch is the whole step: its submit is timed. `pacer` paces the wait
 * for the timestamps as training's waits are, so it does not take a core from the step.
 */
export async function timeStep(
  device: GPUDevice,
  encoder: StepEncoder,
  fused: boolean,
  pacer: Pacer,
): Promise<{ timings: KernelTiming[]; source: 'timestamp-query' | 'wall clock' }> {
  const plan = encoder.plan;
  const timings: KernelTiming[] = [];
  const wallClock = async (dispatch: Dispatch, record: (commands: GPUCommandEncoder) => void) => {
    const commands = device.createCommandEncoder({ label: dispatch.label });
    record(commands);
    const started = performance.now();
    device.queue.submit([commands.finish()]);
    await device.queue.onSubmittedWorkDone();
    timings.push(timing(dispatch, performance.now() - started));
  };
  if (fused) {
    await wallClock(plan[0], (commands) => encoder.encode(commands, 0, 1));
    return { timings, source: 'wall clock' };
  }
  if (!device.features.has('timestamp-query')) {
    for (const dispatch of plan) {
      await wallClock(dispatch, (commands) => {
        const pass = commands.beginComputePass({ label: dispatch.label });
        encoder.encodeDispatch(pass, dispatch, 0);
        pass.end();
      });
    }
    return { timings, source: 'wall clock' };
  }
  const querySet = device.createQuerySet({ type: 'timestamp', count: 2 * plan.length });
  const resolved = device.createBuffer({ size: 16 * plan.length, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC }); // (2 · dispatches) u64
  const readback = device.createBuffer({ size: 16 * plan.length, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  try {
    const commands = device.createCommandEncoder({ label: 'profiled step' });
    plan.forEach((dispatch, i) => {
      const pass = commands.beginComputePass({ label: dispatch.label, timestampWrites: { querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } });
      encoder.encodeDispatch(pass, dispatch, 0);
      pass.end();
    });
    commands.resolveQuerySet(querySet, 0, 2 * plan.length, resolved, 0);
    commands.copyBufferToBuffer(resolved, 0, readback, 0, 16 * plan.length);
    device.queue.submit([commands.finish()]);
    await pacer.wait(1, performance.now(), () => readback.mapAsync(GPUMapMode.READ));
    const stamps = new BigUint64Array(readback.getMappedRange());
    plan.forEach((dispatch, i) => timings.push(timing(dispatch, Number(stamps[2 * i + 1] - stamps[2 * i]) / 1e6)));
    readback.unmap();
    return { timings, source: 'timestamp-query' };
  } finally {
    querySet.destroy();
    resolved.destroy();
    readback.destroy();
  }
}
