// bench/README.md's steps for a GPU machine with no registry: the command built as one
// file (bench/vite.config.ts), carried with Dawn's bindings alone, runs there. A part
// left in a chunk of its own (each kernel's WGSL, the WebAssembly modules are loaded on
// demand) would be missing on that machine.

import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'vite';
import { afterAll, expect, it } from 'vitest';

const work = mkdtempSync(join(tmpdir(), 'bench-carry-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

it('builds the benchmark command as one file that runs from the carried folder', async () => {
  const outDir = join(work, 'dist');
  await build({ configFile: 'bench/vite.config.ts', logLevel: 'error', build: { outDir } });
  expect(readdirSync(outDir)).toEqual(['run.mjs']);
  const command = readFileSync(join(outDir, 'run.mjs'), 'utf8');
  // Nothing it would look for beside itself: no static or dynamic import of a relative path (a type in a comment, `{ import("./x.js").X }`, is none).
  expect(command).not.toMatch(/^\s*(?:import|export)\b[^\n]*\bfrom\s*["']\.\.?\//m);
  expect(command).not.toMatch(/(?<!\{ )\bimport\(\s*["'`]\.\.?\//);
  expect(command).toMatch(/AGFzbQ/); // the WebAssembly modules embedded ("\0asm" in base64)

  // The README's copies: the command, and Dawn's bindings for this platform.
  const carry = join(work, 'carry');
  const dawn = join(carry, 'node_modules', 'webgpu');
  mkdirSync(join(dawn, 'dist'), { recursive: true });
  cpSync(join(outDir, 'run.mjs'), join(carry, 'run.mjs'));
  for (const file of ['package.json', 'index.js']) cpSync(join('node_modules', 'webgpu', file), join(dawn, file));
  cpSync(join('node_modules', 'webgpu', 'dist', `${process.platform}-${process.arch}`), join(dawn, 'dist', `${process.platform}-${process.arch}`), { recursive: true });
  const help = execFileSync(process.execPath, ['run.mjs', '--help'], { cwd: carry, encoding: 'utf8' });
  expect(help).toMatch(/--gpu\b/);
  expect(help).toMatch(/--peak-tflops\b/);
}, 300_000);
