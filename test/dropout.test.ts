// Dropout: its generator (Philox4x32-10, against Random123's known answers, in TypeScript
// and in WGSL), the statistics of its masks (the kept fraction, and pairs of units, within
// stated bounds), p = 0 being no dropout at all, prediction never dropping, and training on
// WebGPU with p = 0.5 giving the reference's every buffer (the masks drawn bit for bit the
// same) on both kernel paths. Against PyTorch with the same masks: test/pytorch.test.ts.

import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { crossCheck as crossCheckTrainer } from '../src/check/crosscheck.ts';
import { GpuTrainer } from '../src/gpu/trainer.ts';
import { opSwitchSource } from '../src/gpu/op-switch.ts';
import { dropoutKey, dropoutMask, dropoutThreshold, philox4x32 } from '../src/model/dropout.ts';
import type { BufferName } from '../src/model/buffers.ts';
import { createModel } from '../src/model/network.ts';
import { DEFAULT_OPTIMIZERS } from '../src/model/optimizer.ts';
import { CpuTrainer } from '../src/reference/trainer.ts';
import { crossCheck, expectAllClose, randomDataset, randomModel, type RandomNetwork } from './support/crosscheck.ts';
import { testDevice } from './support/gpu.ts';
import { PHILOX_KNOWN_ANSWERS as KNOWN_ANSWERS } from './support/philox.ts';


let device: GPUDevice;
beforeAll(async () => {
  device = await testDevice();
});

describe('the generator', () => {
  it("is Philox4x32-10: Random123's known answers", () => {
    for (const [counter, key, output] of KNOWN_ANSWERS) expect(philox4x32(counter, key)).toEqual(output);
  });

  it("its WGSL twin (dropout.wgsl) gives the same known answers on WebGPU", async () => {
    const wgsl = (name: string) => readFileSync(`shaders/${name}.wgsl`, 'utf8');
    const code = [
      wgsl('common'),
      wgsl('ops'),
      opSwitchSource(),
      wgsl('dropout'),
      `@group(0) @binding(0) var<storage, read> cases: array<vec4u>; // (3, 2): counter, then key in .xy
       @group(0) @binding(1) var<storage, read_write> drawn: array<vec4u>; // (3)
       @compute @workgroup_size(1) fn main() {
         for (var k = 0u; k < 3u; k++) { drawn[k] = philox4x32(cases[2u * k], cases[2u * k + 1u].xy); }
       }`,
    ].join('\n');
    const pipeline = await device.createComputePipelineAsync({ layout: 'auto', compute: { module: device.createShaderModule({ code }), entryPoint: 'main' } });
    const input = device.createBuffer({ size: 96, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
    const output = device.createBuffer({ size: 48, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
    const read = device.createBuffer({ size: 48, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(input, 0, Uint32Array.from(KNOWN_ANSWERS.flatMap(([counter, key]) => [...counter, ...key, 0, 0])));
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: input } }, { binding: 1, resource: { buffer: output } }] }));
    pass.dispatchWorkgroups(1);
    pass.end();
    encoder.copyBufferToBuffer(output, 0, read, 0, 48);
    device.queue.submit([encoder.finish()]);
    await read.mapAsync(GPUMapMode.READ);
    expect(Array.from(new Uint32Array(read.getMappedRange()))).toEqual(KNOWN_ANSWERS.flatMap(([, , drawn]) => drawn));
    read.unmap();
    for (const buffer of [input, output, read]) buffer.destroy();
  });

  it('keys a seed up to 2⁵³ by its two halves, and drops with probability p to within 2⁻³²', () => {
    expect(dropoutKey(2 ** 53 - 1)).toEqual([2 ** 32 - 1, 2 ** 21 - 1]);
    expect(dropoutThreshold(0)).toBe(0);
    expect(dropoutThreshold(0.5)).toBe(2 ** 31);
    expect(dropoutThreshold(0.999999999999)).toBe(2 ** 32 - 1);
  });
});

describe('the masks are statistically right', () => {
  // Over N draws the kept fraction of a fair generator has standard deviation σ = √(q(1 − q)/N),
  // q = 1 − p; 6σ is exceeded with probability below 2·10⁻⁹. Pairs of neighbouring units (and
  // the same unit in two layers) are kept together with probability q² if they are independent.
  const SIGMAS = 6;
  for (const p of [0.1, 0.5, 0.8]) {
    it(`p = ${p}: the kept fraction of 2²⁰ units, and of pairs of neighbours and of layers, within ${SIGMAS}σ`, () => {
      const steps = 16;
      const [batch, units] = [64, 1024];
      const q = 1 - p;
      let kept = 0;
      let neighbours = 0;
      let layers = 0;
      for (let step = 0; step < steps; step++) {
        const layer0 = dropoutMask(p, { seed: 7, step }, 0, batch, units);
        const layer1 = dropoutMask(p, { seed: 7, step }, 1, batch, units);
        for (let k = 0; k < layer0.length; k++) {
          if (layer0[k] > 0) kept++;
          if (layer0[k] > 0 && k % units < units - 1 && layer0[k + 1] > 0) neighbours++;
          if (layer0[k] > 0 && layer1[k] > 0) layers++;
        }
      }
      const N = steps * batch * units;
      const within = (count: number, draws: number, probability: number) =>
        expect(Math.abs(count / draws - probability), `${count} of ${draws}`).toBeLessThanOrEqual(SIGMAS * Math.sqrt((probability * (1 - probability)) / draws));
      within(kept, N, q);
      within(neighbours, steps * batch * (units - 1), q * q);
      within(layers, N, q * q);
      // Kept outputs are scaled by 1/(1 − p): the mask's mean is 1.
      expect(dropoutMask(p, { seed: 7, step: 0 }, 0, 1, 4).every((m) => m === 0 || m === 1 / q)).toBe(true);
    });
  }
});

