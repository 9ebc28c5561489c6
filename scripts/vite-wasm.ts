// The WebAssembly backend's module, built from src/wasm/assembly/ by AssemblyScript's
// compiler when a build (or the dev server, or the tests) asks for it, and embedded as
// base64 text, as the WGSL is embedded: `import('virtual:webgpu-backprop-wasm/threaded')`
// gives it as its default export. Two builds of the same sources, each a module of its own
// that a page loads only when it runs that build: with threads (a shared memory, atomics:
// Node, and browsers when cross-origin isolated) and without. The op
// switches are generated from the op tables (src/wasm/op-switch.ts) as switch.ts. A build
// is kept in node_modules/.cache by the hash of its inputs; never committed.

import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync, existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import type { Plugin } from 'vite';
import { wasmOpSwitchSource } from '../src/wasm/op-switch.ts';
import { MAXIMUM_PAGES } from '../src/wasm/pages.ts';

const MODULE_ID = 'virtual:webgpu-backprop-wasm/';
const SOURCES = 'src/wasm/assembly';
const CACHE = 'node_modules/.cache/webgpu-backprop-wasm';

const COMMON_FLAGS = ['--optimizeLevel', '3', '--shrinkLevel', '0', '--noAssert', '--runtime', 'stub', '--importMemory', '--initialMemory', '1', '--maximumMemory', String(MAXIMUM_PAGES), '--enable', 'simd'];
const BUILDS = {
  threaded: [...COMMON_FLAGS, '--enable', 'threads', '--sharedMemory'],
  single: COMMON_FLAGS,
} as const;

/** The sources the compiler reads: the files of src/wasm/assembly/ and the generated switch.ts. */
function sources(root: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const name of readdirSync(join(root, SOURCES)).filter((file) => file.endsWith('.ts'))) files.set(name, readFileSync(join(root, SOURCES, name), 'utf8'));
  files.set('switch.ts', wasmOpSwitchSource(files.get('ops.ts') ?? ''));
  return files;
}

async function compile(root: string, files: Map<string, string>, flags: readonly string[]): Promise<Uint8Array> {
  const { default: asc } = await import('assemblyscript/asc');
  let binary: Uint8Array | undefined;
  const { error, stderr } = await asc.main(['index.ts', '--outFile', 'module.wasm', ...flags], {
    readFile: (name) => files.get(name.replace(/^\.\//, '')) ?? (existsSync(join(root, name)) ? readFileSync(join(root, name), 'utf8') : null),
    writeFile: (name, contents) => {
      if (name.endsWith('.wasm')) binary = contents as Uint8Array;
    },
    listFiles: () => [...files.keys()],
  });
  if (error || !binary) throw new Error(`AssemblyScript could not build ${SOURCES}:\n${stderr.toString()}`);
  return binary;
}

/** A build of the module, from the cache where its inputs are unchanged. */
async function build(root: string, kind: keyof typeof BUILDS, files: Map<string, string>): Promise<Uint8Array> {
  // The compiler's version is the lock file's: node_modules/.cache goes with node_modules.
  const hash = createHash('sha256').update(JSON.stringify([BUILDS[kind], [...files].sort()])).digest('hex').slice(0, 16);
  const cached = join(root, CACHE, `${kind}-${hash}.wasm`);
  if (existsSync(cached)) return new Uint8Array(readFileSync(cached));
  const binary = await compile(root, files, BUILDS[kind]);
  mkdirSync(join(root, CACHE), { recursive: true });
  writeFileSync(`${cached}.tmp`, binary);
  renameSync(`${cached}.tmp`, cached);
  return binary;
}

/** One build of the module, as base64. */
export async function wasmBuild(kind: keyof typeof BUILDS, root = process.cwd()): Promise<string> {
  return Buffer.from(await build(root, kind, sources(root))).toString('base64');
}

export function webassemblyModule(): Plugin {
  let root = process.cwd();
  return {
    name: 'webgpu-backprop:wasm',
    configResolved(config) {
      root = config.root;
    },
    resolveId(id) {
      return id.startsWith(MODULE_ID) && id.slice(MODULE_ID.length) in BUILDS ? `\0${id}` : undefined;
    },
    async load(id) {
      if (!id.startsWith(`\0${MODULE_ID}`)) return undefined;
      for (const name of readdirSync(join(root, SOURCES))) this.addWatchFile(join(root, SOURCES, name));
      return `export default ${JSON.stringify(await wasmBuild(id.slice(MODULE_ID.length + 1) as keyof typeof BUILDS, root))};`;
    },
  };
}
