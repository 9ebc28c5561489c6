// Every variant of the layered path's kernels, checked buffer by buffer against the
// reference on shapes chosen to reach it: tiles of every size the chooser picks here and
// for a large GPU (its plans run on this adapter), split products finished by their own
// pass or by the output stage, vec4 and scalar loads, the dataset read through the batch
// rows, the output stage's subgroup and workgroup-memory reductions, training without
// capturing, and the per-kernel profile. Ragged edges in every dimension, K not a
// multiple of the tile depth, output widths 1, 3 and 10, widths above 1,024, batches of
// 1 and 1,000.

import { beforeAll, describe, expect, it } from 'vitest';
import { chooseMatmul, planConstants, planRegisters, planStorageBytes, registerOccupancy, type MatmulPlan } from '../src/gpu/tiles.ts';
import { CPU_THREADING, GPU_THREADING, type GpuProfile } from '../src/gpu/adapters.ts';
import { GpuTrainer, type GpuTrainerOptions, type KernelPath } from '../src/gpu/trainer.ts';
import { stepFlops } from '../src/gpu/layered.ts';
import { InputError } from '../src/errors.ts';
import { DEFAULT_OPTIMIZERS, type OptimizerSpec } from '../src/model/optimizer.ts';
import { crossCheck as crossCheckTrainer } from '../src/check/crosscheck.ts';
import { crossCheck, expectAllClose, randomDataset, randomModel, type RandomNetwork } from './support/crosscheck.ts';
import { freshDevice, testDevice } from './support/gpu.ts';

let device: GPUDevice;
beforeAll(async () => {
  device = await testDevice();
});

/** A large GPU as the tile choice sees one (132 units, as an H100): its plans, run here. */
const LARGE_GPU = { units: 132, ...GPU_THREADING };

const LIMITS = { maxInvocations: 256, maxWorkgroupStorage: 16384, maxWorkgroupsPerDimension: 65535, subgroups: false };
const SOFTWARE: GpuProfile = { ...LIMITS, units: 2, ...CPU_THREADING, software: true };
const HARDWARE: GpuProfile = { ...LIMITS, ...LARGE_GPU, software: false };

