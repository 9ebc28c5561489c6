// Training in a worker (webgpu-backprop/worker): a WorkerNetwork does what a Network does,
// over messages. Here the two sides talk over a MessageChannel in one thread (Node has no
// web Worker); the app's tests run the library's worker script in Chromium, on WebGPU.
// On the float64 reference, fit in a worker is the same run bit for bit: the same weights,
// the same history, every callback with the same arguments.

import { afterEach, describe, expect, it } from 'vitest';
import { DivergedError, InputError, Network, type BatchLogs, type Checkpoint, type FitOptions, type ModelFile } from '../src/node.ts';
import { NetworkWorker, serveNetworks, WorkerNetwork } from '../src/worker.ts';
import { testDevice } from './support/gpu.ts';
import { XOR, XOR_INPUTS, XOR_TARGETS } from './support/xor.ts';

const SPIRAL = Array.from({ length: 64 }, (_, k) => [Math.cos(k / 5) * (k / 64), Math.sin(k / 5) * (k / 64)]);
const SPIRAL_TARGETS = SPIRAL.map((_, k) => [k % 2]);

/** A worker's two ends in this thread, and how many onBatchEnd messages crossed. */
function channel(): { worker: NetworkWorker; batchMessages: () => number; close: () => void } {
  const { port1, port2 } = new MessageChannel();
  serveNetworks(port2 as unknown as Parameters<typeof serveNetworks>[0]);
  let batches = 0;
  port1.addEventListener('message', (event) => {
    if ((event as MessageEvent).data?.data?.type === 'onBatchEnd') batches++;
  });
  const worker = NetworkWorker.connect(port1 as unknown as Parameters<typeof NetworkWorker.connect>[0]);
  return {
    worker,
    batchMessages: () => batches,
    close: () => {
      port1.close();
      port2.close();
    },
  };
}

const open: (() => void)[] = [];
afterEach(() => open.splice(0).forEach((close) => close()));
const started = () => {
  const c = channel();
  open.push(c.close);
  return c;
};

/** Every callback's calls, in order, with their arguments. */
function recorder(): { calls: unknown[]; callbacks: FitOptions['callbacks'] } {
  const calls: unknown[] = [];
  return {
    calls,
    callbacks: {
      onTrainBegin: (logs) => void calls.push(['trainBegin', logs]),
      onEpochBegin: (epoch) => void calls.push(['epochBegin', epoch]),
      onBatchEnd: (batch, logs) => void calls.push(['batchEnd', batch, logs]),
      onEpochEnd: (epoch, logs) => void calls.push(['epochEnd', epoch, logs]),
      onTrainEnd: (history) => void calls.push(['trainEnd', history]),
    },
  };
}

