// `backend: 'auto'`: the choice between WebGPU and WebAssembly by measured speeds, kept in
// a file in Node; its figures in backendReason; never a software adapter slower per step;
// no adapter asked for where none could win.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Network, type ModelFile } from '../src/node.ts';
import { chooseBackend, NOMINAL_STEPS, wasmBeforeAsking, wasmEstimate, webgpuEstimate } from '../src/train/auto.ts';
import type { WasmCalibration, WebgpuCalibration } from '../src/train/calibration.ts';
import { setGpuProvider, setNoGpuProbe } from '../src/gpu/device.ts';
import { nodeGpu } from '../src/node/dawn.ts';
import { linuxWithoutGpu } from '../src/node/gpu-devices.ts';
import { WebGpuUnavailableError } from '../src/errors.ts';
import type { ModelSpec } from '../src/model/model.ts';

const MNIST: ModelFile = { inputSize: 784, seed: 1, loss: 'cross-entropy', layers: [{ units: 128, activation: 'relu' }, { units: 10, activation: 'softmax' }] };
const spec = (sizes: number[]): ModelSpec => ({ inputSize: sizes[0], layers: sizes.slice(1).map((units) => ({ units, activation: 'relu' as const })), loss: 'mse', trainBiases: true });

const wasm: WasmCalibration = { threads: 2, gflops: 10, stepMs: 0.0002 };
const gpu = (gflops: number, compileMs: number): WebgpuCalibration => ({ gflops, dispatchMs: 0.05, compileMs, units: 100 });

