// Limits, lost devices, and runs killed mid-way.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { crossCheck as crossCheckTrainer } from '../src/check/crosscheck.ts';
import '../src/node.ts'; // Dawn
import { openDevice, requestAdapter } from '../src/trainers.ts';

import { ResilientTrainer } from '../src/gpu/resilient.ts';
import { DeviceLostError } from '../src/errors.ts';
import { GpuTrainer, type KernelPath } from '../src/gpu/trainer.ts';
import { compareBuffers } from '../src/check/compare.ts';
import { modelToJson } from '../src/io/model-file.ts';
import { DEFAULT_OPTIMIZERS } from '../src/model/optimizer.ts';
import { CpuTrainer } from '../src/reference/trainer.ts';
import { splitRows } from '../src/data/dataset.ts';
import { cli, startCli } from './support/cli.ts';
import { expectAllClose, randomDataset, randomModel, type RandomNetwork } from './support/crosscheck.ts';
import { testDevice } from './support/gpu.ts';

let device: GPUDevice;
beforeAll(async () => {
  device = await testDevice();
});

const network: RandomNetwork = { sizes: [5, 12, 3], activations: ['tanh', 'softmax'], loss: 'cross-entropy' };

describe("the adapter's limits", () => {
  it.each<KernelPath>(['layered', 'fused'])('a dataset larger than one binding is streamed batch by batch (%s kernels), and still agrees with the reference', async (path) => {
    const model = randomModel(network, 1);
    const dataset = randomDataset(network, 200, 1); // 200 × (5 + 3) floats: 6.4 kB
    const options = { learningRate: 0.1, batchSize: 8, shuffle: true, seed: 2, optimizer: DEFAULT_OPTIMIZERS.sgd };
    const trainer = await GpuTrainer.create(device, model, dataset, options, { path, maxBindingBytes: 4096 });
    expect(trainer.streamsDataset).toBe(true);
    expectAllClose(await crossCheckTrainer(trainer, model, dataset, options, 5));
    trainer.dispose();
  });

  it('a prediction too large for one pass is split into several', async () => {
    const model = randomModel(network, 2);
    const dataset = randomDataset(network, 300, 2);
    const options = { learningRate: 0.1, batchSize: 4, shuffle: false, seed: 1, optimizer: DEFAULT_OPTIMIZERS.sgd };
    const trainer = await GpuTrainer.create(device, model, dataset, options, { maxBindingBytes: 4096 }); // 4096 / (4 · 12) = 85 rows a pass
    // Every buffer a pass makes stays within the binding size asked for.
    const sizes: number[] = [];
    const createBuffer = device.createBuffer;
    device.createBuffer = (descriptor: GPUBufferDescriptor) => (sizes.push(descriptor.size), createBuffer.call(device, descriptor));
    const gpu = await trainer.predict(dataset.inputs, dataset.size).finally(() => (device.createBuffer = createBuffer));
    expect(sizes.length).toBeGreaterThan(0);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(4096);
    const cpu = await new CpuTrainer(model, dataset, options).predict(dataset.inputs, dataset.size);
    const check = compareBuffers('outputs', gpu, cpu, { atol: 1e-6, rtol: 1e-5 });
    expect(check.ok, check.message).toBe(true);
    trainer.dispose();
  });

  it('a network that cannot fit is refused up front, naming the limit', async () => {
    const model = randomModel({ sizes: [64, 64, 2], activations: ['relu', 'sigmoid'], loss: 'half-sse' }, 3);
    const dataset = randomDataset({ sizes: [64, 64, 2], activations: ['relu', 'sigmoid'], loss: 'half-sse' }, 10, 3);
    const options = { learningRate: 0.1, batchSize: 4, shuffle: false, seed: 1, optimizer: DEFAULT_OPTIMIZERS.sgd };
    await expect(GpuTrainer.create(device, model, dataset, options, { maxBindingBytes: 8192 })).rejects.toThrow(
      /^the parameters: needs \d+ bytes in one GPU buffer; this adapter allows 8192 \(maxStorageBufferBindingSize \d+, maxBufferSize \d+\)$/,
    );
  });
});

