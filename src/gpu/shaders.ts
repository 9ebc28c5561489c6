// The kernels' WGSL. Every .wgsl file of shaders/ is embedded as text when the module is
// built (Vite's import.meta.glob), so neither a bundler nor a server has to find the
// files at run time. A kernel's source is its shared files followed by its own file, the
// one include mechanism (compiler messages count lines from the top of the first file):
//   - reduce_subgroups.wgsl or reduce_workgroup.wgsl, for kernels that sum over a
//     workgroup (the first where the device has subgroups; it opens with `enable subgroups;`)
//   - common.wgsl, for every kernel
//   - tile_product.wgsl, for the three matrix products

import type { KernelName } from './abi.ts';
import { BackpropError } from '../errors.ts';

const FILES = import.meta.glob<string>('../../shaders/*.wgsl', { query: '?raw', import: 'default', eager: true });

function file(name: string): string {
  const text = FILES[`../../shaders/${name}.wgsl`];
  if (text === undefined) throw new BackpropError(`no shaders/${name}.wgsl`);
  return text;
}

/** Kernels that sum over a workgroup (workgroup_sum). */
const REDUCES: ReadonlySet<KernelName> = new Set(['output_delta']);
/** Kernels built on tile_product.wgsl. */
const TILE_PRODUCTS: ReadonlySet<KernelName> = new Set(['forward', 'hidden_delta', 'weight_update']);

/** The shared files a kernel's source starts with, in order. */
export function sharedFiles(name: KernelName, options: { subgroups?: boolean } = {}): string[] {
  return [
    ...(REDUCES.has(name) ? [options.subgroups ? 'reduce_subgroups' : 'reduce_workgroup'] : []),
    'common',
    ...(TILE_PRODUCTS.has(name) ? ['tile_product'] : []),
  ];
}

/** A kernel's WGSL: its shared files, then its own file. */
export function shaderSource(name: KernelName, options: { subgroups?: boolean } = {}): string {
  return [...sharedFiles(name, options), name].map(file).join('\n');
}
