import { builtinModules } from 'node:module';
import { defineConfig } from 'vite';
import { external } from './vite.lib.config.ts';

// The command line, dist/cli.js: its own packages (its parser, its progress bar) are
// bundled in, so they never reach a user of the library; the library it imports by the
// package's name, which resolves to dist/ itself (built first, by vite.lib.config.ts).
export default defineConfig({
  build: {
    outDir: 'dist',
    emptyOutDir: false,
    target: 'es2022',
    minify: false,
    sourcemap: true,
    lib: { entry: { cli: 'src/cli/main.ts' }, formats: ['es'] },
    // platform node: commander and cli-progress are CommonJS and require Node's modules.
    rolldownOptions: { external: [...external, ...builtinModules, /^webgpu-backprop(\/\w+)?$/], platform: 'node' },
  },
});
