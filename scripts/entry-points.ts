// The package's entry points, by the subpath they are imported as ('webgpu-backprop',
// 'webgpu-backprop/node', …) and the source file each is. The builds (vite.lib.config.ts),
// the app's and the tests' aliases (vite.config.ts) read them from here; package.json,
// tsconfig.json, tsconfig.build.json, typedoc.json and types/ts5/ must name the same ones,
// which test/public-api.test.ts checks.
export const ENTRY_POINTS = {
  '.': 'src/index.ts',
  './node': 'src/node.ts',
  './trainers': 'src/trainers.ts',
  './bench': 'src/bench.ts',
  './examples': 'src/examples.ts',
  './worker': 'src/worker.ts',
} as const;

/** The name a user imports an entry point by: 'webgpu-backprop', 'webgpu-backprop/node', … */
export function importName(subpath: keyof typeof ENTRY_POINTS): string {
  return `webgpu-backprop${subpath.slice(1)}`;
}

/** The built file's name in dist/, without its extension: index, node, … */
export function builtName(subpath: keyof typeof ENTRY_POINTS): string {
  return subpath === '.' ? 'index' : subpath.slice(2);
}
