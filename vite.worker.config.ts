import { defineConfig } from 'vite';
import { webassemblyModule } from './scripts/vite-wasm.ts';
import { wgslWithoutComments } from './vite.lib.config.ts';

// The worker script WorkerNetwork starts (src/worker/script.ts) as dist/worker/script.js,
// after the library build (vite.lib.config.ts): one ES module with the library and its
// dependencies inside, and the modules it loads on demand (the file formats) as chunks
// beside it. Self-contained, a dev server serves it as it is (a module worker cannot
// take the CommonJS seedrandom), and a bundler builds it as any worker.
export default defineConfig({
  plugins: [wgslWithoutComments, webassemblyModule()],
  build: {
    outDir: 'dist/worker',
    emptyOutDir: false,
    target: 'es2022',
    minify: false,
    sourcemap: true,
    lib: { entry: { script: 'src/worker/script.ts' }, formats: ['es'] },
    rolldownOptions: { output: { chunkFileNames: 'script-[name]-[hash].js' } },
  },
});
