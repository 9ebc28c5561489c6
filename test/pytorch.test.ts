// Training against PyTorch itself. The same networks, data, batches and settings are
// trained here (the float64 reference, and WebGPU on the layered and the fused kernels)
// and in PyTorch's float64 nn and optim (support/torch_train.py, Debian's python3-torch):
// the reference's parameters agree with PyTorch's to 1e-9 of their size, and WebGPU's are
// within the float32 tolerance derived step by step from the reference (src/check), plus
// the reference's own distance from PyTorch. On WebGPU every buffer of the last step is
// checked against the reference too. Each op's meaning is PyTorch's.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReferenceTrajectory } from '../src/check/crosscheck.ts';
import type { Dataset } from '../src/data/dataset.ts';
import { bufferNames } from '../src/model/buffers.ts';
import { GpuTrainer, type KernelPath } from '../src/gpu/trainer.ts';
import type { Model } from '../src/model/network.ts';
import { DEFAULT_OPTIMIZERS, type OptimizerSpec } from '../src/model/optimizer.ts';
import type { TrainOptions } from '../src/model/trainer.ts';
import type { LearningRateSchedule } from '../src/model/schedule.ts';
import { CpuTrainer } from '../src/reference/trainer.ts';
import { randomDataset, randomModel, type RandomNetwork } from './support/crosscheck.ts';
import { testDevice } from './support/gpu.ts';
import { relativeDifference, trainInTorch, type TorchResult } from './support/torch.ts';

/** float64 against float64, over a few steps: rounding in a different order, no more. */
const REFERENCE_AGREEMENT = 1e-9;

interface Case {
  name: string;
  network: RandomNetwork;
  rows: number;
  batch: number;
  steps: number;
  /** Data order (batches wrap around the data) where false. */
  shuffle?: boolean;
  optimizer?: OptimizerSpec;
  learningRate?: number;
  schedule?: LearningRateSchedule;
  clipNorm?: number;
  /** The GPU paths to run: the layered kernels always, the fused kernel where the network fits it. */
  paths: KernelPath[];
  /** Targets scaled by this much (errors past a loss's bends). */
  targetScale?: number;
}

