import { defineConfig } from 'vite';

// The browser app: index.html at the root, the library and app sources under src/,
// the kernels under shaders/ (fetched at startup, so training needs no network after).
export default defineConfig({
  server: { host: 'localhost', port: 5173 },
  preview: { host: 'localhost', port: 4173 },
  build: { target: 'es2022', outDir: 'dist', chunkSizeWarningLimit: 30_000 },
});
