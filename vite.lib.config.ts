import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { defineConfig, type Plugin } from 'vite';
import { builtName, ENTRY_POINTS } from './scripts/entry-points.ts';
import { webassemblyModule } from './scripts/vite-wasm.ts';

// The library: one ES module in dist/ per source module (dist/index.js, dist/node.js, …
// beside dist/network.js, dist/gpu/trainer.js, …), the WGSL embedded. Kept apart, a
// user's bundler takes only the modules a page imports (package.json's `sideEffects`
// says only dist/node.js must run for its effect), and the modules Network loads on
// demand (the file reader, the ONNX and PyTorch formats) stay out of a page until then.
// The dependencies stay imports, installed beside the package and shared with a user's
// own; the command line is vite.cli.config.ts.
//
// The WebAssembly module goes in as base64 text, built from src/wasm/assembly/ (scripts/vite-wasm.ts).
//
// The WGSL goes in without its comments (a third of a page's download otherwise), each
// comment's lines left blank, so that a compiler message's line number is the source's.
const dependencies = Object.keys(JSON.parse(readFileSync('package.json', 'utf8')).dependencies);
export const external = [/^node:/, ...builtinModules, 'webgpu', ...dependencies.map((name) => new RegExp(`^${name}(/|$)`))];

/**
 * WGSL without its comments or indentation, line for line: a line comment's text and a
 * block comment's (nested, as WGSL allows) become nothing, their newlines stay, so a
 * compiler's message names the source's line. WGSL has no strings, so `//` and `/*`
 * always open a comment, and whitespace between tokens is all alike.
 */
export function stripWgslComments(text: string): string {
  let out = '';
  let depth = 0;
  for (let k = 0; k < text.length; k++) {
    const pair = text.slice(k, k + 2);
    if (depth === 0 && pair === '//') {
      while (k < text.length && text[k] !== '\n') k++;
      out += text[k] ?? '';
    } else if (pair === '/*') {
      depth++;
      k++;
    } else if (depth > 0 && pair === '*/') {
      depth--;
      k++;
    } else if (depth === 0 || text[k] === '\n') {
      out += text[k];
    }
  }
  return out.replace(/^[ \t]+|[ \t]+$/gm, '');
}

export const wgslWithoutComments: Plugin = {
  name: 'wgsl-without-comments',
  enforce: 'pre',
  load(id) {
    const [path, query] = id.split('?');
    if (!path.endsWith('.wgsl') || query !== 'raw') return null;
    return `export default ${JSON.stringify(stripWgslComments(readFileSync(path, 'utf8')))};`;
  },
};

const WORKER_URL = "new URL('./script.ts', import.meta.url)";
// As long as the original, so that the source map stays true.
const WORKER_URL_HELD = 'new URL(__SCRIPT_URL_, import.meta.url)';

/**
 * dist/worker/client.js starts dist/worker/script.js (built by vite.worker.config.ts) as
 * `new Worker(new URL('./script.js', import.meta.url), { type: 'module' })`, the form every
 * bundler knows, and a dev server serves as it is.
 */
const workerScriptKept: Plugin = {
  name: 'worker-script-kept',
  enforce: 'pre',
  transform(code, id) {
    if (!id.endsWith('/src/worker/client.ts')) return null;
    if (!code.includes(WORKER_URL)) throw new Error(`src/worker/client.ts no longer starts its worker as ${WORKER_URL}`);
    return { code: code.replace(WORKER_URL, WORKER_URL_HELD), map: null };
  },
  renderChunk(code) {
    return code.includes(WORKER_URL_HELD) ? { code: code.replace(WORKER_URL_HELD, "new URL('./script.js', import.meta.url)"), map: null } : null;
  },
};

export default defineConfig({
  plugins: [wgslWithoutComments, workerScriptKept, webassemblyModule()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    minify: false,
    sourcemap: true,
    lib: { entry: Object.fromEntries(Object.entries(ENTRY_POINTS).map(([subpath, file]) => [builtName(subpath as keyof typeof ENTRY_POINTS), file])), formats: ['es'] },
    rolldownOptions: { external, output: { preserveModules: true, preserveModulesRoot: 'src' } },
  },
});
