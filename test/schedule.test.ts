// Learning-rate schedules: the rate of each step by its formula, a schedule given as a
// function, a resumed run continuing the count, and on WebGPU the per-step rate read from
// the Step struct: every buffer agrees with the reference, and no kernel is compiled
// again for another schedule. Against PyTorch's schedulers: test/pytorch.test.ts.

import { beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../src/errors.ts';
import { Network } from '../src/network.ts';
import { GpuTrainer } from '../src/gpu/trainer.ts';
import { DEFAULT_OPTIMIZERS } from '../src/model/optimizer.ts';
import { checkSchedule, learningRateAt, type LearningRateSchedule } from '../src/model/schedule.ts';
import { CpuTrainer } from '../src/reference/trainer.ts';
import { crossCheck, expectAllClose, randomDataset, randomModel, type RandomNetwork } from './support/crosscheck.ts';
import { testDevice } from './support/gpu.ts';

describe('the rate of step s', () => {
  const rates = (schedule: LearningRateSchedule, steps: number) => Array.from({ length: steps }, (_, s) => learningRateAt(0.1, schedule, s));

  it('step:S:G is η·G^⌊s/S⌋', () => {
    expect(rates({ decay: { kind: 'step', every: 2, gamma: 0.5 } }, 5)).toEqual([0.1, 0.1, 0.05, 0.05, 0.025]);
  });

  it('exponential:G is η·G^s', () => {
    expect(rates({ decay: { kind: 'exponential', gamma: 0.5 } }, 4)).toEqual([0.1, 0.05, 0.025, 0.0125]);
  });

  it('cosine:T is η·(1 + cos(π·min(s, T)/T))/2, held at 0 from T on', () => {
    const cosine = rates({ decay: { kind: 'cosine', steps: 4 } }, 7);
    [0.1, 0.1 * (1 + Math.SQRT1_2) / 2, 0.05, 0.1 * (1 - Math.SQRT1_2) / 2, 0, 0, 0].forEach((rate, s) => expect(cosine[s]).toBeCloseTo(rate, 15));
  });

  it('a warmup of W multiplies any of them by min(1, (s + 1)/W)', () => {
    rates({ warmup: 4 }, 6).forEach((rate, s) => expect(rate).toBeCloseTo([0.025, 0.05, 0.075, 0.1, 0.1, 0.1][s], 15));
    rates({ decay: { kind: 'step', every: 2, gamma: 0.5 }, warmup: 2 }, 4).forEach((rate, s) => expect(rate).toBeCloseTo([0.05, 0.1, 0.05, 0.05][s], 15));
  });

  it('a function gives the rate itself; one that gives no rate ≥ 0 is refused at that step', () => {
    expect(rates((s) => 1 / (s + 1), 3)).toEqual([1, 0.5, 1 / 3]);
    expect(() => learningRateAt(0.1, (s) => (s === 2 ? NaN : 0.1), 2)).toThrow(/^learningRate: the schedule gave NaN for step 2; expected a number ≥ 0$/);
  });

  it.each([
    [{ warmup: 0 }, /^schedule\.warmup: expected a positive integer, got 0$/],
    [{ decay: { kind: 'step', every: 1.5, gamma: 0.5 } }, /^schedule\.decay\.every: expected a positive integer, got 1\.5$/],
    [{ decay: { kind: 'exponential', gamma: -1 } }, /^schedule\.decay\.gamma: expected a positive number, got -1$/],
    [{ decay: { kind: 'cosine', steps: Infinity } }, /^schedule\.decay\.steps: expected a positive integer, got Infinity$/],
  ] as [LearningRateSchedule, RegExp][])('a bad schedule is refused, naming the field: %o', (schedule, message) => {
    expect(() => checkSchedule(schedule, 'schedule')).toThrow(InputError);
    expect(() => checkSchedule(schedule, 'schedule')).toThrow(message);
  });
});

const network: RandomNetwork = { sizes: [3, 6, 2], activations: ['tanh', 'linear'], loss: 'mse' };
const model = randomModel(network, 5);
const dataset = randomDataset(network, 12, 5);
const options = { learningRate: 0.1, batchSize: 4, shuffle: true, seed: 2, optimizer: DEFAULT_OPTIMIZERS.adam, schedule: { decay: { kind: 'step', every: 2, gamma: 0.5 }, warmup: 3 } as LearningRateSchedule };

describe('a schedule in training', () => {
  it('a resumed run continues the count: 3 steps, then 3 more on a new trainer from that state, are the 6 steps of one run', async () => {
    const whole = new CpuTrainer(model, dataset, options);
    await whole.train(6);
    const first = new CpuTrainer(model, dataset, options);
    await first.train(3);
    const resumed = new CpuTrainer(model, dataset, options);
    await resumed.writeState(await first.readState());
    await resumed.train(3);
    expect(await resumed.read('params')).toEqual(await whole.read('params'));
  });

  it("Network.fit takes each call's own function: a rate of 0, then another function's rate, moves the weights only the second time", async () => {
    const network = await Network.create({ inputSize: 2, seed: 3, loss: 'mse', layers: [{ units: 3, activation: 'tanh' }, { units: 1, activation: 'linear' }] }, { backend: 'cpu' });
    const [inputs, targets] = [[[0.1, 0.9], [0.7, 0.2]], [[0.5], [0.1]]];
    const start = network.toJSON();
    await network.fit(inputs, targets, { steps: 2, batchSize: 2, learningRate: () => 0 });
    expect(network.toJSON()).toEqual(start);
    await network.fit(inputs, targets, { steps: 2, batchSize: 2, learningRate: () => 0.1 });
    expect(network.toJSON()).not.toEqual(start);
    network.dispose();
  });

  let device: GPUDevice;
  beforeAll(async () => {
    device = await testDevice();
  });

  it.each(['layered', 'fused'] as const)('on WebGPU, %s kernels, a schedule given as a function: every buffer after 5 steps', async (path) => {
    const withFunction = { ...options, schedule: (s: number) => 0.05 / (1 + s) };
    expectAllClose(await crossCheck(device, model, dataset, withFunction, 5, { path }));
  });

  it('on WebGPU, another schedule compiles nothing: both trainers run the same pipelines', async () => {
    const a = await GpuTrainer.create(device, model, dataset, options, { path: 'layered' });
    const b = await GpuTrainer.create(device, model, dataset, { ...options, schedule: { decay: { kind: 'cosine', steps: 10 } } }, { path: 'layered' });
    try {
      expect(b.plan.map((dispatch) => dispatch.pipeline)).toEqual(a.plan.map((dispatch) => dispatch.pipeline));
      for (const [x, y] of b.plan.map((dispatch, k) => [dispatch.pipeline, a.plan[k].pipeline])) expect(x).toBe(y);
    } finally {
      a.dispose();
      b.dispose();
    }
  });
});