describe('the tile choice', () => {
  const shapes = [
    { m: 256, n: 1024, k: 1024 },
    { m: 256, n: 10, k: 1024 },
    { m: 1024, n: 1024, k: 256 },
    { m: 1, n: 1024, k: 1024 },
    { m: 1000, n: 3, k: 7 },
    { m: 5, n: 1027, k: 1 },
  ];
  const valid = (plan: MatmulPlan, shape: { m: number; n: number; k: number }, profile: GpuProfile) => {
    const threads = plan.wgX * plan.wgY;
    expect(threads).toBeLessThanOrEqual(profile.maxInvocations);
    expect(plan.tileM).toBe(4 * plan.wgY * plan.gm);
    expect(plan.tileN).toBe(4 * plan.wgX * plan.gn);
    expect(((plan.tileM + plan.tileN) * plan.tileK) / 16).toBeLessThanOrEqual(2 * threads); // tile_product.wgsl: two jobs a thread
    expect(planStorageBytes(plan)).toBeLessThanOrEqual(profile.maxWorkgroupStorage);
    expect(plan.tileK % 4).toBe(0);
    // The splits cover K, each a whole number of k-tiles, none empty.
    expect(plan.splitK * plan.kSplit).toBeGreaterThanOrEqual(shape.k);
    expect((plan.splitK - 1) * plan.kSplit).toBeLessThan(shape.k);
    if (plan.splitK > 1) expect(plan.kSplit % plan.tileK).toBe(0);
    expect(plan.groups).toEqual([Math.ceil(shape.n / plan.tileN), Math.ceil(shape.m / plan.tileM), plan.splitK]);
  };

  it.each(shapes)('stays within the adapter limits, and its splits cover K: %o', (shape) => {
    for (const profile of [SOFTWARE, HARDWARE]) valid(chooseMatmul(shape, profile), shape, profile);
  });

  it('fills a large GPU: splits K where the blocks of the product alone are too few', () => {
    const narrow = chooseMatmul({ m: 256, n: 10, k: 1024 }, HARDWARE); // W3's output layer
    expect(narrow.splitK).toBeGreaterThan(1);
    const plan = chooseMatmul({ m: 256, n: 1024, k: 1024 }, HARDWARE);
    expect(plan.groups[0] * plan.groups[1] * plan.groups[2]).toBeGreaterThanOrEqual(HARDWARE.units);
  });

  it('on a CPU (SwiftShader) takes few large tiles of 8 × 16 results per thread, unsplit', () => {
    const plan = chooseMatmul({ m: 256, n: 1024, k: 1024 }, SOFTWARE);
    expect(plan.splitK).toBe(1);
    expect([plan.gm, plan.gn]).toEqual([2, 4]);
    expect(plan.tileM * plan.tileN).toBeGreaterThanOrEqual(64 * 64);
  });

  it("counts a thread's registers: results, prefetched fill jobs, a k step's operands, addressing", () => {
    // 128×128×32, 8 × 8 a thread, 256 threads: 512 fill jobs, two a thread.
    const big = { wgX: 16, wgY: 16, gm: 2, gn: 2, tileK: 32, tileM: 128, tileN: 128 };
    expect(planRegisters(big)).toBe(136); // 64 results + 32 prefetched + 16 operands + 20 addressing = 132, in 8s
    expect(planRegisters({ ...big, tileK: 16 })).toBe(120); // one job a thread: 16 fewer
    expect(planRegisters({ ...big, gn: 1, tileN: 64, tileK: 16 })).toBe(80); // 8 × 4 a thread: 32 results, 16 prefetched, 12 operands, 20
  });

  it('on a large GPU keeps within its register budget where a deeper k-tile would halve the threads resident', () => {
    const roomy: GpuProfile = { ...HARDWARE, maxWorkgroupStorage: 65536 };
    const shape = { m: 4096, n: 4096, k: 4096 };
    // Without a register file to fill, the deepest k-tile wins: two prefetched jobs a thread.
    const unlimited = chooseMatmul(shape, { ...roomy, registersPerUnit: Infinity, registerBudget: Infinity, maxRegistersPerThread: Infinity });
    expect([unlimited.tileM, unlimited.tileN, unlimited.tileK]).toEqual([128, 128, 32]);
    // 136 registers: one 256-thread workgroup resident of the two the budget keeps, half the rate.
    expect(registerOccupancy(unlimited, roomy)).toBe(0.5);
    const plan = chooseMatmul(shape, roomy);
    expect([plan.tileM, plan.tileN, plan.tileK]).toEqual([128, 128, 16]);
    expect(registerOccupancy(plan, roomy)).toBe(1);
    // Over the most a thread may have, a plan is not taken at all.
    expect(registerOccupancy(unlimited, { ...roomy, maxRegistersPerThread: 128 })).toBe(0);
  });

  it('double-buffers the tiles where the profile allows it and they fit, counting both copies', () => {
    const roomy: GpuProfile = { ...HARDWARE, maxWorkgroupStorage: 65536 };
    const shape = { m: 4096, n: 4096, k: 4096 };
    const plan = chooseMatmul(shape, roomy);
    expect(plan.buffers).toBe(2);
    expect(planConstants(plan).BUFFERS).toBe(2);
    expect(planStorageBytes(plan)).toBe(2 * 4 * (plan.tileM + plan.tileN) * plan.tileK);
    const single = chooseMatmul(shape, { ...roomy, tileBuffers: 1 });
    expect(single.buffers).toBe(1);
    expect(planStorageBytes(single)).toBe(4 * (single.tileM + single.tileN) * single.tileK);
    // Where two copies do not fit, one is taken: 16 KiB holds one 128×128×16 tile pair, not two.
    const tight = chooseMatmul(shape, { ...roomy, maxWorkgroupStorage: 16384, tileBuffers: 2 });
    expect(planStorageBytes(tight)).toBeLessThanOrEqual(16384);
  });

  it('takes no tile larger than the limits allow', () => {
    const small = { ...SOFTWARE, maxInvocations: 64, maxWorkgroupStorage: 4096 };
    const plan = chooseMatmul({ m: 256, n: 1024, k: 1024 }, small);
    valid(plan, { m: 256, n: 1024, k: 1024 }, small);
  });
});

interface Variant extends RandomNetwork {
  name: string;
  batch: number;
  datasetSize: number;
  optimizer?: OptimizerSpec;
  learningRate?: number;
  path?: KernelPath;
  gpu?: GpuTrainerOptions;
  /** What the plan must contain for the variant to be reached. */
  expectPlan?: (labels: string[], trainer: GpuTrainer) => void;
  /** Run on a device of its own, whose cache of pipelines (and so of plans to reuse) starts empty. */
  ownDevice?: boolean;
}

const split = (trainer: GpuTrainer, label: string) => {
  const plan = trainer.plan.find((dispatch) => dispatch.label === label);
  if (!plan) throw new Error(`no dispatch ${label} in ${trainer.plan.map((d) => d.label).join(', ')}`);
  return plan.workgroups[2];
};

