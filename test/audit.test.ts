// The places a mutation audit found every test would let a break through, each now held
// by an oracle of its own: TensorFlow.js's metrics, the definition of a uniform shuffle
// and of an epoch, the float64 trainer driven by hand (what carrying a fit on, or its
// optimizer's state, must equal), WebGPU's workgroup limit for the passes of a
// prediction, and the reference's steps for the profiler's.

import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { Network, type FitOptions, type ModelFile } from '../src/node.ts';
import { BatchSchedule, computeMetrics, confusionMatrix, CpuTrainer, createModel, GpuTrainer, trainOptions, type Dataset } from '../src/trainers.ts';
import { testDevice } from './support/gpu.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** TensorFlow.js's value of a per-row metric, averaged over the rows, for rows (N, K) flat. */
function tfjsMean(metric: (t: tf.Tensor, p: tf.Tensor) => tf.Tensor, targets: number[], outputs: number[], width: number): number {
  return tf.tidy(() => metric(tf.tensor2d(targets, [targets.length / width, width]), tf.tensor2d(outputs, [outputs.length / width, width])).mean().dataSync()[0]);
}

describe("the metrics are TensorFlow.js's", () => {
  // Outputs on a grid of tenths, so that ties and exactly 0.5 come up often.
  const rows = (width: number) => fc.array(fc.tuple(fc.array(fc.integer({ min: 0, max: 10 }), { minLength: width, maxLength: width }), fc.integer({ min: 0, max: width - 1 })), { minLength: 1, maxLength: 12 });

  it('categorical accuracy (the first of equal largest outputs), binary accuracy (above 0.5), mean absolute error', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 1000 }), (width, seed) => {
        const sample = fc.sample(rows(width), { seed, numRuns: 1 })[0];
        const outputs = sample.flatMap(([o]) => o.map((v) => v / 10));
        const targets = sample.flatMap(([, hot]) => Array.from({ length: width }, (_, k) => (width === 1 ? hot : k === hot ? 1 : 0)));
        const ours = computeMetrics(['accuracy', 'mae'], outputs, targets, width);
        const accuracy = width === 1 ? tf.metrics.binaryAccuracy : tf.metrics.categoricalAccuracy;
        expect(ours.accuracy).toBeCloseTo(tfjsMean(accuracy, targets, outputs, width), 6);
        expect(ours.mae).toBeCloseTo(tfjsMean(tf.metrics.meanAbsoluteError, targets, outputs, width), 6);
      }),
      { numRuns: 200 },
    );
  });

  it("R²: TensorFlow.js's r2Score for one output; for several, scikit-learn's variance-weighted R², from its definition", () => {
    fc.assert(
      // Values on a grid of hundredths: float32 (TensorFlow.js) and float64 then agree to 1e-4.
      fc.property(fc.array(fc.tuple(fc.integer({ min: -500, max: 500 }), fc.integer({ min: -500, max: 500 })), { minLength: 2, maxLength: 20 }), (pairs) => {
        const targets = pairs.map(([t]) => t / 100);
        const outputs = pairs.map(([, o]) => o / 100);
        fc.pre(new Set(targets).size > 1);
        const theirs = tf.tidy(() => tf.metrics.r2Score(tf.tensor1d(targets), tf.tensor1d(outputs)).dataSync()[0]);
        const ours = computeMetrics(['r2'], outputs, targets, 1).r2!;
        expect(Math.abs(ours - theirs)).toBeLessThan(1e-4 * Math.max(1, Math.abs(ours)));
      }),
      { numRuns: 100 },
    );
    // Two outputs of very different spread: per-column means, summed squares (sklearn's variance_weighted).
    const targets = [1, 100, 2, 300, 3, 200, 4, 400];
    const outputs = [1.5, 120, 2.5, 280, 2.5, 210, 3.5, 390];
    const mean = (c: number) => (targets[c] + targets[c + 2] + targets[c + 4] + targets[c + 6]) / 4;
    const residual = targets.reduce((sum, t, k) => sum + (t - outputs[k]) ** 2, 0);
    const total = targets.reduce((sum, t, k) => sum + (t - mean(k % 2)) ** 2, 0);
    expect(computeMetrics(['r2'], outputs, targets, 2).r2).toBeCloseTo(1 - residual / total, 12);
  });

  it("the confusion matrix is tf.math.confusionMatrix's", () => {
    const outputs = [0.1, 0.7, 0.2, 0.5, 0.5, 0, 0.2, 0.2, 0.6, 0.9, 0.05, 0.05, 0.3, 0.3, 0.4];
    const targets = [0, 1, 0, 1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 1, 0];
    const argmax = (values: number[]) => Array.from({ length: values.length / 3 }, (_, r) => values.slice(3 * r, 3 * r + 3).indexOf(Math.max(...values.slice(3 * r, 3 * r + 3))));
    const theirs = tf.tidy(() => tf.math.confusionMatrix(tf.tensor1d(argmax(targets), 'int32'), tf.tensor1d(argmax(outputs), 'int32'), 3).arraySync());
    expect(confusionMatrix(outputs, targets, 3)).toEqual(theirs);
  });
});

