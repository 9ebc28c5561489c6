// What WebGPU compiles, counted at the device: networks share one device and its cache of
// pipelines, so a second network of a shape compiles nothing, even after the first is
// disposed (on a device given, or on the one networks share where none is); a new
// learning rate, a new batch size, or a prediction after a fit compiles nothing either;
// a new optimizer compiles only its weight updates; a first prediction compiles only the
// forward pass, one pipeline for both layers (the output layer's out is softmax.wgsl's,
// so its forward product applies no activation, and shares the hidden layer's pipeline).
// Each case opens a device of its own, so no case finds the kernels of another in the
// device's cache.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Network, nodeGpu, type ModelFile } from '../src/node.ts';
import { freshDevice } from './support/gpu.ts';

const description: ModelFile = { inputSize: 8, seed: 2, loss: 'cross-entropy', layers: [{ units: 80, activation: 'relu' }, { units: 3, activation: 'softmax' }] };
// 8 inputs, a multiple of 4 as the hidden layer's 80 are: both layers read rows as vec4s,
// and so share their forward pipeline.
const inputs = Array.from({ length: 40 }, (_, k) => Array.from({ length: 8 }, (_, i) => Math.sin(k * 7 + i)));
const targets = inputs.map((_, k) => [0, 1, 2].map((c) => (c === k % 3 ? 1 : 0)));

let compiled: string[] = [];
let restore: () => void;
beforeAll(async () => {
  await nodeGpu();
  const prototype = GPUDevice.prototype;
  const original = prototype.createComputePipelineAsync;
  const originalSync = prototype.createComputePipeline;
  prototype.createComputePipelineAsync = function (this: GPUDevice, descriptor: GPUComputePipelineDescriptor) {
    compiled.push(descriptor.label ?? '?');
    return original.call(this, descriptor);
  };
  prototype.createComputePipeline = function (this: GPUDevice, descriptor: GPUComputePipelineDescriptor) {
    compiled.push(descriptor.label ?? '?');
    return originalSync.call(this, descriptor);
  };
  restore = () => {
    prototype.createComputePipelineAsync = original;
    prototype.createComputePipeline = originalSync;
  };
});
afterAll(() => restore());

