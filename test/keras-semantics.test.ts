// fit as users of Keras and TensorFlow.js know it, with TensorFlow.js itself as the
// oracle: its EarlyStopping callback, its validationSplit, its batches larger than the
// data; and the API's sharp edges: toJSON inside a callback, dispose during a fit, option
// keys nobody reads, a stop asked for while the kernels compile.

import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { DisposedError, InputError, Network, type EpochLogs, type FitOptions, type ModelFile } from '../src/node.ts';
import { EarlyStopper, earlyStopping } from '../src/train/fit-options.ts';
import { openDevice, requestAdapter } from '../src/trainers.ts';
import { testDevice } from './support/gpu.ts';

const BACKENDS = ['cpu', 'webgpu'] as const;
type Backend = (typeof BACKENDS)[number];
const open = async (description: ModelFile, backend: Backend) => Network.create(description, backend === 'webgpu' ? { device: await testDevice() } : { backend: 'cpu' });

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** The epoch after which TensorFlow.js's EarlyStopping stops a run whose monitored values are `values`, or undefined. */
async function tfjsStopEpoch(values: number[], monitor: string, patience: number, minDelta: number): Promise<number | undefined> {
  const callback = tf.callbacks.earlyStopping({ monitor, patience, minDelta });
  // The callback stops a run by setting its model's stopTraining; the model is not otherwise used.
  const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [1] })] });
  model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
  model.stopTraining = false;
  callback.setModel(model);
  await callback.onTrainBegin();
  for (const [epoch, value] of values.entries()) {
    await callback.onEpochEnd(epoch, { [monitor]: value });
    if (model.stopTraining) {
      model.dispose();
      return epoch;
    }
  }
  model.dispose();
  return undefined;
}

/** The epoch after which our early stopping stops the same run, or undefined. */
function ourStopEpoch(values: number[], monitor: keyof EpochLogs, patience: number, minDelta: number): number | undefined {
  const stopper = new EarlyStopper(earlyStopping({ monitor, patience, minDelta }, [monitor], false)!);
  const stop = values.findIndex((value, epoch) => stopper.update(epoch, value).stop);
  return stop < 0 ? undefined : stop;
}

describe("early stopping is TensorFlow.js's EarlyStopping", () => {
  it('stops after the same epoch for any run of values, patience and minimum change, on losses and errors (lower is better) and accuracy (higher)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 20 }).map((v) => v / 20), { minLength: 1, maxLength: 14 }),
        fc.integer({ min: 0, max: 4 }),
        fc.constantFrom(0, 0.05, 0.2),
        fc.constantFrom<keyof EpochLogs>('loss', 'val_loss', 'accuracy', 'val_mae'),
        async (values, patience, minDelta, monitor) => {
          expect(ourStopEpoch(values, monitor, patience, minDelta)).toBe(await tfjsStopEpoch(values, monitor, patience, minDelta));
        },
      ),
      { numRuns: 300 },
    );
  });

  it.each([1, 2, 3])('patience %i: a run that stops improving stops where TensorFlow.js would (Keras once ran one epoch longer for patience ≥ 1)', async (patience) => {
    const values = [1, 0.8, 0.7, 0.75, 0.72, 0.71, 0.9, 0.95, 0.96, 0.99];
    expect(ourStopEpoch(values, 'loss', patience, 0)).toBe(await tfjsStopEpoch(values, 'loss', patience, 0));
    expect(ourStopEpoch(values, 'loss', patience, 0)).toBe(2 + patience);
  });

  describe.each(BACKENDS)('in fit, on %s', (backend) => {
    const description: ModelFile = { inputSize: 2, seed: 7, loss: 'mse', layers: [{ units: 6, activation: 'tanh' }, { units: 1, activation: 'linear' }] };
    const inputs = Array.from({ length: 12 }, (_, k) => [Math.sin(k), Math.cos(3 * k)]);
    const targets = inputs.map(([a, b]) => [a * b]);
    // A learning rate large enough that the loss wanders: epochs that do not improve come early.
    const options: FitOptions = { epochs: 60, batchSize: 4, learningRate: 0.9, optimizer: 'momentum', shuffle: false };

    it("stops after the epoch TensorFlow.js's callback stops at, given the same losses, and restoreBestWeights gives back the best epoch's weights", async () => {
      const net = await open(description, backend);
      const weights: string[] = [];
      const history = await net.fit(inputs, targets, {
        ...options,
        earlyStopping: { monitor: 'loss', patience: 2, restoreBestWeights: true },
        callbacks: { onEpochEnd: () => void weights.push(JSON.stringify(net.toJSON())) },
      });
      const losses = history.history.loss!;
      expect(history.stoppedEarly).toBe(true);
      expect(history.epoch.at(-1)).toBe(await tfjsStopEpoch(losses, 'loss', 2, 0));
      // As Keras 3: at the end, the weights of the epoch with the lowest loss.
      const best = losses.indexOf(Math.min(...losses));
      expect(best).toBeLessThan(losses.length - 1);
      expect(JSON.stringify(net.toJSON())).toBe(weights[best]);
      net.dispose();
    });
  });
});

