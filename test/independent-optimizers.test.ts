// Momentum and Adam against the independent TensorFlow-style trainer
// (test/support/independent.ts), on layers wider than a tile (64) and batches of more
// than one tile of samples, as the layered kernels run them: first the float64
// reference alone (no GPU: a wrong reference update must fail here, not only against
// our own GPU copy of it), then the GPU trainer against both.

import { beforeAll, describe, expect, it } from 'vitest';
import { splitRows } from '../src/data/dataset.ts';
import { GpuTrainer } from '../src/gpu/trainer.ts';
import { modelToJson } from '../src/io/model-file.ts';
import { DEFAULT_OPTIMIZERS, type OptimizerSpec } from '../src/model/optimizer.ts';
import { CpuTrainer } from '../src/reference/trainer.ts';
import type { Model } from '../src/model/network.ts';
import type { TrainOptions } from '../src/model/trainer.ts';
import { crossCheck } from '../src/check/crosscheck.ts';
import { expectAllClose, float32ParamsTolerance, randomDataset, randomModel, type RandomNetwork } from './support/crosscheck.ts';
import { testDevice } from './support/gpu.ts';
import { trainIndependently, type IndependentLayer, type IndependentOptimizer } from './support/independent.ts';

/**
 * Float64 against float64, summed in different orders: each value carries roundoff of a
 * few units of 2⁻⁵³ per term of its longest sum (70 terms here, ~1e-14 relative at
 * worst; about 1e-16 is seen), and four steps add four of those. 1e-12 of max(1, |θ|)
 * covers that with room, and lies far below how far every parameter moves in these runs
 * (1e-6 at least), so a wrong update rule cannot hide under it.
 */
const FLOAT64_TOLERANCE = 1e-12;

// 70 units: two tiles of units; batches of 70: two tiles of samples (tiles are at most 64).
const network: RandomNetwork = { sizes: [5, 70, 3], activations: ['tanh', 'softmax'], loss: 'cross-entropy' };
const BATCH = 70;
const STEPS = 4;

const OPTIMIZERS: { optimizer: OptimizerSpec; learningRate: number }[] = [
  { optimizer: DEFAULT_OPTIMIZERS.sgd, learningRate: 0.1 },
  { optimizer: DEFAULT_OPTIMIZERS.momentum, learningRate: 0.05 },
  { optimizer: DEFAULT_OPTIMIZERS.adam, learningRate: 0.01 },
];

/** The model's parameters after training, flattened by the model file's layer order (weights, then biases). */
function flatLayers(layers: IndependentLayer[]): number[] {
  return layers.flatMap((layer) => [...layer.weights.flat(), ...layer.biases]);
}

function paramsByLayers(model: Model, params: Float64Array): number[] {
  return flatLayers(modelToJson(model, params).layers as IndependentLayer[]);
}

function independently(model: Model, options: TrainOptions, inputs: number[][], targets: number[][], steps: number): number[] {
  const file = modelToJson(model);
  const trained = trainIndependently(file.layers as IndependentLayer[], model.spec.loss, model.spec.trainBiases, inputs, targets, options.learningRate, options.batchSize, steps, options.optimizer as IndependentOptimizer);
  return flatLayers(trained);
}

let device: GPUDevice;
beforeAll(async () => {
  device = await testDevice();
});

describe.each(OPTIMIZERS)('$optimizer.kind on a 5-70-3 network, batches of 70', ({ optimizer, learningRate }) => {
  const model = randomModel(network, 21);
  const dataset = randomDataset(network, 150, 21);
  const options: TrainOptions = { learningRate, batchSize: BATCH, shuffle: false, seed: 1, optimizer };
  const inputs = splitRows(dataset.inputs, dataset.inputSize);
  const targets = splitRows(dataset.targets, dataset.outputSize);
  const expected = independently(model, options, inputs, targets, STEPS);

  it('the float64 reference agrees with the independent implementation', async () => {
    const reference = new CpuTrainer(model, dataset, options);
    await reference.train(STEPS);
    const actual = paramsByLayers(model, await reference.read('params'));
    expect(actual).toHaveLength(expected.length);
    actual.forEach((value, k) => expect(Math.abs(value - expected[k]), `parameter ${k}`).toBeLessThanOrEqual(FLOAT64_TOLERANCE * Math.max(1, Math.abs(expected[k]))));
  });

  it('the GPU trainer, on the layered kernels, agrees with the reference buffer by buffer and with the independent implementation', async () => {
    const gpu = await GpuTrainer.create(device, model, dataset, options);
    expect(gpu.path).toBe('layered');
    expectAllClose(await crossCheck(gpu, model, dataset, options, STEPS));
    const actual = paramsByLayers(model, await gpu.read('params'));
    gpu.dispose();
    // The float32 bound against the reference (src/check/tolerance.ts, summed over the steps),
    // plus the float64 difference between the reference and the independent trainer.
    const tolerance = paramsByLayers(model, await float32ParamsTolerance(model, dataset, options, STEPS));
    actual.forEach((value, k) => {
      const allowed = tolerance[k] + FLOAT64_TOLERANCE * Math.max(1, Math.abs(expected[k]));
      expect(Math.abs(value - expected[k]), `parameter ${k}: ${value} vs ${expected[k]}`).toBeLessThanOrEqual(allowed);
    });
  });
});
