// The weight updates of every layer as one dispatch (weight_update.wgsl: workgroup z is
// layer z / SPLIT_K's split z % SPLIT_K, each layer's sizes and regions from its
// UpdateLayer): layers of different shapes, ragged and not, split over the batch or not,
// against the reference buffer by buffer; a network whose every width is a multiple of 4
// (vec4 loads then constants of the kernel); a network deeper than one dispatch's table;
// and what a W3-shaped step (1024-1024-1024-10) now dispatches and compiles.

import { beforeAll, describe, expect, it } from 'vitest';
import { GPU_THREADING } from '../src/gpu/adapters.ts';
import { UPDATE_LAYERS } from '../src/gpu/abi.ts';
import { trainingSetting, updateConstants } from '../src/gpu/constants.ts';
import { GpuTrainer, type GpuTrainerOptions } from '../src/gpu/trainer.ts';
import type { ModelSpec } from '../src/model/model.ts';
import { DEFAULT_OPTIMIZERS } from '../src/model/optimizer.ts';
import { crossCheck, expectAllClose, randomDataset, randomModel, type RandomNetwork } from './support/crosscheck.ts';
import { testDevice } from './support/gpu.ts';

let device: GPUDevice;
beforeAll(async () => {
  device = await testDevice();
});

/** A large GPU as the tile choice sees one (132 units, as an H100): its plans, run here. */
const LARGE_GPU = { units: 132, ...GPU_THREADING };

const updateDispatch = (trainer: GpuTrainer) => trainer.plan.find((dispatch) => dispatch.label === 'weight update')!;

describe('every layer\'s weight update in one dispatch, against the reference', () => {
  // Layer 0: 130 × 37 (ragged in both, read from the dataset, scalar loads); layer 1: 8 × 130
  // (vec4 δ, scalar inputs); layer 2: 3 × 8 (scalar δ, vec4 inputs). Tiles per layer differ,
  // so most workgroups of the smaller layers lie past their product.
  const network: RandomNetwork = { sizes: [37, 130, 8, 3], activations: ['tanh', 'relu', 'softmax'], loss: 'cross-entropy' };

  it.each([
    ['split over the batch (large-GPU plans, batch 1,000), adam', 1000, { profile: LARGE_GPU } as GpuTrainerOptions, true],
    ['unsplit (this adapter\'s plans, batch 13), adam', 13, {} as GpuTrainerOptions, false],
  ])('%s: every buffer after 2 steps', async (_, batch, gpu, splits) => {
    const model = randomModel(network, 91);
    const dataset = randomDataset(network, batch, 91);
    const options = { learningRate: 0.01, batchSize: batch, shuffle: true, seed: 4, optimizer: DEFAULT_OPTIMIZERS.adam };
    const comparisons = await crossCheck(device, model, dataset, options, 2, {
      path: 'layered',
      gpu,
      inspect: (trainer) => {
        const labels = trainer.plan.map((dispatch) => dispatch.label);
        expect(labels.filter((label) => label.startsWith('weight update'))).toEqual(splits ? ['weight update', 'weight update finish'] : ['weight update']);
        const update = updateDispatch(trainer);
        expect(update.plan!.splitK > 1).toBe(splits);
        // z: 3 layers × SPLIT_K; x and y: the most tiles of any layer (layer 1's 130 inputs with
        // the bias column, layer 0's 130 units).
        expect(update.workgroups[2]).toBe(3 * update.plan!.splitK);
        expect(update.workgroups[0]).toBe(Math.ceil(130 / update.plan!.tileN) + 1);
        expect(update.workgroups[1]).toBe(Math.ceil(130 / update.plan!.tileM));
      },
    });
    expectAllClose(comparisons);
  });

  it('every layer\'s widths multiples of 4: vec4 loads are constants (VEC4_A, VEC4_B), and agree with the reference', async () => {
    const aligned: RandomNetwork = { sizes: [12, 16, 8], activations: ['relu', 'sigmoid'], loss: 'mse' };
    const model = randomModel(aligned, 93);
    const setting = trainingSetting({ optimizer: DEFAULT_OPTIMIZERS.sgd, clipNorm: undefined }, false);
    const constants = (spec: ModelSpec) => {
      const { VEC4_A, VEC4_B } = updateConstants(spec, setting);
      return { VEC4_A, VEC4_B };
    };
    expect(constants(model.spec)).toEqual({ VEC4_A: 1, VEC4_B: 1 });
    // One layer's width not a multiple of 4: each layer's own flag decides (the network above).
    expect(constants(randomModel(network, 91).spec)).toEqual({ VEC4_A: 0, VEC4_B: 0 });
    expect(constants({ ...model.spec, layers: [...model.spec.layers.slice(0, 1), { units: 10, activation: 'sigmoid' }] })).toEqual({ VEC4_A: 0, VEC4_B: 1 });
    const dataset = randomDataset(aligned, 8, 93);
    const options = { learningRate: 0.5, batchSize: 8, shuffle: true, seed: 6, optimizer: DEFAULT_OPTIMIZERS.sgd };
    expectAllClose(await crossCheck(device, model, dataset, options, 2, { path: 'layered' }));
  });

  it(`a network deeper than ${UPDATE_LAYERS} layers: one dispatch per ${UPDATE_LAYERS} layers, momentum, frozen biases`, async () => {
    const L = UPDATE_LAYERS + 2;
    const deep: RandomNetwork = { sizes: [5, ...Array.from({ length: L - 1 }, (_, l) => 3 + (l % 3)), 2], activations: [...Array.from({ length: L - 1 }, () => 'tanh' as const), 'sigmoid'], loss: 'mse', trainBiases: false };
    const model = randomModel(deep, 92);
    const dataset = randomDataset(deep, 12, 92);
    const options = { learningRate: 0.5, batchSize: 6, shuffle: true, seed: 5, optimizer: DEFAULT_OPTIMIZERS.momentum };
    const comparisons = await crossCheck(device, model, dataset, options, 2, {
      path: 'layered',
      inspect: (trainer) => {
        const updates = trainer.plan.filter((dispatch) => dispatch.kernel === 'weight_update');
        expect(updates.map((dispatch) => dispatch.label)).toEqual([`weight update layers 0–${UPDATE_LAYERS - 1}`, `weight update layers ${UPDATE_LAYERS}–${L - 1}`]);
        expect(updates.map((dispatch) => dispatch.workgroups[2])).toEqual([UPDATE_LAYERS, 2]);
      },
    });
    expectAllClose(comparisons);
  });
});