describe('a network in a worker', () => {
  it('on the float64 reference, fits exactly as Network does: the same weights, history and callbacks, the batch losses a chunk to a message', async () => {
    const { worker, batchMessages } = started();
    const options: FitOptions = { epochs: 40, batchSize: 16, optimizer: 'adam', learningRate: 0.02, metrics: ['accuracy'], validationSplit: 0.25 };
    const here = await Network.create(XOR, { backend: 'cpu' });
    const there = await WorkerNetwork.create(XOR, { backend: 'cpu', worker });
    expect(there.backend).toBe('cpu');
    expect(there.toJSON()).toEqual(here.toJSON());
    const [a, b] = [recorder(), recorder()];
    const expected = await here.fit(SPIRAL, SPIRAL_TARGETS, { ...options, callbacks: a.callbacks });
    const got = await there.fit(SPIRAL, SPIRAL_TARGETS, { ...options, callbacks: b.callbacks });
    expect(got).toEqual(expected);
    expect(b.calls).toEqual(a.calls);
    expect(there.params()).toEqual(here.params());
    expect(there.toJSON()).toEqual(here.toJSON());
    expect(await there.predict(SPIRAL)).toEqual(await here.predict(SPIRAL));
    expect(await there.predict(SPIRAL, { layer: [0, 1] })).toEqual(await here.predict(SPIRAL, { layer: [0, 1] }));
    expect(await there.evaluate(SPIRAL, SPIRAL_TARGETS, { metrics: ['accuracy'] })).toEqual(await here.evaluate(SPIRAL, SPIRAL_TARGETS, { metrics: ['accuracy'] }));
    // 120 steps: their losses came in far fewer messages than steps.
    const steps = got.steps;
    expect(steps).toBe(120);
    console.log(`${steps} steps' batch losses in ${batchMessages()} messages`);
    expect(batchMessages()).toBeLessThanOrEqual(got.epoch.length + 1);
  });

  it("keeps a model file's class names, as Network does", async () => {
    const { worker } = started();
    const named: ModelFile = { ...XOR, layers: [XOR.layers[0], { units: 2, activation: 'softmax' }], classes: ['no', 'yes'] };
    const there = await WorkerNetwork.fromJSON(JSON.stringify(named), { backend: 'cpu', worker });
    const here = await Network.fromJSON(JSON.stringify(named), { backend: 'cpu' });
    expect(there.classes).toEqual(['no', 'yes']);
    expect(there.toJSON().classes).toEqual(['no', 'yes']);
    expect(there.toJSON()).toEqual(here.toJSON());
  });

  it('trains on WebGPU in the worker, and predicts a hidden layer there', async () => {
    const { worker } = started();
    await testDevice(); // Dawn, in this thread: the worker's side opens its own device
    const net = await WorkerNetwork.create(XOR, { worker, backend: 'webgpu' });
    expect(net.backend).toBe('webgpu');
    expect(net.adapter?.isFallbackAdapter).toBeTypeOf('boolean');
    const losses: number[] = [];
    const history = await net.fit(XOR_INPUTS, XOR_TARGETS, { epochs: 300, batchSize: 4, optimizer: 'adam', learningRate: 0.05, callbacks: { onBatchEnd: (_, logs) => void losses.push(logs.loss) } });
    expect(losses).toHaveLength(300);
    expect(history.history.loss!.at(-1)).toBeLessThan(losses[0] / 4);
    expect((await net.predict(XOR_INPUTS)).map(([p]) => Math.round(p))).toEqual([0, 1, 1, 0]);
    const hidden = await net.predict(XOR_INPUTS, { layer: 0 });
    expect(hidden).toHaveLength(4);
    expect(hidden[0]).toHaveLength(8);
    // toJSON has the trained weights: a network made from it predicts the same.
    const copy = await Network.create(net.toJSON(), { backend: 'cpu' });
    const [mine, theirs] = [await net.predict(XOR_INPUTS), await copy.predict(XOR_INPUTS)];
    mine.flat().forEach((p, k) => expect(Math.abs(p - theirs.flat()[k])).toBeLessThan(1e-5));
    net.dispose();
    await expect(net.predict(XOR_INPUTS)).rejects.toThrow(/^this network has been disposed/);
  });

  it('refuses bad input with the same error class and message as Network, and reports a divergence as DivergedError', async () => {
    const { worker } = started();
    const net = await WorkerNetwork.create(XOR, { backend: 'cpu', worker });
    const error = await net.fit(XOR_INPUTS, [[0], [1], [3], [0]]).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).where).toBe('targets[2][0]');
    expect((error as Error).message).toMatch(/^targets\[2\]\[0\]: cross-entropy takes targets in \[0, 1\]/);
    await expect(WorkerNetwork.create({ ...XOR, layers: [{ units: 2, activation: 'swish' as 'tanh' }] }, { backend: 'cpu', worker })).rejects.toThrow(InputError);
    await expect(net.predict([[1, 2, 3]])).rejects.toThrow(/^inputs\[0\]: expected 2 values, got 3$/);

    const line = await WorkerNetwork.create({ inputSize: 1, seed: 1, loss: 'mse', layers: [{ units: 1, activation: 'linear' }] }, { backend: 'cpu', worker });
    const seen: BatchLogs[] = [];
    const diverged = await line.fit([[1], [2], [3], [4]], [[10], [20], [30], [40]], { steps: 400, batchSize: 4, optimizer: 'sgd', learningRate: 1, callbacks: { onBatchEnd: (_, logs) => void seen.push(logs) } }).then(() => undefined, (e: unknown) => e);
    expect(diverged).toBeInstanceOf(DivergedError);
    expect(Number.isFinite(seen.at(-1)!.loss)).toBe(false);
    expect((diverged as DivergedError).step).toBe(seen.at(-1)!.step);
  });

  it('stops at its signal, takes uploaded rows (moved, not copied, with transfer), and an error in a callback is fit’s', async () => {
    const { worker } = started();
    const net = await WorkerNetwork.create(XOR, { backend: 'cpu', worker });
    const inputs = Float64Array.from(SPIRAL.flat());
    const rows = await worker.upload(inputs, { transfer: true });
    expect(inputs.length).toBe(0); // moved to the worker
    const targets = await worker.upload(SPIRAL_TARGETS);
    const abort = new AbortController();
    let steps = 0;
    const history = await net.fit(rows, targets, { epochs: 100_000, batchSize: 8, signal: abort.signal, callbacks: { onBatchEnd: () => void (++steps === 50 && abort.abort()) } });
    expect(history.aborted).toBe(true);
    expect(history.steps).toBe(steps);
    expect(steps).toBeGreaterThanOrEqual(50);
    // Predict and evaluate while a fit runs.
    const again = new AbortController();
    const running = net.fit(rows, targets, { epochs: 100_000, batchSize: 8, signal: again.signal });
    expect(await net.predict(rows)).toHaveLength(64);
    again.abort();
    expect((await running).aborted).toBe(true);

    const failing = await net.fit(rows, targets, { epochs: 1000, batchSize: 8, callbacks: { onEpochEnd: (epoch) => { if (epoch === 3) throw new RangeError('the page could not draw'); } } }).then(() => undefined, (e: unknown) => e);
    expect(failing).toBeInstanceOf(RangeError);
    rows.release();
    await expect(net.predict(rows)).rejects.toThrow(/^rows: these uploaded rows have been released$/);
  });

  it('checkpoints through the page, and resumes from one to where the uninterrupted run ends', async () => {
    const { worker } = started();
    const options: FitOptions = { steps: 12, batchSize: 8, optimizer: 'momentum', learningRate: 0.1, seed: 5 };
    const straight = await WorkerNetwork.create(XOR, { backend: 'cpu', worker });
    await straight.fit(SPIRAL, SPIRAL_TARGETS, options);
    const saved: Checkpoint[] = [];
    const stopped = await WorkerNetwork.create(XOR, { backend: 'cpu', worker });
    const abort = new AbortController();
    await stopped.fit(SPIRAL, SPIRAL_TARGETS, { ...options, signal: abort.signal, checkpoint: { every: 4, save: async (c) => void (saved.push(c), c.step >= 4 && abort.abort()) } });
    expect(saved.map((c) => c.step)).toEqual([4]);
    const resumed = await WorkerNetwork.create(XOR, { backend: 'cpu', worker });
    await resumed.fit(SPIRAL, SPIRAL_TARGETS, { ...options, resume: saved[0] });
    expect(resumed.params()).toEqual(straight.params());
  });
});