describe('shuffling', () => {
  it('draws every order of four rows equally often (χ², 23 degrees of freedom), a new one each epoch', () => {
    const counts = new Map<string, number>();
    let sameAsNextEpoch = 0;
    const seeds = 4800;
    for (let seed = 0; seed < seeds; seed++) {
      const schedule = new BatchSchedule(4, 4, true, seed);
      const order = Array.from(schedule.indices(0)).join('');
      counts.set(order, (counts.get(order) ?? 0) + 1);
      if (Array.from(schedule.indices(1)).join('') === order) sameAsNextEpoch++;
    }
    expect(counts.size).toBe(24);
    const expected = seeds / 24;
    const chi2 = [...counts.values()].reduce((sum, n) => sum + (n - expected) ** 2 / expected, 0);
    // The 0.1% critical value of χ² with 23 degrees of freedom: a fair shuffle exceeds it once in a thousand seeds' worth of runs.
    expect(chi2).toBeLessThan(49.73);
    // Two epochs draw independently: the same order again about one time in 24.
    expect(sameAsNextEpoch).toBeLessThan(2 * (seeds / 24));
  });
});

describe('steps per epoch', () => {
  it('epochs E over N rows in batches of B take the fewest steps whose rows visit every row E times; an epoch ends at the step that completes its visits', async () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 17 }), fc.integer({ min: 1, max: 17 }), fc.integer({ min: 1, max: 4 }), fc.boolean(), (N, B0, E, shuffle) => {
        const B = Math.min(B0, N);
        const schedule = new BatchSchedule(N, B, shuffle, 3);
        const steps = schedule.stepsForEpochs(E);
        const visits = new Array<number>(N).fill(0);
        for (let s = 0; s < steps; s++) for (const row of schedule.indices(s)) visits[row]++;
        expect(Math.min(...visits)).toBeGreaterThanOrEqual(E);
        // One step fewer leaves some row visited fewer than E times.
        const fewer = new Array<number>(N).fill(0);
        for (let s = 0; s < steps - 1; s++) for (const row of schedule.indices(s)) fewer[row]++;
        expect(Math.min(...fewer)).toBeLessThan(E);
      }),
      { numRuns: 300 },
    );
    // fit's epochs end where the definition says: 7 rows in batches of 3 over 3 epochs.
    const net = await Network.create({ inputSize: 1, seed: 1, loss: 'mse', layers: [{ units: 1, activation: 'linear' }] }, { backend: 'cpu' });
    const ends: number[] = [];
    let step = 0;
    await net.fit(
      Array.from({ length: 7 }, (_, k) => [k / 7]),
      Array.from({ length: 7 }, (_, k) => [k % 2]),
      { epochs: 3, batchSize: 3, learningRate: 0.01, callbacks: { onBatchEnd: () => void step++, onEpochEnd: () => void ends.push(step) } },
    );
    expect(ends).toEqual([3, 5, 7]); // ⌈7/3⌉, ⌈14/3⌉, ⌈21/3⌉
  });
});

