// The fused kernel (train_tiny.wgsl) at the edges of what it takes: 4 layers, 64 units
// (and inputs), and batch × width of 4,096; one past each edge it is refused, and `auto`
// runs those networks on the layered kernels.

import { beforeAll, describe, expect, it } from 'vitest';
import { crossCheck } from '../src/check/crosscheck.ts';
import { FUSED_MAX_LAYERS, fitsFusedKernel } from '../src/gpu/kernels.ts';
import { GpuTrainer } from '../src/gpu/trainer.ts';
import { DEFAULT_OPTIMIZERS, type OptimizerSpec } from '../src/model/optimizer.ts';
import type { TrainOptions } from '../src/model/trainer.ts';
import { expectAllClose, randomDataset, randomModel, type RandomNetwork } from './support/crosscheck.ts';
import { testDevice } from './support/gpu.ts';

let device: GPUDevice;
beforeAll(async () => {
  device = await testDevice();
});

interface Edge extends RandomNetwork {
  name: string;
  batch: number;
  optimizer: OptimizerSpec;
}

const EDGES: Edge[] = [
  {
    name: '4 layers, every activation, softmax cross-entropy, Adam',
    sizes: [3, 5, 6, 4, 3],
    activations: ['tanh', 'relu', 'sigmoid', 'softmax'],
    loss: 'cross-entropy',
    batch: 8,
    optimizer: DEFAULT_OPTIMIZERS.adam,
  },
  {
    name: '4 layers of 64 units on 64 inputs, batch 64 (batch × width 4,096), momentum',
    sizes: [64, 64, 64, 64, 64],
    // One hidden activation: each distinct one compiles another 64 × 64 forward kernel (for prediction), seconds on SwiftShader.
    activations: ['tanh', 'tanh', 'tanh', 'linear'],
    loss: 'mse',
    batch: 64,
    optimizer: DEFAULT_OPTIMIZERS.momentum,
  },
  {
    name: '4 layers of one unit, batch 4,096, frozen biases, SGD',
    sizes: [1, 1, 1, 1, 1],
    activations: ['tanh', 'sigmoid', 'relu', 'sigmoid'],
    loss: 'half-sse',
    trainBiases: false,
    batch: 4096,
    optimizer: DEFAULT_OPTIMIZERS.sgd,
  },
];

const optionsOf = (edge: Edge): TrainOptions => ({ learningRate: 0.05, batchSize: edge.batch, shuffle: true, seed: 4, optimizer: edge.optimizer });

describe('the fused kernel at its limits', () => {
  it.each(EDGES)('$name: on the fused path, every buffer agrees with the reference after 3 steps', async (edge) => {
    const model = randomModel(edge, 31);
    const dataset = randomDataset(edge, edge.batch + 7, 31);
    expect(model.spec.layers).toHaveLength(FUSED_MAX_LAYERS);
    expect(fitsFusedKernel(model.spec, edge.batch)).toBe(true);
    const trainer = await GpuTrainer.create(device, model, dataset, optionsOf(edge)); // auto
    expect(trainer.path).toBe('fused');
    expectAllClose(await crossCheck(trainer, model, dataset, optionsOf(edge), 3));
    trainer.dispose();
  });

  it.each<[string, Edge]>([
    ['5 layers', { ...EDGES[0], sizes: [3, 5, 6, 4, 4, 3], activations: ['tanh', 'relu', 'sigmoid', 'tanh', 'softmax'] }],
    ['65 inputs', { ...EDGES[1], sizes: [65, 64, 64, 64, 64], batch: 8 }],
    ['65 units', { ...EDGES[1], sizes: [64, 64, 65, 64, 64], batch: 8 }],
    ['batch × width 4,160 (65 × 64)', { ...EDGES[1], batch: 65 }],
    ['batch × width 4,097 (4,097 × 1)', { ...EDGES[2], batch: 4097 }],
  ])('one past the edge (%s) is refused by the fused path', async (_, edge) => {
    const model = randomModel(edge, 32);
    const dataset = randomDataset(edge, edge.batch, 32);
    expect(fitsFusedKernel(model.spec, edge.batch)).toBe(false);
    await expect(GpuTrainer.create(device, model, dataset, optionsOf(edge), { path: 'fused' })).rejects.toThrow(
      'the fused kernel: takes up to 4 layers of at most 64 units, and batch × width up to 4096',
    );
  });

  it('a network one layer too deep for the fused kernel trains on the layered kernels under auto', async () => {
    const edge: Edge = { ...EDGES[0], sizes: [3, 5, 6, 4, 4, 3], activations: ['tanh', 'relu', 'sigmoid', 'tanh', 'softmax'] };
    const model = randomModel(edge, 33);
    const dataset = randomDataset(edge, 20, 33);
    const trainer = await GpuTrainer.create(device, model, dataset, optionsOf(edge));
    expect(trainer.path).toBe('layered');
    expectAllClose(await crossCheck(trainer, model, dataset, optionsOf(edge), 2));
    trainer.dispose();
  });
});
