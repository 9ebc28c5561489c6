// Tile plans by measurement (src/gpu/tune.ts) on this machine's adapter, its name masked
// as Chrome may mask it: the plans come from timings, are kept in the store that
// `backend: 'auto'` keeps its measurements in (here a file), and are read back by the
// next trainer on the same adapter without a timing; training with them agrees with the
// float64 reference; a corrupt entry, or one for a plan no longer offered, is measured
// again; another adapter, or tuning off, measures nothing. Small networks and two
// candidates a product: each candidate is a pipeline to compile. The tests share one
// store file and run in order, each starting from what the one before it kept.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GpuTrainer, type GpuTrainerOptions } from '../src/gpu/trainer.ts';
import { describePlan, planConstants, type MatmulPlan } from '../src/gpu/tiles.ts';
import { gpuProfile } from '../src/gpu/adapters.ts';
import { trainingSetting } from '../src/gpu/constants.ts';
import { stepProducts } from '../src/gpu/kernels.ts';
import { clearlyFaster, tunePlans } from '../src/gpu/tune.ts';
import { DEFAULT_OPTIMIZERS } from '../src/model/optimizer.ts';
import { crossCheck, expectAllClose, randomDataset, randomModel, type RandomNetwork } from './support/crosscheck.ts';
import { testDevice } from './support/gpu.ts';

let device: GPUDevice;
let dir: string;
let file: string;
const saved = process.env.WEBGPU_BACKPROP_CALIBRATION;

beforeAll(async () => {
  device = await testDevice();
  dir = mkdtempSync(join(tmpdir(), 'tune-'));
  file = join(dir, 'calibration.json');
  process.env.WEBGPU_BACKPROP_CALIBRATION = file;
});

afterAll(() => {
  if (saved === undefined) delete process.env.WEBGPU_BACKPROP_CALIBRATION;
  else process.env.WEBGPU_BACKPROP_CALIBRATION = saved;
  rmSync(dir, { recursive: true, force: true });
});

let ownInfo: PropertyDescriptor | undefined;

/** Makes the device's adapter say `description` of itself and nothing more (vendor, architecture and device empty), as a masked adapter does. */
function maskAdapter(description = ''): void {
  ownInfo ??= Object.getOwnPropertyDescriptor(device, 'adapterInfo') ?? { value: undefined, configurable: true };
  Object.defineProperty(device, 'adapterInfo', { value: { vendor: '', architecture: '', device: '', description }, configurable: true });
}

/** The adapter's own info again. */
function unmaskAdapter(): void {
  if (ownInfo) Object.defineProperty(device, 'adapterInfo', ownInfo);
}

afterEach(unmaskAdapter);

/** The labels of the bind groups made while `work` runs: the tuner makes one for each product it times, labelled `tuning <product>`. */
async function bindGroupLabels<T>(work: () => Promise<T>): Promise<{ result: T; labels: string[] }> {
  const labels: string[] = [];
  const original = device.createBindGroup;
  device.createBindGroup = (descriptor: GPUBindGroupDescriptor) => {
    labels.push(descriptor.label ?? '');
    return original.call(device, descriptor);
  };
  try {
    return { result: await work(), labels };
  } finally {
    delete (device as { createBindGroup?: unknown }).createBindGroup;
  }
}

const network: RandomNetwork = { sizes: [40, 24, 8], activations: ['tanh', 'sigmoid'], loss: 'half-sse' };
const model = randomModel(network, 31);
const dataset = randomDataset(network, 64, 32);
const options = { learningRate: 0.1, batchSize: 16, shuffle: true, seed: 3, optimizer: DEFAULT_OPTIMIZERS.momentum };
/** Every product tuned (these are far below the default 2²⁴ FLOPs), two candidates each, as `auto` tunes a hardware adapter. */
const TUNE: GpuTrainerOptions = { path: 'layered', tune: { mode: 'auto', minFlops: 0, candidates: 2 } };
const PRODUCTS = ['forward layer0', 'hidden delta layer0', 'forward layer1']; // the weight updates, one dispatch, take the cost model's plan
const PREDICTION = ['predict layer0', 'predict layer1'];

const storeEntries = (): Record<string, unknown> => JSON.parse(readFileSync(file, 'utf8'));
const tuneEntries = () => Object.entries(storeEntries()).filter(([key]) => key.startsWith('tune '));

