// The training toolkit on the WebAssembly trainer, each part against the float64
// reference buffer by buffer within the derived float32 tolerances (src/check/tolerance.ts),
// the optimizer state too (test/support/optimizer-state.ts): weight decay (L2 and AdamW's
// own), clipping to a global norm (checked to bite), the schedules, dropout (its masks the
// reference's, bit for bit, from the same generator), all of them at once on networks whose
// products the threads share; then the two marks to rewind to, the targets checked at
// creation, and a run stopped at a checkpoint and resumed through Network.fit.

import { describe, expect, it } from 'vitest';
import '../src/node.ts';
import { crossCheck, type Checkable } from '../src/check/crosscheck.ts';
import type { Dataset } from '../src/data/dataset.ts';
import { InputError } from '../src/errors.ts';
import { dropoutMask } from '../src/model/dropout.ts';
import type { Model } from '../src/model/network.ts';
import { DEFAULT_OPTIMIZERS, type OptimizerSpec } from '../src/model/optimizer.ts';
import type { TrainerState, TrainOptions } from '../src/model/trainer.ts';
import { Network, type Checkpoint, type FitOptions, type ModelFile } from '../src/node.ts';
import { clipScale } from '../src/reference/optimizers.ts';
import { CpuTrainer } from '../src/reference/trainer.ts';
import { createModel, trainOptions } from '../src/trainers.ts';
import { ACTIVATION_OPS } from '../src/model/ops/activations.ts';
import { hostOps } from '../src/wasm/hooks.ts';
import { wasmRuntime } from '../src/wasm/runtime.ts';
import { WasmTrainer } from '../src/wasm/trainer.ts';
import { expectAllClose, float32ParamsTolerance, randomDataset, randomModel, type RandomNetwork } from './support/crosscheck.ts';
import { compareOptimizerState } from './support/optimizer-state.ts';
import { PHILOX_KNOWN_ANSWERS } from './support/philox.ts';

/** `steps` steps on a new WebAssembly trainer (in two calls, so that the second continues the first's count), every buffer and the optimizer state checked against the reference. */
async function checkWasm(model: Model, dataset: Dataset, options: TrainOptions, steps: number, threads = 1, candidate: { options?: TrainOptions } = {}) {
  const trainer = await WasmTrainer.create(model, dataset, candidate.options ?? options, { threads });
  try {
    const split: Checkable = {
      train: async (count) => {
        await trainer.train(1);
        await trainer.train(count - 1);
      },
      read: (name) => trainer.read(name),
      takeLosses: () => trainer.takeLosses(),
    };
    const comparisons = await crossCheck(split, model, dataset, options, steps);
    return [...comparisons, ...(await compareOptimizerState(await trainer.readState(), model, dataset, options, steps))];
  } finally {
    trainer.dispose();
  }
}

/** The buffers out of tolerance, by name. */
const failing = (comparisons: { ok: boolean; message: string }[]) => comparisons.filter((c) => !c.ok).map((c) => c.message.split(':')[0]);

const settings = (optimizer: OptimizerSpec, learningRate: number, more: Partial<TrainOptions> = {}): TrainOptions => ({ learningRate, batchSize: 7, shuffle: true, seed: 3, optimizer, ...more });
const small: RandomNetwork = { sizes: [5, 16, 12, 3], activations: ['tanh', 'relu', 'linear'], loss: 'mse' };
const model = randomModel(small, 31);
const dataset = randomDataset(small, 30, 31);

describe('weight decay on WebAssembly', () => {
  const rates = { sgd: 0.2, momentum: 0.1, adam: 0.02, rmsprop: 0.01, adamw: 0.02 };
  for (const kind of ['sgd', 'momentum', 'adam', 'rmsprop', 'adamw'] as const) {
    it(`${kind} with λ = 0.1 (${kind === 'adamw' ? 'its own, decoupled' : 'L2, added to the gradient'}), frozen biases and trained ones: every buffer and the state after 5 steps`, async () => {
      for (const trainBiases of [true, false]) {
        const network = { ...small, trainBiases };
        const options = settings({ ...DEFAULT_OPTIMIZERS[kind], weightDecay: 0.1 }, rates[kind]);
        expectAllClose(await checkWasm(randomModel(network, 32), randomDataset(network, 30, 32), options, 5));
      }
    });
  }

  it('a trainer that leaves the decay out fails on the parameters', async () => {
    const options = settings({ ...DEFAULT_OPTIMIZERS.momentum, weightDecay: 0.1 }, 0.1);
    expect(failing(await checkWasm(model, dataset, options, 5, 1, { options: { ...options, optimizer: DEFAULT_OPTIMIZERS.momentum } }))).toContain('params');
  });

  it("takes the optimizer's constants by name, whatever order the specification gives them in", async () => {
    const { kind, beta1, beta2, epsilon } = { ...DEFAULT_OPTIMIZERS.adam, beta1: 0.8 };
    expectAllClose(await checkWasm(model, dataset, settings({ epsilon, beta2, beta1, kind }, 0.02), 4));
  });
});

