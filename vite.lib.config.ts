import { builtinModules } from 'node:module';
import { defineConfig } from 'vite';

// The package: dist/index.js (the library), dist/node.js (its Node entry point) and
// dist/cli.js (the command line), ES modules with the WGSL embedded. The library's
// dependencies stay imports; the command line's own (its parser, its progress bar) are
// bundled into dist/cli.js, so they never reach a user of the library. The command line
// imports the library by its package name, which resolves to dist/ itself.
const external = [/^node:/, ...builtinModules, 'webgpu', 'zod', 'seedrandom', 'papaparse', /^webgpu-backprop(\/node)?$/];

export default defineConfig({
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    minify: false,
    sourcemap: true,
    lib: { entry: { index: 'src/index.ts', node: 'src/node.ts', cli: 'src/cli/main.ts' }, formats: ['es'] },
    // platform node: commander and cli-progress are CommonJS and require Node's modules.
    rolldownOptions: { external, platform: 'node' },
  },
});
