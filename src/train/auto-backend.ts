// `backend: 'auto'` on this machine: the kept measurements read (or taken the first time),
// an adapter asked for only where WebGPU could win, and the choice of auto.ts made by them.
// The adapter an ask finds is kept, for a machine with no GPU device to choose by without
// asking (in Node, asking loads Dawn's bindings: tens of milliseconds).

import { WebGpuUnavailableError } from '../errors.ts';
import { adapterName, certainlyNoGpu, describeAdapter, requestAdapter, sharedDevice, type DeviceKeeper } from '../gpu/device.ts';
import type { ModelSpec } from '../model/model.ts';
import { wasmRuntime } from '../wasm/runtime.ts';
import { chooseBackend, wasmBeforeAsking, wasmOverSoftware } from './auto.ts';
import { adapterAskMs, keepAdapterAsk, keepAdapterFound, keptSoftwareAdapter, wasmCalibration, webgpuCalibration } from './calibration.ts';
import { DEFAULT_BATCH_SIZE } from './options.ts';

/** What `auto` chose, and why; WebGPU on the device networks share. */
export type AutoBackend = { backend: 'wasm'; reason: string } | { backend: 'webgpu'; reason: string; keeper: DeviceKeeper };

/** WebAssembly (with `threads` threads) or WebGPU for a network of `spec`, by speeds measured here. */
export async function autoBackend(spec: ModelSpec, threads: number): Promise<AutoBackend> {
  const wasm = await wasmCalibration(threads);
  const software = certainlyNoGpu() ? keptSoftwareAdapter() : undefined;
  const unasked = software && wasmOverSoftware(spec, DEFAULT_BATCH_SIZE, wasm, software);
  if (unasked) return unasked;
  let adapter: GPUAdapter | undefined;
  // While the adapter is asked for, the WebAssembly runtime starts (its threads): most choices end with it.
  const ask = () => {
    wasmRuntime(threads).catch(() => undefined);
    return requestAdapter();
  };
  try {
    const askMs = await adapterAskMs(async () => (adapter = await ask()));
    if (!adapter) {
      const early = wasmBeforeAsking(spec, DEFAULT_BATCH_SIZE, wasm, askMs);
      if (early) return early;
      const started = performance.now();
      adapter = await ask();
      keepAdapterAsk(performance.now() - started);
    }
  } catch (error) {
    if (error instanceof WebGpuUnavailableError) return { backend: 'wasm', reason: `auto chose WebAssembly: WebGPU is unavailable: ${error.message}` };
    throw error;
  }
  // The adapter is measured once, on the shared device (which a choice of WebGPU then uses).
  const webgpu = await webgpuCalibration(adapter, async () => (await sharedDevice()).current());
  keepAdapterFound(adapter, adapterName(adapter));
  const chosen = chooseBackend(spec, DEFAULT_BATCH_SIZE, wasm, webgpu, { name: adapterName(adapter), software: describeAdapter(adapter).isFallbackAdapter });
  if (chosen.backend === 'wasm') return { backend: 'wasm', reason: chosen.reason };
  return { backend: 'webgpu', reason: chosen.reason, keeper: await sharedDevice() };
}
