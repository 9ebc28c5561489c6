// Opening a GPUDevice with the limits a trainer needs, from any GPUAdapter (a browser's
// navigator.gpu, or Dawn under Node: see node.ts).

export interface AdapterDescription {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A software adapter (SwiftShader): its timings say nothing about a GPU. */
  isFallbackAdapter: boolean;
}

export function describeAdapter(adapter: GPUAdapter): AdapterDescription {
  const info = adapter.info;
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    isFallbackAdapter: Boolean((info as { isFallbackAdapter?: boolean }).isFallbackAdapter),
  };
}

export function adapterName(adapter: GPUAdapter): string {
  const d = describeAdapter(adapter);
  const name = [d.vendor, d.architecture, d.description || d.device].filter(Boolean).join(' ');
  return d.isFallbackAdapter ? `${name} (software)` : name;
}

/**
 * A device with the adapter's largest buffer and workgroup limits: the defaults
 * (128 MiB bindings, 8 storage buffers per stage) are smaller than many adapters offer.
 */
export async function openDevice(adapter: GPUAdapter): Promise<GPUDevice> {
  const limits = adapter.limits;
  return adapter.requestDevice({
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

export async function requestBrowserAdapter(): Promise<GPUAdapter> {
  if (typeof navigator === 'undefined' || !navigator.gpu) {
    throw new Error('this browser has no WebGPU (navigator.gpu is missing)');
  }
  const adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error('this browser has WebGPU but found no adapter (is it disabled, or blocklisted for this GPU?)');
  return adapter;
}
