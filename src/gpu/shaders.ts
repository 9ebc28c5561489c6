// The kernels' WGSL. Every .wgsl file of shaders/ is embedded as text when the module is
// built (Vite's import.meta.glob), so neither a bundler nor a server has to find the
// files at run time. A kernel's source is shaders/common.wgsl followed by its own file:
// the one include mechanism (compiler messages count lines from the top of common.wgsl).

import type { KernelName } from './abi.ts';

const FILES = import.meta.glob<string>('../../shaders/*.wgsl', { query: '?raw', import: 'default', eager: true });

function file(name: string): string {
  const text = FILES[`../../shaders/${name}.wgsl`];
  if (text === undefined) throw new Error(`no shaders/${name}.wgsl`);
  return text;
}

/** A kernel's WGSL: shaders/common.wgsl, then the kernel's own file. */
export function shaderSource(name: KernelName): string {
  return `${file('common')}\n${file(name)}`;
}
