// The kernels' WGSL. Every .wgsl file of shaders/ is embedded as text when the module is
// built (Vite's import.meta.glob), so neither a bundler nor a server has to find the
// files at run time; each is a module of its own, loaded when a kernel first needs it, so
// a page carries only the kernels it compiles. A kernel's source is its shared files followed by its own file, the
// one include mechanism (compiler messages count lines from the top of the first file):
//   - reduce_subgroups.wgsl or reduce_workgroup.wgsl, for kernels that sum over a
//     workgroup (the first where the device has subgroups; it opens with `enable subgroups;`)
//   - common.wgsl, then ops.wgsl and the switches on the op codes generated from the op
//     tables (op-switch.ts), for every kernel
//   - dropout.wgsl, for the kernels that draw dropout's masks
//   - output_stage.wgsl, for the kernels that compute the loss and the output deltas
//   - tile_product.wgsl, for the three matrix products

import type { KernelName } from './abi.ts';
import { opSwitchSource } from './op-switch.ts';
import { BackpropError } from '../errors.ts';

const FILES = import.meta.glob<string>('../../shaders/*.wgsl', { query: '?raw', import: 'default' });

function file(name: string): Promise<string> {
  const load = FILES[`../../shaders/${name}.wgsl`];
  if (load === undefined) throw new BackpropError(`no shaders/${name}.wgsl`);
  return load();
}

/** Kernels that sum over a workgroup (workgroup_sum). */
const REDUCES: ReadonlySet<KernelName> = new Set(['output_delta', 'grad_norm']);
/** Kernels that compute each sample's loss and output deltas. */
const OUTPUT_STAGES: ReadonlySet<KernelName> = new Set(['output_delta', 'train_tiny']);
/** Kernels that draw dropout's masks. */
const DROPS: ReadonlySet<KernelName> = new Set(['forward', 'hidden_delta', 'train_tiny']);
/** Kernels built on tile_product.wgsl. */
const TILE_PRODUCTS: ReadonlySet<KernelName> = new Set(['forward', 'hidden_delta', 'weight_update']);

/** The shared files a kernel's source starts with, in order (the generated switches follow ops.wgsl). */
export function sharedFiles(name: KernelName, options: { subgroups?: boolean } = {}): string[] {
  return [
    ...(REDUCES.has(name) ? [options.subgroups ? 'reduce_subgroups' : 'reduce_workgroup'] : []),
    'common',
    'ops',
    ...(DROPS.has(name) ? ['dropout'] : []),
    ...(OUTPUT_STAGES.has(name) ? ['output_stage'] : []),
    ...(TILE_PRODUCTS.has(name) ? ['tile_product'] : []),
  ];
}

/** A kernel's WGSL: its shared files, the generated switches after ops.wgsl, then its own file. */
export async function shaderSource(name: KernelName, options: { subgroups?: boolean } = {}): Promise<string> {
  const texts = await Promise.all([...sharedFiles(name, options), name].map(file));
  return texts.flatMap((text, k) => (k === sharedFiles(name, options).indexOf('ops') ? [text, opSwitchSource()] : [text])).join('\n');
}
