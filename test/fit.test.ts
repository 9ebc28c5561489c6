// The fit engine's checkpoints: a run stopped after a checkpoint and resumed from it, in
// a new network, ends where the uninterrupted run ends: bit for bit on the float64
// reference, and on WebGPU within the float32 tolerance derived for the run's parameters
// (src/check/tolerance.ts, summed over its steps); for each optimizer, by steps and by
// epochs, and for a run that did not begin at step 0.

import { describe, expect, it } from 'vitest';
import { InputError, Network, type Checkpoint, type FitOptions, type ModelFile, type OptimizerKind } from '../src/node.ts';
import { createModel, trainOptions } from '../src/trainers.ts';
import { float32ParamsTolerance } from './support/crosscheck.ts';
import { testDevice } from './support/gpu.ts';

const description: ModelFile = { inputSize: 3, seed: 11, loss: 'cross-entropy', layers: [{ units: 6, activation: 'tanh' }, { units: 2, activation: 'softmax' }] };
const inputs = Array.from({ length: 10 }, (_, k) => [Math.sin(k), Math.cos(2 * k), k / 10 - 0.5]);
const targets = inputs.map(([a, b]) => (a > b ? [1, 0] : [0, 1]));
const STEPS = 12;

const open = async (backend: 'cpu' | 'webgpu') => Network.create(description, backend === 'webgpu' ? { device: await testDevice() } : { backend: 'cpu' });

/** Trains with checkpoints every `every` steps; stops (as a kill would) once the checkpoint at `stopAt` is saved. Returns the checkpoints, as saved text. */
async function checkpointed(net: Network, options: FitOptions, every: number, stopAt = Infinity): Promise<string[]> {
  const saved: string[] = [];
  const abort = new AbortController();
  await net.fit(inputs, targets, {
    ...options,
    signal: abort.signal,
    checkpoint: {
      every,
      save: (checkpoint) => {
        saved.push(JSON.stringify(checkpoint));
        if (checkpoint.step >= stopAt) abort.abort();
      },
    },
  });
  return saved;
}

