// The benchmarks' own parts, for correctness only (a test never times anything): the tight
// float64 loop against the reference, the exact FLOP count, and the suite's bookkeeping
// (interleaved repetitions, medians, every timed run's parameters checked) on stand-in
// backends.

import { describe, expect, it } from 'vitest';
import { TightLoop } from '../src/bench/tight.ts';
import { flopsPerStep, W1, W2, W3 } from '../src/bench/workloads.ts';
import { measureWorkload } from '../src/bench/suite.ts';
import { breakEven } from '../src/bench/report.ts';
import type { Backend } from '../src/bench/backends.ts';
import { CpuTrainer } from '../src/reference/trainer.ts';
import { caseSetup } from '../src/examples/worked-example.ts';
import { mazur } from '../src/examples/articles.ts';
import { randomDataset, randomModel } from './support/crosscheck.ts';
import type { Measurement } from '../src/bench/suite.ts';

describe('the tight float64 loop', () => {
  const cases = [
    { name: "article 001's network (frozen biases)", ...caseSetup(mazur.cases[0]) },
    (() => {
      const network = { sizes: [7, 13, 5, 3], activations: ['sigmoid', 'sigmoid', 'sigmoid'] as const, loss: 'half-sse' as const };
      const model = randomModel({ ...network, activations: [...network.activations] }, 11);
      const dataset = randomDataset({ ...network, activations: [...network.activations] }, 20, 11);
      return { name: '7-13-5-3, batch 6, wrapping round the data', model, dataset, options: { learningRate: 0.3, batchSize: 6, shuffle: false, seed: 1, optimizer: { kind: 'sgd' as const } } };
    })(),
  ];

  it.each(cases)('trains as the reference does, to float64 rounding: $name', async ({ model, dataset, options }) => {
    const loop = new TightLoop(model, dataset, options);
    const reference = new CpuTrainer(model, dataset, options);
    loop.train(7);
    await reference.train(7);
    const expected = await reference.read('params');
    // Sums in another order: a few units of float64 roundoff, relative to each parameter's size.
    loop.params.forEach((p, k) => expect(Math.abs(p - expected[k])).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(expected[k]))));
    const losses = loop.takeLosses();
    (await reference.takeLosses()).forEach((loss, k) => expect(Math.abs(losses[k] - loss)).toBeLessThanOrEqual(1e-12 * loss));
  });

  it('refuses what it does not run', () => {
    const { model, dataset, options } = caseSetup(mazur.cases[0]);
    expect(() => new TightLoop(model, dataset, { ...options, shuffle: true })).toThrow(/data order/);
  });
});

describe('the FLOPs of a step', () => {
  it('count the three products exactly, with no δ for the input layer', () => {
    // W3: 1024-1024-1024-10, batch 256, SGD.
    const B = 256;
    const layers = [
      [1024, 1024],
      [1024, 1024],
      [1024, 10],
    ];
    let expected = 0;
    layers.forEach(([IN, OUT], l) => {
      expected += 2 * B * IN * OUT + B * OUT; // forward
      if (l > 0) expected += 2 * B * OUT * IN + B * IN; // δ of the layer below
      expected += 2 * OUT * IN * B + OUT * B + 3 * (OUT * IN + OUT); // gradient, bias sums, scaling and update
    });
    expect(flopsPerStep(W3)).toBe(expected);
    // The shortcut 6 × weights × batch is 1.2× this count on W3 and 1.47× on W2 (bench/README.md).
    expect((6 * (1024 * 1024 * 2 + 10240) * 256) / flopsPerStep(W3)).toBeCloseTo(1.2, 2);
    expect((6 * (784 * 128 + 1280) * 64) / flopsPerStep(W2)).toBeCloseTo(1.47, 2);
    // W1, 2-2-2 at batch 1: forward 2 × (2·2·2 + 2), δ 2·2·2 + 2, gradients and SGD 2 × (2·2·2 + 2 + 3·6).
    expect(flopsPerStep(W1)).toBe(86);
  });
});

