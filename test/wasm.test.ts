// The WebAssembly trainer against the float64 reference, every named buffer, as WebGPU is
// checked (test/support/crosscheck.ts's derived float32 tolerances): the worked examples;
// every activation, loss and optimizer of the tables (a new op is covered here without a
// new test, through its body or through its record); networks whose products the
// threads share; prediction and evaluation. Then each op body against its record, the
// host's ops (an op without a body) against the bodies, and the memory's bookkeeping.

import { beforeAll, describe, expect, it } from 'vitest';
import '../src/node.ts';
import { readFileSync } from 'node:fs';
import { WORKED_EXAMPLES } from '../src/examples/articles.ts';
import { caseSetup } from '../src/examples/worked-example.ts';
import { crossCheck } from '../src/check/crosscheck.ts';
import { InputError, LimitError } from '../src/errors.ts';
import type { Activation, Loss } from '../src/model/model.ts';
import { DEFAULT_OPTIMIZERS, type OptimizerSpec } from '../src/model/optimizer.ts';
import { ACTIVATION_NAMES, ACTIVATION_OPS } from '../src/model/ops/activations.ts';
import { LOSS_NAMES, LOSS_OPS } from '../src/model/ops/losses.ts';
import { OPTIMIZER_NAMES, OPTIMIZER_OPS } from '../src/model/ops/optimizers.ts';
import { forward, sampleLosses } from '../src/reference/backprop.ts';
import { CpuTrainer } from '../src/reference/trainer.ts';
import { opsWithBodies } from '../src/wasm/op-switch.ts';
import { hostOps } from '../src/wasm/hooks.ts';
import { wasmRuntime, type WasmRuntime } from '../src/wasm/runtime.ts';
import { WasmTrainer } from '../src/wasm/trainer.ts';
import type { Model } from '../src/model/network.ts';
import type { Dataset } from '../src/data/dataset.ts';
import type { TrainOptions } from '../src/model/trainer.ts';
import { expectAllClose, randomDataset, randomModel, type RandomNetwork } from './support/crosscheck.ts';

/** `steps` steps on a new WebAssembly trainer, every buffer checked against the reference. */
async function checkWasm(model: Model, dataset: Dataset, options: TrainOptions, steps: number, threads = 1, candidate?: { options?: TrainOptions; model?: Model }) {
  const trainer = await WasmTrainer.create(candidate?.model ?? model, dataset, candidate?.options ?? options, { threads });
  try {
    return await crossCheck(trainer, model, dataset, options, steps);
  } finally {
    trainer.dispose();
  }
}

const settings = (batch: number, optimizer: OptimizerSpec = DEFAULT_OPTIMIZERS.sgd, learningRate = 0.1) => ({ learningRate, batchSize: batch, shuffle: true, seed: 5, optimizer });

describe('worked examples on WebAssembly', () => {
  for (const example of WORKED_EXAMPLES) {
    example.cases.forEach((workedCase, c) => {
      it(`${example.name} case ${c + 1}: every buffer of one step, then of the tenth`, async () => {
        const { model, dataset, options } = caseSetup(workedCase);
        expectAllClose(await checkWasm(model, dataset, options, 1));
        expectAllClose(await checkWasm(model, dataset, options, 10));
      });
    });
  }
});

/** The output layer (and targets) a loss is used with: softmax and sigmoid for those from the logits, each element-wise activation and softmax for the rest. */
function outputsFor(loss: Loss): Activation[] {
  if (LOSS_OPS[loss].kind === 'logits') return ['softmax', 'sigmoid'];
  return ['linear', 'softmax'];
}

describe('every op of the tables on WebAssembly', () => {
  const elementwise = ACTIVATION_NAMES.filter((name) => ACTIVATION_OPS[name].kind === 'elementwise');
  it.each(elementwise)('%s in both hidden layers and as the output: every buffer after 3 shuffled steps', async (activation) => {
    const network: RandomNetwork = { sizes: [5, 24, 17, 3], activations: [activation, activation, activation], loss: 'mse' };
    expectAllClose(await checkWasm(randomModel(network, 11), randomDataset(network, 40, 11), settings(9), 3));
  });
  for (const loss of LOSS_NAMES) {
    it.each(outputsFor(loss))(`${loss} after %s: every buffer after 3 shuffled steps`, async (output) => {
      const network: RandomNetwork = { sizes: [4, 12, 6], activations: ['tanh', output], loss };
      expectAllClose(await checkWasm(randomModel(network, 12), randomDataset(network, 30, 12), settings(7), 3));
    });
  }
  it.each(OPTIMIZER_NAMES)('%s, frozen biases and trained ones: every buffer after 4 shuffled steps', async (kind) => {
    for (const trainBiases of [true, false]) {
      const network: RandomNetwork = { sizes: [6, 20, 4], activations: ['relu', 'linear'], loss: 'mse', trainBiases };
      const learningRate = OPTIMIZER_OPS[kind].defaultLearningRate * 5;
      expectAllClose(await checkWasm(randomModel(network, 13), randomDataset(network, 30, 13), settings(8, DEFAULT_OPTIMIZERS[kind], learningRate), 4));
    }
  });
});

