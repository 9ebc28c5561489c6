// No wrong number: a run that leaves float32's range is a DivergedError on both backends,
// at the same step and in the same buffer (the float64 reference refuses a value float32
// cannot hold, as the GPU, where it is Infinity, must); the network goes back to its last
// finite weights and optimizer state, and predicts, evaluates and trains on from there.
// Options float32 rounds to 0 or Infinity, or that the GPU may flush to 0, are refused
// up front, as data values are; cross-entropy takes targets in [0, 1] only.

import { describe, expect, it } from 'vitest';
import { DivergedError, InputError, Network, type FitOptions, type ModelFile } from '../src/node.ts';
import { testDevice } from './support/gpu.ts';
import { XOR_INPUTS, XOR_TARGETS } from './support/xor.ts';

const BACKENDS = ['cpu', 'webgpu'] as const;
type Backend = (typeof BACKENDS)[number];
const open = async (description: ModelFile, backend: Backend) => Network.create(description, backend === 'webgpu' ? { device: await testDevice() } : { backend: 'cpu' });

const RELU: ModelFile = { inputSize: 2, seed: 3, loss: 'sse', layers: [{ units: 8, activation: 'relu' }, { units: 1, activation: 'linear' }] };
/** One weight whose first update overflows: w = 1, x = 1e19, t = 0: ∂E/∂w = 2e38, and 10 times that is past float32. */
const OVERFLOWING_UPDATE: { model: ModelFile; inputs: number[][]; targets: number[][]; options: FitOptions } = {
  model: { loss: 'sse', layers: [{ activation: 'linear', weights: [[1]], biases: [0] }] },
  inputs: [[1e19]],
  targets: [[0]],
  options: { steps: 1, learningRate: 10, optimizer: 'sgd' },
};

/** The DivergedError a fit ends with (the test fails if it resolves). */
async function divergence(net: Network, inputs: number[][], targets: number[][], options: FitOptions): Promise<DivergedError> {
  const error = await net.fit(inputs, targets, options).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DivergedError);
  return error as DivergedError;
}

const RUNS: [string, ModelFile, number[][], number[][], FitOptions][] = [
  ['SGD at 1e18: the first update overshoots, the next forward pass overflows', RELU, XOR_INPUTS, XOR_TARGETS, { epochs: 50, batchSize: 2, learningRate: 1e18, shuffle: false }],
  ['Adam at 1e30', RELU, XOR_INPUTS, XOR_TARGETS, { epochs: 50, batchSize: 2, learningRate: 1e30, optimizer: 'adam', shuffle: false }],
  ["the last step's update overflows (its own loss is finite)", OVERFLOWING_UPDATE.model, OVERFLOWING_UPDATE.inputs, OVERFLOWING_UPDATE.targets, OVERFLOWING_UPDATE.options],
];