describe('carrying a fit on, and its optimizer state', () => {
  const description: ModelFile = { inputSize: 2, seed: 4, loss: 'mse', layers: [{ units: 3, activation: 'tanh' }, { units: 1, activation: 'linear' }] };
  const spec = { inputSize: 2, layers: [{ units: 3, activation: 'tanh' as const }, { units: 1, activation: 'linear' as const }], loss: 'mse' as const, trainBiases: true };
  const inputs = [[0, 1], [1, 0], [1, 1], [0.5, -1], [2, 0.3], [-1, 1]];
  const targets = [[0.5], [-0.2], [1], [0], [0.3], [0.9]];
  const dataset = (x: number[][], y: number[][]): Dataset => ({ inputs: Float64Array.from(x.flat()), targets: Float64Array.from(y.flat()), size: x.length, inputSize: 2, outputSize: 1 });

  /** The float64 trainer driven by hand: `runs` one after another, each from the state the last left, optimizer state carried where `carry` says. */
  async function byHand(runs: { x: number[][]; y: number[][]; options: FitOptions; steps: number; carry: boolean }[]): Promise<Float64Array> {
    let state: Awaited<ReturnType<CpuTrainer['readState']>> | undefined;
    for (const run of runs) {
      const trainer = new CpuTrainer(createModel(spec, { seed: 4 }), dataset(run.x, run.y), trainOptions(run.options, run.x.length));
      if (state) await trainer.writeState(run.carry ? state : { ...state, optimizerState: [] });
      await trainer.train(run.steps);
      state = await trainer.readState();
    }
    return state!.params;
  }

  it('a second fit on other data of the same shape trains on that data, from where the first stopped', async () => {
    const options: FitOptions = { batchSize: 2, learningRate: 0.1, optimizer: 'momentum', epochs: 2, shuffle: false };
    const others = inputs.map(([a, b]) => [b, -a]);
    const net = await Network.create(description, { backend: 'cpu' });
    await net.fit(inputs, targets, options);
    await net.fit(others, targets, options);
    // Other targets alone are other data too.
    await net.fit(others, targets.map(([t]) => [1 - t]), options);
    const want = await byHand([
      { x: inputs, y: targets, options, steps: 6, carry: true },
      { x: others, y: targets, options, steps: 6, carry: true },
      { x: others, y: targets.map(([t]) => [1 - t]), options, steps: 6, carry: true },
    ]);
    expect(Array.from(net.params())).toEqual(Array.from(want));
  });

  it("a second fit with other options carries Adam's state on; another optimizer starts its own from zero", async () => {
    const first: FitOptions = { batchSize: 3, learningRate: 0.01, optimizer: 'adam', epochs: 2, shuffle: false };
    const second: FitOptions = { ...first, learningRate: 0.05 };
    const third: FitOptions = { ...first, optimizer: 'momentum', learningRate: 0.02 };
    const net = await Network.create(description, { backend: 'cpu' });
    await net.fit(inputs, targets, first);
    await net.fit(inputs, targets, second);
    await net.fit(inputs, targets, third);
    const want = await byHand([
      { x: inputs, y: targets, options: first, steps: 4, carry: true },
      { x: inputs, y: targets, options: second, steps: 4, carry: true },
      { x: inputs, y: targets, options: third, steps: 4, carry: false },
    ]);
    expect(Array.from(net.params())).toEqual(Array.from(want));
  });

  it('a checkpoint taken at the last step of its run resumes to no further step', async () => {
    const options: FitOptions = { steps: 4, batchSize: 2, learningRate: 0.1 };
    const saved: string[] = [];
    const net = await Network.create(description, { backend: 'cpu' });
    await net.fit(inputs, targets, { ...options, checkpoint: { every: 4, save: (c) => void saved.push(JSON.stringify(c)) } });
    const resumed = await Network.create(description, { backend: 'cpu' });
    const history = await resumed.fit(inputs, targets, { ...options, resume: saved[0] });
    expect(history.steps).toBe(0);
    expect(Array.from(resumed.params())).toEqual(Array.from(net.params()));
  });
});

