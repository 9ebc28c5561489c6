// Finding WebGPU and opening a device with the limits a trainer needs: the browser's
// navigator.gpu, or under Node Dawn's GPU object, which the Node entry point
// ('webgpu-backprop/node') registers here. The library proper never imports Node code.

import { DeviceLostError, WebGpuUnavailableError } from '../errors.ts';
import { isSoftwareAdapter } from './adapters.ts';
import { nextTask } from './pacing.ts';

/** What a WebGPU adapter says of itself. */
export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A software adapter (SwiftShader): its timings say nothing about a GPU. */
  isFallbackAdapter: boolean;
}

/** The adapter's own description, and whether it is a software one. */
export function describeAdapter(adapter: GPUAdapter): AdapterDescription {
  const info = adapter.info;
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    isFallbackAdapter: isSoftwareAdapter(info),
  };
}

/** The adapter in a few words, with "(software)" after a software one. */
export function adapterName(adapter: GPUAdapter): string {
  const d = describeAdapter(adapter);
  const name = [d.vendor, d.architecture, d.description || d.device].filter(Boolean).join(' ');
  return d.isFallbackAdapter ? `${name} (software)` : name;
}

let provider: (() => Promise<GPU>) | undefined;

/** Where WebGPU comes from outside a browser: the Node entry point registers Dawn here. */
export function setGpuProvider(open: () => Promise<GPU>): void {
  provider = open;
}

let noGpuProbe: (() => boolean) | undefined;

/**
 * How the environment tells, without loading WebGPU, that it has no GPU device at all (the
 * Node entry point registers one for Linux); unset (a browser), it cannot tell.
 */
export function setNoGpuProbe(probe: (() => boolean) | undefined): void {
  noGpuProbe = probe;
}

/** Whether this machine certainly has no GPU device: asking for an adapter could find a software one at most. */
export function certainlyNoGpu(): boolean {
  return noGpuProbe?.() ?? false;
}

/** The environment's WebGPU entry point: navigator.gpu in a browser, Dawn's under Node (see setGpuProvider). */
async function environmentGpu(): Promise<GPU> {
  if (typeof navigator !== 'undefined' && navigator.gpu) return navigator.gpu;
  if (provider) return provider();
  const inNode = typeof process !== 'undefined' && Boolean(process.versions?.node);
  throw new WebGpuUnavailableError(
    inNode
      ? "no WebGPU in Node without Dawn: import from 'webgpu-backprop/node' (with the 'webgpu' package installed)"
      : 'this browser has no WebGPU (navigator.gpu is missing; Chrome 113 or later has it)',
  );
}

/** An adapter, high-performance where there is a choice; WebGpuUnavailableError where there is none. */
export async function requestAdapter(): Promise<GPUAdapter> {
  const gpu = await environmentGpu();
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) {
    throw new WebGpuUnavailableError(
      typeof navigator !== 'undefined' && navigator.gpu === gpu
        ? 'this browser has WebGPU but found no adapter (is it disabled, or blocklisted for this GPU?)'
        : 'WebGPU found no adapter: no GPU driver, and no SwiftShader (on Debian: apt-get install libvulkan1 chromium)',
    );
  }
  return adapter;
}

/** Optional features the kernels and the benchmarks use where the adapter has them. */
export const WANTED_FEATURES: readonly GPUFeatureName[] = ['subgroups' as GPUFeatureName, 'timestamp-query'];

/**
 * A device with the adapter's largest buffer and workgroup limits (the defaults, 128 MiB
 * bindings and 8 storage buffers per stage, are smaller than many adapters offer), and
 * the features of WANTED_FEATURES it has: subgroups for the reductions, timestamp queries
 * for the per-kernel timings.
 */
export async function openDevice(adapter: GPUAdapter): Promise<GPUDevice> {
  const limits = adapter.limits;
  return adapter.requestDevice({
    requiredFeatures: WANTED_FEATURES.filter((feature) => adapter.features.has(feature)),
    requiredLimits: {
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxBufferSize: limits.maxBufferSize,
      maxStorageBuffersPerShaderStage: limits.maxStorageBuffersPerShaderStage,
      maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
    },
  });
}

/**
 * A device that is replaced when it is lost (a driver reset, a tab in the background):
 * `current()` gives the live one. Trainers built on it resume on the new device from
 * their last checkpoint (see ResilientTrainer).
 */
export class DeviceKeeper {
  private device: Promise<GPUDevice>;
  private destroyed = false;

  private constructor(
    /** The adapter of the current device. */
    public adapter: GPUAdapter,
    device: GPUDevice,
    /** Told when the device is lost, before a new one is opened. */
    private readonly onLost?: (message: string) => void,
  ) {
    this.device = Promise.resolve(device);
    this.watch(device);
  }

  /** Requests an adapter and opens a device on it (openDevice); `onLost` is told each time the device is lost. */
  static async open(onLost?: (message: string) => void): Promise<DeviceKeeper> {
    const adapter = await requestAdapter();
    return new DeviceKeeper(adapter, await openDevice(adapter), onLost);
  }

  private watch(device: GPUDevice): void {
    device.lost.then((info) => {
      if (this.destroyed) return;
      this.onLost?.(info.message || info.reason || 'unknown reason');
      this.device = requestAdapter().then(async (adapter) => {
        this.adapter = adapter;
        const next = await openDevice(adapter);
        this.watch(next);
        return next;
      });
    });
  }

  /** The live device (a new one once the last was lost). */
  async current(): Promise<GPUDevice> {
    return this.device;
  }

  /** Destroys the current device and stops replacing it. */
  destroy(): void {
    this.destroyed = true;
    this.device.then((device) => device.destroy(), () => {});
  }
}

/**
 * Watches a device for its loss, which fails nothing loudly (its work is dropped, its
 * mappings aborted): `run` turns a loss during the work, or before it, into DeviceLostError.
 */
/**
 * The device networks share where none is given: opened at first use and kept, so that a
 * network of a shape trained before compiles nothing (pipelines are cached per device).
 */
let sharedKeeper: Promise<DeviceKeeper> | undefined;

export function sharedDevice(): Promise<DeviceKeeper> {
  if (!sharedKeeper) {
    sharedKeeper = DeviceKeeper.open();
    sharedKeeper.catch(() => (sharedKeeper = undefined));
  }
  return sharedKeeper;
}

export class DeviceGuard {
  /** Why the device was lost, once it is. */
  private lost?: string;

  constructor(private readonly device: GPUDevice) {
    device.lost.then((info) => (this.lost = info.message || info.reason || 'unknown reason'));
  }

  /** Runs `work`; if the device is (or turns out to have been) lost, throws DeviceLostError instead. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.lost) throw new DeviceLostError(this.lost);
    try {
      const result = await work();
      // Let the lost promise of a device lost during the work settle first.
      await nextTask();
      if (this.lost) throw new DeviceLostError(this.lost);
      return result;
    } catch (error) {
      // A mapping aborted by the device's loss can reject before the lost promise settles: give it a moment.
      await Promise.race([this.device.lost, new Promise((resolve) => setTimeout(resolve, 1000))]);
      if (this.lost) throw new DeviceLostError(this.lost);
      throw error;
    }
  }
}