describe('products the threads share', () => {
  // Products of over 2¹⁸ multiply-adds are shared: every one of these, in columns of panels of 8 split unevenly.
  const network: RandomNetwork = { sizes: [100, 300, 77, 10], activations: ['sigmoid', 'tanh', 'softmax'], loss: 'cross-entropy' };
  it.each([1, 2, 3])('%s threads: every buffer after 2 steps of batch 70', async (threads) => {
    expectAllClose(await checkWasm(randomModel(network, 14), randomDataset(network, 150, 14), settings(70, DEFAULT_OPTIMIZERS.momentum, 0.05), 2, threads));
  });
  it('several threads give the same parameters as one, to the bit', async () => {
    const model = randomModel(network, 15);
    const dataset = randomDataset(network, 150, 15);
    const params: Float64Array[] = [];
    for (const threads of [1, 2]) {
      const trainer = await WasmTrainer.create(model, dataset, settings(70), { threads });
      await trainer.train(3);
      params.push(await trainer.read('params'));
      trainer.dispose();
    }
    // The first element that differs (a diff of two arrays this long would take the test runner minutes).
    expect(params[1].findIndex((value, k) => !Object.is(value, params[0][k]))).toBe(-1);
  });
});

describe('prediction and evaluation', () => {
  const network: RandomNetwork = { sizes: [7, 33, 5], activations: ['relu', 'softmax'], loss: 'cross-entropy' };
  it('predict (more rows than one pass takes) and evaluate agree with the reference within float32', async () => {
    const model = randomModel(network, 16);
    const dataset = randomDataset(network, 600, 16);
    const trainer = await WasmTrainer.create(model, dataset, settings(10));
    const reference = new CpuTrainer(model, dataset, settings(10));
    await trainer.train(5);
    await reference.train(5);
    const params = await trainer.read('params');
    // From the float32 trainer's own parameters, so that only the forward pass's error is left.
    const expected = forward(model.spec, model.layout, params, dataset.inputs, dataset.size);
    const outputs = await trainer.predict(dataset.inputs, dataset.size);
    const K = 5;
    expect(outputs.length).toBe(600 * K);
    outputs.forEach((value, k) => expect(Math.abs(value - expected.out[1][k])).toBeLessThan(1e-5));
    const loss = sampleLosses(model.spec, expected, dataset.targets, dataset.size).reduce((a, b) => a + b, 0) / dataset.size;
    expect(Math.abs((await trainer.evaluate(dataset)) - loss)).toBeLessThan(1e-5 * (1 + loss));
    trainer.dispose();
  });
});

describe('the cross-check tells a wrong result from rounding', () => {
  const network: RandomNetwork = { sizes: [6, 130, 65, 4], activations: ['relu', 'tanh', 'sigmoid'], loss: 'half-sse' };
  it('a learning rate off by one percent fails on the parameters', async () => {
    const model = randomModel(network, 7);
    const check = await checkWasm(model, randomDataset(network, 80, 7), settings(33), 2, 1, { options: { ...settings(33), learningRate: 0.101 } });
    expect(check.filter((c) => !c.ok).map((c) => c.message.split(':')[0])).toContain('params');
  });
});

