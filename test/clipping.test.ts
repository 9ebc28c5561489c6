// Gradient clipping to a global norm, as torch.nn.utils.clip_grad_norm_: the factor, the
// runs where it bites (checked to bite), clipping that never bites being no clipping at
// all, and on WebGPU the norm summed by the kernels themselves, with no read-back: every
// buffer agrees with the reference, on both paths, with several workgroups summing the
// norm. Against PyTorch: test/pytorch.test.ts.

import { beforeAll, describe, expect, it } from 'vitest';
import { crossCheck as crossCheckTrainer } from '../src/check/crosscheck.ts';
import { gatherBatch } from '../src/data/dataset.ts';
import { GpuTrainer } from '../src/gpu/trainer.ts';
import { normGroups } from '../src/gpu/constants.ts';
import { stepFlops } from '../src/gpu/layered.ts';
import { DEFAULT_OPTIMIZERS } from '../src/model/optimizer.ts';
import type { TrainOptions } from '../src/model/trainer.ts';
import { backward, forward } from '../src/reference/backprop.ts';
import { clipScale } from '../src/reference/optimizers.ts';
import { CpuTrainer } from '../src/reference/trainer.ts';
import { crossCheck, expectAllClose, randomDataset, randomModel, type RandomNetwork } from './support/crosscheck.ts';
import { testDevice } from './support/gpu.ts';

const small: RandomNetwork = { sizes: [4, 8, 3], activations: ['tanh', 'linear'], loss: 'sse' };
const wide: RandomNetwork = { sizes: [40, 150, 120, 3], activations: ['relu', 'tanh', 'linear'], loss: 'mse', trainBiases: false };

/** clipScale at each of `steps` steps of the reference: below 1 where clipping bites. */
async function scales(network: RandomNetwork, seed: number, options: TrainOptions, steps: number): Promise<number[]> {
  const model = randomModel(network, seed);
  const dataset = randomDataset(network, 20, seed);
  const trainer = new CpuTrainer(model, dataset, options);
  const found: number[] = [];
  for (let s = 0; s < steps; s++) {
    const { input, target } = gatherBatch(dataset, trainer.schedule.indices(s));
    const params = await trainer.read('params');
    const values = forward(model.spec, model.layout, params, input, options.batchSize);
    const { grads } = backward(model.spec, model.layout, params, input, target, values, options.batchSize);
    found.push(clipScale(model.layout, grads, model.spec.trainBiases, options.clipNorm!));
    await trainer.train(1);
  }
  return found;
}

describe('the clipping factor', () => {
  it('is C/(‖g‖ + 1e-6) over the trained parameters, at most 1: frozen biases and padding are left out', () => {
    const model = randomModel({ ...small, trainBiases: false }, 1);
    const grads = new Float64Array(model.layout.size).fill(100); // padding and biases too
    const trained = model.layout.entries.filter((entry) => entry.kind === 'weights');
    for (const entry of trained) grads.fill(0, entry.offset, entry.offset + entry.length);
    const first = trained[0];
    grads[first.offset] = 3;
    grads[first.offset + 1] = 4; // ‖g‖ = 5 over the weights alone
    expect(clipScale(model.layout, grads, false, 1)).toBeCloseTo(1 / (5 + 1e-6), 15);
    expect(clipScale(model.layout, grads, false, 10)).toBe(1);
  });

  it('a norm the gradient never reaches is no clipping at all: the same parameters, exactly', async () => {
    const model = randomModel(small, 2);
    const dataset = randomDataset(small, 20, 2);
    const options = { learningRate: 0.1, batchSize: 5, shuffle: true, seed: 1, optimizer: DEFAULT_OPTIMIZERS.momentum };
    const plain = new CpuTrainer(model, dataset, options);
    const clipped = new CpuTrainer(model, dataset, { ...options, clipNorm: 1e6 });
    await plain.train(4);
    await clipped.train(4);
    expect(await clipped.read('params')).toEqual(await plain.read('params'));
  });
});

let device: GPUDevice;
beforeAll(async () => {
  device = await testDevice();
});

describe('clipping on WebGPU', () => {
  const options = (clipNorm: number): TrainOptions => ({ learningRate: 0.05, batchSize: 6, shuffle: true, seed: 4, optimizer: DEFAULT_OPTIMIZERS.adam, clipNorm });

  it.each(['layered', 'fused'] as const)('%s kernels, a small network, clipping at every step: every buffer after 4 steps', async (path) => {
    expect((await scales(small, 3, options(0.05), 4)).every((scale) => scale < 1)).toBe(true);
    expectAllClose(await crossCheck(device, randomModel(small, 3), randomDataset(small, 20, 3), options(0.05), 4, { path }));
  });

  it('layered kernels, layers of 150 and 120 units, frozen biases, the norm summed by several workgroups, as fit trains (no capture)', async () => {
    const model = randomModel(wide, 5);
    const dataset = randomDataset(wide, 20, 5);
    expect(normGroups(model.spec)).toBeGreaterThan(1);
    expect((await scales(wide, 5, options(0.2), 3)).every((scale) => scale < 1)).toBe(true);
    const gpu = await GpuTrainer.create(device, model, dataset, options(0.2), { path: 'layered', capture: false });
    try {
      // The norm and the clipped updates are dispatches of the step, in the same submits: nothing is read back.
      // Every layer's gradients, then the norm, then every layer's clipped update: one dispatch each.
      expect(gpu.plan.map((dispatch) => dispatch.label).slice(-3)).toEqual(['weight update', 'gradient norm', 'clipped update']);
      expect(gpu.plan.at(-1)!.workgroups[2]).toBe(3); // z: the layer
      // No product is split here: the plan's FLOPs are a clipped step's.
      expect(gpu.plan.filter((d) => d.plan && d.plan.splitK > 1)).toEqual([]);
      expect(gpu.plan.reduce((sum, d) => sum + d.flops, 0)).toBe(stepFlops(model.spec, 6, options(0.2).optimizer, true));
      expectAllClose(await crossCheckTrainer(gpu, model, dataset, options(0.2), 3, ['params', 'layer2.net', 'layer0.out', 'layer0.delta']));
      expect(gpu.counts.submits).toBe(1);
    } finally {
      gpu.dispose();
    }
  });
});
