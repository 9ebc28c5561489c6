// What the kernels' tile choice and the benchmarks need to know about an adapter that
// WebGPU does not say: how many compute units it has (to give each one work) and its FP32
// peak (to say what fraction of it a kernel reaches). A short table of known GPUs, and
// estimates for the rest; a caller can always say better.

/** A GPU of the table KNOWN_ADAPTERS: how to recognise it, and its compute units and FP32 peak. */
export interface KnownAdapter {
  /** Matched against the adapter's vendor, architecture, device and description. */
  pattern: RegExp;
  /** Its product name, e.g. `NVIDIA H100 SXM`. */
  name: string;
  /** Streaming multiprocessors, compute units or cores: what runs workgroups side by side. */
  units: number;
  /** FP32 peak without tensor cores, in TFLOP/s (vendor figures, boost clock). */
  peakTflops: number;
}

/** A few GPUs people benchmark on. Order matters: the first match wins. */
export const KNOWN_ADAPTERS: readonly KnownAdapter[] = [
  { pattern: /h200/i, name: 'NVIDIA H200', units: 132, peakTflops: 66.9 },
  { pattern: /h100.*pcie/i, name: 'NVIDIA H100 PCIe', units: 114, peakTflops: 51.2 },
  { pattern: /h100|hopper/i, name: 'NVIDIA H100 SXM', units: 132, peakTflops: 66.9 },
  { pattern: /a100|ampere.*(sxm|pcie)/i, name: 'NVIDIA A100', units: 108, peakTflops: 19.5 },
  { pattern: /l4\b/i, name: 'NVIDIA L4', units: 58, peakTflops: 30.3 },
  { pattern: /4090/i, name: 'NVIDIA GeForce RTX 4090', units: 128, peakTflops: 82.6 },
  { pattern: /3090/i, name: 'NVIDIA GeForce RTX 3090', units: 82, peakTflops: 35.6 },
  { pattern: /apple m\d max/i, name: 'Apple M-series Max', units: 40, peakTflops: 16 },
  { pattern: /apple m\d pro/i, name: 'Apple M-series Pro', units: 18, peakTflops: 7 },
  { pattern: /apple/i, name: 'Apple M-series', units: 10, peakTflops: 4 },
];

/** How the tile choice models an adapter. */
export interface GpuProfile {
  /** Compute units: workgroups that run side by side. */
  units: number;
  /** Threads one unit needs resident to keep busy (a CPU core running SwiftShader: one SIMD group of 4). */
  threadsPerUnit: number;
  /** The fewest threads a workgroup should have (two 32-wide warps on a GPU; SwiftShader runs groups of 4). */
  minThreads: number;
  /**
   * 4-column blocks of results per thread at most: 2 (8 × 8 results) on a GPU, whose
   * threads must stay few registers each; 4 (8 × 16) on a CPU, where each result is a
   * memory location anyway and fewer loads per multiply-add pay.
   */
  maxColumnBlocks: number;
  /** What one more dispatch costs, in the multiply-adds one thread could do meanwhile. */
  dispatchCost: number;
  /**
   * Copies of the workgroup tiles a plan may take (tile_product.wgsl's BUFFERS): 2 lets
   * the planner double-buffer them (one barrier per k-tile, twice the workgroup memory),
   * where they fit; 1 keeps one copy (two barriers).
   */
  tileBuffers: number;
  /** 32-bit registers of one unit's register file: what its resident threads share. */
  registersPerUnit: number;
  /** Registers a thread may have while the unit still runs at full rate (tiles.ts, registerOccupancy). */
  registerBudget: number;
  /** The most registers one thread may have: a plan that needs more would spill, and is not taken. */
  maxRegistersPerThread: number;
  /** A software adapter (SwiftShader): a CPU. */
  software: boolean;
  /** The device's maxComputeInvocationsPerWorkgroup. */
  maxInvocations: number;
  /** The device's maxComputeWorkgroupStorageSize, in bytes. */
  maxWorkgroupStorage: number;
  /** The device's maxComputeWorkgroupsPerDimension. */
  maxWorkgroupsPerDimension: number;
  /** The adapter has the `subgroups` feature and the device was opened with it. */
  subgroups: boolean;
}

function adapterText(info: GPUAdapterInfo | undefined): string {
  return info ? [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ') : '';
}

/** The first entry of KNOWN_ADAPTERS that matches the adapter's info, if any. */
export function knownAdapter(info: GPUAdapterInfo | undefined): KnownAdapter | undefined {
  const text = adapterText(info);
  return text ? KNOWN_ADAPTERS.find((known) => known.pattern.test(text)) : undefined;
}

/** Whether an adapter is a software one (SwiftShader, or any the browser marks as a fallback). */
export function isSoftwareAdapter(info: GPUAdapterInfo | undefined): boolean {
  if (!info) return false;
  return Boolean((info as { isFallbackAdapter?: boolean }).isFallbackAdapter) || /swiftshader|llvmpipe|lavapipe|warp/i.test(adapterText(info));
}

/** CPU threads, where the environment says (browsers, Node 21+), else a guess. */
function cpuThreads(): number {
  const count = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  return typeof count === 'number' && count > 0 ? count : 4;
}

export interface ProfileOverrides {
  /** Take the workgroup-memory reductions even where the device has subgroups. */
  noSubgroups?: boolean;
}

/**
 * How the tile choice models a GPU's threads, dispatches, workgroup memory and registers
 * (GpuProfile's fields). Registers as on NVIDIA's SMs (Volta to Hopper): 65,536 a unit,
 * at most 255 a thread. The budget, 128 a thread, keeps 512 threads resident: two
 * 256-thread workgroups, 16 warps, four for each of an SM's four schedulers, so that
 * one workgroup computes while the other waits at its barrier or on its loads. AMD's
 * compute units (4 × 128 KiB of vector registers) and Apple's give a thread a budget of
 * the same order.
 */
export const GPU_THREADING = { threadsPerUnit: 256, minThreads: 64, maxColumnBlocks: 2, dispatchCost: 4_000, tileBuffers: 2, registersPerUnit: 65_536, registerBudget: 128, maxRegistersPerThread: 255 } as const;
/**
 * The same for a CPU running a software adapter (SwiftShader): a thread's registers are
 * memory, with no limit that matters. One copy of the tiles: a barrier is only a switch
 * between the workgroup's threads, which SwiftShader runs in turn on one core, while a
 * second copy doubles the memory the core's cache must hold (double-buffered, W2 and W3
 * ran about half as fast again per step; bench/README.md).
 */
export const CPU_THREADING = { threadsPerUnit: 4, minThreads: 16, maxColumnBlocks: 4, dispatchCost: 200_000, tileBuffers: 1, registersPerUnit: Infinity, registerBudget: Infinity, maxRegistersPerThread: Infinity } as const;

/** The profile of `device`, from its adapter's description, its limits and features, and the table. */
export function gpuProfile(device: GPUDevice, overrides: ProfileOverrides = {}): GpuProfile {
  const info = (device as { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  const software = isSoftwareAdapter(info);
  const limits = device.limits;
  const units = software ? cpuThreads() : (knownAdapter(info)?.units ?? 32);
  return {
    units,
    ...(software ? CPU_THREADING : GPU_THREADING),
    software,
    maxInvocations: limits.maxComputeInvocationsPerWorkgroup,
    maxWorkgroupStorage: limits.maxComputeWorkgroupStorageSize,
    maxWorkgroupsPerDimension: limits.maxComputeWorkgroupsPerDimension,
    subgroups: device.features.has('subgroups') && !overrides.noSubgroups,
  };
}