const CASES: Case[] = [
  { name: 'sigmoid, half-sse, SGD', network: { sizes: [3, 5, 2], activations: ['sigmoid', 'sigmoid'], loss: 'half-sse' }, rows: 10, batch: 4, steps: 6, paths: ['layered', 'fused'] },
  { name: 'tanh, mse, momentum, batches wrapping around the data', network: { sizes: [4, 6, 3], activations: ['tanh', 'linear'], loss: 'mse' }, rows: 10, batch: 4, steps: 6, shuffle: false, optimizer: DEFAULT_OPTIMIZERS.momentum, learningRate: 0.05, paths: ['layered', 'fused'] },
  { name: 'relu, softmax cross-entropy, Adam, layers of 300 and 260 units', network: { sizes: [20, 300, 260, 6], activations: ['relu', 'relu', 'softmax'], loss: 'cross-entropy' }, rows: 40, batch: 16, steps: 4, optimizer: DEFAULT_OPTIMIZERS.adam, learningRate: 0.01, paths: ['layered'] },
  { name: 'sigmoid outputs, binary cross-entropy, frozen biases', network: { sizes: [4, 7, 2], activations: ['tanh', 'sigmoid'], loss: 'cross-entropy', trainBiases: false }, rows: 9, batch: 3, steps: 5, paths: ['layered', 'fused'] },
  { name: 'silu, mse, Adam', network: { sizes: [3, 8, 6, 2], activations: ['silu', 'silu', 'linear'], loss: 'mse' }, rows: 12, batch: 5, steps: 5, optimizer: DEFAULT_OPTIMIZERS.adam, learningRate: 0.01, paths: ['layered', 'fused'] },
  { name: 'gelu, binary cross-entropy, momentum', network: { sizes: [4, 7, 3], activations: ['gelu', 'sigmoid'], loss: 'cross-entropy' }, rows: 11, batch: 4, steps: 5, optimizer: DEFAULT_OPTIMIZERS.momentum, learningRate: 0.05, paths: ['layered', 'fused'] },
  { name: 'elu, sse, SGD, batches wrapping around the data', network: { sizes: [3, 6, 5, 2], activations: ['elu', 'elu', 'linear'], loss: 'sse' }, rows: 7, batch: 3, steps: 6, shuffle: false, paths: ['layered', 'fused'] },
  { name: 'softplus, half-sse, Adam', network: { sizes: [3, 9, 2], activations: ['softplus', 'sigmoid'], loss: 'half-sse' }, rows: 10, batch: 4, steps: 5, optimizer: DEFAULT_OPTIMIZERS.adam, learningRate: 0.01, paths: ['layered', 'fused'] },
  { name: 'leaky-relu (negativeSlope 0.1), softmax cross-entropy, SGD', network: { sizes: [5, 8, 6, 3], activations: ['leaky-relu', 'leaky-relu', 'softmax'], loss: 'cross-entropy', hidden: { negativeSlope: 0.1 } }, rows: 12, batch: 4, steps: 5, paths: ['layered', 'fused'] },
  { name: 'leaky-relu (its default slope), mse, momentum, layers of 290 units', network: { sizes: [6, 290, 290, 2], activations: ['leaky-relu', 'leaky-relu', 'linear'], loss: 'mse' }, rows: 20, batch: 8, steps: 3, optimizer: DEFAULT_OPTIMIZERS.momentum, learningRate: 0.01, paths: ['layered'] },
  { name: 'huber, tanh and a linear output, Adam, errors on both sides of δ = 1', network: { sizes: [3, 7, 4], activations: ['tanh', 'linear'], loss: 'huber' }, rows: 12, batch: 5, steps: 6, optimizer: DEFAULT_OPTIMIZERS.adam, learningRate: 0.02, paths: ['layered', 'fused'], targetScale: 3 },
  { name: 'huber after a softmax (its Jacobian), SGD', network: { sizes: [4, 6, 3], activations: ['relu', 'softmax'], loss: 'huber' }, rows: 9, batch: 3, steps: 4, paths: ['layered', 'fused'] },
  { name: 'weight decay 0.05, SGD', network: { sizes: [3, 6, 2], activations: ['tanh', 'linear'], loss: 'mse' }, rows: 8, batch: 4, steps: 5, optimizer: { kind: 'sgd', weightDecay: 0.05 }, paths: ['layered', 'fused'] },
  { name: 'weight decay 0.02, momentum, frozen biases', network: { sizes: [3, 6, 2], activations: ['relu', 'sigmoid'], loss: 'cross-entropy', trainBiases: false }, rows: 8, batch: 4, steps: 5, optimizer: { ...DEFAULT_OPTIMIZERS.momentum, weightDecay: 0.02 }, paths: ['layered', 'fused'] },
  { name: 'weight decay 0.1, Adam, layers of 270 units', network: { sizes: [10, 270, 270, 4], activations: ['gelu', 'tanh', 'softmax'], loss: 'cross-entropy' }, rows: 24, batch: 12, steps: 3, optimizer: { ...DEFAULT_OPTIMIZERS.adam, weightDecay: 0.1 }, learningRate: 0.01, paths: ['layered'] },
  { name: 'RMSprop, sigmoid, half-sse', network: { sizes: [3, 7, 2], activations: ['sigmoid', 'sigmoid'], loss: 'half-sse' }, rows: 10, batch: 4, steps: 6, optimizer: DEFAULT_OPTIMIZERS.rmsprop, learningRate: 0.01, paths: ['layered', 'fused'] },
  { name: 'RMSprop with weight decay 0.03, layers of 280 units', network: { sizes: [8, 280, 280, 3], activations: ['relu', 'elu', 'softmax'], loss: 'cross-entropy' }, rows: 20, batch: 10, steps: 3, optimizer: { ...DEFAULT_OPTIMIZERS.rmsprop, weightDecay: 0.03 }, learningRate: 0.001, paths: ['layered'] },
  { name: 'AdamW (its weight decay 0.01), silu, mse', network: { sizes: [4, 8, 3], activations: ['silu', 'linear'], loss: 'mse' }, rows: 10, batch: 5, steps: 6, optimizer: DEFAULT_OPTIMIZERS.adamw, learningRate: 0.01, paths: ['layered', 'fused'] },
  { name: 'AdamW with weight decay 0.2, frozen biases, layers of 300 units', network: { sizes: [6, 300, 300, 2], activations: ['leaky-relu', 'softplus', 'sigmoid'], loss: 'cross-entropy', trainBiases: false }, rows: 16, batch: 8, steps: 3, optimizer: { ...DEFAULT_OPTIMIZERS.adamw, weightDecay: 0.2 }, learningRate: 0.01, paths: ['layered'] },
  { name: 'schedule step:3:0.5 with a warmup of 2, Adam', network: { sizes: [3, 6, 2], activations: ['tanh', 'linear'], loss: 'mse' }, rows: 10, batch: 3, steps: 8, optimizer: DEFAULT_OPTIMIZERS.adam, learningRate: 0.05, schedule: { decay: { kind: 'step', every: 3, gamma: 0.5 }, warmup: 2 }, paths: ['layered', 'fused'] },
  { name: 'schedule exponential:0.8, momentum, batches wrapping around the data', network: { sizes: [4, 5, 3], activations: ['sigmoid', 'softmax'], loss: 'cross-entropy' }, rows: 7, batch: 3, steps: 7, shuffle: false, optimizer: DEFAULT_OPTIMIZERS.momentum, learningRate: 0.2, schedule: { decay: { kind: 'exponential', gamma: 0.8 } }, paths: ['layered', 'fused'] },
  { name: 'schedule cosine:8 with a warmup of 3, SGD', network: { sizes: [3, 7, 2], activations: ['relu', 'sigmoid'], loss: 'half-sse' }, rows: 9, batch: 4, steps: 8, learningRate: 0.5, schedule: { decay: { kind: 'cosine', steps: 8 }, warmup: 3 }, paths: ['layered', 'fused'] },
  { name: 'clipping to 0.05 (it clips), Adam', network: { sizes: [3, 6, 2], activations: ['tanh', 'linear'], loss: 'sse' }, rows: 10, batch: 4, steps: 6, optimizer: DEFAULT_OPTIMIZERS.adam, learningRate: 0.05, clipNorm: 0.05, paths: ['layered', 'fused'], targetScale: 4 },
  { name: 'clipping to 0.1 with weight decay 0.05, momentum, frozen biases', network: { sizes: [4, 7, 3], activations: ['relu', 'softmax'], loss: 'cross-entropy', trainBiases: false }, rows: 9, batch: 3, steps: 5, optimizer: { ...DEFAULT_OPTIMIZERS.momentum, weightDecay: 0.05 }, clipNorm: 0.1, paths: ['layered', 'fused'] },
  { name: 'clipping to 0.5, a schedule with warmup and AdamW, layers of 300 units', network: { sizes: [12, 300, 300, 4], activations: ['silu', 'gelu', 'linear'], loss: 'huber' }, rows: 30, batch: 10, steps: 4, optimizer: DEFAULT_OPTIMIZERS.adamw, learningRate: 0.01, schedule: { decay: { kind: 'exponential', gamma: 0.9 }, warmup: 2 }, clipNorm: 0.5, paths: ['layered'], targetScale: 3 },
  { name: 'dropout 0.5 (the same masks), tanh, mse, momentum', network: { sizes: [3, 10, 8, 2], activations: ['tanh', 'relu', 'linear'], loss: 'mse', hidden: { dropout: 0.5 } }, rows: 12, batch: 4, steps: 5, optimizer: DEFAULT_OPTIMIZERS.momentum, learningRate: 0.05, paths: ['layered', 'fused'] },
  { name: 'dropout 0.3 with clipping and weight decay, RMSprop, layers of 260 units', network: { sizes: [10, 260, 260, 4], activations: ['gelu', 'leaky-relu', 'softmax'], loss: 'cross-entropy', hidden: { dropout: 0.3 } }, rows: 24, batch: 8, steps: 3, optimizer: { ...DEFAULT_OPTIMIZERS.rmsprop, weightDecay: 0.01 }, learningRate: 0.001, clipNorm: 1, paths: ['layered'] },
];