describe('what a W3-shaped step (1024-1024-1024-10, batch 256) dispatches and compiles', () => {
  // A weight update per layer took 3 dispatches and 3 pipelines (the first layer's read the
  // dataset, the last's took scalar loads): 12 dispatches and 12 pipelines a step on a large
  // GPU's plans (forward layers 0 and 1 and δ layer 0 split, each with a finish pass; 9 and
  // 8 on this adapter's, none split). Now one dispatch and one pipeline update all three,
  // and forward layers 0 and 1, of one shape, take one plan: their products run one
  // pipeline, and their finish passes another (a layer's settings are in its uniform).
  it('on plans for a large GPU: 10 dispatches and 8 pipelines, was 12 and 12', async () => {
    const gpu: GpuTrainerOptions = { profile: LARGE_GPU };
    const counts = { dispatches: 10, pipelines: 8, before: { dispatches: 12, pipelines: 12 } };
    const network: RandomNetwork = { sizes: [1024, 1024, 1024, 10], activations: ['relu', 'relu', 'softmax'], loss: 'cross-entropy' };
    const trainer = await GpuTrainer.create(device, randomModel(network, 93), randomDataset(network, 256, 93), { learningRate: 0.1, batchSize: 256, shuffle: true, seed: 1, optimizer: DEFAULT_OPTIMIZERS.sgd }, { path: 'layered', capture: false, ...gpu });
    try {
      const plan = trainer.plan;
      const updates = plan.filter((dispatch) => dispatch.kernel === 'weight_update');
      expect(updates.map((dispatch) => dispatch.workgroups[2])).toEqual([3]); // unsplit: z is the layer
      expect(plan.length).toBe(counts.dispatches);
      expect(new Set(plan.map((dispatch) => dispatch.pipeline)).size).toBe(counts.pipelines);
      expect(counts.dispatches).toBeLessThan(counts.before.dispatches);
      expect(counts.pipelines).toBeLessThan(counts.before.pipelines);
    } finally {
      trainer.dispose();
    }
  }, 600_000); // compiling W3's kernels on SwiftShader
});