/** A stand-in backend: the reference itself, optionally with its parameters nudged; it logs each run. */
function standIn(name: string, calls: string[], nudge = 0): Backend {
  return {
    name,
    device: 'test',
    async start(workload) {
      const { model, dataset, options } = workload.build();
      const trainer = new CpuTrainer(model, dataset, options);
      return {
        async train(steps) {
          calls.push(name);
          await trainer.train(steps);
          await new Promise((resolve) => setTimeout(resolve, 2));
        },
        params: async () => (await trainer.read('params')).map((p) => p + nudge),
        dispose: () => trainer.dispose(),
      };
    },
  };
}

describe('the suite', () => {
  it('interleaves the repetitions of the backends, reports medians with their extremes, and checks every timed run', async () => {
    const calls: string[] = [];
    const measurements = await measureWorkload(W1, [standIn('a', calls), standIn('b', calls, 1e-3)], { reps: 5, repMs: 5 });
    // Warm-up and calibration first, then the repetitions alternate.
    expect(calls.slice(-10)).toEqual(['a', 'b', 'a', 'b', 'a', 'b', 'a', 'b', 'a', 'b']);
    const [a, b] = measurements;
    expect(a.reps).toBe(5);
    expect(a.repMsPerStep).toHaveLength(5);
    expect(a.minMsPerStep).toBeLessThanOrEqual(a.msPerStep);
    expect(a.msPerStep).toBeLessThanOrEqual(a.maxMsPerStep);
    expect([...a.repMsPerStep].sort((x, y) => x - y)[2]).toBe(a.msPerStep);
    expect(a.check).toBe('passed');
    // Parameters a thousandth off fail the check, and the message says after which step.
    expect(b.check).toBe('failed');
    expect(b.checkMessage).toMatch(/^after step \d+: params: /);
    expect(a.gflops).toBeCloseTo(flopsPerStep(W1) / (a.msPerStep * 1e6), 9);
  });

  it('reports a backend that fails, and goes on with the others', async () => {
    const calls: string[] = [];
    const broken: Backend = { name: 'broken', device: 'test', start: async () => Promise.reject(new Error('no such backend here')) };
    const [failed, ok] = await measureWorkload(W1, [broken, standIn('a', calls)], { reps: 2, repMs: 5 });
    expect(failed.error).toBe('no such backend here');
    expect(failed.check).toBe('failed');
    expect(ok.check).toBe('passed');
  });

  it('stops between repetitions when its signal aborts: what ran is kept and checked, a backend not yet started says so', async () => {
    const controller = new AbortController();
    let calibrated = false;
    const b = standIn('b', []);
    // 'b' aborts after its first timed repetition, which follows the first of 'a'.
    const stopping: Backend = {
      ...b,
      async start(workload) {
        const run = await b.start(workload);
        return {
          ...run,
          async train(steps) {
            await run.train(steps);
            if (calibrated) controller.abort();
          },
        };
      },
    };
    const log = (line: string) => (calibrated ||= /^W1 on b: \d+ steps a repetition$/.test(line));
    const [first, second] = await measureWorkload(W1, [standIn('a', []), stopping], { reps: 5, repMs: 5, signal: controller.signal, log });
    expect([first.reps, second.reps]).toEqual([1, 1]);
    expect([first.check, second.check]).toEqual(['passed', 'passed']);

    const [never] = await measureWorkload(W1, [standIn('c', [])], { reps: 5, repMs: 5, signal: AbortSignal.abort() });
    expect(never.error).toBe('stopped');
    expect(never.reps).toBe(0);
  });

  it('finds where WebGPU overtakes another backend in the sweep', () => {
    const point = (backend: string, width: number, batch: number, samplesPerSecond: number) => ({ backend, workload: `sweep w${width} b${batch}`, samplesPerSecond }) as Measurement;
    const measurements = [
      point('webgpu-backprop (WebGPU)', 16, 1, 1),
      point('cpu', 16, 1, 2),
      point('webgpu-backprop (WebGPU)', 256, 1, 3),
      point('cpu', 256, 1, 2),
      point('webgpu-backprop (WebGPU)', 16, 128, 1),
      point('cpu', 16, 128, 2),
      point('webgpu-backprop (WebGPU)', 256, 128, 1),
      point('cpu', 256, 128, 2),
    ];
    expect(breakEven(measurements, 'webgpu-backprop')).toEqual([
      'WebGPU overtakes cpu: batch 1: from width 256; batch 128: never, up to width 256. By width: width 16: never, up to batch 128; width 256: never, up to batch 128.',
    ]);
  });
});