describe('clipping on WebAssembly', () => {
  /** clipScale of the reference's gradient at each of `steps` steps: below 1 where clipping bites. */
  async function scales(model: Model, dataset: Dataset, options: TrainOptions, steps: number): Promise<number[]> {
    const reference = new CpuTrainer(model, dataset, options);
    const found: number[] = [];
    for (let s = 0; s < steps; s++) {
      await reference.train(1);
      found.push(clipScale(model.layout, await reference.read('grads'), model.spec.trainBiases, options.clipNorm!));
    }
    return found;
  }

  it.each([true, false])('clipping at every step (biases trained: %s): every buffer after 4 steps', async (trainBiases) => {
    const network = { ...small, trainBiases };
    const [m, d] = [randomModel(network, 33), randomDataset(network, 30, 33)];
    const options = settings(DEFAULT_OPTIMIZERS.momentum, 0.1, { clipNorm: 0.05 });
    expect((await scales(m, d, options, 4)).every((scale) => scale < 1)).toBe(true);
    expectAllClose(await checkWasm(m, d, options, 4));
  });

  it('a trainer that does not clip fails on the parameters', async () => {
    const options = settings(DEFAULT_OPTIMIZERS.sgd, 0.2, { clipNorm: 0.05 });
    expect(failing(await checkWasm(model, dataset, options, 4, 1, { options: { ...options, clipNorm: undefined } }))).toContain('params');
  });
});

describe('learning-rate schedules on WebAssembly', () => {
  const schedules: [string, TrainOptions['schedule']][] = [
    ['step decay with a warmup', { decay: { kind: 'step', every: 2, gamma: 0.5 }, warmup: 3 }],
    ['exponential decay', { decay: { kind: 'exponential', gamma: 0.7 } }],
    ['cosine to 0 over 4 steps, held there', { decay: { kind: 'cosine', steps: 4 } }],
    ['a function of the step', (s: number) => 0.05 / (1 + s)],
  ];
  it.each(schedules)('%s, with Adam: every buffer and the state after 6 steps', async (_, schedule) => {
    expectAllClose(await checkWasm(model, dataset, settings(DEFAULT_OPTIMIZERS.adam, 0.05, { schedule }), 6));
  });

  it('a trainer that keeps the initial rate fails on the parameters', async () => {
    const options = settings(DEFAULT_OPTIMIZERS.sgd, 0.2, { schedule: { decay: { kind: 'exponential', gamma: 0.5 } } });
    expect(failing(await checkWasm(model, dataset, options, 5, 1, { options: { ...options, schedule: undefined } }))).toContain('params');
  });
});

