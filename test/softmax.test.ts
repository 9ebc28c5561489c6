// Softmax where it breaks when written naively: logits near ±100 (exp overflows float32)
// and ±1,000 (exp overflows float64), against a log-sum-exp computed here, independently
// of the reference, on the reference and on both GPU kernel paths. And softmax with
// cross-entropy on targets that do not sum to 1, where δ = out·Σt − t, not out − t.

import { beforeAll, describe, expect, it } from 'vitest';
import { gatherBatch, type Dataset } from '../src/data/dataset.ts';
import { GpuTrainer, type KernelPath } from '../src/gpu/trainer.ts';
import { paramView } from '../src/model/layout.ts';
import type { Model } from '../src/model/network.ts';
import { DEFAULT_OPTIMIZERS } from '../src/model/optimizer.ts';
import { softmax } from '../src/reference/activations.ts';
import { backward, forward, mean, sampleLosses } from '../src/reference/backprop.ts';
import { crossCheck } from '../src/check/crosscheck.ts';
import type { TrainOptions } from '../src/model/trainer.ts';
import { expectAllClose, randomDataset, randomModel, type RandomNetwork } from './support/crosscheck.ts';
import { testDevice } from './support/gpu.ts';

/** log(e^a + e^b), from the larger of the two: never overflows, and never adds two infinities. */
function logAddExp(a: number, b: number): number {
  return Math.max(a, b) + Math.log1p(Math.exp(-Math.abs(a - b)));
}

/** log Σ_k e^{x_k}, folded pairwise: written here, not taken from the reference. */
function independentLogSumExp(x: ArrayLike<number>): number {
  let total = x[0];
  for (let k = 1; k < x.length; k++) total = logAddExp(total, x[k]);
  return total;
}

/**
 * Float64 near logits of ±1,000: net_k − log Σ e^net is a difference of two numbers near
 * 1,000, exact to a few ulp(1000) = 1.1e-13, and exp carries that over as the same
 * relative error; the pairwise fold adds K − 1 roundings of log1p. 1e-12 relative covers
 * both with room.
 */
const FLOAT64_NEAR_1000 = 1e-12;

const LOGIT_ROWS = [
  [1000, 999, -1000, 998.5],
  [-1000, -1001, -999.5, -1003],
  [100, -100, 99.9, 0],
  [-100, -100, -100, -100],
  [88.8, 88.7, 88.9, 89],
];

describe('softmax at extreme logits, on the float64 reference', () => {
  it.each(LOGIT_ROWS)('softmax(%d, %d, %d, %d) is exp(net − log Σ e^net), finite, summing to 1', (...row) => {
    const out = softmax(row);
    const lse = independentLogSumExp(row);
    out.forEach((o, k) => {
      const expected = Math.exp(row[k] - lse);
      expect(Math.abs(o - expected), `out[${k}]`).toBeLessThanOrEqual(FLOAT64_NEAR_1000 * expected);
    });
    expect(Math.abs(out.reduce((a, b) => a + b, 0) - 1)).toBeLessThanOrEqual(FLOAT64_NEAR_1000);
  });

  it('the cross-entropy loss and the forward pass of a network whose logits are near ±1,000', () => {
    for (const center of [1000, -1000, 100, -100]) {
      const { model, dataset } = extremeNetwork(center, 3);
      const batch = dataset.size;
      const { input, target } = gatherBatch(dataset, Array.from({ length: batch }, (_, k) => k));
      const values = forward(model.spec, model.layout, model.params, input, batch);
      const losses = sampleLosses(model.spec, values, target, batch);
      const K = dataset.outputSize;
      for (let b = 0; b < batch; b++) {
        const net = values.net[1].subarray(b * K, (b + 1) * K);
        const t = target.subarray(b * K, (b + 1) * K);
        const lse = independentLogSumExp(net);
        expect(Math.max(...net.map(Math.abs))).toBeGreaterThan(Math.abs(center) - 10);
        net.forEach((n, k) => {
          const expected = Math.exp(n - lse);
          expect(Math.abs(values.out[1][b * K + k] - expected), `sample ${b}, out[${k}]`).toBeLessThanOrEqual(FLOAT64_NEAR_1000 * expected);
        });
        const expectedLoss = -t.reduce((sum, tk, k) => sum + tk * (net[k] - lse), 0);
        expect(Math.abs(losses[b] - expectedLoss), `sample ${b} loss`).toBeLessThanOrEqual(FLOAT64_NEAR_1000 * Math.max(1, Math.abs(expectedLoss)));
      }
    }
  });
});

/**
 * A tanh → softmax network whose output biases put its logits near `center`, spread
 * over a few units (and one of them a thousand below where `center` is ±1,000).
 */
function extremeNetwork(center: number, seed: number): { model: Model; dataset: Dataset } {
  const network: RandomNetwork = { sizes: [3, 6, 5], activations: ['tanh', 'softmax'], loss: 'cross-entropy' };
  const model = randomModel(network, seed);
  const spread = Math.abs(center) >= 1000 ? [0, -0.5, -3, 1, -1000] : [0, -0.5, -3, 1, -2];
  paramView(model.layout, model.params, 1, 'biases').set(spread.map((s) => center + s));
  return { model, dataset: randomDataset(network, 24, seed) };
}

/**
 * Rows of targets that do not sum to 1, each target still in [0, 1] (cross-entropy takes
 * no other): scaled down (sums 0.2 to 1), all zero, multi-label (sum 2).
 */
