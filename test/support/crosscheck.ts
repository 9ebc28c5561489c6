// Runs the float64 reference and the GPU trainer side by side and compares every named
// buffer, one line per buffer (that is, per kernel: gather_batch → input, target;
// forward → layerN.net, layerN.out; softmax → the last out; output_delta → loss and the
// last delta; hidden_delta → the other deltas; weight_update → grads, params).

import { expect } from 'vitest';
import { compareBuffers, type Comparison } from '../../src/compare.ts';
import { float32Tolerances } from '../../src/tolerance.ts';
import type { Dataset } from '../../src/data/dataset.ts';
import { GpuTrainer, type KernelPath } from '../../src/gpu/trainer.ts';
import { bufferNames } from '../../src/model/buffers.ts';
import { describeParamIndex } from '../../src/model/layout.ts';
import { createModel, type Model } from '../../src/model/network.ts';
import type { Activation, Loss, ModelSpec } from '../../src/model/model.ts';
import { seededRandom } from '../../src/model/init.ts';
import { CpuTrainer } from '../../src/reference/trainer.ts';
import type { Trainer, TrainOptions } from '../../src/trainer.ts';

export interface CrossCheck {
  comparisons: Comparison[];
  cpu: Trainer;
  gpu: Trainer;
}

/**
 * Trains `steps` steps on both backends and compares every step's loss and the last
 * step's buffers. Each update adds its own error to the parameters, so their bound is
 * the sum of every step's; the other buffers of step s, computed from parameters that
 * have drifted, get s times their one-step bound (training that converges damps errors;
 * this assumes they do not grow).
 */
export async function crossCheck(
  device: GPUDevice,
  model: Model,
  dataset: Dataset,
  options: TrainOptions,
  steps: number,
  /** Which GPU kernels; and the GPU run on something else, for tests that the check catches a difference. */
  gpuVariant: { path?: KernelPath; model?: Model; options?: TrainOptions } = {},
): Promise<CrossCheck> {
  const cpu = new CpuTrainer(model, dataset, options);
  const gpu = await GpuTrainer.create(device, gpuVariant.model ?? model, dataset, gpuVariant.options ?? options, { path: gpuVariant.path });
  await gpu.train(steps);
  const names = bufferNames(model.spec);
  const setting = { ...model, ...options, batch: options.batchSize };
  const lossTolerance: number[] = [];
  const paramsTolerance = new Float64Array(model.layout.size);
  let reference = new Map<string, Float64Array>();
  let tolerance: (name: string) => { atol: ArrayLike<number>; rtol: number } = () => ({ atol: [], rtol: 0 });
  for (let s = 1; s <= steps; s++) {
    await cpu.train(1);
    reference = new Map<string, Float64Array>();
    for (const name of names) reference.set(name, await cpu.read(name));
    const oneStep = float32Tolerances(setting, (name) => reference.get(name)!);
    (oneStep('params').atol as Float64Array).forEach((a, k) => (paramsTolerance[k] += a));
    tolerance = (name) => {
      if (name === 'params') return { atol: paramsTolerance, rtol: 0 };
      const { atol, rtol } = oneStep(name);
      return { atol: Array.from(atol as ArrayLike<number>, (a) => a * s), rtol: rtol * s };
    };
    // The mean loss is off by at most the mean of its samples' bounds.
    lossTolerance.push(Array.from(tolerance('loss').atol).reduce((a, b) => a + b, 0) / options.batchSize);
  }
  const comparisons: Comparison[] = [];
  for (const name of names) {
    const describe = name === 'params' || name === 'grads' ? (k: number) => describeParamIndex(model.layout, k) : undefined;
    comparisons.push(compareBuffers(name, await gpu.read(name), reference.get(name)!, tolerance(name), describe));
  }
  comparisons.push(compareBuffers('loss per step', await gpu.takeLosses(), await cpu.takeLosses(), { atol: lossTolerance, rtol: 0 }));
  return { comparisons, cpu, gpu };
}

/** Fails with the message of the first buffer out of tolerance (its largest difference and first bad index). */
export function expectAllClose(check: CrossCheck): void {
  for (const comparison of check.comparisons) expect(comparison.ok, comparison.message).toBe(true);
}

export interface RandomNetwork {
  sizes: number[]; // input size, then each layer's units
  activations: Activation[];
  loss: Loss;
  trainBiases?: boolean;
}

export function randomModel(network: RandomNetwork, seed: number): Model {
  const spec: ModelSpec = {
    inputSize: network.sizes[0],
    layers: network.activations.map((activation, l) => ({ units: network.sizes[l + 1], activation })),
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
