// The public Network API on every backend: what a user calls (create, fit, predict,
// evaluate, toJSON, fromJSON, dispose), the errors each misuse gets, and that `fit`
// trains exactly as the reference trainer does.

import { describe, expect, it } from 'vitest';
import { DeviceLostError, DisposedError, DivergedError, InputError, Network, OPTIMIZER_KINDS, type FitOptions, type ModelFile } from '../src/node.ts';
import { CpuTrainer, createModel, GpuTrainer, openDevice, paramView, requestAdapter, trainOptions, WasmTrainer } from '../src/trainers.ts';
import { testDevice } from './support/gpu.ts';
import { XOR, XOR_INPUTS, XOR_TARGETS } from './support/xor.ts';


const BACKENDS = ['cpu', 'wasm', 'webgpu'] as const;
const create = async (backend: (typeof BACKENDS)[number], description: ModelFile = XOR) => Network.create(description, backend === 'webgpu' ? { device: await testDevice() } : { backend });

describe.each(BACKENDS)('Network on %s', (backend) => {
  it('trains XOR to 100% accuracy with fit, and predicts and evaluates with plain arrays', async () => {
    const net = await create(backend);
    expect(net.backend).toBe(backend);
    const history = await net.fit(XOR_INPUTS, XOR_TARGETS, { epochs: 300, batchSize: 4, optimizer: 'adam', learningRate: 0.05, metrics: ['accuracy'] });
    expect(history.epoch).toHaveLength(300);
    expect(history.steps).toBe(300);
    const losses = history.history.loss!;
    expect(losses.at(-1)!).toBeLessThan(losses[0] / 4);
    expect(history.history.accuracy!.at(-1)).toBe(1);
    const outputs = await net.predict(XOR_INPUTS);
    expect(outputs.map(([p]) => Math.round(p))).toEqual([0, 1, 1, 0]);
    const evaluation = await net.evaluate(XOR_INPUTS, XOR_TARGETS, { metrics: ['accuracy', 'mae'] });
    expect(evaluation.accuracy).toBe(1);
    expect(evaluation.loss).toBeCloseTo(losses.at(-1)!, 1);
    net.dispose();
  });

  it('refuses each misuse with an InputError naming the argument, the row and the column', async () => {
    const net = await create(backend);
    const cases: [string, () => Promise<unknown>, RegExp][] = [
      ['data of the wrong width', () => net.fit([[0, 1, 2]], [[1]]), /^inputs\[0\]: expected 2 values, got 3$/],
      ['NaN in the data', () => net.fit([[0, 0], [NaN, 1]], [[0], [1]]), /^inputs\[1\]\[0\]: expected a finite number, got NaN$/],
      ['a value beyond float32', () => net.fit([[0, 0], [1, 1e39]], [[0], [1]]), /^inputs\[1\]\[1\]: expected a number float32 can hold \(\|x\| ≤ 3\.4028234663852886e\+38\), got 1e\+39$/],
      ['targets of the wrong width', () => net.fit(XOR_INPUTS, [[0, 1], [1, 0], [1, 0], [0, 1]]), /^targets\[0\]: expected 1 values, got 2$/],
      ['fewer targets than inputs', () => net.fit(XOR_INPUTS, [[0], [1]]), /^targets: expected 4 rows \(one per row of inputs\), got 2$/],
      ['a negative learning rate', () => net.fit(XOR_INPUTS, XOR_TARGETS, { learningRate: -1 }), /^learningRate: expected a positive number, got -1$/],
      ['a fractional batch size', () => net.fit(XOR_INPUTS, XOR_TARGETS, { batchSize: 1.5 }), /^batchSize: expected a positive integer, got 1\.5$/],
      ['an option nobody reads', () => net.fit(XOR_INPUTS, XOR_TARGETS, { epoch: 3 } as FitOptions), /^epoch: is not an option of fit \(did you mean epochs\?\)$/],
      ['zero epochs', () => net.fit(XOR_INPUTS, XOR_TARGETS, { epochs: 0 }), /^epochs: expected a positive integer, got 0$/],
      ['an unknown optimizer', () => net.fit(XOR_INPUTS, XOR_TARGETS, { optimizer: 'lbfgs' as FitOptions['optimizer'] }), new RegExp(`^optimizer: expected one of ${OPTIMIZER_KINDS.join(', ')}, got "lbfgs"$`)],
      ['a momentum of 1', () => net.fit(XOR_INPUTS, XOR_TARGETS, { optimizer: { kind: 'momentum', momentum: 1 } }), /^optimizer\.momentum: expected a number in \[0, 1\), got 1$/],
      ['a validation split of 1.5', () => net.fit(XOR_INPUTS, XOR_TARGETS, { validationSplit: 1.5 }), /^validationSplit: expected a number between 0 and 1, got 1\.5$/],
      ['an unknown metric', () => net.fit(XOR_INPUTS, XOR_TARGETS, { metrics: ['precision' as 'accuracy'] }), /^metrics\[0\]: expected one of accuracy, mae, r2, got "precision"$/],
      ['cross-entropy on a target of 3', () => net.fit(XOR_INPUTS, [[0], [1], [3], [0]]), /^targets\[2\]\[0\]: cross-entropy takes targets in \[0, 1\] \(probabilities, soft labels included\), got 3; for numbers to predict, use a linear output layer and mse$/],
      ['cross-entropy on a negative target, in evaluate', () => net.evaluate(XOR_INPUTS, [[0], [-0.5], [1], [0]]), /^targets\[1\]\[0\]: cross-entropy takes targets in \[0, 1\]/],
      ['cross-entropy on a validation target of 2', () => net.fit(XOR_INPUTS, XOR_TARGETS, { validationData: [[[0, 0]], [[2]]] }), /^validationData\[1\]\[0\]\[0\]: cross-entropy takes targets in \[0, 1\]/],
      ['a flat array that is not whole rows', () => net.predict(new Float32Array(3)), /^inputs: expected a flat array of rows of 2 values/],
      ['no rows at all', () => net.predict([]), /^inputs: expected at least one row/],
    ];
    for (const [what, call, message] of cases) {
      const error = await call().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error, what).toBeInstanceOf(InputError);
      expect((error as Error).message, what).toMatch(message);
    }
    // None of them trained: the weights are the initial ones.
    expect(Array.from(net.params())).toEqual(Array.from((await create('cpu')).params()));
    // Soft labels are probabilities: legal.
    expect((await net.fit(XOR_INPUTS, [[0.1], [0.9], [1], [0]], { epochs: 1 })).steps).toBe(1);
    expect((await net.evaluate(XOR_INPUTS, [[0.25], [0.75], [1], [0]])).loss).toBeGreaterThan(0);
    net.dispose();
  });

  it('refuses a bad description, and an unknown backend', async () => {
    await expect(Network.create({ ...XOR, layers: [{ units: 8, activation: 'sigmoidal' as 'sigmoid' }] }, { backend })).rejects.toThrow(InputError);
    await expect(Network.create({ ...XOR, layers: [{ units: 8, activation: 'sigmoidal' as 'sigmoid' }] }, { backend })).rejects.toThrow(/^model: layers\[0\]\.activation: /);
    await expect(Network.create(XOR, { backend: 'gpu' as 'cpu' })).rejects.toThrow(/^backend: expected webgpu, wasm, cpu, auto, got "gpu"$/);
  });

  it('shows a run as it diverges: onBatchEnd gets each loss up to the first non-finite one, then fit rejects with DivergedError', async () => {
    const net = await create(backend, { inputSize: 1, seed: 1, loss: 'mse', layers: [{ units: 1, activation: 'linear' }] });
    const seen: { step: number; loss: number }[] = [];
    const error = await net
      .fit([[1], [2], [3], [4]], [[10], [20], [30], [40]], { steps: 400, batchSize: 4, optimizer: 'sgd', learningRate: 1, shuffle: false, callbacks: { onBatchEnd: (_, logs) => void seen.push(logs) } })
      .then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(DivergedError);
    expect(seen.length).toBeGreaterThan(5);
    expect(seen.map((s) => s.step)).toEqual(seen.map((_, k) => k));
    expect(Number.isFinite(seen.at(-1)!.loss)).toBe(false);
    expect(seen.slice(0, -1).every((s) => Number.isFinite(s.loss))).toBe(true);
    // Growing all the way: the collapse is there to draw.
    expect(seen.at(-2)!.loss).toBeGreaterThan(1e30);
    net.dispose();
  });

  it('refuses a second fit while one is running', async () => {
    const net = await create(backend);
    const first = net.fit(XOR_INPUTS, XOR_TARGETS, { epochs: 20 });
    await expect(net.fit(XOR_INPUTS, XOR_TARGETS)).rejects.toThrow(/^fit: this network is already training/);
    await first;
    await net.fit(XOR_INPUTS, XOR_TARGETS); // and takes the next one once it is done
    net.dispose();
  });

  it('after dispose, every call throws DisposedError', async () => {
    const net = await create(backend);
    await net.fit(XOR_INPUTS, XOR_TARGETS, { epochs: 2 });
    net.dispose();
    for (const call of [() => net.fit(XOR_INPUTS, XOR_TARGETS), () => net.predict(XOR_INPUTS), () => net.evaluate(XOR_INPUTS, XOR_TARGETS)]) {
      await expect(call()).rejects.toThrow(DisposedError);
    }
    expect(() => net.toJSON()).toThrow(/^this network has been disposed; create a new one$/);
  });

  it('trains the biases by default, and toJSON always holds the current weights', async () => {
    const net = await create(backend);
    const before = net.toJSON();
    await net.fit(XOR_INPUTS, XOR_TARGETS, { epochs: 5, learningRate: 0.1 });
    const after = net.toJSON();
    expect(after.layers[0].biases).not.toEqual(before.layers[0].biases);
    expect(after.layers[1].weights).not.toEqual(before.layers[1].weights);
    const again = await Network.fromJSON(JSON.stringify(after), { backend: 'cpu' });
    expect(again.toJSON()).toEqual(after);
    const [ours, theirs] = [await net.predict(XOR_INPUTS), await again.predict(XOR_INPUTS)];
    // Both run the weights the file holds: float32 on WebGPU and WebAssembly, float64 on the reference.
    ours.flat().forEach((value, k) => expect(value).toBeCloseTo(theirs.flat()[k], backend === 'cpu' ? 12 : 6));
    net.dispose();
  });

  it('holds out the last rows with validationSplit, reports them per epoch, and calls the callbacks in order', async () => {
    const net = await create(backend);
    const inputs = Array.from({ length: 10 }, (_, k) => [k / 10, 1 - k / 10]);
    const targets = inputs.map(([a, b]) => [a > b ? 1 : 0]);
    const batches: number[] = [];
    const epochs: number[] = [];
    const history = await net.fit(inputs, targets, {
      epochs: 3,
      batchSize: 3,
      validationSplit: 0.2,
      shuffle: false,
      metrics: ['accuracy'],
      callbacks: {
        onBatchEnd: (_, logs) => void batches.push(logs.loss),
        onEpochEnd: (epoch) => void epochs.push(epoch),
      },
    });
    // 8 training rows in batches of 3: ⌈3·8/3⌉ = 8 steps, the epochs ending at steps 3, 6, 8.
    expect(batches).toHaveLength(8);
    expect(epochs).toEqual([0, 1, 2]);
    expect(history.history.loss![2]).toBeCloseTo((batches[6] + batches[7]) / 2, 12);
    const held = await net.evaluate(inputs.slice(8), targets.slice(8), { metrics: ['accuracy'] });
    expect(history.history.val_loss!.at(-1)).toBeCloseTo(held.loss, 12);
    expect(history.history.val_accuracy!.at(-1)).toBe(held.accuracy);
    net.dispose();
  });

  it('stops early when the monitored loss stops improving, and stops on an aborted signal', async () => {
    const net = await create(backend);
    // No epoch improves on the first by a million: the second ends training.
    const early = await net.fit(XOR_INPUTS, XOR_TARGETS, { epochs: 10, earlyStopping: { monitor: 'loss', minDelta: 1e6 } });
    expect(early.stoppedEarly).toBe(true);
    expect(early.epoch).toEqual([0, 1]);

    const controller = new AbortController();
    const aborted = await net.fit(XOR_INPUTS, XOR_TARGETS, { epochs: 100_000, signal: controller.signal, callbacks: { onBatchEnd: () => controller.abort() } });
    expect(aborted.aborted).toBe(true);
    expect(aborted.steps).toBeGreaterThan(0);
    expect(aborted.steps).toBeLessThan(100_000);
    net.dispose();
  });
});

