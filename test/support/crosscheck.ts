// The GPU trainer against the float64 reference, every named buffer, one line per buffer
// (that is, per kernel: gather_batch → input, target; forward → layerN.net, layerN.out;
// softmax → the last out; output_delta → loss and the last delta; hidden_delta → the
// other deltas; weight_update → grads, params). And seeded random networks to run it on.

import { expect } from 'vitest';
import type { Comparison } from '../../src/check/compare.ts';
import { crossCheck as crossCheckTrainer } from '../../src/check/crosscheck.ts';
import type { Dataset } from '../../src/data/dataset.ts';
import { GpuTrainer, type GpuTrainerOptions, type KernelPath } from '../../src/gpu/trainer.ts';
import { createModel, type Model } from '../../src/model/network.ts';
import type { Activation, LayerSpec, Loss, ModelSpec } from '../../src/model/model.ts';
import { seededRandom } from '../../src/data/random.ts';
import type { TrainOptions } from '../../src/model/trainer.ts';
import { bufferNames } from '../../src/model/buffers.ts';
import { CpuTrainer } from '../../src/reference/trainer.ts';
import { float32Tolerances } from '../../src/check/tolerance.ts';
import { learningRateAt } from '../../src/model/schedule.ts';

/** `steps` steps on a new GPU trainer, checked against the reference (see src/check/crosscheck.ts). */
export async function crossCheck(
  device: GPUDevice,
  model: Model,
  dataset: Dataset,
  options: TrainOptions,
  steps: number,
  /**
   * Which GPU kernels and trainer options; the GPU run on something else, for tests that
   * the check catches a difference; and a look at the trainer (its plan) before it goes.
   */
  gpuVariant: { path?: KernelPath; model?: Model; options?: TrainOptions; gpu?: GpuTrainerOptions; inspect?: (trainer: GpuTrainer) => void } = {},
): Promise<Comparison[]> {
  const gpu = await GpuTrainer.create(device, gpuVariant.model ?? model, dataset, gpuVariant.options ?? options, { path: gpuVariant.path, ...gpuVariant.gpu });
  try {
    const comparisons = await crossCheckTrainer(gpu, model, dataset, options, steps);
    gpuVariant.inspect?.(gpu);
    return comparisons;
  } finally {
    gpu.dispose();
  }
}

/** Fails with the message of the first buffer out of tolerance (its largest difference and first bad index). */
export function expectAllClose(comparisons: Comparison[]): void {
  for (const comparison of comparisons) expect(comparison.ok, comparison.message).toBe(true);
}

export interface RandomNetwork {
  sizes: number[]; // input size, then each layer's units
  activations: Activation[];
  loss: Loss;
  trainBiases?: boolean;
  /** More fields of every hidden layer (an activation's parameter, say). */
  hidden?: Omit<Partial<LayerSpec>, 'units' | 'activation'>;
}

export function randomModel(network: RandomNetwork, seed: number): Model {
  const spec: ModelSpec = {
    inputSize: network.sizes[0],
    layers: network.activations.map((activation, l) => ({ units: network.sizes[l + 1], activation, ...(l < network.activations.length - 1 ? network.hidden : {}) })),
    loss: network.loss,
    trainBiases: network.trainBiases ?? true,
  };
  const model = createModel(spec, { seed });
  // Non-zero biases, so that their part in every buffer is exercised.
  const random = seededRandom(`${seed}:biases`);
  for (const entry of model.layout.entries) {
    if (entry.kind === 'biases') for (let k = 0; k < entry.length; k++) model.params[entry.offset + k] = random() - 0.5;
  }
  return model;
}

/** Inputs in [−1, 1]; targets suited to the output: distributions for softmax, [0, 1] for sigmoid. */
export function randomDataset(network: RandomNetwork, size: number, seed: number): Dataset {
  const random = seededRandom(`${seed}:data`);
  const inputSize = network.sizes[0];
  const outputSize = network.sizes[network.sizes.length - 1];
  const output = network.activations[network.activations.length - 1];
  const inputs = Float64Array.from({ length: size * inputSize }, () => 2 * random() - 1);
  const targets = new Float64Array(size * outputSize);
  for (let n = 0; n < size; n++) {
    const row = targets.subarray(n * outputSize, (n + 1) * outputSize);
    if (output === 'softmax') {
      row.forEach((_, k) => (row[k] = random()));
      const sum = row.reduce((a, b) => a + b, 0);
      row.forEach((v, k) => (row[k] = v / sum));
    } else if (output === 'sigmoid') {
      row.forEach((_, k) => (row[k] = random()));
    } else {
      row.forEach((_, k) => (row[k] = 2 * random() - 1));
    }
  }
  return { inputs, targets, size, inputSize, outputSize };
}

/**
 * How far a float32 trainer's parameters may be from the reference's after `steps`
 * steps: the sum of each step's bound (src/check/tolerance.ts), as src/check/crosscheck.ts sums it,
 * from the reference's buffers alone.
 */
export async function float32ParamsTolerance(model: Model, dataset: Dataset, options: TrainOptions, steps: number): Promise<Float64Array> {
  const reference = new CpuTrainer(model, dataset, options);
  const total = new Float64Array(model.layout.size);
  for (let s = 0; s < steps; s++) {
    await reference.train(1);
    const buffers = new Map<string, Float64Array>();
    for (const name of bufferNames(model.spec)) buffers.set(name, await reference.read(name));
    const learningRate = learningRateAt(options.learningRate, options.schedule, s);
    const oneStep = float32Tolerances({ ...model, ...options, learningRate, batch: options.batchSize, step: s }, (name) => buffers.get(name)!);
    (oneStep('params').atol as Float64Array).forEach((a, k) => (total[k] += a));
  }
  return total;
}