const VARIANTS: Variant[] = [
  {
    name: 'input 1,027 wide (K ragged, scalar loads), output width 1, batch 5, large-GPU plans',
    sizes: [1027, 9, 1],
    activations: ['sigmoid', 'sigmoid'],
    loss: 'half-sse',
    batch: 5,
    datasetSize: 12,
    gpu: { profile: LARGE_GPU },
    expectPlan: (labels, trainer) => {
      expect(split(trainer, 'forward layer0')).toBeGreaterThan(1);
      expect(labels).toContain('forward layer0 finish');
    },
  },
  {
    name: 'hidden layer 1,030 wide, softmax output width 3, cross-entropy, batch 6, large-GPU plans',
    sizes: [12, 1030, 3],
    activations: ['tanh', 'softmax'],
    loss: 'cross-entropy',
    batch: 6,
    datasetSize: 10,
    gpu: { profile: LARGE_GPU },
    // The output layer's split product, finished by the output stage.
    expectPlan: (labels, trainer) => {
      expect(split(trainer, 'forward layer1')).toBeGreaterThan(1);
      expect(labels).not.toContain('forward layer1 finish');
    },
  },
  {
    name: 'batch 1,000, output width 10, mse, momentum, large-GPU plans (gradients split over the batch)',
    sizes: [8, 40, 10],
    activations: ['relu', 'sigmoid'],
    loss: 'mse',
    batch: 1000,
    datasetSize: 1000,
    optimizer: DEFAULT_OPTIMIZERS.momentum,
    learningRate: 0.05,
    gpu: { profile: LARGE_GPU },
    expectPlan: (labels, trainer) => {
      // Both layers' gradients in one dispatch: z is layer × SPLIT_K + split.
      expect(split(trainer, 'weight update')).toBe(2 * trainer.plan.find((d) => d.label === 'weight update')!.plan!.splitK);
      expect(trainer.plan.find((d) => d.label === 'weight update')!.plan!.splitK).toBeGreaterThan(1);
      expect(labels).toContain('weight update finish');
      // The subgroup reduction wherever the adapter offers it (SwiftShader does); the next variant takes the other.
      expect(trainer.profile.subgroups).toBe(device.features.has('subgroups'));
    },
  },
  {
    name: 'the same on the workgroup-memory reduction (no subgroups), plans for this adapter',
    sizes: [8, 40, 10],
    activations: ['relu', 'sigmoid'],
    loss: 'mse',
    batch: 1000,
    datasetSize: 1000,
    gpu: { subgroups: false },
    expectPlan: (_, trainer) => expect(trainer.profile.subgroups).toBe(false),
  },
  {
    name: 'batch 1, layered, frozen biases',
    sizes: [20, 16, 10],
    activations: ['linear', 'sigmoid'],
    loss: 'sse',
    trainBiases: false,
    batch: 1,
    datasetSize: 3,
    path: 'layered',
  },
  {
    name: 'widths multiples of 4 (vec4 loads everywhere), δ split over 600 units above, adam, large-GPU plans',
    sizes: [16, 24, 600, 4],
    activations: ['sigmoid', 'relu', 'linear'],
    loss: 'sse',
    batch: 8,
    datasetSize: 20,
    optimizer: DEFAULT_OPTIMIZERS.adam,
    learningRate: 0.01,
    gpu: { profile: LARGE_GPU },
    expectPlan: (labels, trainer) => {
      expect(split(trainer, 'hidden delta layer0')).toBeGreaterThan(1);
      expect(labels).toContain('hidden delta layer0 finish');
    },
  },
  {
    name: 'tiles of 128 × 128 and more, batch 256, plans for a 2-core CPU',
    sizes: [64, 256, 5],
    activations: ['tanh', 'sigmoid'],
    loss: 'half-sse',
    batch: 256,
    datasetSize: 300,
    gpu: { profile: { units: 2 } },
    expectPlan: (_, trainer) => {
      const blocks = new Set(trainer.plan.map((dispatch) => dispatch.workgroups.join('×')));
      expect(blocks).toContain('2×2×1'); // forward layer0: 256 × 256 in 128 × 128 tiles
    },
  },
  {
    name: 'batch 2, layers 1,026 and 1,025 wide, large-GPU plans',
    sizes: [1026, 1025, 3],
    activations: ['sigmoid', 'linear'],
    loss: 'mse',
    batch: 2,
    datasetSize: 3,
    gpu: { profile: LARGE_GPU },
  },
  {
    name: 'batch 8, layers 512 and 16 wide over 1,024 inputs, rmsprop, large-GPU plans (both gradients in one dispatch of 4 × 8 a thread)',
    sizes: [1024, 512, 16],
    activations: ['relu', 'linear'],
    loss: 'mse',
    batch: 8,
    datasetSize: 10,
    optimizer: DEFAULT_OPTIMIZERS.rmsprop,
    learningRate: 0.01,
    gpu: { profile: LARGE_GPU },
    // Its plans chosen afresh, not taken from the device's cache where other variants left theirs.
    ownDevice: true,
    expectPlan: (_, trainer) => {
      const update = trainer.plan.find((dispatch) => dispatch.label === 'weight update')!;
      expect([update.plan!.gm, update.plan!.gn, update.workgroups[2]]).toEqual([1, 2, 2]);
    },
  },
  {
    name: 'batch 1, layers 1,024 wide, large-GPU plans',
    sizes: [1024, 1024, 3],
    activations: ['relu', 'sigmoid'],
    loss: 'half-sse',
    batch: 1,
    datasetSize: 4,
    gpu: { profile: LARGE_GPU },
  },
];

