// What `backend: 'auto'` chooses by: each backend's speed measured once on this machine
// (per adapter, and per thread count of the WebAssembly backend) and kept where
// src/measurements.ts keeps measurements: in the browser's localStorage, in a file in
// Node (src/node/calibration-file.ts), else for the life of the page or process.
//
//   WebAssembly  a few steps of a 256-256-256 network (its products' GFLOP/s), and many of
//                a 2-2-2 one (what a step costs besides its products)
//   WebGPU       the forward product of a 512-512 layer over 512 rows, compiled (what one
//                pipeline takes to compile) and timed (GFLOP/s, the product alone), and a
//                pass over one row (what a dispatch costs)

import { describeAdapter, type AdapterDescription } from '../gpu/device.ts';
import { gpuProfile } from '../gpu/adapters.ts';
import { GpuPredictor } from '../gpu/predict.ts';
import { stepFlops } from '../gpu/layered.ts';
import { createModel } from '../model/network.ts';
import type { ModelSpec } from '../model/model.ts';
import { WasmTrainer } from '../wasm/trainer.ts';
import { seededRandom } from '../data/random.ts';
import { DEFAULT_BATCH_SIZE } from './options.ts';
import { keep, kept as keptMeasurement, readKept } from '../measurements.ts';

/** The WebAssembly backend's measured speed. */
export interface WasmCalibration {
  threads: number;
  /** GFLOP/s of a step's products (a 256-256-256 network, batch 64). */
  gflops: number;
  /** Milliseconds a step costs besides its products (a 2-2-2 network, batch 1). */
  stepMs: number;
}

/** A WebGPU adapter's measured speed. */
export interface WebgpuCalibration {
  /** GFLOP/s of a forward product (512 rows of a 512-512 layer). */
  gflops: number;
  /** Milliseconds one dispatch and its read-back cost (one row of that layer). */
  dispatchMs: number;
  /** Milliseconds one pipeline takes to compile. */
  compileMs: number;
  /** Its compute units (the adapter table's figure, or its fallback). */
  units: number;
}

/** Bumped when what is measured changes, so that old entries are measured again. */
const CALIBRATION_VERSION = 1;

/** A measurement's key in the store: its name, under this version. */
const versioned = (key: string) => `v${CALIBRATION_VERSION} ${key}`;

/** A kept measurement by its key, or `measure`'s, then kept (src/measurements.ts). */
function kept<T>(key: string, measure: () => Promise<T>): Promise<{ value: T; measuredNow: boolean }> {
  return keptMeasurement(versioned(key), measure);
}

const sigmoidSpec = (sizes: number[]): ModelSpec => ({
  inputSize: sizes[0],
  layers: sizes.slice(1).map((units) => ({ units, activation: 'sigmoid' as const })),
  loss: 'half-sse',
  trainBiases: true,
});

/** Milliseconds per step of `steps` steps on a fresh trainer of a network of `sizes` (after one step to warm up). */
async function wasmStepMs(sizes: number[], batch: number, steps: number, threads: number): Promise<number> {
  const spec = sigmoidSpec(sizes);
  const random = seededRandom('calibration');
  const rows = Math.max(batch, 64);
  const dataset = { inputs: Float64Array.from({ length: rows * sizes[0] }, random), targets: Float64Array.from({ length: rows * sizes[sizes.length - 1] }, random), size: rows, inputSize: sizes[0], outputSize: sizes[sizes.length - 1] };
  const trainer = await WasmTrainer.create(createModel(spec, { seed: 1 }), dataset, { learningRate: 0.1, batchSize: batch, shuffle: false, seed: 1, optimizer: { kind: 'sgd' } }, { threads });
  try {
    await trainer.train(1);
    const times: number[] = [];
    for (let k = 0; k < 3; k++) {
      const started = performance.now();
      await trainer.train(steps);
      times.push((performance.now() - started) / steps);
    }
    return times.sort((a, b) => a - b)[1];
  } finally {
    trainer.dispose();
  }
}

/** The WebAssembly backend's speed with `threads` threads: measured here once, then kept. */
export async function wasmCalibration(threads: number): Promise<WasmCalibration & { measuredNow: boolean }> {
  const { value, measuredNow } = await kept(`wasm threads ${threads}`, async (): Promise<WasmCalibration> => {
    const stepMs = await wasmStepMs([2, 2, 2], 1, 2000, threads);
    const largeMs = await wasmStepMs([256, 256, 256], 64, 3, threads);
    const flops = stepFlops(sigmoidSpec([256, 256, 256]), 64, { kind: 'sgd' });
    return { threads, gflops: flops / (Math.max(largeMs - stepMs, 1e-6) * 1e6), stepMs };
  });
  return { ...value, measuredNow };
}

const ADAPTER_ASK = 'adapter request ms';