/** The rows TensorFlow.js's fit trains on for `validationSplit` of `rows` rows: the batches of one epoch of batch size 1. */
async function tfjsTrainingRows(rows: number, validationSplit: number): Promise<number> {
  const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [1] })] });
  model.compile({ optimizer: tf.train.sgd(0.01), loss: 'meanSquaredError' });
  let batches = 0;
  const x = tf.tensor2d(Array.from({ length: rows }, (_, k) => [k]));
  const y = tf.tensor2d(Array.from({ length: rows }, (_, k) => [k % 2]));
  await model.fit(x, y, { epochs: 1, batchSize: 1, validationSplit, shuffle: false, callbacks: { onBatchEnd: async () => void batches++ } });
  tf.dispose([x, y]);
  model.dispose();
  return batches;
}

describe("validationSplit is TensorFlow.js's", () => {
  const description: ModelFile = { inputSize: 1, seed: 1, loss: 'mse', layers: [{ units: 1, activation: 'linear' }] };
  const cases: [number, number][] = [
    [10, 0.25],
    [4, 0.1],
    [7, 0.3],
    [9, 0.5],
    [3, 0.34],
  ];

  it.each(cases)('%i rows, validationSplit %d: the first rows TensorFlow.js trains on train, the rest validate', async (rows, split) => {
    const inputs = Array.from({ length: rows }, (_, k) => [k]);
    const targets = inputs.map(([k]) => [k % 2]);
    const net = await Network.create(description, { backend: 'cpu' });
    const history = await net.fit(inputs, targets, { epochs: 1, batchSize: 1, validationSplit: split, shuffle: false, learningRate: 0.01 });
    const trained = await tfjsTrainingRows(rows, split);
    expect(history.steps).toBe(trained);
    expect(history.history.val_loss![0]).toBe((await net.evaluate(inputs.slice(trained), targets.slice(trained))).loss);
  });
});