describe('each op body against its record', () => {
  let runtime: WasmRuntime;
  beforeAll(async () => {
    runtime = await wasmRuntime(1);
  });
  // Inputs that float32 holds exactly, so that only the body's own error counts: a few
  // units of roundoff of the value (exp, log and the divisions of the bodies are within
  // a few ulps), plus 2⁻²⁴ absolute where a value cancels to near 0.
  const points = Array.from({ length: 41 }, (_, k) => (k - 20) / 4);
  const close = (actual: number, expected: number) => Math.abs(actual - expected) <= 16 * 2 ** -24 * Math.abs(expected) + 2 ** -24;

  it('has a body for every op of the tables today (a new op may start without one)', () => {
    const bodies = opsWithBodies(readFileSync('src/wasm/assembly/ops.ts', 'utf8'));
    expect(bodies.elementwiseActivations).toEqual(expect.arrayContaining(['linear', 'sigmoid', 'tanh', 'relu', 'silu', 'gelu', 'elu', 'softplus', 'leaky-relu']));
    expect(bodies.rowActivations).toEqual(['softmax']);
    expect(bodies.elementwiseLosses).toEqual(expect.arrayContaining(['half-sse', 'sse', 'mse', 'huber']));
    expect(bodies.logitsLosses).toEqual(['cross-entropy']);
    expect(bodies.optimizers).toEqual(expect.arrayContaining(['sgd', 'momentum', 'adam', 'rmsprop', 'adamw']));
  });

  it('activations and their slopes, by code', () => {
    const bodies = opsWithBodies(readFileSync('src/wasm/assembly/ops.ts', 'utf8'));
    const at = runtime.allocate(4 * 4 * points.length);
    const [net, out, delta] = [0, 1, 2].map((k) => at + 4 * k * points.length);
    for (const name of bodies.elementwiseActivations) {
      const op = ACTIVATION_OPS[name];
      if (op.kind !== 'elementwise') continue;
      expect(runtime.exports.has_activation(op.code), name).toBe(1);
      runtime.f32(net, points.length).set(points);
      expect(runtime.exports.activate_rows(op.code, net, out, points.length, 0.25), name).toBe(1);
      runtime.f32(delta, points.length).fill(1);
      runtime.exports.derivative_rows(op.code, net, out, delta, points.length, 0.25);
      const outs = runtime.f32(out, points.length);
      const slopes = runtime.f32(delta, points.length);
      points.forEach((x, k) => {
        expect(close(outs[k], op.f(x, 0.25)), `${name}(${x}): ${outs[k]} vs ${op.f(x, 0.25)}`).toBe(true);
        expect(close(slopes[k], op.derivative(x, outs[k], 0.25)), `${name}′(${x})`).toBe(true);
      });
    }
    runtime.release(at, 4 * 4 * points.length);
  });

  it('losses, by code', () => {
    const e = runtime.exports;
    for (const name of LOSS_NAMES) {
      const op = LOSS_OPS[name];
      if (e.loss_body(op.code) === 0) continue;
      // Outputs a target's distance past 1 too, where huber turns linear.
      for (const o of op.kind === 'elementwise' ? [0.125, 0.5, 0.875, -1.5, 2.5] : [0.125, 0.5, 0.875]) {
        for (const t of [0, 0.25, 1]) {
          if (op.kind === 'elementwise') {
            expect(close(e.loss_term(op.code, o, t, 4), op.loss(o, t, 4)), `${name} loss`).toBe(true);
            expect(close(e.loss_gradient(op.code, o, t, 4), op.gradient(o, t, 4)), `${name} gradient`).toBe(true);
          } else {
            expect(close(e.logits_softmax_loss(op.code, o * 8 - 4, t, 1.5), op.softmaxLoss(o * 8 - 4, t, 1.5)), `${name} softmax loss`).toBe(true);
            expect(close(e.logits_sigmoid_loss(op.code, o * 8 - 4, t), op.sigmoidLoss(o * 8 - 4, t)), `${name} sigmoid loss`).toBe(true);
            expect(close(e.logits_delta(op.code, o, t, 1), op.delta(o, t, 1)), `${name} delta`).toBe(true);
          }
        }
      }
    }
  });

  it('optimizers, by code: two updates of the state and the parameter, the gradient clipped and the weight decay λ applied (L2, or by the update)', () => {
    // Clipping's factor and λ, each a power of 2: exact in float32.
    const [scale, weightDecay] = [0.5, 0.125];
    for (const name of OPTIMIZER_NAMES) {
      const op = OPTIMIZER_OPS[name];
      if (!runtime.exports.has_optimizer(op.code)) continue;
      const spec = DEFAULT_OPTIMIZERS[name] as OptimizerSpec;
      const constants = Object.keys(op.constants).map((key) => (spec as unknown as Record<string, number>)[key]);
      const at = runtime.allocateZeroed(4 * 16);
      const [param, grad, s0, s1, consts, rates] = [0, 1, 2, 3, 4, 8].map((k) => at + 4 * k);
      runtime.f32(consts, constants.length + 1).set([...constants, weightDecay]);
      const l2 = op.decoupledDecay ? 0 : weightDecay;
      const state = [new Float64Array(1), new Float64Array(1)];
      let expected = 0.5;
      runtime.f32(param, 1)[0] = 0.5;
      for (const [t, g] of [[1, 0.25], [2, -0.125]]) {
        const { correction1, correction2 } = op.corrections ? op.corrections(Object.fromEntries(Object.keys(op.constants).map((key, k) => [key, constants[k]])), t) : { correction1: 1, correction2: 1 };
        runtime.f32(rates, 3).set([0.125, correction1, correction2]);
        runtime.f32(grad, 1)[0] = g;
        runtime.exports.optimizer_update(op.code, param, grad, s0, s1, 1, consts, rates, scale);
        expected = op.update(expected, g * scale + l2 * expected, state, 0, Object.fromEntries(Object.keys(op.constants).map((key, k) => [key, constants[k]])), { learningRate: 0.125, correction1, correction2, weightDecay });
        // A few dozen roundings of the update's terms, whose size before cancellation the record's bound gives (|g| summed over the steps).
        const allowed = 64 * 2 ** -24 * (0.5 + op.tolerance.update(0.125, 0.375, g, Object.fromEntries(Object.keys(op.constants).map((key, k) => [key, constants[k]]))));
        expect(Math.abs(runtime.f32(param, 1)[0] - expected), `${name} step ${t}`).toBeLessThan(allowed);
      }
      runtime.release(at, 4 * 16);
    }
  });
});