describe('the passes of a prediction on WebGPU', () => {
  it("dispatch no more workgroups in a dimension than the adapter allows, however many rows: a limit of 2 makes several passes, with the reference's outputs", async () => {
    const real = await testDevice();
    const dispatched: number[][] = [];
    // The same device, with a limit of 2 workgroups a dimension, and its dispatches counted.
    const pass = (inner: GPUComputePassEncoder) =>
      new Proxy(inner, {
        get: (target, key) =>
          key === 'dispatchWorkgroups'
            ? (...sizes: number[]) => {
                dispatched.push(sizes);
                target.dispatchWorkgroups(...(sizes as [number]));
              }
            : (Reflect.get(target, key, target) as (...a: unknown[]) => unknown)?.bind?.(target) ?? Reflect.get(target, key, target),
      });
    const encoder = (inner: GPUCommandEncoder) =>
      new Proxy(inner, {
        get: (target, key) => (key === 'beginComputePass' ? (d?: GPUComputePassDescriptor) => pass(target.beginComputePass(d)) : (Reflect.get(target, key, target) as (...a: unknown[]) => unknown)?.bind?.(target) ?? Reflect.get(target, key, target)),
      });
    const limits = new Proxy(real.limits, { get: (target, key) => (key === 'maxComputeWorkgroupsPerDimension' ? 2 : Reflect.get(target, key, target)) });
    const device = new Proxy(real, {
      get: (target, key) => {
        if (key === 'limits') return limits;
        if (key === 'createCommandEncoder') return (d?: GPUCommandEncoderDescriptor) => encoder(target.createCommandEncoder(d));
        const value = Reflect.get(target, key, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const description: ModelFile = { inputSize: 3, seed: 8, loss: 'mse', layers: [{ units: 5, activation: 'tanh' }, { units: 2, activation: 'linear' }] };
    const net = await Network.create(description, { device });
    const rows = Array.from({ length: 300 }, (_, k) => [Math.sin(k), Math.cos(k), k / 300]);
    const outputs = await net.predict(rows);
    expect(dispatched.length).toBeGreaterThan(2);
    for (const sizes of dispatched) expect(Math.max(...sizes), JSON.stringify(sizes)).toBeLessThanOrEqual(2);
    const reference = await (await Network.create(description, { backend: 'cpu' })).predict(rows);
    outputs.flat().forEach((value, k) => expect(Math.abs(value - reference.flat()[k])).toBeLessThan(1e-5));
    net.dispose();
  });
});

describe("the profiler's steps", () => {
  it('each profiled step is a training step like any other: the next batch, its loss kept, the step counted', async () => {
    const spec = { inputSize: 3, layers: [{ units: 70, activation: 'tanh' as const }, { units: 2, activation: 'linear' as const }], loss: 'mse' as const, trainBiases: true };
    const model = createModel(spec, { seed: 3 });
    const data: Dataset = { inputs: Float64Array.from({ length: 30 }, (_, k) => Math.sin(k)), targets: Float64Array.from({ length: 20 }, (_, k) => Math.cos(k)), size: 10, inputSize: 3, outputSize: 2 };
    const options = trainOptions({ batchSize: 4, learningRate: 0.1, shuffle: true, seed: 2 }, 10);
    const trainer = await GpuTrainer.create(await testDevice(), model, data, options, { path: 'layered' });
    await trainer.profileStep();
    await trainer.train(1);
    await trainer.profileStep();
    await trainer.train(2);
    expect(trainer.step).toBe(5);
    const reference = new CpuTrainer(model, data, options);
    await reference.train(5);
    const [losses, expected] = [await trainer.takeLosses(), await reference.takeLosses()];
    expect(losses).toHaveLength(5);
    losses.forEach((loss, k) => expect(Math.abs(loss - expected[k]), `loss of step ${k}`).toBeLessThan(1e-5));
    const [ours, theirs] = [await trainer.read('params'), await reference.read('params')];
    ours.forEach((value, k) => expect(Math.abs(value - theirs[k])).toBeLessThan(1e-5));
    trainer.dispose();
  });
});