describe.each(['cpu', 'webgpu'] as const)('fit with checkpoints on %s', (backend) => {
  describe.each(['sgd', 'momentum', 'adam', 'rmsprop', 'adamw'] as OptimizerKind[])('%s', (optimizer) => {
    const options: FitOptions = { steps: STEPS, batchSize: 4, optimizer, learningRate: { sgd: 0.2, momentum: 0.2, adam: 0.02, rmsprop: 0.01, adamw: 0.02 }[optimizer], seed: 5 };

    it('a run stopped after a checkpoint and resumed from it in a new network ends where the uninterrupted run ends', async () => {
      const straight = await open(backend);
      await straight.fit(inputs, targets, options);

      const stopped = await open(backend);
      const saved = await checkpointed(stopped, options, 3, 6);
      expect(saved.map((text) => (JSON.parse(text) as Checkpoint).step)).toEqual([3, 6]);
      expect(stopped.toJSON()).not.toEqual(straight.toJSON());
      stopped.dispose();

      const resumed = await open(backend);
      const begun: { step: number; steps: number; done: number }[] = [];
      const history = await resumed.fit(inputs, targets, { ...options, resume: saved.at(-1), callbacks: { onTrainBegin: (logs) => void begun.push(logs) } });
      expect(begun).toEqual([{ step: 6, steps: STEPS, done: 6 }]);
      expect(history.steps).toBe(STEPS - 6);

      const [a, b] = [resumed.params(), straight.params()];
      if (backend === 'cpu') {
        // JSON holds float64 exactly: the resumed run is the uninterrupted one, bit for bit.
        expect(Array.from(a)).toEqual(Array.from(b));
      } else {
        // Each float32 run is within the derived tolerance of the float64 run; so within twice it of each other.
        const reference = await open('cpu');
        await reference.fit(inputs, targets, options);
        const expected = reference.params();
        const model = createModel(reference.spec, { seed: description.seed! });
        const tolerance = await float32ParamsTolerance(model, datasetOf(), trainOptions(options, inputs.length), STEPS);
        a.forEach((value, k) => expect(Math.abs(value - expected[k]), `params[${k}] resumed against the reference`).toBeLessThanOrEqual(tolerance[k]));
        a.forEach((value, k) => expect(Math.abs(value - b[k]), `params[${k}] resumed against uninterrupted`).toBeLessThanOrEqual(2 * tolerance[k]));
      }
      straight.dispose();
      resumed.dispose();
    });
  });

  it('with dropout, a schedule and its warmup, weight decay and clipping, all functions of the step: the resumed run ends as the uninterrupted one', async () => {
    const dropping: ModelFile = { ...description, layers: [{ units: 6, activation: 'gelu', dropout: 0.3 }, { units: 2, activation: 'softmax' }] };
    const create = async () => Network.create(dropping, backend === 'webgpu' ? { device: await testDevice() } : { backend: 'cpu' });
    const options: FitOptions = { steps: STEPS, batchSize: 4, optimizer: 'adam', learningRate: { initial: 0.05, schedule: 'step:4:0.5', warmup: 3 }, weightDecay: 0.01, clipNorm: 0.2, seed: 5 };
    const straight = await create();
    await straight.fit(inputs, targets, options);
    const stopped = await create();
    const saved = await checkpointed(stopped, options, 5, 5);
    stopped.dispose();
    const resumed = await create();
    await resumed.fit(inputs, targets, { ...options, resume: saved.at(-1) });
    const [a, b] = [resumed.params(), straight.params()];
    if (backend === 'cpu') expect(Array.from(a)).toEqual(Array.from(b));
    else {
      const model = createModel(straight.spec, { seed: description.seed! });
      const tolerance = await float32ParamsTolerance(model, datasetOf(), trainOptions(options, inputs.length), STEPS);
      a.forEach((value, k) => expect(Math.abs(value - b[k]), `params[${k}] resumed against uninterrupted`).toBeLessThanOrEqual(2 * tolerance[k]));
    }
    // A run with another schedule is another run: its checkpoint is refused.
    await expect(resumed.fit(inputs, targets, { ...options, learningRate: { initial: 0.05, schedule: 'step:4:0.6', warmup: 3 }, resume: saved.at(-1) })).rejects.toThrow(/^resume: options\.schedule: is /);
    straight.dispose();
    resumed.dispose();
  });

  it('by epochs: the resumed run reports the epochs from the one it resumed in, and ends as the uninterrupted run', async () => {
    // 10 rows in batches of 4: epochs end at steps 3, 5, 8, 10.
    const options: FitOptions = { epochs: 4, batchSize: 4, optimizer: 'momentum', learningRate: 0.1, seed: 2 };
    const straight = await open(backend);
    const full = await straight.fit(inputs, targets, options);
    expect(full.epoch).toEqual([0, 1, 2, 3]);

    const saved = await checkpointed(await open(backend), options, 4, 4);
    const resumed = await open(backend);
    const epochs: number[] = [];
    const history = await resumed.fit(inputs, targets, { ...options, resume: saved.at(-1), callbacks: { onEpochEnd: (epoch) => void epochs.push(epoch) } });
    expect(epochs).toEqual([1, 2, 3]);
    expect(history.epoch).toEqual([1, 2, 3]);
    // Epochs 2 and 3 ran whole after the resume: their mean losses are the uninterrupted run's.
    expect(history.history.loss!.slice(1)).toEqual(full.history.loss!.slice(2));
    if (backend === 'cpu') expect(Array.from(resumed.params())).toEqual(Array.from(straight.params()));
  });

  it('a run of a network trained before records where it began, and resumes to its own end', async () => {
    const first: FitOptions = { epochs: 1, batchSize: 4, seed: 3, learningRate: 0.1 };
    const second: FitOptions = { steps: 6, batchSize: 2, seed: 3, learningRate: 0.1 };
    const straight = await open(backend);
    await straight.fit(inputs, targets, first); // 3 steps
    await straight.fit(inputs, targets, second); // steps 3 … 8 of the network's life

    const stopped = await open(backend);
    await stopped.fit(inputs, targets, first);
    const saved = (await checkpointed(stopped, second, 2, 6)).map((text) => JSON.parse(text) as Checkpoint);
    expect(saved.map((c) => [c.start, c.step])).toEqual([
      [3, 4],
      [3, 6],
    ]);

    const resumed = await open(backend);
    const history = await resumed.fit(inputs, targets, { ...second, resume: saved.at(-1) });
    expect(history.steps).toBe(3);
    if (backend === 'cpu') expect(Array.from(resumed.params())).toEqual(Array.from(straight.params()));
  });
});

