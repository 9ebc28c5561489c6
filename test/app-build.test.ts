// `npm run build:app`: the pages as they are deployed. The app's other tests run the dev
// server, which builds nothing ahead of a request; this builds the pages and their worker
// (src/worker/script.ts), whose WebAssembly modules are embedded as the pages' are.

import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'vite';
import { afterAll, expect, it } from 'vitest';

const outDir = mkdtempSync(join(tmpdir(), 'app-build-'));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

it('builds the pages, and their worker with both WebAssembly modules embedded', async () => {
  await build({ configFile: 'vite.config.ts', logLevel: 'error', build: { outDir } });
  expect(readdirSync(outDir)).toContain('index.html');
  const assets = join(outDir, 'assets');
  const scripts = readdirSync(assets).filter((name) => name.endsWith('.js'));
  // A module embedded as base64 begins with the WebAssembly magic number, "\0asm": AGFzbQ.
  const embedded = scripts.flatMap((name) => readFileSync(join(assets, name), 'utf8').match(/AGFzbQ/g) ?? []);
  expect(embedded.length).toBeGreaterThanOrEqual(2); // threaded and single, at least once each
  expect(scripts.some((name) => name.startsWith('script-'))).toBe(true); // the worker, a chunk of its own
}, 300_000);
