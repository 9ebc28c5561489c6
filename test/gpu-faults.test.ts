// The GPU failing under a network: out of memory (a real Vulkan out-of-memory on
// SwiftShader, and failures injected where WebGPU reports them, in the error scopes), and
// a device destroyed in the middle of Network.fit. Each is an error that says what
// happened, or a recovery, never a wrong number; and the network stays usable after.

import { describe, expect, it } from 'vitest';
import { DeviceKeeper, LimitError, Network, type ModelFile } from '../src/node.ts';
import { storageBuffer } from '../src/gpu/memory.ts';
import { scoped } from '../src/gpu/scopes.ts';
import { stepBufferLayout } from '../src/model/buffers.ts';
import { describeAdapter, requestAdapter } from '../src/trainers.ts';
import { testDevice } from './support/gpu.ts';

/**
 * `device`, with an out-of-memory error injected for each buffer `fails` picks: reported
 * where WebGPU reports a real one, through the innermost out-of-memory error scope (the
 * buffer itself is made 16 bytes, as good as invalid). A buffer made outside any such
 * scope fails the test: its failure would go unreported. `caught` collects the errors the
 * scopes gave, real and injected.
 */
function failingDevice(device: GPUDevice, fails: (descriptor: GPUBufferDescriptor) => boolean, caught: GPUError[] = []): GPUDevice {
  const scopes: { filter: GPUErrorFilter; injected?: GPUError }[] = [];
  const methods: Partial<Record<keyof GPUDevice, unknown>> = {
    pushErrorScope: (filter: GPUErrorFilter) => {
      scopes.push({ filter });
      device.pushErrorScope(filter);
    },
    popErrorScope: async () => {
      const scope = scopes.pop()!;
      const real = device.popErrorScope(); // popped now, in order: the await comes after
      const error = scope.injected ?? (await real);
      if (error) caught.push(error);
      return error;
    },
    createBuffer: (descriptor: GPUBufferDescriptor) => {
      if (!fails(descriptor)) return device.createBuffer(descriptor);
      const scope = scopes.findLast((s) => s.filter === 'out-of-memory');
      if (!scope) throw new Error(`buffer ${descriptor.label} was allocated outside any out-of-memory error scope`);
      scope.injected ??= { message: `injected: no memory for ${descriptor.size} bytes - While calling [Device].CreateBuffer([BufferDescriptor ""${descriptor.label}""]).` } as GPUError;
      return device.createBuffer({ ...descriptor, size: 16 });
    },
  };
  return new Proxy(device, {
    get(target, key) {
      if (key in methods) return methods[key as keyof GPUDevice];
      const value = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

const MLP: ModelFile = { inputSize: 3, seed: 2, loss: 'mse', layers: [{ units: 40, activation: 'tanh' }, { units: 2, activation: 'linear' }] };
const inputs = Array.from({ length: 64 }, (_, k) => [Math.sin(k), Math.cos(k), (k % 7) / 7]);
const targets = inputs.map(([a, b, c]) => [a * b, b - c]);

describe('out of memory', () => {
  it("a trainer's buffer the GPU has no memory for is a LimitError naming the buffer and its size; the network trains, predicts and saves after", async () => {
    // The step's buffers for a batch of 64 do not fit; those of smaller batches do.
    const spec = { inputSize: 3, layers: [{ units: 40, activation: 'tanh' as const }, { units: 2, activation: 'linear' as const }], loss: 'mse' as const, trainBiases: true };
    const bytes = 4 * stepBufferLayout(spec, 64).size;
    const device = failingDevice(await testDevice(), (d) => d.label === 'step buffers' && d.size >= bytes);
    const net = await Network.create(MLP, { device });
    const before = net.params();
    const error = await net.fit(inputs, targets, { batchSize: 64, epochs: 1 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(LimitError);
    expect((error as LimitError).limit).toBe('GPU memory');
    expect((error as Error).message).toMatch(/^allocating the trainer's GPU buffers for a batch of 64: the GPU ran out of memory \(buffer step buffers, \d+ bytes\): injected: no memory for \d+ bytes/);
    expect(net.params()).toEqual(before);
    // Usable: a smaller batch trains, and predicts as the reference does after the same run.
    await net.fit(inputs, targets, { batchSize: 16, epochs: 2, shuffle: false });
    const reference = await Network.create(MLP, { backend: 'cpu' });
    await reference.fit(inputs, targets, { batchSize: 16, epochs: 2, shuffle: false });
    const [ours, theirs] = [await net.predict(inputs.slice(0, 5)), await reference.predict(inputs.slice(0, 5))];
    ours.flat().forEach((value, k) => expect(Math.abs(value - theirs.flat()[k])).toBeLessThan(1e-4));
    expect(net.toJSON().layers).toHaveLength(2);
    net.dispose();
  });

  it('a prediction pass the GPU has no memory for is split until it fits (the outputs are the same); a single row that does not fit is a LimitError', async () => {
    const caught: GPUError[] = [];
    // Passes of more than 10 rows do not fit.
    const device = failingDevice(await testDevice(), (d) => d.label === 'prediction layer0.net' && d.size > 4 * 10 * 40, caught);
    const net = await Network.create(MLP, { device });
    const reference = await Network.create(MLP, { backend: 'cpu' });
    const [ours, theirs] = [await net.predict(inputs), await reference.predict(inputs)];
    expect(caught.length).toBeGreaterThan(0);
    ours.flat().forEach((value, k) => expect(Math.abs(value - theirs.flat()[k])).toBeLessThan(1e-5));

    const nothing = failingDevice(await testDevice(), (d) => d.label === 'prediction layer0.net');
    const starved = await Network.create(MLP, { device: nothing });
    await expect(starved.predict(inputs)).rejects.toThrow(/^predicting 1 rows: the GPU ran out of memory \(buffer prediction layer0\.net, 160 bytes\): injected/);
    await expect(starved.predict(inputs)).rejects.toThrow(LimitError);
  });

  it('a real out-of-memory (SwiftShader allocates no buffer of maxBufferSize bytes) is a LimitError naming the buffer, and the device trains on unharmed', async () => {
    const device = await testDevice(); // fails the test on any uncaptured WebGPU error
    const bytes = device.limits.maxBufferSize;
    const allocation = scoped(device, 'allocating a test buffer', (log) => storageBuffer(device, 'largest', bytes / 4, log), (buffer) => buffer.destroy());
    if (describeAdapter(await requestAdapter()).isFallbackAdapter) {
      await expect(allocation).rejects.toThrow(LimitError);
      await expect(allocation).rejects.toThrow(new RegExp(`^allocating a test buffer: the GPU ran out of memory \\(buffer largest, ${bytes} bytes\\): .*(VK_ERROR_OUT_OF_DEVICE_MEMORY|out of memory)`, 'i'));
    } else {
      // A GPU may hold it: then it is a buffer like any other.
      (await allocation).destroy();
    }
    const net = await Network.create(MLP, { device });
    const history = await net.fit(inputs, targets, { epochs: 2 });
    expect(history.history.loss!.every(Number.isFinite)).toBe(true);
    net.dispose();
  });
});

describe('a device lost in the middle of Network.fit', () => {
  it('is replaced, and the fit ends with exactly one loss per step, where an uninterrupted run ends', async () => {
    const description: ModelFile = { inputSize: 3, seed: 4, loss: 'mse', layers: [{ units: 6, activation: 'tanh' }, { units: 2, activation: 'linear' }] };
    // 64 rows in batches of 8: chunks end at every epoch's end, every 8 steps.
    const options = { epochs: 200, batchSize: 8, learningRate: 0.05, optimizer: 'adam' as const };
    const keeper = await DeviceKeeper.open();
    const recovered: string[] = [];
    const net = await Network.create(description, { device: keeper, onRecover: (message) => recovered.push(message) });
    const steps: number[] = [];
    const losses: number[] = [];
    const history = await net.fit(inputs, targets, {
      ...options,
      callbacks: {
        onBatchEnd: (_, logs) => {
          steps.push(logs.step);
          losses.push(logs.loss);
        },
        // 200 steps past the in-memory checkpoint of step 1,000, whose losses were taken: the recovery runs them again.
        onEpochEnd: async (epoch) => {
          if (epoch === 149) (await keeper.current()).destroy();
        },
      },
    });
    expect(recovered).toEqual([expect.stringMatching(/^the GPU device was lost \(.+\): resuming from step 1000 on a new device$/)]);
    expect(history.steps).toBe(1600);
    expect(steps).toEqual(Array.from({ length: 1600 }, (_, k) => k));
    expect(losses.every(Number.isFinite)).toBe(true);

    const straight = await Network.create(description, { device: await testDevice() });
    const uninterrupted: number[] = [];
    await straight.fit(inputs, targets, { ...options, callbacks: { onBatchEnd: (_, logs) => void uninterrupted.push(logs.loss), onEpochEnd: () => {} } });
    // The same kernels on the same float32 values: the steps run again give the same losses and weights.
    expect(losses).toEqual(uninterrupted);
    expect(Array.from(net.params())).toEqual(Array.from(straight.params()));
    net.dispose();
    keeper.destroy();
  });
});
