// What WebGPU compiles, counted at the device: networks share one device and its cache of
// pipelines, so a second network of a shape compiles nothing, even after the first is
// disposed; a new learning rate compiles nothing either.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Network, nodeGpu, type ModelFile } from '../src/node.ts';

const description: ModelFile = { inputSize: 6, seed: 2, loss: 'cross-entropy', layers: [{ units: 80, activation: 'relu' }, { units: 3, activation: 'softmax' }] };
const inputs = Array.from({ length: 40 }, (_, k) => Array.from({ length: 6 }, (_, i) => Math.sin(k * 7 + i)));
const targets = inputs.map((_, k) => [0, 1, 2].map((c) => (c === k % 3 ? 1 : 0)));

let compiled: string[] = [];
let restore: () => void;
beforeAll(async () => {
  await nodeGpu();
  const prototype = GPUDevice.prototype;
  const original = prototype.createComputePipelineAsync;
  prototype.createComputePipelineAsync = function (this: GPUDevice, descriptor: GPUComputePipelineDescriptor) {
    compiled.push(descriptor.label ?? '?');
    return original.call(this, descriptor);
  };
  restore = () => (prototype.createComputePipelineAsync = original);
});
afterAll(() => restore());

describe('pipelines are compiled once per device, for every network', () => {
  it('a second network of the same shape, made after the first is disposed, compiles nothing; nor does a new learning rate', async () => {
    const first = await Network.create(description, { backend: 'webgpu', path: 'layered' });
    await first.fit(inputs, targets, { steps: 2, batchSize: 8, learningRate: 0.1 });
    expect(compiled.length).toBeGreaterThan(0);
    first.dispose();
    compiled = [];
    const second = await Network.create(description, { backend: 'webgpu', path: 'layered' });
    await second.fit(inputs, targets, { steps: 2, batchSize: 8, learningRate: 0.1 });
    await second.fit(inputs, targets, { steps: 2, batchSize: 8, learningRate: 0.05 });
    expect(compiled).toEqual([]);
    second.dispose();
  });
});