/** The plan each product's dispatch runs with, by label. */
function dispatchPlans(trainer: GpuTrainer): Map<string, MatmulPlan> {
  return new Map(trainer.plan.filter((dispatch) => dispatch.plan).map((dispatch) => [dispatch.label, dispatch.plan!]));
}

/** The products timed, by the tuner's bind groups. */
const timed = (labels: string[]) => labels.filter((label) => label.startsWith('tuning ') && label !== 'tuning step').sort();

async function create(gpu: GpuTrainerOptions = TUNE) {
  return bindGroupLabels(() => GpuTrainer.create(device, model, dataset, options, gpu));
}

describe('tile plans by measurement', () => {
  it('an adapter with no name gets measured plans, kept in the store; the next trainer reads them and times nothing', async () => {
    maskAdapter();
    rmSync(file, { force: true });
    const first = await create();
    try {
      expect(first.result.profile.software).toBe(false); // nothing says it is SwiftShader: a GPU of unknown units
      expect(first.result.tuning.products.map((product) => product.label).sort()).toEqual([...PRODUCTS].sort());
      const plans = dispatchPlans(first.result);
      for (const product of first.result.tuning.products) {
        expect(product.source).toBe('measured');
        expect(product.timings.length).toBe(2);
        expect(product.timings[0].plan).toBe(describePlan(product.model)); // the cost model's choice is timed first
        for (const timing of product.timings) expect(timing.ms).toBeGreaterThanOrEqual(0);
        // The plan run is the one taken: the faster by the timings, or the cost model's where the other is not clearly faster.
        expect(describePlan(plans.get(product.label)!)).toBe(describePlan(product.plan));
        const [model, other] = product.timings;
        expect(describePlan(product.plan)).toBe(other.ms * 1.03 < model.ms ? other.plan : model.plan);
      }
      expect(timed(first.labels)).toEqual(PRODUCTS.map((product) => `tuning ${product}`).sort());
      // Prediction's forward products (not split, other constants) are tuned at the first prediction.
      await first.result.predict(dataset.inputs.subarray(0, 5 * 40), 5);
      expect(first.result.tuning.products.slice(PRODUCTS.length).map((product) => [product.label, product.source])).toEqual(PREDICTION.map((label) => [label, 'measured']));
    } finally {
      first.result.dispose();
    }
    const kept = tuneEntries();
    expect(kept.length).toBe(PRODUCTS.length + PREDICTION.length);
    for (const [key] of kept) expect(key).toMatch(/^tune v\d+ \/\/\/ limits /); // the masked adapter's key

    const second = await create();
    try {
      expect(timed(second.labels)).toEqual([]);
      expect(second.result.tuning.products.map((product) => product.source)).toEqual(PRODUCTS.map(() => 'kept'));
      const plans = dispatchPlans(second.result);
      for (const product of second.result.tuning.products) expect(describePlan(plans.get(product.label)!)).toBe(describePlan(product.plan));
      const predicted = await bindGroupLabels(() => second.result.predict(dataset.inputs.subarray(0, 5 * 40), 5));
      expect(timed(predicted.labels)).toEqual([]);
      expect(second.result.tuning.products.slice(PRODUCTS.length).map((product) => [product.label, product.source])).toEqual(PREDICTION.map((label) => [label, 'kept']));
    } finally {
      second.result.dispose();
    }
  });

  it('training with the kept plans agrees with the float64 reference, where every product runs the plan the cost model ranks second', async () => {
    maskAdapter();
    // Each entry rewritten to take its second candidate (a plan the cost model would not choose).
    const entries = storeEntries();
    for (const [key, value] of tuneEntries()) {
      const entry = value as { plan: Record<string, number>; timings: { plan: Record<string, number>; ms: number }[] };
      entries[key] = { ...entry, plan: entry.timings[1].plan };
    }
    writeFileSync(file, JSON.stringify(entries));
    let tuned: GpuTrainer | undefined;
    const comparisons = await crossCheck(device, model, dataset, options, 3, { ...TUNE, gpu: TUNE, inspect: (trainer) => (tuned = trainer) });
    expectAllClose(comparisons);
    const plans = dispatchPlans(tuned!);
    for (const product of tuned!.tuning.products) {
      expect(product.source).toBe('kept');
      expect(describePlan(plans.get(product.label)!)).toBe(product.timings[1].plan);
      expect(describePlan(plans.get(product.label)!)).not.toBe(describePlan(product.model));
    }
  });

  it('a corrupt entry, or one for a plan no longer offered, is measured again and replaced', async () => {
    maskAdapter();
    const entries = storeEntries();
    const bad = [
      'not a measurement',
      { plan: { WG_X: 'eight' }, timings: [] },
      { plan: { WG_X: 4, WG_Y: 4, GM: 1, GN: 1, TILE_K: 4, SPLIT_K: 1, BUFFERS: 1 }, timings: [] }, // 16 threads: fewer than a GPU's plans take
      { plan: { WG_X: 8, WG_Y: 8, GM: 1, GN: 1, TILE_K: 8, SPLIT_K: 1, BUFFERS: 1 }, timings: [{ plan: {}, ms: Number.NaN }] },
      { plan: { WG_X: 1024, WG_Y: 1024, GM: 2, GN: 4, TILE_K: 32, SPLIT_K: 1, BUFFERS: 1 }, timings: [] }, // beyond every limit
      null,
    ];
    tuneEntries().forEach(([key], k) => (entries[key] = bad[k % bad.length]));
    writeFileSync(file, JSON.stringify(entries));
    const { result: trainer, labels } = await create();
    try {
      expect(timed(labels)).toEqual(PRODUCTS.map((product) => `tuning ${product}`).sort());
      await trainer.predict(dataset.inputs.subarray(0, 5 * 40), 5);
      expect(trainer.tuning.products.map((product) => product.source)).toEqual([...PRODUCTS, ...PREDICTION].map(() => 'measured'));
    } finally {
      trainer.dispose();
    }
    expect(tuneEntries().length).toBe(PRODUCTS.length + PREDICTION.length);
    for (const [, value] of tuneEntries()) expect(Object.keys((value as { plan: object }).plan).sort()).toEqual(Object.keys(planConstants(trainer.plan.find((dispatch) => dispatch.plan)!.plan!)).sort());
  });

  it('another adapter reads nothing of this one: it measures its own', async () => {
    maskAdapter('Another GPU');
    const before = tuneEntries().length;
    const { result: trainer } = await create();
    try {
      expect(trainer.tuning.products.map((product) => product.source)).toEqual(PRODUCTS.map(() => 'measured'));
    } finally {
      trainer.dispose();
    }
    expect(tuneEntries().length).toBe(before + PRODUCTS.length);
  });

  it('measures nothing where tuning is off, nor by default on a software adapter (SwiftShader, by its name), nor a product under the FLOPs threshold', async () => {
    const products = stepProducts(model.spec, options.batchSize, trainingSetting(options, true));
    const software = gpuProfile(device);
    expect(software.software).toBe(true);
    maskAdapter();
    const masked = gpuProfile(device);
    for (const [profile, tune] of [[masked, 'off'], [masked, { mode: 'off', minFlops: 0 }], [software, { minFlops: 0 }], [software, 'auto'], [masked, 'auto']] as const) {
      const { result, labels } = await bindGroupLabels(() => tunePlans(device, model.spec, options.batchSize, profile, products, tune));
      expect(result.report).toEqual([]);
      expect(result.plans.size).toBe(0);
      expect(timed(labels)).toEqual([]);
    }
    // `on` tunes the software adapter too.
    const { result } = await bindGroupLabels(() => tunePlans(device, model.spec, options.batchSize, software, products.slice(0, 1), { mode: 'on', minFlops: 0, candidates: 2 }));
    expect(result.report.map((product) => product.label)).toEqual([products[0].label]);
  });
});

describe('a candidate replaces the cost model\'s plan only where it is clearly faster', () => {
  const model = [10, 10.4, 9.8, 10.2, 10];
  it('faster by over 3% at the median and in every round: taken', () => {
    expect(clearlyFaster([9.5, 9.9, 9.3, 9.7, 9.5], model)).toBe(true);
  });
  it('faster at the median, but in only 3 of 5 rounds: the machine, not the plan', () => {
    // Median 9.6 against 10 (4% faster); the rounds it lost say the difference is noise.
    expect(clearlyFaster([9, 9.6, 9.5, 10.5, 11], model)).toBe(false);
  });
  it('faster in every round, but by under 3%: kept as the cost model chose', () => {
    expect(clearlyFaster([9.9, 10.3, 9.7, 10.1, 9.9], model)).toBe(false);
  });
  it('one round lost in 7 is allowed, two are not', () => {
    const seven = [10, 10, 10, 10, 10, 10, 10];
    expect(clearlyFaster([9, 9, 9, 9, 9, 9, 11], seven)).toBe(true);
    expect(clearlyFaster([9, 9, 9, 9, 9, 11, 11], seven)).toBe(false);
  });
});