describe('one verdict on every backend', () => {
  it.each(RUNS)('%s: the same DivergedError, step and buffer on the reference and on WebGPU', async (_, model, inputs, targets, options) => {
    const [cpu, gpu] = await Promise.all(BACKENDS.map(async (backend) => divergence(await open(model, backend), inputs, targets, options)));
    expect(gpu.step).toBe(cpu.step);
    expect(gpu.location).toBe(cpu.location);
    expect(gpu.stepsKept).toBe(cpu.stepsKept);
    // Infinity in float32, a value beyond its range in float64: the message says which.
    expect(cpu.message).toMatch(/^training diverged: the first (non-finite value|value beyond float32's range) was .+ at step \d+; the network is back at its last finite weights, those before step \d+$/);
    expect(gpu.message).toMatch(/^training diverged: the first non-finite value was .+ = (-?Infinity|NaN) at step \d+; /);
  });

  it('an update past float32 in the last step of a fit was a resolved fit with NaN weights; now it is a divergence at that step, in the parameters', async () => {
    for (const backend of BACKENDS) {
      const error = await divergence(await open(OVERFLOWING_UPDATE.model, backend), OVERFLOWING_UPDATE.inputs, OVERFLOWING_UPDATE.targets, OVERFLOWING_UPDATE.options);
      expect([error.step, error.location, error.stepsKept], backend).toEqual([0, 'params: layer0.weights[0,0]', 0]);
    }
  });
});

describe.each(BACKENDS)('after a divergence on %s', (backend) => {
  it('the network is back at its last finite weights, exactly those of the step the error names, and predicts, evaluates and trains on', async () => {
    const options: FitOptions = { epochs: 50, batchSize: 2, learningRate: 1e18, shuffle: false };
    const net = await open(RELU, backend);
    const error = await divergence(net, XOR_INPUTS, XOR_TARGETS, options);
    const kept = error.stepsKept!;
    expect(kept).toBeLessThanOrEqual(error.step!);
    // The same run stopped after `kept` steps holds the same weights: the rollback went exactly there.
    const straight = await open(RELU, backend);
    if (kept > 0) await straight.fit(XOR_INPUTS, XOR_TARGETS, { ...options, epochs: undefined, steps: kept });
    // (Weights that never left the CPU are float64; on WebGPU the rolled-back ones are float32.)
    const expected = backend === 'webgpu' && kept === 0 ? Float64Array.from(Float32Array.from(straight.params())) : straight.params();
    expect(Array.from(net.params())).toEqual(Array.from(expected));
    expect(net.params().every(Number.isFinite)).toBe(true);
    expect(JSON.stringify(net.toJSON())).not.toContain('null');
    for (const row of await net.predict(XOR_INPUTS)) expect(Number.isNaN(row[0])).toBe(false);
    expect(Number.isNaN((await net.evaluate(XOR_INPUTS, XOR_TARGETS)).loss)).toBe(false);
    // Training goes on from there, with a learning rate that suits it.
    const history = await net.fit(XOR_INPUTS, XOR_TARGETS, { epochs: 3, batchSize: 2, learningRate: 1e-3, shuffle: false });
    expect(history.history.loss!.every(Number.isFinite)).toBe(true);
    net.dispose();
    straight.dispose();
  });

  it('the optimizer state is rolled back too: Adam trains on from the kept step as a run stopped there does', async () => {
    const options: FitOptions = { epochs: 50, batchSize: 2, learningRate: 1e30, optimizer: 'adam', shuffle: false };
    const net = await open(RELU, backend);
    const error = await divergence(net, XOR_INPUTS, XOR_TARGETS, options);
    const straight = await open(RELU, backend);
    if (error.stepsKept! > 0) await straight.fit(XOR_INPUTS, XOR_TARGETS, { ...options, epochs: undefined, steps: error.stepsKept });
    // The same options again: both carry their Adam state on (a zeroed state would move differently).
    const more: FitOptions = { ...options, learningRate: 1e-3, epochs: undefined, steps: 4 };
    await net.fit(XOR_INPUTS, XOR_TARGETS, more);
    await straight.fit(XOR_INPUTS, XOR_TARGETS, more);
    expect(Array.from(net.params())).toEqual(Array.from(straight.params()));
  });
});

describe.each(BACKENDS)('options float32 cannot hold are refused on %s, as data values are', (backend) => {
  const cases: [string, FitOptions, RegExp][] = [
    ['a learning rate of 1e39 (Infinity in float32)', { learningRate: 1e39 }, /^learningRate: expected a positive number float32 can hold \(1\.1754943508222875e-38 to 3\.4028234663852886e\+38\), got 1e\+39$/],
    ['a learning rate of 1e-46 (0 in float32)', { learningRate: 1e-46 }, /^learningRate: expected a positive number float32 can hold .*, got 1e-46$/],
    ['a subnormal learning rate (a GPU may flush it to 0)', { learningRate: 1e-39 }, /^learningRate: expected a positive number float32 can hold .*, got 1e-39$/],
    ["Adam's ε of 1e-46", { optimizer: { kind: 'adam', beta1: 0.9, beta2: 0.999, epsilon: 1e-46 } }, /^optimizer\.epsilon: expected a positive number float32 can hold .*, got 1e-46$/],
    ['a momentum float32 rounds to 1', { optimizer: { kind: 'momentum', momentum: 0.99999999 } }, /^optimizer\.momentum: expected a number in \[0, 1\) that float32 holds as itself \(0, or 1\.1754943508222875e-38 to 0\.9999999403953552\), got 0\.99999999$/],
    ["Adam's β2 float32 rounds to 1", { optimizer: { kind: 'adam', beta1: 0.9, beta2: 1 - 1e-9, epsilon: 1e-8 } }, /^optimizer\.beta2: expected a number in \[0, 1\) that float32 holds as itself/],
  ];
  it.each(cases)('%s', async (_, options, message) => {
    const net = await open(RELU, backend);
    const before = net.params();
    await expect(net.fit(XOR_INPUTS, XOR_TARGETS, options)).rejects.toThrow(InputError);
    await expect(net.fit(XOR_INPUTS, XOR_TARGETS, options)).rejects.toThrow(message);
    expect(net.params()).toEqual(before);
  });

  it('an input scaling whose standard deviation float32 cannot hold is refused; one that scales an input past float32 is refused at the row', async () => {
    const description: ModelFile = { ...RELU, inputScaling: { mean: [0, 0], std: [1, 1e-45] } };
    await expect(open(description, backend)).rejects.toThrow(/^model: inputScaling\.std\[1\]: expected a positive number float32 can hold \(1\.1754943508222875e-38 to 3\.4028234663852886e\+38\), got 1e-45$/);
    await expect(open({ ...RELU, inputScaling: { mean: [0, 0], std: [1, -1] } }, backend)).rejects.toThrow(/^model: inputScaling\.std\[1\]: expected a positive number, got -1$/);
    const net = await open({ ...RELU, inputScaling: { mean: [0, 0], std: [1, 1e-30] } }, backend);
    await expect(net.predict([[0, 0], [1, 1e10]])).rejects.toThrow(/^inputs\[1\]\[1\]: 10000000000 scales by inputScaling to 9\.999999999999999e\+39, which float32 cannot hold$/);
  });
});

describe.each(BACKENDS)('cross-entropy on %s', (backend) => {
  const CLASSIFIER: ModelFile = { inputSize: 2, seed: 1, loss: 'cross-entropy', layers: [{ units: 4, activation: 'tanh' }, { units: 2, activation: 'softmax' }] };

  it('refuses targets outside [0, 1], naming the row and column, in fit, in its validation data and in evaluate', async () => {
    const net = await open(CLASSIFIER, backend);
    const inputs = [[0, 1], [1, 0], [0.5, 0.5]];
    const message = (where: string, value: number) => new RegExp(`^${where.replace(/[[\]]/g, '\\$&')}: cross-entropy takes targets in \\[0, 1\\] \\(probabilities, soft labels included\\), got ${value}; for numbers to predict, use a linear output layer and mse$`);
    await expect(net.fit(inputs, [[1, 0], [0, 1], [0, 3]])).rejects.toThrow(message('targets[2][1]', 3));
    await expect(net.fit(inputs, [[1, 0], [-0.5, 1], [0, 1]])).rejects.toThrow(message('targets[1][0]', -0.5));
    await expect(net.fit(inputs, [[1, 0], [0, 1], [0, 1]], { validationData: [[[1, 1]], [[2, 0]]] })).rejects.toThrow(message('validationData[1][0][0]', 2));
    await expect(net.evaluate(inputs, [[1, 0], [0, 1], [1.5, 0]])).rejects.toThrow(message('targets[2][0]', 1.5));
    // Soft labels inside [0, 1] stay legal, on both ends.
    const history = await net.fit(inputs, [[0.2, 0.8], [1, 0], [0, 0]], { epochs: 2 });
    expect(history.history.loss!.every(Number.isFinite)).toBe(true);
  });
});
