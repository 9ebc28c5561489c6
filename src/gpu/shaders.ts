// Loads the WGSL kernels from shaders/, in Node and in the browser alike: the URL is
// resolved against this module, read from disk under Node, fetched under Vite (whose
// build copies the files it finds through `new URL(…, import.meta.url)`).

export const KERNELS = ['gather_batch', 'forward', 'softmax', 'output_delta', 'hidden_delta', 'weight_update', 'train_tiny'] as const;
export type KernelName = (typeof KERNELS)[number];

const cache = new Map<KernelName, Promise<string>>();

export function loadShader(name: KernelName): Promise<string> {
  let source = cache.get(name);
  if (!source) {
    source = readShader(new URL(`../../shaders/${name}.wgsl`, import.meta.url));
    cache.set(name, source);
  }
  return source;
}

/** All kernels at once: the browser app loads them up front so training needs no network. */
export async function loadAllShaders(): Promise<Record<KernelName, string>> {
  const sources = await Promise.all(KERNELS.map(loadShader));
  return Object.fromEntries(KERNELS.map((name, k) => [name, sources[k]])) as Record<KernelName, string>;
}

async function readShader(url: URL): Promise<string> {
  if (url.protocol === 'file:') {
    // Named through a variable so that bundlers leave this Node-only import alone.
    const fsModule = 'node:fs/promises';
    const { readFile } = (await import(/* @vite-ignore */ fsModule)) as typeof import('node:fs/promises');
    return readFile(url, 'utf8');
  }
  const response = await fetch(url);
  if (!response.ok) throw new Error(`could not load ${url.pathname}: HTTP ${response.status}`);
  return response.text();
}