let device: GPUDevice;
const torch = new Map<string, TorchResult>();
const setups = new Map<string, { model: Model; dataset: Dataset; options: TrainOptions }>();
/** ‖ours − PyTorch‖∞ / ‖PyTorch‖∞ of each case's parameters, by backend: the figures the suite prints. */
const figures: string[] = [];

beforeAll(async () => {
  device = await testDevice();
  CASES.forEach((c, k) => {
    const model = randomModel(c.network, 200 + k);
    const data = randomDataset(c.network, c.rows, 200 + k);
    const dataset = { ...data, targets: data.targets.map((t) => t * (c.targetScale ?? 1)) };
    const options: TrainOptions = { learningRate: c.learningRate ?? 0.1, schedule: c.schedule, clipNorm: c.clipNorm, batchSize: c.batch, shuffle: c.shuffle ?? true, seed: k, optimizer: c.optimizer ?? DEFAULT_OPTIMIZERS.sgd };
    setups.set(c.name, { model, dataset, options });
  });
  const results = trainInTorch(CASES.map((c) => ({ ...setups.get(c.name)!, steps: c.steps })));
  CASES.forEach((c, k) => torch.set(c.name, results[k]));
});

afterAll(() => console.log(`Parameters against PyTorch's (‖ours − torch‖∞ / ‖torch‖∞):\n${figures.join('\n')}`));

