// The examples of docs/ run as written: each marked code block is written out as a module
// and imported, here, where 'webgpu-backprop' and its tiers are the sources.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterEach, expect, it, vi } from 'vitest';

/** The code block of a document, found by the marker comment above it. */
function example(file: string, name: string): string {
  const match = new RegExp(`<!-- example:${name}[^>]*-->\\s*\`\`\`\\w*\\n([\\s\\S]*?)\`\`\``).exec(readFileSync(file, 'utf8'));
  if (!match) throw new Error(`${file} has no example:${name} block`);
  return match[1];
}

/** Runs a block as a module; returns what it printed. */
async function run(code: string, name: string): Promise<string[]> {
  mkdirSync('test-results/docs', { recursive: true });
  const path = resolve(`test-results/docs/${name}.example.ts`);
  writeFileSync(path, code);
  const printed: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...values: unknown[]) => void printed.push(values.join(' ')));
  await import(/* @vite-ignore */ path);
  return printed;
}

afterEach(() => vi.restoreAllMocks());

it('docs/trainers.md: the reference gives the article\'s numbers, the GPU agrees buffer by buffer, and the loop checkpoints', async () => {
  const printed = await run(example('docs/trainers.md', 'trainers'), 'trainers');
  expect(printed[0]).toBe('out_o1 = 0.75136507, dE/dw5 = 0.082167041');
  const buffers = printed.filter((line) => /^\S+ \([\d ×]+\): /.test(line));
  expect(buffers.length).toBeGreaterThan(8);
  for (const line of buffers) expect(line).toMatch(/: ok, largest difference /);
  expect(printed).toContain('ten steps: every buffer within tolerance');
  expect(printed).toContain('ten steps on WebAssembly: every buffer within tolerance');
  expect(printed.filter((line) => line.startsWith('checkpoint at step'))).toEqual([250, 500, 750, 1000].map((step) => `checkpoint at step ${step}`));
  expect(printed.at(-1)).toMatch(/^1000 steps: last loss \d\.\d{3}e-\d+$/);
});