describe('a batch larger than the data is the whole data, as in TensorFlow.js', () => {
  it('batchSize 10 on 4 rows: one step per epoch over all four, the same losses and weights as TensorFlow.js', async () => {
    const description: ModelFile = { inputSize: 2, seed: 9, loss: 'mse', layers: [{ units: 3, activation: 'tanh' }, { units: 1, activation: 'linear' }] };
    const inputs = [
      [0, 1],
      [1, 0],
      [1, 1],
      [0.5, -1],
    ];
    const targets = [[0.5], [-0.2], [1], [0]];
    const net = await Network.create(description, { backend: 'cpu' });
    const start = net.toJSON();
    const history = await net.fit(inputs, targets, { epochs: 3, batchSize: 10, learningRate: 0.1, shuffle: false });
    expect(history.steps).toBe(3);

    const model = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [2], activation: 'tanh' }), tf.layers.dense({ units: 1 })] });
    // Our weights are out × in; Keras's kernels in × out.
    model.setWeights(start.layers.flatMap((layer) => [tf.tensor2d(layer.weights!).transpose(), tf.tensor1d(layer.biases!)]));
    model.compile({ optimizer: tf.train.sgd(0.1), loss: 'meanSquaredError' });
    const theirs = await model.fit(tf.tensor2d(inputs), tf.tensor2d(targets), { epochs: 3, batchSize: 10, shuffle: false });
    // TensorFlow.js runs in float32: its losses and weights are ours to float32 rounding.
    (theirs.history.loss as number[]).forEach((loss, e) => expect(Math.abs(loss - history.history.loss![e])).toBeLessThan(1e-6));
    const trained = net.toJSON();
    const tfWeights = await Promise.all(model.getWeights().map((w) => w.array()));
    expect(tfWeights[0] as number[][]).toEqual((tfWeights[0] as number[][]).map((row, i) => row.map((_, j) => expect.closeTo(trained.layers[0].weights![j][i], 5))));
  });
});