const network: RandomNetwork = { sizes: [5, 24, 16, 3], activations: ['relu', 'tanh', 'linear'], loss: 'mse', hidden: { dropout: 0.5 } };
const model = randomModel(network, 21);
const dataset = randomDataset(network, 30, 21);
const options = { learningRate: 0.05, batchSize: 8, shuffle: true, seed: 9, optimizer: DEFAULT_OPTIMIZERS.momentum };
const withoutDropout = createModel({ ...model.spec, layers: model.spec.layers.map(({ dropout: _, ...layer }) => layer) }, { params: model.params });

describe('dropout in training', () => {
  it('drops in training: the reference trains differently with p = 0.5 than without', async () => {
    const dropping = new CpuTrainer(model, dataset, options);
    const plain = new CpuTrainer(withoutDropout, dataset, options);
    await dropping.train(2);
    await plain.train(2);
    expect(await dropping.read('params')).not.toEqual(await plain.read('params'));
    // About half of each hidden layer's outputs are 0 in a step.
    const out = await dropping.read('layer0.out');
    expect(out.filter((v) => v === 0).length / out.length).toBeGreaterThan(0.3);
  });

  it('p = 0 is no dropout at all: the same parameters, exactly, on the reference and on WebGPU', async () => {
    const zero = createModel({ ...model.spec, layers: model.spec.layers.map((layer, l) => (l < 2 ? { ...layer, dropout: 0 } : layer)) }, { params: model.params });
    const a = new CpuTrainer(zero, dataset, options);
    const b = new CpuTrainer(withoutDropout, dataset, options);
    await a.train(3);
    await b.train(3);
    expect(await a.read('params')).toEqual(await b.read('params'));
    for (const path of ['layered', 'fused'] as const) {
      const [x, y] = await Promise.all([GpuTrainer.create(device, zero, dataset, options, { path }), GpuTrainer.create(device, withoutDropout, dataset, options, { path })]);
      await x.train(3);
      await y.train(3);
      expect(await x.read('params'), path).toEqual(await y.read('params'));
      x.dispose();
      y.dispose();
    }
  });

  it('prediction and evaluation never drop: the reference and WebGPU predict as without dropout', async () => {
    const reference = new CpuTrainer(model, dataset, options);
    expect(await reference.predict(dataset.inputs, dataset.size)).toEqual(await new CpuTrainer(withoutDropout, dataset, options).predict(dataset.inputs, dataset.size));
    expect(await reference.evaluate(dataset)).toBe(await new CpuTrainer(withoutDropout, dataset, options).evaluate(dataset));
    const [x, y] = await Promise.all([GpuTrainer.create(device, model, dataset, options), GpuTrainer.create(device, withoutDropout, dataset, options)]);
    expect(await x.predict(dataset.inputs, dataset.size)).toEqual(await y.predict(dataset.inputs, dataset.size));
    expect(await x.evaluate(dataset)).toBe(await y.evaluate(dataset));
    x.dispose();
    y.dispose();
  });

  it.each(['layered', 'fused'] as const)('p = 0.5 on WebGPU, %s kernels: every buffer after 4 steps, the masks drawn as the reference draws them', async (path) => {
    expectAllClose(await crossCheck(device, model, dataset, options, 4, { path }));
  });

  it('p = 0.5 on the layered kernels as fit trains (no capture): the buffers they keep after 4 steps, and the weights', async () => {
    const gpu = await GpuTrainer.create(device, model, dataset, options, { path: 'layered', capture: false });
    try {
      const kept: BufferName[] = ['params', 'layer2.net', 'layer0.out', 'layer1.out', 'layer2.out', 'layer0.delta', 'layer1.delta', 'layer2.delta'];
      expectAllClose(await crossCheckTrainer(gpu, model, dataset, options, 4, kept));
    } finally {
      gpu.dispose();
    }
  });

  it('is refused on the output layer, and for p outside [0, 1), naming the layer', () => {
    const spec = { ...model.spec, layers: model.spec.layers.map((layer) => ({ ...layer })) };
    expect(() => createModel({ ...spec, layers: spec.layers.map((layer, l) => (l === 2 ? { ...layer, dropout: 0.2 } : layer)) }, { seed: 1 })).toThrow(/^layers\[2\]\.dropout: dropout applies to hidden layers only, not the output layer$/);
    expect(() => createModel({ ...spec, layers: spec.layers.map((layer, l) => (l === 0 ? { ...layer, dropout: 1 } : layer)) }, { seed: 1 })).toThrow(/^layers\[0\]\.dropout: expected a probability p with 0 ≤ p < 1, got 1$/);
    expect(() => createModel({ ...spec, layers: spec.layers.map((layer, l) => (l === 1 ? { ...layer, dropout: -0.1 } : layer)) }, { seed: 1 })).toThrow(/^layers\[1\]\.dropout: expected a probability p with 0 ≤ p < 1, got -0\.1$/);
  });
});