describe('pipelines are compiled once per device, for every network', () => {
  it('a second network of the same shape, made after the first is disposed, compiles nothing; nor does a new learning rate, activation parameter or dropout rate', async () => {
    const device = await freshDevice();
    compiled = [];
    const first = await Network.create(description, { backend: 'webgpu', path: 'layered', device });
    await first.fit(inputs, targets, { steps: 2, batchSize: 8, learningRate: 0.1 });
    // Exactly what a step runs, one pipeline each, and the softmax its predictions take: fit
    // does not capture, so nothing gathers the batch into named buffers, and no plan of
    // this size splits a product (no `finish` pass). Both layers' forward products take
    // one plan, and so one pipeline (the layer's settings are in its uniform).
    expect(compiled.sort()).toEqual(['finite_check', 'forward layer0', 'hidden delta layer0', 'output delta', 'softmax', 'weight update']);
    first.dispose();
    compiled = [];
    const second = await Network.create(description, { backend: 'webgpu', path: 'layered', device });
    await second.fit(inputs, targets, { steps: 2, batchSize: 8, learningRate: 0.1 });
    await second.fit(inputs, targets, { steps: 2, batchSize: 8, learningRate: 0.05 });
    expect(compiled).toEqual([]);
    second.dispose();
    // A new activation compiles the kernels that apply it; a new parameter of it, nothing (it is the layer's uniform's).
    const leaky = (negativeSlope: number): ModelFile => ({ ...description, layers: [{ units: 80, activation: 'leaky-relu', negativeSlope }, { units: 3, activation: 'softmax' }] });
    const third = await Network.create(leaky(0.1), { backend: 'webgpu', path: 'layered', device });
    await third.fit(inputs, targets, { steps: 2, batchSize: 8, learningRate: 0.1 });
    expect(compiled.sort()).toEqual(['forward layer0', 'hidden delta layer0']);
    compiled = [];
    const fourth = await Network.create(leaky(0.2), { backend: 'webgpu', path: 'layered', device });
    await fourth.fit(inputs, targets, { steps: 2, batchSize: 8, learningRate: 0.1 });
    expect(compiled).toEqual([]);
    third.dispose();
    fourth.dispose();
    // Dropout compiles its generator into the hidden layer's forward and δ kernels; its rate is the uniform's.
    const dropping = await Network.create({ ...description, layers: [{ units: 80, activation: 'relu', dropout: 0.25 }, { units: 3, activation: 'softmax' }] }, { backend: 'webgpu', path: 'layered', device });
    await dropping.fit(inputs, targets, { steps: 2, batchSize: 8, learningRate: 0.1 });
    expect(compiled.sort()).toEqual(['forward layer0', 'hidden delta layer0']);
    compiled = [];
    const rate = await Network.create({ ...description, layers: [{ units: 80, activation: 'relu', dropout: 0.5 }, { units: 3, activation: 'softmax' }] }, { backend: 'webgpu', path: 'layered', device });
    await rate.fit(inputs, targets, { steps: 2, batchSize: 8, learningRate: 0.1 });
    expect(compiled).toEqual([]);
    dropping.dispose();
    rate.dispose();
  });

  it('networks given no device share one: a second network of the same shape compiles nothing', async () => {
    // A shape no other case trains: the shared device is the process's, whatever ran before.
    const shared: ModelFile = { ...description, layers: [{ units: 24, activation: 'elu' }, { units: 3, activation: 'softmax' }] };
    compiled = [];
    const first = await Network.create(shared, { backend: 'webgpu', path: 'layered' });
    await first.fit(inputs, targets, { steps: 2, batchSize: 8, learningRate: 0.1 });
    expect(compiled).toContain('weight update');
    first.dispose();
    compiled = [];
    const second = await Network.create(shared, { backend: 'webgpu', path: 'layered' });
    await second.fit(inputs, targets, { steps: 2, batchSize: 8, learningRate: 0.1 });
    expect(compiled).toEqual([]);
    second.dispose();
  });

  it('a new batch size compiles nothing', async () => {
    const network = await Network.create({ ...description, layers: [{ units: 80, activation: 'tanh' }, { units: 3, activation: 'softmax' }] }, { backend: 'webgpu', path: 'layered', device: await freshDevice() });
    await network.fit(inputs, targets, { steps: 2, batchSize: 8, learningRate: 0.1 });
    compiled = [];
    await network.fit(inputs, targets, { steps: 2, batchSize: 16, learningRate: 0.1 });
    await network.fit(inputs, targets, { steps: 2, batchSize: 12, learningRate: 0.1 });
    expect(compiled).toEqual([]);
    network.dispose();
  });

  it('a prediction after a fit compiles nothing', async () => {
    const network = await Network.create({ ...description, layers: [{ units: 80, activation: 'sigmoid' }, { units: 3, activation: 'softmax' }] }, { backend: 'webgpu', path: 'layered', device: await freshDevice() });
    await network.fit(inputs, targets, { steps: 2, batchSize: 8, learningRate: 0.1 });
    compiled = [];
    const predicted = await network.predict(inputs);
    expect(compiled).toEqual([]);
    // And it is a prediction: every row a distribution over the 3 classes.
    for (const row of predicted) expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    network.dispose();
  });

  it('a new optimizer compiles its weight updates alone', async () => {
    const network = await Network.create({ ...description, layers: [{ units: 80, activation: 'elu' }, { units: 3, activation: 'softmax' }] }, { backend: 'webgpu', path: 'layered', device: await freshDevice() });
    await network.fit(inputs, targets, { steps: 2, batchSize: 8, optimizer: 'sgd', learningRate: 0.1 });
    compiled = [];
    await network.fit(inputs, targets, { steps: 2, batchSize: 8, optimizer: 'adam', learningRate: 0.01 });
    // Both layers' weight updates are one pipeline.
    expect(compiled.sort()).toEqual(['weight update']);
    network.dispose();
  });

  it('a first prediction compiles the forward pass alone, and a fit then reuses its kernels', async () => {
    const network = await Network.create({ ...description, layers: [{ units: 80, activation: 'silu' }, { units: 3, activation: 'softmax' }] }, { backend: 'webgpu', path: 'layered', device: await freshDevice() });
    compiled = [];
    await network.predict(inputs);
    // One forward pipeline for both layers, and softmax.wgsl for the output layer's out.
    expect(compiled.sort()).toEqual(['predict layer0', 'softmax']);
    compiled = [];
    await network.fit(inputs, targets, { steps: 2, learningRate: 0.1 });
    // The forward pass is the prediction's; the rest is what a step runs (no gather_batch: fit does not capture).
    expect(compiled.sort()).toEqual(['finite_check', 'hidden delta layer0', 'output delta', 'weight update']);
    network.dispose();
  });
});
