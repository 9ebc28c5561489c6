import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { ENTRY_POINTS, importName } from './scripts/entry-points.ts';
import { mnistDigits } from './scripts/vite-mnist.ts';
import { webassemblyModule } from './scripts/vite-wasm.ts';

// The browser app: index.html at the root, its pages under src/app/. The app imports the
// library by its package name, as any user does; in this checkout that name means the
// sources (the published package means dist/, built by vite.lib.config.ts).
export const sourceAliases = Object.entries(ENTRY_POINTS).map(([subpath, file]) => ({
  find: new RegExp(`^${importName(subpath as keyof typeof ENTRY_POINTS)}$`),
  replacement: fileURLToPath(new URL(`./${file}`, import.meta.url)),
}));

/** The headers that make a page cross-origin isolated. */
export const CROSS_ORIGIN_ISOLATION = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

export default defineConfig({
  resolve: { alias: sourceAliases },
  plugins: [mnistDigits(), webassemblyModule()],
  // The pages' worker (src/worker/script.ts) trains on 'wasm' too: its build embeds the modules as the pages' does.
  worker: { format: 'es', plugins: () => [webassemblyModule()] },
  // Cross-origin isolated (COOP and COEP), so that WebAssembly may share memory among threads
  // (SharedArrayBuffer): ours and TensorFlow.js's wasm backend then run workers.
  server: { host: 'localhost', port: 5173, headers: CROSS_ORIGIN_ISOLATION },
  preview: { host: 'localhost', port: 4173, headers: CROSS_ORIGIN_ISOLATION },
  build: {
    target: 'es2022',
    outDir: 'dist-app',
    rolldownOptions: {
      output: {
        // TensorFlow.js (the benchmark page's peer, loaded only there) in chunks of its own
        // packages, none much above Vite's 500 kB warning, instead of one chunk of 1 MB.
        codeSplitting: { includeDependenciesRecursively: false, groups: [{ name: (id: string) => /node_modules\/@tensorflow\/([^/]+)\//.exec(id)?.[1], test: /node_modules\/@tensorflow\// }] },
      },
    },
  },
});