describe('a lost device', () => {
  it('fails the very call during which it was lost, not only the next one', async () => {
    const lostDevice = await openDevice(await requestAdapter());
    const trainer = await GpuTrainer.create(lostDevice, randomModel(network, 6), randomDataset(network, 16, 6), { learningRate: 0.1, batchSize: 4, shuffle: false, seed: 1, optimizer: DEFAULT_OPTIMIZERS.sgd });
    await trainer.train(2);
    lostDevice.destroy(); // the loss is reported asynchronously, after the call has begun
    await expect(trainer.train(3)).rejects.toThrow(DeviceLostError);
    trainer.dispose();
  });

  it('is said so, and training resumes from the last checkpoint on a new device, ending where an uninterrupted run ends', async () => {
    const model = randomModel(network, 4);
    const dataset = randomDataset(network, 40, 4);
    const options = { learningRate: 0.05, batchSize: 8, shuffle: true, seed: 3, optimizer: DEFAULT_OPTIMIZERS.adam };
    const devices: GPUDevice[] = [];
    const messages: string[] = [];
    const open = async () => {
      const opened = await openDevice(await requestAdapter());
      devices.push(opened);
      return opened;
    };
    const trainer = await ResilientTrainer.create(open, model, dataset, options, { onRecover: (m) => messages.push(m) });
    await trainer.train(10);
    expect(await trainer.takeLosses()).toHaveLength(10); // the in-memory checkpoint is taken with the losses
    devices[0].destroy(); // as a driver reset would
    await trainer.train(10);
    // The loss shows when the steps are read; the steps since the checkpoint run again on the
    // new device, and each step's loss is reported exactly once.
    const losses = await trainer.takeLosses();
    expect(losses).toHaveLength(10);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(devices).toHaveLength(2);
    expect(messages).toEqual([expect.stringMatching(/^the GPU device was lost \(.+\): resuming from step 10 on a new device$/)]);
    expect(trainer.step).toBe(20);

    const uninterrupted = await GpuTrainer.create(device, model, dataset, options);
    await uninterrupted.train(20);
    const check = compareBuffers('params', await trainer.read('params'), await uninterrupted.read('params'), { atol: 1e-6, rtol: 1e-5 });
    expect(check.ok, check.message).toBe(true);
    trainer.dispose();
    uninterrupted.dispose();
  });
});

describe('a lost device, with a prediction running while steps do', () => {
  it('recovers once for both, and both go on', async () => {
    const model = randomModel(network, 7);
    const dataset = randomDataset(network, 40, 7);
    const devices: GPUDevice[] = [];
    const messages: string[] = [];
    const open = async () => {
      const opened = await openDevice(await requestAdapter());
      devices.push(opened);
      return opened;
    };
    const trainer = await ResilientTrainer.create(open, model, dataset, { learningRate: 0.05, batchSize: 8, shuffle: true, seed: 3, optimizer: DEFAULT_OPTIMIZERS.adam }, { onRecover: (m) => messages.push(m) });
    await trainer.train(10);
    await trainer.takeLosses();
    devices[0].destroy();
    const [, predicted, losses] = await Promise.all([trainer.train(10), trainer.predict(dataset.inputs, dataset.size), trainer.takeLosses()]);
    expect(predicted.every(Number.isFinite)).toBe(true);
    expect(losses).toHaveLength(10);
    expect(devices).toHaveLength(2);
    expect(messages).toHaveLength(1);
    expect(trainer.step).toBe(20);
    trainer.dispose();
  });
});