describe('dropout on WebAssembly', () => {
  const network: RandomNetwork = { sizes: [5, 24, 16, 3], activations: ['relu', 'gelu', 'linear'], loss: 'mse', hidden: { dropout: 0.5 } };
  const [m, d] = [randomModel(network, 34), randomDataset(network, 30, 34)];
  const options = settings(DEFAULT_OPTIMIZERS.momentum, 0.05);

  it("draws Philox4x32-10's words: Random123's known answers", async () => {
    const runtime = await wasmRuntime(1);
    const at = runtime.allocate(16);
    for (const [counter, key, output] of PHILOX_KNOWN_ANSWERS) {
      runtime.exports.dropout_draw(counter[0], counter[1], counter[2], counter[3], key[0], key[1], at);
      expect(Array.from(runtime.u32(at, 4))).toEqual(output);
    }
    runtime.release(at, 16);
  });

  it("each step's masks are the reference's, bit for bit, at a seed past 2³², rows of whole draws of four units and rows that end inside one", async () => {
    const seed = 2 ** 40 + 12345;
    // 24 units, then 23: draws of four units each, then a row's last draw of three.
    const ragged: RandomNetwork = { ...network, sizes: [5, 24, 23, 3] };
    const trainer = await WasmTrainer.create(randomModel(ragged, 34), randomDataset(ragged, 30, 34), { ...options, seed });
    const { rows, runtime } = trainer as unknown as { rows: { layers: { mask: number }[] }; runtime: Awaited<ReturnType<typeof wasmRuntime>> };
    for (let step = 0; step < 3; step++) {
      await trainer.train(1);
      for (const l of [0, 1]) {
        const expected = Float32Array.from(dropoutMask(0.5, { seed, step }, l, 7, ragged.sizes[l + 1]));
        expect(Array.from(runtime.f32(rows.layers[l].mask, expected.length)), `step ${step}, layer ${l}`).toEqual(Array.from(expected));
      }
    }
    expect(rows.layers[2].mask).toBe(0);
    trainer.dispose();
  });

  it('p = 0.5 on both hidden layers: every buffer and the state after 4 steps', async () => {
    expectAllClose(await checkWasm(m, d, options, 4));
  });

  it('a trainer with another seed (other masks) fails on the layers that drop', async () => {
    const found = failing(await checkWasm(m, d, options, 1, 1, { options: { ...options, seed: 4 } }));
    expect(found).toEqual(expect.arrayContaining(['layer0.out', 'layer1.out']));
  });

  it("the host's slope of a layer that dropped (an activation without a body) is the body's: δ times the mask and the slope of f(net)", async () => {
    // Slopes read from the output, which dropout has scaled: the one before it must be taken.
    const network: RandomNetwork = { sizes: [5, 12, 10, 3], activations: ['tanh', 'sigmoid', 'linear'], loss: 'mse', hidden: { dropout: 0.5 } };
    const trainer = await WasmTrainer.create(randomModel(network, 37), randomDataset(network, 30, 37), options);
    await trainer.train(1);
    const { rows, runtime } = trainer as unknown as { rows: Parameters<typeof hostOps>[0]; runtime: Awaited<ReturnType<typeof wasmRuntime>> };
    const host = hostOps(rows);
    for (const l of [0, 1]) {
      const { net, mask, delta } = rows.layers[l];
      const length = 7 * network.sizes[l + 1];
      const g = Float32Array.from({ length }, (_, k) => Math.sin(k));
      runtime.f32(delta, length).set(g);
      expect(runtime.exports.dropped_derivative_rows(ACTIVATION_OPS[network.activations[l]].code, net, mask, delta, length, 0)).toBe(1);
      const body = Float64Array.from(runtime.f32(delta, length));
      expect(body.filter((value) => value === 0).length, 'dropped units').toBeGreaterThan(0);
      runtime.f32(delta, length).set(g);
      host.derivative(l, 7);
      // The body's slope is within 16 units of roundoff of its record's, plus 2⁻²⁴ absolute (as each body is checked in test/wasm.test.ts), times g·mask.
      const keep = runtime.f32(mask, length);
      const allowed = (k: number) => 16 * 2 ** -24 * Math.abs(body[k]) + 2 ** -24 * Math.abs(g[k] * keep[k]);
      runtime.f32(delta, length).forEach((value, k) => expect(Math.abs(value - body[k]), `layer${l}.delta[${k}]`).toBeLessThanOrEqual(allowed(k)));
    }
    trainer.dispose();
  });

  it('prediction and evaluation never drop', async () => {
    const trainer = await WasmTrainer.create(m, d, options);
    const reference = new CpuTrainer(m, d, options);
    // Before any step both predict from the same parameters: only float32's rounding of a forward pass is left, of order 2⁻²⁴ times sums of 5, 24 and 16 terms of order 1.
    const [outputs, expected] = [await trainer.predict(d.inputs, d.size), await reference.predict(d.inputs, d.size)];
    outputs.forEach((value, k) => expect(Math.abs(value - expected[k])).toBeLessThan(1e-5));
    expect(Math.abs((await trainer.evaluate(d)) - (await reference.evaluate(d)))).toBeLessThan(1e-5);
    trainer.dispose();
  });
});

describe('every part at once, on products the threads share', () => {
  // Products of over 2¹⁸ multiply-adds are shared between threads, and so is element-wise
  // work over 2¹⁵ elements (src/wasm/assembly/elementwise.ts): here the first layer's
  // activation (90 × 400), its slope and its weights' update (400 × 100).
  const network: RandomNetwork = { sizes: [100, 400, 77, 10], activations: ['leaky-relu', 'leaky-relu', 'softmax'], loss: 'cross-entropy', hidden: { dropout: 0.2, negativeSlope: 0.2 } };
  const [m, d] = [randomModel(network, 35), randomDataset(network, 180, 35)];
  const options: TrainOptions = { learningRate: 0.01, batchSize: 90, shuffle: true, seed: 6, optimizer: { ...DEFAULT_OPTIMIZERS.adamw, weightDecay: 0.05 }, clipNorm: 0.5, schedule: { decay: { kind: 'step', every: 1, gamma: 0.8 }, warmup: 2 } };
  it.each([1, 2])('%s threads, AdamW, dropout, clipping and a schedule: every buffer and the state after 3 steps', async (threads) => {
    expectAllClose(await checkWasm(m, d, options, 3, threads));
  });

  it('several threads give the same parameters and state as one, to the bit', async () => {
    const states: TrainerState[] = [];
    for (const threads of [1, 2]) {
      const trainer = await WasmTrainer.create(m, d, options, { threads });
      await trainer.train(3);
      states.push(await trainer.readState());
      trainer.dispose();
    }
    for (const [a, b] of [[states[0].params, states[1].params], ...states[0].optimizerState.map((slot, k) => [slot, states[1].optimizerState[k]])]) {
      expect(a.findIndex((value, k) => !Object.is(value, b[k]))).toBe(-1);
    }
  });
});

