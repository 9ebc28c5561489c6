import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The benchmark command as one file, for a machine that cannot install packages (a GPU
// machine without a registry): bench/dist/run.mjs holds bench/run.ts, the library (from
// dist/, so run `npm run build` first) and the command-line parser. Dawn's bindings
// (`webgpu`, a native module) and TensorFlow.js stay outside: copy node_modules/webgpu,
// and node_modules/@tensorflow for the comparison (see bench/README.md).
export default defineConfig({
  build: {
    outDir: fileURLToPath(new URL('./dist', import.meta.url)),
    emptyOutDir: true,
    target: 'node20',
    minify: false,
    lib: { entry: fileURLToPath(new URL('./run.ts', import.meta.url)), formats: ['es'], fileName: () => 'run.mjs' },
    // One file: the library's parts loaded on demand (each kernel's WGSL, the WebAssembly modules) inlined.
    rolldownOptions: { external: [/^node:/, ...builtinModules, 'webgpu', /^@tensorflow\//], platform: 'node', output: { codeSplitting: false } },
  },
});