describe('training against PyTorch (float64 nn and optim)', () => {
  for (const c of CASES) {
    it(`${c.name}: the float64 reference's parameters and losses agree to ${REFERENCE_AGREEMENT} relative`, async () => {
      const { model, dataset, options } = setups.get(c.name)!;
      const expected = torch.get(c.name)!;
      const reference = new CpuTrainer(model, dataset, options);
      await reference.train(c.steps);
      const params = await reference.read('params');
      const difference = relativeDifference(params, expected.params);
      figures.push(`  ${c.name}, reference: ${difference.toExponential(2)}`);
      expect(difference).toBeLessThanOrEqual(REFERENCE_AGREEMENT);
      expect(relativeDifference(await reference.takeLosses(), expected.losses)).toBeLessThanOrEqual(REFERENCE_AGREEMENT);
    });

    it.each(c.paths)(`${c.name}: WebGPU, %s kernels: every buffer of the last step against the reference, and the parameters within the derived float32 tolerance of PyTorch's`, async (path) => {
      const { model, dataset, options } = setups.get(c.name)!;
      const expected = torch.get(c.name)!;
      const trajectory = new ReferenceTrajectory(model, dataset, options);
      const gpu = await GpuTrainer.create(device, model, dataset, options, { path });
      try {
        expect(gpu.path).toBe(path);
        await gpu.train(c.steps);
        await trajectory.advanceTo(c.steps);
        for (const name of bufferNames(model.spec)) {
          const comparison = trajectory.compare(name, await gpu.read(name));
          expect(comparison.ok, comparison.message).toBe(true);
        }
        const reference = trajectory.buffer('params');
        const tolerance = trajectory.tolerance('params').atol as ArrayLike<number>;
        const params = await gpu.read('params');
        figures.push(`  ${c.name}, WebGPU ${path}: ${relativeDifference(params, expected.params).toExponential(2)}`);
        params.forEach((p, k) => {
          const bound = tolerance[k] + Math.abs(reference[k] - expected.params[k]);
          expect(Math.abs(p - expected.params[k]), `params[${k}]`).toBeLessThanOrEqual(bound);
        });
      } finally {
        gpu.dispose();
      }
    });
  }
});
