// Every GPU buffer against the float64 reference: the worked examples, then seeded
// random networks of several depths and widths, every activation, loss and optimizer,
// batches that are not multiples of a tile, layers wider than a tile, several steps.

import { beforeAll, describe, expect, it } from 'vitest';
import { WORKED_EXAMPLES } from '../src/examples/articles.ts';
import { caseSetup } from '../src/examples/worked-example.ts';
import { DEFAULT_OPTIMIZERS, type OptimizerSpec } from '../src/model/optimizer.ts';
import { crossCheck, expectAllClose, randomDataset, randomModel, type RandomNetwork } from './support/crosscheck.ts';
import { fitsFusedKernel } from '../src/gpu/kernels.ts';
import type { KernelPath } from '../src/gpu/trainer.ts';
import { testDevice } from './support/gpu.ts';

let device: GPUDevice;
beforeAll(async () => {
  device = await testDevice();
});

const PATHS: KernelPath[] = ['layered', 'fused'];

describe('worked examples on WebGPU', () => {
  for (const example of WORKED_EXAMPLES) {
    example.cases.forEach((workedCase, c) => {
      it.each(PATHS)(`${example.name} case ${c + 1}, %s kernels: every buffer of one step, then of the tenth`, async (path) => {
        const { model, dataset, options } = caseSetup(workedCase);
        expectAllClose(await crossCheck(device, model, dataset, options, 1, { path }));
        expectAllClose(await crossCheck(device, model, dataset, options, 10, { path }));
      });
    });
  }
});

interface Config extends RandomNetwork {
  name: string;
  batch: number;
  datasetSize: number;
  optimizer?: OptimizerSpec;
  learningRate?: number;
}

const CONFIGS: Config[] = [
  { name: 'sigmoid 3-5-2, half-sse, online', sizes: [3, 5, 2], activations: ['sigmoid', 'sigmoid'], loss: 'half-sse', batch: 1, datasetSize: 4 },
  { name: 'tanh 4-70-3 (wider than a tile), mse, batch 7', sizes: [4, 70, 3], activations: ['tanh', 'tanh'], loss: 'mse', batch: 7, datasetSize: 18 },
  {
    name: 'relu 6-130-65-4 then linear, sse, batch 33',
    sizes: [6, 130, 65, 4],
    activations: ['relu', 'relu', 'linear'],
    loss: 'sse',
    batch: 33,
    datasetSize: 80,
  },
  {
    name: 'softmax 5-16-10, cross-entropy, batch 100 (more than one tile of samples)',
    sizes: [5, 16, 10],
    activations: ['tanh', 'softmax'],
    loss: 'cross-entropy',
    batch: 100,
    datasetSize: 150,
  },
  { name: 'sigmoid outputs, binary cross-entropy, batch 65', sizes: [3, 8, 2], activations: ['relu', 'sigmoid'], loss: 'cross-entropy', batch: 65, datasetSize: 70 },
  { name: 'softmax with mse (the full Jacobian), batch 5', sizes: [4, 6, 3], activations: ['sigmoid', 'softmax'], loss: 'mse', batch: 5, datasetSize: 12 },
  { name: 'one linear layer, frozen biases, batch 3', sizes: [2, 3], activations: ['linear'], loss: 'sse', trainBiases: false, batch: 3, datasetSize: 5 },
  {
    name: 'depth 5, mixed activations, batch 17',
    sizes: [3, 7, 9, 11, 13, 2],
    activations: ['tanh', 'relu', 'sigmoid', 'linear', 'sigmoid'],
    loss: 'half-sse',
    batch: 17,
    datasetSize: 40,
  },
  {
    name: 'momentum, tanh 8-20-4, batch 12',
    sizes: [8, 20, 4],
    activations: ['tanh', 'linear'],
    loss: 'mse',
    batch: 12,
    datasetSize: 30,
    optimizer: DEFAULT_OPTIMIZERS.momentum,
    learningRate: 0.05,
  },
  {
    name: 'adam, relu 10-33-5 softmax, batch 9',
    sizes: [10, 33, 5],
    activations: ['relu', 'softmax'],
    loss: 'cross-entropy',
    batch: 9,
    datasetSize: 25,
    optimizer: DEFAULT_OPTIMIZERS.adam,
    learningRate: 0.01,
  },
];

describe('seeded random networks on WebGPU', () => {
  CONFIGS.forEach((config, k) => {
    const model = randomModel(config, 100 + k);
    const dataset = randomDataset(config, config.datasetSize, 100 + k);
    const options = {
      learningRate: config.learningRate ?? 0.1,
      batchSize: config.batch,
      shuffle: true,
      seed: k,
      optimizer: config.optimizer ?? DEFAULT_OPTIMIZERS.sgd,
    };
    // Every network on the layered kernels; those small enough on the fused one too.
    const paths = PATHS.filter((path) => path === 'layered' || fitsFusedKernel(model.spec, config.batch));
    it.each(paths)(`${config.name}, %s kernels: every buffer after 3 shuffled steps`, async (path) => {
      expectAllClose(await crossCheck(device, model, dataset, options, 3, { path }));
    });
  });
});

describe('the cross-check tells a wrong result from rounding', () => {
  const config: RandomNetwork = { sizes: [6, 130, 65, 4], activations: ['relu', 'tanh', 'sigmoid'], loss: 'half-sse' };
  const options = { learningRate: 0.1, batchSize: 33, shuffle: true, seed: 3, optimizer: DEFAULT_OPTIMIZERS.sgd };

  it('a learning rate off by one percent fails on the parameters', async () => {
    const model = randomModel(config, 7);
    const dataset = randomDataset(config, 80, 7);
    const check = await crossCheck(device, model, dataset, options, 2, { path: 'layered', options: { ...options, learningRate: 0.101 } });
    const failing = check.filter((c) => !c.ok).map((c) => c.message.split(':')[0]);
    expect(failing).toContain('params');
  });

  it('two weights of the widest layer swapped (an index bug) fail on that layer', async () => {
    const model = randomModel(config, 8);
    const dataset = randomDataset(config, 80, 8);
    const changed = { ...model, params: model.params.slice() };
    const entry = model.layout.entries.find((e) => e.layer === 1 && e.kind === 'weights')!;
    const [a, b] = [entry.offset + 1000, entry.offset + 1001];
    [changed.params[a], changed.params[b]] = [changed.params[b], changed.params[a]];
    const check = await crossCheck(device, model, dataset, options, 1, { path: 'layered', model: changed });
    const failing = check.filter((c) => !c.ok).map((c) => c.message.split(':')[0]);
    expect(failing).toContain('layer1.net');
  });
});