describe('checkpoints', () => {
  const dir = mkdtempSync(join(tmpdir(), 'webgpu-backprop-checkpoints-'));
  const slow: RandomNetwork = { sizes: [16, 64, 64, 4], activations: ['tanh', 'tanh', 'sigmoid'], loss: 'half-sse' };
  const model = randomModel(slow, 5);
  const data = randomDataset(slow, 64, 5);
  const modelPath = join(dir, 'model.json');
  const dataPath = join(dir, 'data.json');
  writeFileSync(modelPath, JSON.stringify(modelToJson(model)));
  writeFileSync(dataPath, JSON.stringify({ inputs: splitRows(data.inputs, 16), targets: splitRows(data.targets, 4) }));
  const flags = ['--model', modelPath, '--data', dataPath, '--lr', '0.1', '--batch-size', '8', '--seed', '4'];

  it.each(['cpu', 'webgpu'])('a run on %s killed mid-way loses at most N steps; its checkpoint always loads, and resuming ends as an uninterrupted run', async (backend) => {
    const steps = 2000;
    const every = 50;
    const checkpoint = join(dir, `${backend}.checkpoint.json`);
    const resumed = join(dir, `${backend}-resumed.json`);
    const straight = join(dir, `${backend}-straight.json`);

    // Kill with SIGKILL once a few checkpoints are down, at no particular moment.
    const run = startCli('train', ...flags, '--backend', backend, '--steps', String(steps), '--checkpoint-every', String(every), '--checkpoint', checkpoint, '--out', resumed);
    let announced = 0;
    await new Promise<void>((resolve, reject) => {
      run.stderr!.on('data', (chunk: Buffer) => {
        for (const match of chunk.toString().matchAll(/checkpoint at step (\d+)/g)) announced = Number(match[1]);
        if (announced >= 3 * every) {
          setTimeout(() => run.kill('SIGKILL'), 37);
          resolve();
        }
      });
      run.on('exit', () => (announced >= 3 * every ? resolve() : reject(new Error('the run ended before it was killed'))));
    });
    await new Promise((resolve) => run.on('exit', resolve));
    expect(existsSync(resumed)).toBe(false); // --out only once training succeeds

    const saved = JSON.parse(readFileSync(checkpoint, 'utf8'));
    expect(saved.step % every).toBe(0);
    expect(saved.step).toBeGreaterThanOrEqual(announced); // the file is the last one announced, or newer: at most N steps lost
    expect(saved.step).toBeLessThan(steps);

    const resume = cli('train', ...flags, '--backend', backend, '--steps', String(steps), '--checkpoint-every', String(every), '--checkpoint', checkpoint, '--resume', '--out', resumed);
    expect(resume.stderr).toContain(`resuming from step ${saved.step}`);
    expect(resume.code).toBe(0);
    expect(cli('train', ...flags, '--backend', backend, '--steps', String(steps), '--out', straight).code).toBe(0);

    const a = JSON.parse(readFileSync(resumed, 'utf8'));
    const b = JSON.parse(readFileSync(straight, 'utf8'));
    if (backend === 'cpu') {
      // float64 state round-trips JSON exactly: the resumed run is the uninterrupted one, bit for bit.
      expect(a).toEqual(b);
    } else {
      // On WebGPU the checkpoint holds f32 values read back, and the run continues from them.
      const flat = (m: typeof a) => m.layers.flatMap((l: { weights: number[][]; biases: number[] }) => [...l.weights.flat(), ...l.biases]);
      const check = compareBuffers('weights', flat(a), flat(b), { atol: 1e-5, rtol: 1e-4 });
      expect(check.ok, check.message).toBe(true);
    }
  });

  it('a temporary file a killed run left beside the checkpoint is gone after the next run; one of a process still running stays', () => {
    const checkpoint = join(dir, 'stale.checkpoint.json');
    const gone = spawnSync(process.execPath, ['-e', '']).pid; // a process that has ended
    const stale = join(dir, `.stale.checkpoint.json.${gone}.tmp`);
    const live = join(dir, `.stale.checkpoint.json.${process.pid}.tmp`);
    writeFileSync(stale, '{"format": "webgpu-backprop checkpoint 1", "step"');
    writeFileSync(live, 'being written');
    expect(cli('train', ...flags, '--backend', 'cpu', '--steps', '20', '--checkpoint-every', '10', '--checkpoint', checkpoint).code).toBe(0);
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(JSON.parse(readFileSync(checkpoint, 'utf8')).step).toBe(20);
  });

  it('a checkpoint from another run is refused', () => {
    const checkpoint = join(dir, 'other.checkpoint.json');
    expect(cli('train', ...flags, '--backend', 'cpu', '--steps', '20', '--checkpoint-every', '10', '--checkpoint', checkpoint).code).toBe(0);
    const other = cli('train', ...flags.map((f) => (f === '8' ? '4' : f)), '--backend', 'cpu', '--steps', '40', '--checkpoint', checkpoint, '--resume');
    expect(other.code).toBe(2);
    expect(other.stderr.trim()).toMatch(/other\.checkpoint\.json: options\.batchSize: is 8; this run has 4 \(resume with the flags the run began with\)$/);
  });
});
