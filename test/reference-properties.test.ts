// The float64 reference against the calculus it implements: finite differences, the
// batch as a mean of samples, online training as batches of one.

import { describe, expect, it } from 'vitest';
import { BatchSchedule } from '../src/data/batches.ts';
import { gatherBatch } from '../src/data/dataset.ts';
import { ACTIVATIONS, LOSSES, type Activation, type Loss } from '../src/model/model.ts';
import { describeParamIndex } from '../src/model/layout.ts';
import { backward, forward, mean, sampleLosses } from '../src/reference/backprop.ts';
import { CpuTrainer } from '../src/reference/trainer.ts';
import { DEFAULT_OPTIMIZERS } from '../src/model/optimizer.ts';
import { randomDataset, randomModel, type RandomNetwork } from './support/crosscheck.ts';

const FLOAT64_TOLERANCE = 1e-12;

function batchLoss(network: RandomNetwork, seed: number, params: Float64Array, input: Float64Array, target: Float64Array, B: number): number {
  const model = randomModel(network, seed);
  const values = forward(model.spec, model.layout, params, input, B);
  return mean(sampleLosses(model.spec, values, target, B));
}

/** Every output activation with every loss it supports; hidden layers take the others in turn. */
const NETWORKS: RandomNetwork[] = ACTIVATIONS.flatMap((output: Activation) =>
  LOSSES.filter((loss: Loss) => loss !== 'cross-entropy' || output === 'softmax' || output === 'sigmoid').map((loss) => ({
    sizes: [3, 4, 5, 3],
    activations: ['tanh', output === 'relu' ? 'sigmoid' : 'relu', output] as Activation[],
    loss,
  })),
);

describe('finite differences', () => {
  for (const [k, network] of NETWORKS.entries()) {
    it(`the gradient of ${network.activations.join('-')} with ${network.loss} matches central differences`, () => {
      const model = randomModel(network, k);
      const data = randomDataset(network, 6, k);
      const B = 6;
      const { input, target } = gatherBatch(data, [0, 1, 2, 3, 4, 5]);
      const values = forward(model.spec, model.layout, model.params, input, B);
      const { grads } = backward(model.spec, model.layout, model.params, input, target, values, B);
      // Central differences are off by O(h²)·f‴ in truncation and O(ε/h) in rounding;
      // h = 1e-5 balances them near 1e-10 for these O(1) losses.
      const h = 1e-5;
      for (const entry of model.layout.entries) {
        for (let e = entry.offset; e < entry.offset + entry.length; e++) {
          const plus = model.params.slice();
          const minus = model.params.slice();
          plus[e] += h;
          minus[e] -= h;
          const numeric = (batchLoss(network, k, plus, input, target, B) - batchLoss(network, k, minus, input, target, B)) / (2 * h);
          expect(Math.abs(numeric - grads[e]), describeParamIndex(model.layout, e)).toBeLessThan(1e-8 + 1e-6 * Math.abs(numeric));
        }
      }
    });
  }
});

describe('batches', () => {
  const network: RandomNetwork = { sizes: [4, 6, 3], activations: ['sigmoid', 'softmax'], loss: 'cross-entropy' };

  it('a full-batch gradient is the mean of the per-sample gradients', () => {
    const model = randomModel(network, 1);
    const data = randomDataset(network, 7, 1);
    const rows = [0, 1, 2, 3, 4, 5, 6];
    const full = gatherBatch(data, rows);
    const values = forward(model.spec, model.layout, model.params, full.input, 7);
    const { grads } = backward(model.spec, model.layout, model.params, full.input, full.target, values, 7);
    const sum = new Float64Array(grads.length);
    for (const row of rows) {
      const one = gatherBatch(data, [row]);
      const v = forward(model.spec, model.layout, model.params, one.input, 1);
      backward(model.spec, model.layout, model.params, one.input, one.target, v, 1).grads.forEach((g, k) => (sum[k] += g));
    }
    sum.forEach((s, k) => expect(Math.abs(s / 7 - grads[k])).toBeLessThanOrEqual(FLOAT64_TOLERANCE * Math.max(1, Math.abs(grads[k]))));
  });

  it('batch size 1 in data order is online training: one update per sample, in order', async () => {
    const model = randomModel(network, 2);
    const data = randomDataset(network, 5, 2);
    const trainer = new CpuTrainer(model, data, { learningRate: 0.3, batchSize: 1, shuffle: false, seed: 1, optimizer: DEFAULT_OPTIMIZERS.sgd });
    await trainer.train(12); // more than two passes: rows 0…4, 0…4, 0, 1
    const params = model.params.slice();
    for (let step = 0; step < 12; step++) {
      const { input, target } = gatherBatch(data, [step % 5]);
      const values = forward(model.spec, model.layout, params, input, 1);
      const { grads } = backward(model.spec, model.layout, params, input, target, values, 1);
      grads.forEach((g, k) => (params[k] -= 0.3 * g));
    }
    const trained = await trainer.read('params');
    trained.forEach((p, k) => expect(Math.abs(p - params[k])).toBeLessThanOrEqual(FLOAT64_TOLERANCE));
  });

  it('frozen biases keep their values while their gradients are still reported', async () => {
    const frozen = { ...network, trainBiases: false };
    const model = randomModel(frozen, 3);
    const trainer = new CpuTrainer(model, randomDataset(frozen, 4, 3), { learningRate: 0.5, batchSize: 2, shuffle: false, seed: 1, optimizer: DEFAULT_OPTIMIZERS.adam });
    await trainer.train(3);
    const params = await trainer.read('params');
    const grads = await trainer.read('grads');
    for (const entry of model.layout.entries.filter((e) => e.kind === 'biases')) {
      for (let k = entry.offset; k < entry.offset + entry.length; k++) {
        expect(params[k]).toBe(model.params[k]);
        expect(grads[k]).not.toBe(0);
      }
    }
  });
});

describe('batch schedule', () => {
  it('in data order, batches run through the rows and wrap around', () => {
    const schedule = new BatchSchedule(5, 3, false, 1);
    expect(Array.from(schedule.indices(0))).toEqual([0, 1, 2]);
    expect(Array.from(schedule.indices(1))).toEqual([3, 4, 0]);
    expect(Array.from(schedule.indices(2))).toEqual([1, 2, 3]);
    expect(schedule.stepsForEpochs(3)).toBe(5);
  });

  it('shuffled, every epoch visits each row once, the order depends on the seed, and a step is a pure function of (seed, step)', () => {
    const schedule = new BatchSchedule(10, 4, true, 7);
    const stream = Array.from({ length: 10 }, (_, s) => Array.from(schedule.indices(s))).flat(); // 40 rows: 4 epochs
    for (let epoch = 0; epoch < 4; epoch++) {
      expect(stream.slice(epoch * 10, epoch * 10 + 10).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    }
    expect(stream.slice(0, 10)).not.toEqual(stream.slice(10, 20));
    expect(Array.from(new BatchSchedule(10, 4, true, 8).indices(0))).not.toEqual(stream.slice(0, 4));
    expect(Array.from(new BatchSchedule(10, 4, true, 7).indices(6))).toEqual(stream.slice(24, 28));
  });
});