describe('marks and rewinding on WebAssembly', () => {
  it('rewinds to the last mark or the one before it (the start where there was none), with the state and the step', async () => {
    const trainer = await WasmTrainer.create(model, dataset, settings(DEFAULT_OPTIMIZERS.rmsprop, 0.01));
    const start = await trainer.readState();
    await trainer.train(2);
    trainer.mark();
    const first = await trainer.readState();
    await trainer.rewind('previous');
    expect(await trainer.readState()).toEqual(start);
    await trainer.rewind();
    expect(await trainer.readState()).toEqual(first);
    await trainer.train(3);
    trainer.mark();
    const second = await trainer.readState();
    await trainer.train(1);
    await trainer.rewind('previous');
    expect(await trainer.readState()).toEqual(first);
    expect(trainer.step).toBe(2);
    await trainer.rewind('last');
    expect(await trainer.readState()).toEqual(second);
    expect(trainer.step).toBe(5);
    expect(await trainer.takeLosses()).toHaveLength(0);
    trainer.dispose();
  });
});

describe('creation on WebAssembly', () => {
  it('refuses targets its loss cannot take, naming the row and column', async () => {
    const network: RandomNetwork = { sizes: [3, 4, 2], activations: ['tanh', 'softmax'], loss: 'cross-entropy' };
    const data = randomDataset(network, 6, 36);
    data.targets[5] = 2;
    await expect(WasmTrainer.create(randomModel(network, 36), data, settings(DEFAULT_OPTIMIZERS.sgd, 0.1))).rejects.toThrow(InputError);
    await expect(WasmTrainer.create(randomModel(network, 36), data, settings(DEFAULT_OPTIMIZERS.sgd, 0.1))).rejects.toThrow(/^targets\[2\]\[1\]: cross-entropy takes targets in \[0, 1\]/);
  });
});

describe('a run stopped at a checkpoint and resumed through Network.fit on WebAssembly', () => {
  const description: ModelFile = { inputSize: 3, seed: 11, loss: 'cross-entropy', layers: [{ units: 6, activation: 'elu', dropout: 0.3 }, { units: 2, activation: 'softmax' }] };
  const inputs = Array.from({ length: 10 }, (_, k) => [Math.sin(k), Math.cos(2 * k), k / 10 - 0.5]);
  const targets = inputs.map(([a, b]) => (a > b ? [1, 0] : [0, 1]));
  const STEPS = 12;
  const open = () => Network.create(description, { backend: 'wasm' });

  it.each(['rmsprop', 'adamw'] as const)('%s with a schedule, weight decay and clipping: the resumed run ends as the uninterrupted one, to the bit, and within the tolerance of the reference', async (optimizer) => {
    const options: FitOptions = { steps: STEPS, batchSize: 4, optimizer, learningRate: { initial: 0.02, schedule: 'step:4:0.5', warmup: 3 }, weightDecay: 0.05, clipNorm: 0.5, seed: 5 };
    const straight = await open();
    await straight.fit(inputs, targets, options);
    const stopped = await open();
    const saved: string[] = [];
    const abort = new AbortController();
    const checkpoint = { every: 5, save: (c: Checkpoint) => void (saved.push(JSON.stringify(c)), c.step >= 5 && abort.abort()) };
    await stopped.fit(inputs, targets, { ...options, signal: abort.signal, checkpoint });
    expect(saved.map((text) => (JSON.parse(text) as Checkpoint).step)).toEqual([5]);
    stopped.dispose();
    const resumed = await open();
    await resumed.fit(inputs, targets, { ...options, resume: saved[0] });
    expect(Array.from(resumed.params())).toEqual(Array.from(straight.params()));
    const reference = await Network.create(description, { backend: 'cpu' });
    await reference.fit(inputs, targets, options);
    const expected = reference.params();
    const dataset = { inputs: Float64Array.from(inputs.flat()), targets: Float64Array.from(targets.flat()), size: inputs.length, inputSize: 3, outputSize: 2 };
    const tolerance = await float32ParamsTolerance(createModel(reference.spec, { seed: description.seed! }), dataset, trainOptions(options, inputs.length), STEPS);
    resumed.params().forEach((value, k) => expect(Math.abs(value - expected[k]), `params[${k}]`).toBeLessThanOrEqual(tolerance[k]));
    for (const net of [straight, resumed, reference]) net.dispose();
  });
});