function unnormalisedTargets(dataset: Dataset): Dataset {
  const targets = dataset.targets.slice();
  const K = dataset.outputSize;
  for (let n = 0; n < dataset.size; n++) {
    const row = targets.subarray(n * K, (n + 1) * K);
    if (n % 4 === 0) row.fill(0);
    else if (n % 4 === 1) row.forEach((_, k) => (row[k] = k < 2 ? 1 : 0));
    else row.forEach((v, k) => (row[k] = (v * (1 + (n % 5))) / 5));
  }
  return { ...dataset, targets };
}

describe('softmax with cross-entropy on targets that do not sum to 1, on the float64 reference', () => {
  it('δ = ∂E/∂net is out·Σt − t: the output deltas and every gradient match central differences of the loss', () => {
    const network: RandomNetwork = { sizes: [3, 4, 3], activations: ['tanh', 'softmax'], loss: 'cross-entropy' };
    const model = randomModel(network, 5);
    const dataset = unnormalisedTargets(randomDataset(network, 8, 5));
    const rows = Array.from({ length: dataset.size }, (_, k) => k);
    const { input, target } = gatherBatch(dataset, rows);
    const B = dataset.size;
    const loss = (params: Float64Array) => mean(sampleLosses(model.spec, forward(model.spec, model.layout, params, input, B), target, B));
    const values = forward(model.spec, model.layout, model.params, input, B);
    const { delta, grads } = backward(model.spec, model.layout, model.params, input, target, values, B);
    // Central differences are off by O(h²)·f‴ in truncation and O(ε/h) in rounding;
    // h = 1e-5 balances them near 1e-10 for these O(1) losses.
    const h = 1e-5;
    for (let e = 0; e < model.layout.size; e++) {
      const plus = model.params.slice();
      const minus = model.params.slice();
      plus[e] += h;
      minus[e] -= h;
      const numeric = (loss(plus) - loss(minus)) / (2 * h);
      expect(Math.abs(numeric - grads[e]), `parameter ${e}`).toBeLessThan(1e-8 + 1e-6 * Math.abs(numeric));
    }
    // The deltas themselves: E as a function of one sample's net inputs.
    const K = 3;
    for (let b = 0; b < B; b++) {
      const net = values.net[1].subarray(b * K, (b + 1) * K);
      const t = target.subarray(b * K, (b + 1) * K);
      const sampleLoss = (n: Float64Array) => -t.reduce((sum, tk, k) => sum + tk * (n[k] - independentLogSumExp(n)), 0);
      for (let k = 0; k < K; k++) {
        const plus = net.slice();
        const minus = net.slice();
        plus[k] += h;
        minus[k] -= h;
        // The batch's loss is the mean: δ is ∂E_sample/∂net.
        const numeric = (sampleLoss(plus) - sampleLoss(minus)) / (2 * h);
        expect(Math.abs(numeric - delta[1][b * K + k]), `sample ${b}, δ[${k}]`).toBeLessThan(1e-8 + 1e-6 * Math.abs(numeric));
      }
    }
  });
});

describe('on WebGPU, both kernel paths', () => {
  let device: GPUDevice;
  beforeAll(async () => {
    device = await testDevice();
  });

  const PATHS: KernelPath[] = ['layered', 'fused'];
  const options = (batchSize: number): TrainOptions => ({ learningRate: 0.1, batchSize, shuffle: true, seed: 2, optimizer: DEFAULT_OPTIMIZERS.sgd });

  it.each(PATHS)('%s kernels: logits near ±100 and ±1,000 give the reference\'s every buffer over 3 steps', async (path) => {
    for (const center of [100, -100, 1000, -1000]) {
      const { model, dataset } = extremeNetwork(center, 7);
      const trainer = await GpuTrainer.create(device, model, dataset, options(8), { path });
      expect(trainer.path).toBe(path);
      const comparisons = await crossCheck(trainer, model, dataset, options(8), 3);
      trainer.dispose();
      for (const comparison of comparisons) expect(comparison.ok, `logits near ${center}: ${comparison.message}`).toBe(true);
    }
  });

  it('prediction (softmax.wgsl): logits near ±100 and ±1,000 give the reference\'s outputs', async () => {
    for (const center of [100, -100, 1000, -1000]) {
      const { model, dataset } = extremeNetwork(center, 5);
      const trainer = await GpuTrainer.create(device, model, dataset, options(8));
      const predicted = await trainer.predict(dataset.inputs, dataset.size);
      trainer.dispose();
      const expected = forward(model.spec, model.layout, model.params, dataset.inputs, dataset.size).out[1];
      // In float32 each logit carries the rounding of its sum, up to 8 terms with the
      // bias near |center| dominating: ≤ 8 · 2⁻²⁴ · 1,001 ≈ 4.8e-4. out_k = e^(net_k − lse)
      // then carries twice that as a relative error: e^(9.6e-4) − 1 < 1e-3. Without the
      // row maximum, e^100 and e^1000 overflow float32 and every output is NaN.
      const FLOAT32_NEAR_1000 = 1e-3;
      predicted.forEach((p, k) => expect(Math.abs(p - expected[k]), `logits near ${center}, output ${k}`).toBeLessThanOrEqual(FLOAT32_NEAR_1000 * expected[k]));
    }
  });

  it.each(PATHS)('%s kernels: targets that do not sum to 1 give the reference\'s deltas, gradients and parameters', async (path) => {
    const network: RandomNetwork = { sizes: [4, 7, 5], activations: ['relu', 'softmax'], loss: 'cross-entropy' };
    const model = randomModel(network, 9);
    const dataset = unnormalisedTargets(randomDataset(network, 20, 9));
    const trainer = await GpuTrainer.create(device, model, dataset, options(6), { path });
    expect(trainer.path).toBe(path);
    expectAllClose(await crossCheck(trainer, model, dataset, options(6), 3));
    trainer.dispose();
  });
});