describe('fit is the reference trainer, step for step', () => {
  const description: ModelFile = { inputSize: 3, seed: 7, loss: 'half-sse', layers: [{ units: 5, activation: 'sigmoid' }, { units: 2, activation: 'linear' }] };
  const inputs = Array.from({ length: 9 }, (_, k) => [Math.sin(k), Math.cos(k), k / 9]);
  const targets = inputs.map(([a, b, c]) => [a * b, b - c]);

  it('on cpu, fit gives exactly the CpuTrainer run of the same options and steps, and two fits of one epoch equal one fit of two', async () => {
    // Batches of 3 divide the 9 rows: epochs end on the same steps whether counted in one call or two.
    const options = { batchSize: 3, learningRate: 0.1, optimizer: 'adam' as const, seed: 5 };
    const once = await Network.create(description, { backend: 'cpu' });
    await once.fit(inputs, targets, { ...options, epochs: 2 });
    const twice = await Network.create(description, { backend: 'cpu' });
    await twice.fit(inputs, targets, { ...options, epochs: 1 });
    await twice.fit(inputs, targets, { ...options, epochs: 1 });
    expect(Array.from(twice.params())).toEqual(Array.from(once.params()));

    const model = createModel({ inputSize: 3, layers: [{ units: 5, activation: 'sigmoid' }, { units: 2, activation: 'linear' }], loss: 'half-sse', trainBiases: true }, { seed: 7 });
    const dataset = { inputs: Float64Array.from(inputs.flat()), targets: Float64Array.from(targets.flat()), size: 9, inputSize: 3, outputSize: 2 };
    const reference = new CpuTrainer(model, dataset, trainOptions(options, 9));
    await reference.train((2 * 9) / 3);
    expect(Array.from(once.params())).toEqual(Array.from(await reference.read('params')));
  });

  it.each(['webgpu', 'wasm'] as const)('on %s, fit agrees with the cpu fit within float32 tolerance', async (backend) => {
    const options = { batchSize: 4, learningRate: 0.1, optimizer: 'momentum' as const, epochs: 3 };
    const cpu = await Network.create(description, { backend: 'cpu' });
    const gpu = await create(backend, description);
    await cpu.fit(inputs, targets, options);
    await gpu.fit(inputs, targets, options);
    const expected = cpu.params();
    // 7 steps of a 3-5-2 network: each step's rounding is a few ulps of values below 4; a
    // bound of 1e-5 is ~100× what the tolerance model of src/check/tolerance.ts gives here,
    // and ~1000× below the change one step makes.
    gpu.params().forEach((value, k) => expect(Math.abs(value - expected[k]), `params[${k}]`).toBeLessThan(1e-5));
    gpu.dispose();
  });
});

