// `backend: 'auto'`: WebAssembly or WebGPU, by what each would take on this network and
// this machine, from speeds measured once per adapter and kept (calibration.ts). A step's
// time is its products' FLOPs at the measured GFLOP/s plus its fixed costs (WebGPU: its
// dispatches; the fused kernel, one workgroup, runs on one of the adapter's units);
// WebGPU also compiles its pipelines first. The two are compared over a run of
// NOMINAL_STEPS steps at the batch size `fit` takes by default. A software adapter
// (SwiftShader) is never taken where its steps are slower than WebAssembly's. Where
// WebAssembly's whole run would take less than merely asking for an adapter takes here
// (measured once and kept), no GPU could win, and none is asked for; nor where the machine
// has no GPU device and the software adapter found on it before loses.

import { fitsFusedKernel } from '../gpu/kernels.ts';
import { stepFlops } from '../gpu/layered.ts';
import type { ModelSpec } from '../model/model.ts';
import type { WasmCalibration, WebgpuCalibration } from './calibration.ts';

/** The run the choice compares the backends over: its steps (`fit`'s batch size comes with it). */
export const NOMINAL_STEPS = 1000;

/** Steps a submit carries on WebGPU (its read-back is shared by them). */
const STEPS_PER_SUBMIT = 16;

/** What a backend would take on a network: per step, compiling first, and over NOMINAL_STEPS steps. */
export interface Estimate {
  stepMs: number;
  compileMs: number;
  totalMs: number;
}

/** The WebAssembly backend's estimate for `spec` at batch `batch`. */
export function wasmEstimate(calibration: WasmCalibration, spec: ModelSpec, batch: number): Estimate {
  const stepMs = stepFlops(spec, batch, { kind: 'sgd' }) / (calibration.gflops * 1e6) + calibration.stepMs;
  return { stepMs, compileMs: 0, totalMs: NOMINAL_STEPS * stepMs };
}

/** The WebGPU backend's estimate for `spec` at batch `batch`. */
export function webgpuEstimate(calibration: WebgpuCalibration, spec: ModelSpec, batch: number): Estimate {
  const flops = stepFlops(spec, batch, { kind: 'sgd' });
  const L = spec.layers.length;
  const fused = fitsFusedKernel(spec, batch);
  // The fused kernel: one workgroup, on one unit; the layered path: a product per layer, a δ
  // per layer below the output, the output stage, and one weight update for every layer:
  // 2L + 1 dispatches, and as many pipelines.
  const kernels = 2 * L + 1;
  const stepMs = fused ? flops / ((calibration.gflops / calibration.units) * 1e6) : flops / (calibration.gflops * 1e6) + (kernels / STEPS_PER_SUBMIT) * calibration.dispatchMs;
  const compileMs = (fused ? 1 : kernels) * calibration.compileMs;
  return { stepMs, compileMs, totalMs: compileMs + NOMINAL_STEPS * stepMs };
}

/** The choice and the figures it was made by. */
export interface AutoChoice {
  backend: 'wasm' | 'webgpu';
  reason: string;
}

const ms = (value: number) => (value >= 100 ? value.toFixed(0) : value.toPrecision(2));
const rate = (gflops: number) => (gflops >= 100 ? gflops.toFixed(0) : gflops.toPrecision(3));

/** WebAssembly or WebGPU for `spec` at batch `batch`, and why, in figures. */
export function chooseBackend(spec: ModelSpec, batch: number, wasm: WasmCalibration, webgpu: WebgpuCalibration, adapter: { name: string; software: boolean }): AutoChoice {
  const { backend, why, figures } = compare(spec, batch, wasm, webgpu, adapter);
  return { backend, reason: `auto chose ${backend === 'wasm' ? 'WebAssembly' : 'WebGPU'}: ${why} (${figures})` };
}

function compare(spec: ModelSpec, batch: number, wasm: WasmCalibration, webgpu: WebgpuCalibration, adapter: { name: string; software: boolean }) {
  const a = wasmEstimate(wasm, spec, batch);
  const g = webgpuEstimate(webgpu, spec, batch);
  const slowerSoftware = adapter.software && g.stepMs >= a.stepMs;
  const backend: AutoChoice['backend'] = slowerSoftware || a.totalMs <= g.totalMs ? 'wasm' : 'webgpu';
  const figures =
    `WebAssembly (${wasm.threads} thread${wasm.threads === 1 ? '' : 's'}, ${rate(wasm.gflops)} GFLOP/s measured) ${ms(a.stepMs)} ms a step; ` +
    `WebGPU (${adapter.name}, ${rate(webgpu.gflops)} GFLOP/s measured) ${ms(g.stepMs)} ms a step and ${ms(g.compileMs)} ms compiling; ` +
    `${NOMINAL_STEPS} steps of batch ${batch}: ${ms(a.totalMs)} ms against ${ms(g.totalMs)} ms`;
  const why = slowerSoftware ? 'the software adapter is slower per step' : backend === 'wasm' ? 'WebAssembly is faster' : 'WebGPU is faster';
  return { backend, why, figures };
}

/**
 * WebAssembly, chosen without asking for an adapter, on a machine with no GPU device
 * (src/gpu/device.ts, certainlyNoGpu): an ask could find only a software adapter, and by
 * the figures kept for the one found here before, WebAssembly wins. Undefined where it
 * would not.
 */
export function wasmOverSoftware(spec: ModelSpec, batch: number, wasm: WasmCalibration, software: { name: string; calibration: WebgpuCalibration }): (AutoChoice & { backend: 'wasm' }) | undefined {
  const { backend, why, figures } = compare(spec, batch, wasm, software.calibration, { name: software.name, software: true });
  if (backend !== 'wasm') return undefined;
  return { backend, reason: `auto chose WebAssembly without asking for WebGPU: this machine has no GPU device, and by the figures kept for the software adapter found here before, ${why} (${figures})` };
}

/**
 * WebAssembly, chosen without asking for an adapter, where its NOMINAL_STEPS steps take
 * less than asking for one takes on this machine (`askMs`: in Node, loading Dawn's
 * bindings with it): no GPU, however fast, finishes first. Undefined where one might.
 */
export function wasmBeforeAsking(spec: ModelSpec, batch: number, wasm: WasmCalibration, askMs: number): (AutoChoice & { backend: 'wasm' }) | undefined {
  const run = wasmEstimate(wasm, spec, batch);
  if (run.totalMs >= askMs) return undefined;
  return {
    backend: 'wasm',
    reason: `auto chose WebAssembly without asking for WebGPU: ${NOMINAL_STEPS} steps of batch ${batch} take ${ms(run.totalMs)} ms on it (${ms(run.stepMs)} ms a step measured), less than asking for an adapter takes here (${ms(askMs)} ms measured)`,
  };
}