describe('the choice, from measured speeds', () => {
  it('estimates a step as its FLOPs at the measured GFLOP/s plus its fixed costs, and WebGPU compiles first', () => {
    const big = spec([1024, 1024, 1024, 10]);
    const a = wasmEstimate(wasm, big, 32);
    const g = webgpuEstimate(gpu(1000, 50), big, 32);
    expect(a.compileMs).toBe(0);
    expect(g.compileMs).toBe(50 * 7); // a forward per layer, a δ per hidden layer, the output stage, one weight update for all
    expect(g.totalMs).toBeCloseTo(g.compileMs + NOMINAL_STEPS * g.stepMs, 9);
    expect(a.stepMs / g.stepMs).toBeGreaterThan(50); // a hundred times the GFLOP/s, less its dispatches
  });

  it('takes a fast GPU for a large network, WebAssembly for a small one, and says why in figures', () => {
    const hardware = { name: 'a GPU', software: false };
    const large = chooseBackend(spec([1024, 1024, 1024, 10]), 32, wasm, gpu(1000, 50), hardware);
    expect(large.backend).toBe('webgpu');
    expect(large.reason).toMatch(/^auto chose WebGPU: WebGPU is faster \(WebAssembly \(2 threads, 10\.0 GFLOP\/s measured\) [\d.]+ ms a step; WebGPU \(a GPU, 1000 GFLOP\/s measured\) [\d.]+ ms a step and 350 ms compiling; 1000 steps of batch 32: \d+ ms against \d+ ms\)$/);
    const small = chooseBackend(spec([2, 16, 2]), 32, wasm, gpu(1000, 50), hardware);
    expect(small.backend).toBe('wasm');
  });

  it('takes WebAssembly without asking for an adapter only where its whole run is shorter than asking', () => {
    const tiny = spec([2, 16, 2]);
    const run = wasmEstimate(wasm, tiny, 32).totalMs;
    const early = wasmBeforeAsking(tiny, 32, wasm, run * 1.01);
    expect(early?.backend).toBe('wasm');
    expect(early?.reason).toMatch(/^auto chose WebAssembly without asking for WebGPU: 1000 steps of batch 32 take [\d.]+ ms on it \([\d.]+ ms a step measured\), less than asking for an adapter takes here \([\d.]+ ms measured\)$/);
    expect(wasmBeforeAsking(tiny, 32, wasm, run * 0.99)).toBeUndefined();
  });

  it('never takes a software adapter whose steps are slower, whatever the totals', () => {
    // Slower per step by a hair, and no compiling: the totals alone would be a tie.
    const software = { name: 'SwiftShader (software)', software: true };
    const network = spec([256, 256, 10]);
    const same = gpu(wasm.gflops, 0);
    const choice = chooseBackend(network, 32, wasm, same, software);
    expect(webgpuEstimate(same, network, 32).stepMs).toBeGreaterThanOrEqual(wasmEstimate(wasm, network, 32).stepMs);
    expect(choice.backend).toBe('wasm');
    expect(choice.reason).toMatch(/^auto chose WebAssembly: the software adapter is slower per step \(/);
  });
});

/** Makes every ask for an adapter fail with 'asked', and counts the asks. */
function countAsks(): { count: number } {
  const asks = { count: 0 };
  setGpuProvider(() => {
    asks.count++;
    return Promise.reject(new WebGpuUnavailableError('asked'));
  });
  return asks;
}

describe('auto on this machine', () => {
  let dir: string;
  const saved = process.env.WEBGPU_BACKPROP_CALIBRATION;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'calibration-'));
    process.env.WEBGPU_BACKPROP_CALIBRATION = join(dir, 'calibration.json');
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.WEBGPU_BACKPROP_CALIBRATION;
    else process.env.WEBGPU_BACKPROP_CALIBRATION = saved;
  });

  it('measures both backends once, keeps the figures in the file, and takes WebAssembly over SwiftShader', async () => {
    const network = await Network.create(MNIST);
    expect(network.backend).toBe('wasm');
    expect(network.backendReason).toMatch(/^auto chose WebAssembly: the software adapter is slower per step \(WebAssembly \(\d+ threads?, [\d.]+ GFLOP\/s measured\) [\d.]+ ms a step; WebGPU \(.*\(software\), [\d.]+ GFLOP\/s measured\) [\d.]+ ms a step and \d+ ms compiling; 1000 steps of batch 32: /);
    network.dispose();
    const kept = JSON.parse(readFileSync(process.env.WEBGPU_BACKPROP_CALIBRATION!, 'utf8'));
    const keys = Object.keys(kept);
    expect(keys.some((key) => /^v\d+ wasm threads \d+$/.test(key))).toBe(true);
    const adapter = keys.find((key) => key.includes('webgpu'))!;
    expect(adapter).toMatch(/\(software\)$/);
    expect(kept[adapter].gflops).toBeGreaterThan(0);
    expect(kept[adapter].compileMs).toBeGreaterThan(0);
  });

  it('chooses by the kept figures, not by measuring again', async () => {
    const file = process.env.WEBGPU_BACKPROP_CALIBRATION!;
    const kept = JSON.parse(readFileSync(file, 'utf8'));
    const adapter = Object.keys(kept).find((key) => key.includes('webgpu'))!;
    // As if this adapter had measured a thousand times faster than WebAssembly, compiling in no time.
    kept[adapter] = { ...kept[adapter], gflops: 1e6, compileMs: 0, dispatchMs: 0 };
    writeFileSync(file, JSON.stringify(kept));
    const network = await Network.create(MNIST);
    expect(network.backend).toBe('webgpu');
    expect(network.backendReason).toMatch(/^auto chose WebGPU: WebGPU is faster \(.*1000000 GFLOP\/s measured/);
    network.dispose();
  });

  it('keeps what asking for an adapter took, and asks no more where WebAssembly finishes first', async () => {
    const file = process.env.WEBGPU_BACKPROP_CALIBRATION!;
    const kept = JSON.parse(readFileSync(file, 'utf8'));
    const key = Object.keys(kept).find((name) => name.endsWith('adapter request ms'))!;
    expect(kept[key]).toBeGreaterThan(0);
    const tiny: ModelFile = { inputSize: 2, seed: 1, loss: 'cross-entropy', layers: [{ units: 16, activation: 'tanh' }, { units: 2, activation: 'softmax' }] };
    const asks = countAsks();
    setNoGpuProbe(undefined); // as where the machine cannot tell whether it has a GPU: by the ask's time alone
    try {
      // As if asking took a minute: the tiny network's run is shorter, so nothing is asked.
      writeFileSync(file, JSON.stringify({ ...kept, [key]: 60_000 }));
      const early = await Network.create(tiny);
      expect(early.backend).toBe('wasm');
      expect(early.backendReason).toMatch(/^auto chose WebAssembly without asking for WebGPU: .*\(60000 ms measured\)$/);
      early.dispose();
      expect(asks.count).toBe(0);
      // As if asking took no time: WebGPU might win, so the adapter is asked for.
      writeFileSync(file, JSON.stringify({ ...kept, [key]: 0 }));
      const asking = await Network.create(tiny);
      expect(asking.backendReason).toBe('auto chose WebAssembly: WebGPU is unavailable: asked');
      asking.dispose();
      expect(asks.count).toBe(1);
      // A later ask that takes less than the kept figure (the first ask read Dawn from a cold disk) is kept instead.
      setGpuProvider(nodeGpu);
      const wasmKey = Object.keys(kept).find((name) => / wasm threads \d+$/.test(name))!;
      const threshold = wasmEstimate(kept[wasmKey], spec([784, 128, 10]), 32).totalMs / 2; // MNIST's run on WebAssembly is longer: it asks
      writeFileSync(file, JSON.stringify({ ...kept, [key]: threshold }));
      const mnist = await Network.create({ ...MNIST, seed: 2 }, { threads: kept[wasmKey].threads });
      mnist.dispose();
      const least = JSON.parse(readFileSync(file, 'utf8'))[key];
      expect(least).toBeGreaterThan(0);
      expect(least).toBeLessThan(threshold); // Dawn is loaded in this process: asking again takes a few milliseconds
    } finally {
      writeFileSync(file, JSON.stringify(kept));
      setGpuProvider(nodeGpu);
      setNoGpuProbe(linuxWithoutGpu);
    }
  });

  it('on a machine with no GPU device, chooses by the software adapter found there before, without asking', async () => {
    const file = process.env.WEBGPU_BACKPROP_CALIBRATION!;
    const kept = JSON.parse(readFileSync(file, 'utf8'));
    const found = Object.entries(kept).find(([key]) => key.endsWith('adapter found'))?.[1] as { key: string; software: boolean };
    expect(found.software).toBe(true);
    const adapter = Object.keys(kept).find((key) => key.endsWith(found.key))!;
    // As SwiftShader measures here (an earlier test made it a thousand times faster than WebAssembly).
    writeFileSync(file, JSON.stringify({ ...kept, [adapter]: { ...kept[adapter], gflops: 0.5 } }));
    const asks = countAsks();
    try {
      setNoGpuProbe(() => true);
      const unasked = await Network.create(MNIST);
      expect(unasked.backend).toBe('wasm');
      expect(unasked.backendReason).toMatch(/^auto chose WebAssembly without asking for WebGPU: this machine has no GPU device, and by the figures kept for the software adapter found here before, the software adapter is slower per step \(WebAssembly .* WebGPU \(.*\(software\), /);
      unasked.dispose();
      expect(asks.count).toBe(0);
      // Where a GPU device may be there, the ask finds out.
      setNoGpuProbe(() => false);
      const asking = await Network.create(MNIST);
      expect(asking.backendReason).toBe('auto chose WebAssembly: WebGPU is unavailable: asked');
      asking.dispose();
      expect(asks.count).toBe(1);
    } finally {
      writeFileSync(file, JSON.stringify(kept));
      setGpuProvider(nodeGpu);
      setNoGpuProbe(linuxWithoutGpu);
    }
  });

  it('takes WebAssembly where there is no WebGPU, and says so', async () => {
    setGpuProvider(() => Promise.reject(new WebGpuUnavailableError('no adapter here')));
    setNoGpuProbe(undefined);
    try {
      const network = await Network.create(MNIST, { threads: 1 });
      expect(network.backend).toBe('wasm');
      expect(network.backendReason).toBe('auto chose WebAssembly: WebGPU is unavailable: no adapter here');
      network.dispose();
    } finally {
      setGpuProvider(nodeGpu);
      setNoGpuProbe(linuxWithoutGpu);
    }
  });
});