describe('every kernel variant against the reference, buffer by buffer', () => {
  /** Every tile plan the variants ran, in a few words. */
  const ran = new Set<string>();
  VARIANTS.forEach((variant, k) => {
    it(`${variant.name}: every buffer after 2 steps`, async () => {
      const model = randomModel(variant, 300 + k);
      const dataset = randomDataset(variant, variant.datasetSize, 300 + k);
      const options = { learningRate: variant.learningRate ?? 0.1, batchSize: variant.batch, shuffle: true, seed: k, optimizer: variant.optimizer ?? DEFAULT_OPTIMIZERS.sgd };
      let labels: string[] = [];
      const comparisons = await crossCheck(variant.ownDevice ? await freshDevice() : device, model, dataset, options, 2, {
        path: variant.path ?? 'layered',
        gpu: variant.gpu,
        inspect: (trainer) => {
          labels = trainer.plan.map((dispatch) => dispatch.label);
          for (const dispatch of trainer.plan) if (dispatch.plan) ran.add(`${4 * dispatch.plan.gm}×${4 * dispatch.plan.gn} a thread`);
          expect(trainer.path).toBe('layered');
          variant.expectPlan?.(labels, trainer);
        },
      });
      expectAllClose(comparisons);
      expect(labels).toContain('output delta');
    });
  });

  it('between them, ran every shape of a thread\'s results', () => {
    expect([...ran].sort()).toEqual(['4×16 a thread', '4×4 a thread', '4×8 a thread', '8×16 a thread', '8×4 a thread', '8×8 a thread']);
  });
});

describe('a plan compiled for another batch size', () => {
  it('is taken where about as cheap (no compile), its splits, the last now empty, summing what the reference does', async () => {
    // A device of its own: the plans other cases compiled would be offered too, and take the room a reuse has.
    const device = await freshDevice();
    const network: RandomNetwork = { sizes: [8, 40, 10], activations: ['softplus', 'sigmoid'], loss: 'mse' };
    const options = (batchSize: number) => ({ learningRate: 0.05, batchSize, shuffle: true, seed: 3, optimizer: DEFAULT_OPTIMIZERS.momentum });
    const model = randomModel(network, 77);
    const updatePlan = (trainer: GpuTrainer) => trainer.plan.find((dispatch) => dispatch.label === 'weight update')!.plan!;
    let first: MatmulPlan | undefined;
    await crossCheck(device, model, randomDataset(network, 1000, 77), options(1000), 1, { path: 'layered', gpu: { profile: LARGE_GPU }, inspect: (trainer) => (first = updatePlan(trainer)) });
    expect(first!.splitK).toBeGreaterThan(1);
    let reused: MatmulPlan | undefined;
    const comparisons = await crossCheck(device, model, randomDataset(network, 270, 78), options(270), 2, { path: 'layered', gpu: { profile: LARGE_GPU }, inspect: (trainer) => (reused = updatePlan(trainer)) });
    expect(planConstants(reused!)).toEqual(planConstants(first!));
    expect((reused!.splitK - 1) * reused!.kSplit).toBeGreaterThanOrEqual(270); // the last split has no k
    expectAllClose(comparisons);
  });
});