describe("the host's ops (an op without a body) agree with the bodies", () => {
  it('activation, slope, output stage and update, each run again by the host on the buffers of a step', async () => {
    const network: RandomNetwork = { sizes: [5, 9, 4], activations: ['tanh', 'softmax'], loss: 'cross-entropy' };
    const model = randomModel(network, 17);
    const options = settings(6, DEFAULT_OPTIMIZERS.adam, 0.01);
    const trainer = await WasmTrainer.create(model, randomDataset(network, 20, 17), options);
    await trainer.train(2);
    const internals = trainer as unknown as { rows: Parameters<typeof hostOps>[0]; runtime: WasmRuntime };
    const { rows, runtime } = internals;
    const host = hostOps(rows);
    const snapshot = (at: number, length: number) => Float64Array.from(runtime.f32(at, length));
    const expectSame = (before: Float64Array, at: number, what: string) => runtime.f32(at, before.length).forEach((value, k) => expect(Math.abs(value - before[k]), `${what}[${k}]`).toBeLessThan(1e-6 * (1 + Math.abs(before[k]))));
    for (const l of [0, 1]) {
      const out = snapshot(rows.layers[l].out, 6 * network.sizes[l + 1]);
      host.activate(l, 6);
      expectSame(out, rows.layers[l].out, `layer${l}.out`);
    }
    const delta = snapshot(rows.layers[1].delta, 24);
    const losses = snapshot(rows.losses, 6);
    host.output(rows.target, 6);
    expectSame(delta, rows.layers[1].delta, 'layer1.delta');
    expectSame(losses, rows.losses, 'loss');
    // The slope: δ of layer 0 divided by the body's slope and multiplied by the host's is itself.
    const slope = snapshot(rows.layers[0].delta, 54);
    const outs = runtime.f32(rows.layers[0].out, 54);
    runtime.f32(rows.layers[0].delta, 54).forEach((value, k, all) => (all[k] = value / (1 - outs[k] * outs[k])));
    host.derivative(0, 6);
    expectSame(slope, rows.layers[0].delta, 'layer0.delta');
    // The update: one more step by the body and by the host, from the same state.
    const state = await trainer.readState();
    await trainer.train(1);
    const stepped = await trainer.readState();
    await trainer.writeState(state);
    await trainer.train(1);
    await trainer.writeState(state);
    host.update(state.step + 1, options.learningRate, 1);
    const params = rows.parameters.view(rows.parameters.params);
    stepped.params.forEach((value, k) => expect(Math.abs(params[k] - value)).toBeLessThan(1e-6));
    trainer.dispose();
  });
});

describe('the memory', () => {
  it('a disposed trainer gives its memory back: the next one of the same size takes the same place', async () => {
    const network: RandomNetwork = { sizes: [3, 8, 2], activations: ['tanh', 'sigmoid'], loss: 'mse' };
    const make = () => WasmTrainer.create(randomModel(network, 18), randomDataset(network, 10, 18), settings(4));
    const first = await make();
    const firstPlace = (first as unknown as { rows: { address: number } }).rows.address;
    first.dispose();
    const second = await make();
    expect((second as unknown as { rows: { address: number } }).rows.address).toBe(firstPlace);
    second.dispose();
    await expect(first.train(1)).rejects.toThrow('disposed');
  });

  it('refuses more than its memory holds, and a thread count that is not a positive whole number', async () => {
    const runtime = await wasmRuntime(1);
    expect(() => runtime.allocate(2 ** 31)).toThrow(LimitError);
    const network: RandomNetwork = { sizes: [3, 2], activations: ['sigmoid'], loss: 'mse' };
    await expect(WasmTrainer.create(randomModel(network, 1), randomDataset(network, 4, 1), settings(2), { threads: 0 })).rejects.toThrow(InputError);
  });
});