describe('resuming is refused', () => {
  const options: FitOptions = { steps: 6, batchSize: 2, seed: 1 };
  const saved = async () => (await checkpointed(await open('cpu'), options, 3, 3))[0];

  it('with other options, other data or another network, naming what differs', async () => {
    const checkpoint = await saved();
    const net = await open('cpu');
    await expect(net.fit(inputs, targets, { ...options, batchSize: 5, resume: checkpoint })).rejects.toThrow(/^resume: options\.batchSize: is 2; this run has 5/);
    await expect(net.fit(inputs, targets, { ...options, optimizer: 'adam', resume: checkpoint })).rejects.toThrow(/^resume: options\.(learningRate|optimizer): is /);
    await expect(net.fit(inputs.slice(1), targets.slice(1), { ...options, resume: checkpoint })).rejects.toThrow(/^resume: data: was written for other data/);
    const other = await Network.create({ ...description, layers: [{ units: 5, activation: 'tanh' }, { units: 2, activation: 'softmax' }] }, { backend: 'cpu' });
    await expect(other.fit(inputs, targets, { ...options, resume: checkpoint })).rejects.toThrow(/^resume: model: was written for another network/);
    await expect(net.fit(inputs, targets, { ...options, resume: '{"format": "something else"}' })).rejects.toThrow(InputError);
    // The checkpoint's file name, where the caller gives one, locates the message.
    await expect(net.fit(inputs, targets, { ...options, batchSize: 5, resume: checkpoint, names: { options: { resume: 'run.json' } } })).rejects.toThrow(/^run\.json: options\.batchSize: /);
  });

  it('past the end of the run, and a checkpoint interval longer than the run', async () => {
    const checkpoint = await saved();
    const net = await open('cpu');
    await expect(net.fit(inputs, targets, { ...options, steps: 2, resume: checkpoint })).rejects.toThrow(/^resume: is at step 3, past the 2 steps of this run$/);
    await expect(net.fit(inputs, targets, { ...options, checkpoint: { every: 7, save: () => {} } })).rejects.toThrow(/^checkpoint\.every: 7 is more than the 6 steps of this run/);
    await expect(net.fit(inputs, targets, { ...options, epochs: 2 })).rejects.toThrow(/^steps, epochs: give one or the other, not both$/);
  });

  it('with another shuffle setting, seed or data, naming the difference', async () => {
    const checkpoint = await saved();
    const net = await open('cpu');
    await expect(net.fit(inputs, targets, { ...options, seed: 2, resume: checkpoint })).rejects.toThrow(/^resume: options\.seed: is 1; this run has 2 \(resume with the flags the run began with\)$/);
    await expect(net.fit(inputs, targets, { ...options, shuffle: false, resume: checkpoint })).rejects.toThrow(/^resume: options\.shuffle: is true; this run has false /);
    const changed = targets.map((row, r) => (r === 7 ? [row[1], row[0]] : row));
    await expect(net.fit(inputs, changed, { ...options, resume: checkpoint, names: { data: 'data.json' } })).rejects.toThrow(/^resume: data: was written for other data than data\.json: rows of the same shape with other values$/);
    await expect(net.fit(inputs.slice(2), targets.slice(2), { ...options, resume: checkpoint })).rejects.toThrow(/^resume: data: was written for other data than this run trains on: 10 rows of 3 inputs and 2 targets, not 8 rows of 3 inputs and 2 targets$/);
  });

  describe('a checkpoint is checked in full before anything of it is used', () => {
    const adam: FitOptions = { steps: 6, batchSize: 2, seed: 1, optimizer: 'adam', learningRate: 0.01 };
    const adamCheckpoint = async () => JSON.parse((await checkpointed(await open('cpu'), adam, 3, 3))[0]) as Checkpoint;
    const refusal = async (edit: (c: Checkpoint) => void, message: RegExp) => {
      const checkpoint = await adamCheckpoint();
      edit(checkpoint);
      const net = await open('cpu');
      const before = net.params();
      await expect(net.fit(inputs, targets, { ...adam, resume: checkpoint })).rejects.toThrow(message);
      await expect(net.fit(inputs, targets, { ...adam, resume: JSON.stringify(checkpoint, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? 1e39 : v)) })).rejects.toThrow(InputError);
      expect(net.params()).toEqual(before);
    };
    const v = (c: Checkpoint) => c.optimizerState[1] as Record<string, number[][] | number[]>;

    it("Adam's second moments must not be negative (their square root would be NaN, and the weights null)", async () => {
      await refusal((c) => ((v(c)['layer0.weights'] as number[][])[2][1] = -1e-9), /^resume: optimizerState\[1\]\.layer0\.weights\[2\]\[1\]: expected a number ≥ 0 \(an average of squares\), got -1e-9$/);
      await refusal((c) => ((v(c)['layer1.biases'] as number[])[0] = -3), /^resume: optimizerState\[1\]\.layer1\.biases\[0\]: expected a number ≥ 0/);
    });

    it("RMSprop's and AdamW's averages of squares must not be negative either", async () => {
      for (const [optimizer, slot] of [['rmsprop', 0], ['adamw', 1]] as const) {
        const run: FitOptions = { ...adam, optimizer };
        const checkpoint = JSON.parse((await checkpointed(await open('cpu'), run, 3, 3))[0]) as Checkpoint;
        ((checkpoint.optimizerState[slot] as Record<string, number[]>)['layer1.biases'])[1] = -0.5;
        const net = await open('cpu');
        await expect(net.fit(inputs, targets, { ...run, resume: checkpoint })).rejects.toThrow(new RegExp(`^resume: optimizerState\\[${slot}\\]\\.layer1\\.biases\\[1\\]: expected a number ≥ 0 \\(an average of squares\\), got -0\\.5$`));
      }
    });

    it('the state of every parameter array, of its shape, finite and within float32', async () => {
      await refusal((c) => delete v(c)['layer1.weights'], /^resume: optimizerState\[1\]\.layer1\.weights: is missing \(expected 12 values, shape 2 × 6\)$/);
      await refusal((c) => (v(c)['layer2.weights'] = [[0]]), /^resume: optimizerState\[1\]\.layer2\.weights: is not an array of this network \(expected layer0\.weights, layer0\.biases, layer1\.weights, layer1\.biases\)$/);
      await refusal((c) => (v(c)['layer0.weights'] = (v(c)['layer0.weights'] as number[][]).flat()), /^resume: optimizerState\[1\]\.layer0\.weights: expected shape 6 × 3 \(6 rows of 3\), got 18 values in 18 rows$/);
      await refusal((c) => ((c.optimizerState[0]['layer0.biases'] as number[])[4] = Infinity), /^resume: optimizerState\[0\]\.layer0\.biases\[4\]: expected a (finite number|number float32 can hold)/);
      await refusal((c) => ((c.optimizerState[0]['layer0.biases'] as number[])[4] = NaN), /^resume: /);
      await refusal((c) => ((c.optimizerState[0]['layer0.biases'] as number[])[1] = 4e38), /^resume: optimizerState\[0\]\.layer0\.biases\[1\]: expected a number float32 can hold \(\|x\| ≤ 3\.4028234663852886e\+38\), got 4e\+38$/);
      await refusal((c) => (c.optimizerState = [c.optimizerState[0]]), /^resume: optimizerState: expected 2 arrays for adam, got 1$/);
    });

    it('the weights, and the step counts', async () => {
      await refusal((c) => (c.model.layers[0].weights![0][0] = null as unknown as number), /^resume: model: layers\[0\]\.weights\[0\]\[0\]: /);
      await refusal((c) => (c.step = -1), /^resume: step: /);
      await refusal((c) => (c.step = 2.5), /^resume: step: /);
      await refusal((c) => (c.start = 5), /^resume: start: is 5, after the checkpoint's step 3$/);
      await refusal((c) => (c.step = 7), /^resume: is at step 7, past the 6 steps of this run$/);
    });
  });

  it('a checkpoint of a run from step 0 is in the form older versions wrote (no `start`)', async () => {
    expect(Object.keys(JSON.parse(await saved()))).toEqual(['format', 'step', 'data', 'options', 'model', 'optimizerState']);
  });
});

function datasetOf() {
  return { inputs: Float64Array.from(inputs.flat()), targets: Float64Array.from(targets.flat()), size: inputs.length, inputSize: 3, outputSize: 2 };
}