describe('the lower-level trainers', () => {
  const model = createModel({ inputSize: 2, layers: [{ units: 3, activation: 'tanh' }, { units: 1, activation: 'sigmoid' }], loss: 'half-sse', trainBiases: true }, { seed: 1 });
  const dataset = { inputs: Float64Array.from(XOR_INPUTS.flat()), targets: Float64Array.from(XOR_TARGETS.flat()), size: 4, inputSize: 2, outputSize: 1 };
  const options = trainOptions({ batchSize: 2 }, 4);

  it.each(['cpu', 'wasm', 'webgpu'])('on %s refuse a predict count beyond the inputs, and any call after dispose', async (backend) => {
    const trainer = backend === 'cpu' ? new CpuTrainer(model, dataset, options) : backend === 'wasm' ? await WasmTrainer.create(model, dataset, options) : await GpuTrainer.create(await testDevice(), model, dataset, options);
    await expect(trainer.predict(dataset.inputs, 5)).rejects.toThrow(/^count: expected the number of rows of 2 values in inputs \(4\), got 5$/);
    trainer.dispose();
    await expect(trainer.train(1)).rejects.toThrow(DisposedError);
    await expect(trainer.read('params')).rejects.toThrow(DisposedError);
  });

  it('a paused WebGPU network reports a lost device it was given as DeviceLostError', async () => {
    const device = await openDevice(await requestAdapter());
    const net = await Network.create(XOR, { device });
    await net.fit(XOR_INPUTS, XOR_TARGETS, { epochs: 2 });
    device.destroy();
    await expect(net.fit(XOR_INPUTS, XOR_TARGETS, { epochs: 2 })).rejects.toThrow(DeviceLostError);
  });

  it('many small train calls leave no unread loss behind: every step loss arrives, in order', async () => {
    const trainer = await GpuTrainer.create(await testDevice(), model, dataset, options);
    for (let k = 0; k < 40; k++) await trainer.train(1);
    const losses = await trainer.takeLosses();
    const reference = new CpuTrainer(model, dataset, options);
    await reference.train(40);
    const expected = await reference.takeLosses();
    expect(losses).toHaveLength(40);
    losses.forEach((loss, k) => expect(Math.abs(loss - expected[k])).toBeLessThan(1e-5));
    expect(paramView(model.layout, await trainer.read('params'), 0, 'biases')).not.toEqual(paramView(model.layout, model.params, 0, 'biases'));
    trainer.dispose();
  });
});