/**
 * Milliseconds asking for a WebGPU adapter takes here (in Node, loading Dawn's bindings
 * with it): what any WebGPU run costs before its first pipeline. Timed around `ask` the
 * first time, then kept; `ask` is called only then.
 */
export async function adapterAskMs(ask: () => Promise<unknown>): Promise<number> {
  const { value } = await kept(ADAPTER_ASK, async () => {
    const started = performance.now();
    await ask();
    return performance.now() - started;
  });
  return value;
}

/**
 * A later ask's time (`ms`), kept where it is the least yet: the first ask of a machine
 * reads Dawn's bindings from a cold disk, and a figure too high would keep asking for
 * none too long.
 */
export function keepAdapterAsk(ms: number): void {
  const least = readKept(versioned(ADAPTER_ASK), (value): value is number => typeof value === 'number');
  if (least === undefined || ms < least) keep({ [versioned(ADAPTER_ASK)]: ms });
}

const ADAPTER_FOUND = 'adapter found';

/** The adapter an ask found here: its name, its measurements' key, and whether it is a software one. */
interface FoundAdapter {
  name: string;
  key: string;
  software: boolean;
}

const isFoundAdapter = (value: unknown): value is FoundAdapter =>
  typeof value === 'object' && value !== null && typeof (value as FoundAdapter).name === 'string' && typeof (value as FoundAdapter).key === 'string' && typeof (value as FoundAdapter).software === 'boolean';

/** Keeps the adapter an ask found here (written only where it differs from the one kept). */
export function keepAdapterFound(adapter: GPUAdapter, name: string): void {
  const description = describeAdapter(adapter);
  const found: FoundAdapter = { name, key: adapterKey(description), software: description.isFallbackAdapter };
  const kept = readKept(versioned(ADAPTER_FOUND), isFoundAdapter);
  if (!kept || kept.key !== found.key || kept.name !== found.name) keep({ [versioned(ADAPTER_FOUND)]: found });
}

/** The software adapter an ask found here before, with its kept measurements; undefined where none is kept. */
export function keptSoftwareAdapter(): { name: string; calibration: WebgpuCalibration } | undefined {
  const found = readKept(versioned(ADAPTER_FOUND), isFoundAdapter);
  const calibration = found?.software ? readKept(versioned(found.key), isWebgpuCalibration) : undefined;
  return found && calibration ? { name: found.name, calibration } : undefined;
}

const isWebgpuCalibration = (value: unknown): value is WebgpuCalibration =>
  typeof value === 'object' && value !== null && (['gflops', 'dispatchMs', 'compileMs', 'units'] as const).every((field) => Number.isFinite((value as WebgpuCalibration)[field]));

/** The key an adapter's measurements are kept under. */
export function adapterKey(adapter: AdapterDescription): string {
  return `webgpu ${[adapter.vendor, adapter.architecture, adapter.device, adapter.description].join('/')}${adapter.isFallbackAdapter ? ' (software)' : ''}`;
}

/** A WebGPU adapter's speed, measured once on a device of it (`open` gives one: only where no measurement is kept), then kept. */
export async function webgpuCalibration(adapter: GPUAdapter, open: () => Promise<GPUDevice>): Promise<WebgpuCalibration & { measuredNow: boolean }> {
  const { value, measuredNow } = await kept(adapterKey(describeAdapter(adapter)), async (): Promise<WebgpuCalibration> => {
    const device = await open();
    const size = 512;
    const model = createModel({ inputSize: size, layers: [{ units: size, activation: 'linear' }], loss: 'mse', trainBiases: true }, { seed: 1 });
    const compileStarted = performance.now();
    // Untuned: compileMs is one pipeline's compile, and `auto` estimates with the cost model's plans.
    const predictor = await GpuPredictor.create(device, model, DEFAULT_BATCH_SIZE, 'off');
    // The forward product alone (a linear output layer needs no softmax).
    const compileMs = performance.now() - compileStarted;
    try {
      const random = seededRandom('calibration');
      const inputs = Float64Array.from({ length: size * size }, random);
      await predictor.predict(inputs.subarray(0, size), 1);
      const time = async (rows: number) => {
        const times: number[] = [];
        for (let k = 0; k < 3; k++) {
          const started = performance.now();
          await predictor.predict(inputs.subarray(0, rows * size), rows);
          times.push(performance.now() - started);
        }
        return times.sort((a, b) => a - b)[1];
      };
      const dispatchMs = await time(1);
      const productMs = Math.max((await time(size)) - dispatchMs, 1e-3);
      return { gflops: (2 * size * size * size) / (productMs * 1e6), dispatchMs, compileMs, units: gpuProfile(device).units };
    } finally {
      predictor.dispose();
    }
  });
  return { ...value, measuredNow };
}