describe('training without capturing (as fit trains)', () => {
  const network: RandomNetwork = { sizes: [9, 33, 3], activations: ['tanh', 'softmax'], loss: 'cross-entropy' };
  const options = { learningRate: 0.1, batchSize: 17, shuffle: true, seed: 5, optimizer: DEFAULT_OPTIMIZERS.sgd };

  it('matches the reference on the parameters, the outputs, the deltas and every loss', async () => {
    const model = randomModel(network, 41);
    const dataset = randomDataset(network, 50, 41);
    const trainer = await GpuTrainer.create(device, model, dataset, options, { path: 'layered', capture: false });
    try {
      expect(trainer.capture).toBe(false);
      expect(trainer.plan.map((d) => d.label)).not.toContain('gather batch');
      expectAllClose(await crossCheckTrainer(trainer, model, dataset, options, 4, ['params', 'layer0.out', 'layer0.delta', 'layer1.net', 'layer1.out', 'layer1.delta']));
    } finally {
      trainer.dispose();
    }
  });

  it('refuses to read a buffer it did not write, until asked to capture', async () => {
    const model = randomModel(network, 42);
    const dataset = randomDataset(network, 50, 42);
    const trainer = await GpuTrainer.create(device, model, dataset, options, { path: 'layered', capture: false });
    try {
      await trainer.train(1);
      await expect(trainer.read('grads')).rejects.toThrow(InputError);
      await expect(trainer.read('layer0.net')).rejects.toThrow(/setCapture/);
      await trainer.setCapture(true);
      expect(trainer.plan.map((d) => d.label)).toContain('gather batch');
      // Two more steps, now captured: every buffer of the last one agrees.
      await trainer.train(2);
      const comparisons = await crossCheckTrainer(
        { train: async () => {}, read: (name) => trainer.read(name) },
        model,
        dataset,
        options,
        3,
      );
      expectAllClose(comparisons);
    } finally {
      trainer.dispose();
    }
  });
});

describe('the per-kernel profile', () => {
  it("counts a step's FLOPs in its dispatches, split products' additions of partial sums on top", async () => {
    // Large-GPU plans split the output layer's forward product (finished by the output
    // stage), and more.
    const network: RandomNetwork = { sizes: [12, 1030, 3], activations: ['tanh', 'softmax'], loss: 'cross-entropy' };
    const B = 6;
    const model = randomModel(network, 44);
    const options = { learningRate: 0.1, batchSize: B, shuffle: false, seed: 1, optimizer: DEFAULT_OPTIMIZERS.sgd };
    const trainer = await GpuTrainer.create(device, model, randomDataset(network, 10, 44), options, { path: 'layered', capture: false, profile: LARGE_GPU });
    try {
      // Results of each product: (B, OUT) forward and δ, (OUT, IN + 1) gradients with the bias column.
      const results = (label: string) => {
        // Every layer's gradients in one dispatch.
        if (label === 'weight update') return network.sizes.slice(1).reduce((sum, OUT, l) => sum + OUT * (network.sizes[l] + 1), 0);
        const [, l] = /^(?:forward|hidden delta) layer(\d+)$/.exec(label)!;
        return B * network.sizes[Number(l) + 1];
      };
      const splits = trainer.plan.filter((d) => d.plan && d.plan.splitK > 1);
      expect(splits.map((d) => d.label)).toContain('forward layer1');
      const additions = splits.reduce((sum, d) => sum + (d.plan!.splitK - 1) * results(d.label), 0);
      expect(trainer.plan.reduce((sum, d) => sum + d.flops, 0)).toBe(stepFlops(model.spec, B) + additions);
    } finally {
      trainer.dispose();
    }
  });

  it('times every dispatch of a step (timestamp queries where the adapter has them), with the FLOPs of a step, and trains as a step does', async () => {
    const network: RandomNetwork = { sizes: [20, 30, 4], activations: ['sigmoid', 'sigmoid'], loss: 'half-sse' };
    const model = randomModel(network, 43);
    const dataset = randomDataset(network, 40, 43);
    const options = { learningRate: 0.1, batchSize: 12, shuffle: false, seed: 1, optimizer: DEFAULT_OPTIMIZERS.sgd };
    const trainer = await GpuTrainer.create(device, model, dataset, options, { path: 'layered', capture: false });
    try {
      await trainer.train(1);
      const { timings, source } = await trainer.profileStep();
      expect(source).toBe(device.features.has('timestamp-query') ? 'timestamp-query' : 'wall clock');
      expect(timings.map((t) => t.label)).toEqual(trainer.plan.map((d) => d.label));
      for (const timing of timings) expect(timing.ms).toBeGreaterThanOrEqual(0);
      expect(timings.reduce((sum, t) => sum + t.flops, 0)).toBe(stepFlops(model.spec, 12));
      await trainer.train(1);
      // The profiled step was step 2 of 3: the parameters agree with three reference steps.
      expectAllClose(await crossCheckTrainer({ train: async () => {}, read: (name) => trainer.read(name), takeLosses: () => trainer.takeLosses() }, model, dataset, options, 3, ['params']));
    } finally {
      trainer.dispose();
    }
  });
});