describe.each(BACKENDS)('the API on %s', (backend) => {
  const description: ModelFile = { inputSize: 2, seed: 3, loss: 'cross-entropy', layers: [{ units: 5, activation: 'tanh' }, { units: 1, activation: 'sigmoid' }] };
  const inputs = [
    [0, 0],
    [0, 1],
    [1, 0],
    [1, 1],
  ];
  const targets = [[0], [1], [1], [0]];

  it('toJSON inside a callback gives the weights so far: after epoch e, those of a run of e + 1 epochs', async () => {
    const net = await open(description, backend);
    const seen: string[] = [];
    const batches: string[] = [];
    const options: FitOptions = { batchSize: 2, learningRate: 0.5, shuffle: false };
    await net.fit(inputs, targets, {
      ...options,
      epochs: 3,
      callbacks: { onEpochEnd: () => void seen.push(JSON.stringify(net.toJSON())), onBatchEnd: () => void batches.push(JSON.stringify(net.toJSON())) },
    });
    for (const epochs of [1, 2, 3]) {
      const straight = await open(description, backend);
      await straight.fit(inputs, targets, { ...options, epochs, callbacks: { onEpochEnd: () => {} } });
      expect(seen[epochs - 1], `after epoch ${epochs - 1}`).toBe(JSON.stringify(straight.toJSON()));
    }
    expect(batches[0]).not.toBe(JSON.stringify((await open(description, backend)).toJSON()));
    // With onEpochEnd alone (no batch callback).
    const alone = await open(description, backend);
    const first: string[] = [];
    await alone.fit(inputs, targets, { ...options, epochs: 1, callbacks: { onEpochEnd: () => void first.push(JSON.stringify(alone.toJSON())) } });
    expect(first).toEqual([seen[0]]);
  });

  it('dispose() during a fit rejects it with DisposedError, not a lost device', async () => {
    const fromCallback = await open(description, backend);
    const error = await fromCallback.fit(inputs, targets, { epochs: 1000, callbacks: { onEpochEnd: (epoch) => void (epoch === 3 && fromCallback.dispose()) } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DisposedError);
    expect((error as Error).message).toBe('this network has been disposed; create a new one');

    const fromOutside = await open(description, backend);
    const running = fromOutside.fit(inputs, targets, { epochs: 100_000 });
    setTimeout(() => fromOutside.dispose(), 50);
    await expect(running).rejects.toThrow(DisposedError);
  });
});

describe('option keys nobody reads are refused, with the one they resemble', () => {
  const description: ModelFile = { inputSize: 2, seed: 3, loss: 'mse', layers: [{ units: 1, activation: 'linear' }] };
  const inputs = [[0, 1]];
  const targets = [[1]];

  it.each<[string, (net: Network) => Promise<unknown>, RegExp]>([
    ['fit', (net) => net.fit(inputs, targets, { epoch: 3 } as FitOptions), /^epoch: is not an option of fit \(did you mean epochs\?\)$/],
    ['fit, any case', (net) => net.fit(inputs, targets, { learningrate: 0.1 } as FitOptions), /^learningrate: is not an option of fit \(did you mean learningRate\?\)$/],
    ['fit, nothing alike', (net) => net.fit(inputs, targets, { verbose: 1 } as FitOptions), /^verbose: is not an option of fit; its options are learningRate, batchSize, .*, names$/],
    ['earlyStopping', (net) => net.fit(inputs, targets, { earlyStopping: { patiense: 2 } } as unknown as FitOptions), /^earlyStopping\.patiense: is not an option of earlyStopping \(did you mean patience\?\)$/],
    ['callbacks', (net) => net.fit(inputs, targets, { callbacks: { onEpochEnds: () => {} } } as unknown as FitOptions), /^callbacks\.onEpochEnds: is not an option of callbacks \(did you mean onEpochEnd\?\)$/],
    ['an optimizer', (net) => net.fit(inputs, targets, { optimizer: { kind: 'adam', beta1: 0.9, beta2: 0.999, epsilon: 1e-8, betas: [0.9, 0.99] } } as unknown as FitOptions), /^optimizer\.betas: is not an option of the adam optimizer \(did you mean beta1\?\)$/],
    ['a learning rate with a schedule', (net) => net.fit(inputs, targets, { learningRate: { initial: 0.1, warmpu: 3 } } as never), /^learningRate\.warmpu: is not an option of a learning rate with a schedule \(did you mean warmup\?\)$/],
    ['evaluate', (net) => net.evaluate(inputs, targets, { metric: ['mae'] } as never), /^metric: is not an option of evaluate \(did you mean metrics\?\)$/],
    ['export', (net) => net.export('pytorch', { learning_rate: 0.1 } as never), /^learning_rate: is not an option of export \(did you mean learningRate\?\)$/],
    ['Network.create', () => Network.create(description, { backnd: 'cpu' } as never), /^backnd: is not an option of Network\.create \(did you mean backend\?\)$/],
    ['Network.fromJSON', () => Network.fromJSON(JSON.stringify(description), { sede: 1 } as never), /^sede: is not an option of Network\.fromJSON \(did you mean seed\?\)$/],
    ['Network.import', () => Network.import(JSON.stringify(description), 'auto', { wieghts: {} } as never), /^wieghts: is not an option of Network\.import \(did you mean weights\?\)$/],
  ])('%s', async (_, call, message) => {
    const net = await Network.create(description, { backend: 'cpu' });
    const error = await call(net).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toMatch(message);
  });
});

describe('a stop asked for while the kernels compile', () => {
  it('ends the fit within a second, before any step; the next fit trains', async () => {
    // A device of its own: nothing compiled for it yet.
    const device = await openDevice(await requestAdapter());
    const description: ModelFile = { inputSize: 8, seed: 1, loss: 'cross-entropy', layers: [{ units: 80, activation: 'relu' }, { units: 10, activation: 'softmax' }] };
    const inputs = Array.from({ length: 64 }, (_, r) => Array.from({ length: 8 }, (_, c) => Math.sin(r + 3 * c)));
    const targets = inputs.map((_, r) => Array.from({ length: 10 }, (_, k) => (k === r % 10 ? 1 : 0)));
    const net = await Network.create(description, { device });
    const stop = new AbortController();
    let asked = 0;
    setTimeout(() => {
      asked = performance.now();
      stop.abort();
    }, 20);
    const history = await net.fit(inputs, targets, { epochs: 1, batchSize: 64, signal: stop.signal });
    const took = performance.now() - asked;
    console.log(`the stop took ${took.toFixed(0)} ms`);
    expect(history.aborted).toBe(true);
    expect(history.steps).toBe(0);
    expect(took).toBeLessThan(1000);
    const next = await net.fit(inputs, targets, { epochs: 1, batchSize: 64 });
    expect(next.steps).toBe(1);
    net.dispose();
    device.destroy();
  });
});
