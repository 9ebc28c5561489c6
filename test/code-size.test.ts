// The shape of the GPU trainer's code: its class puts together what the files beside it
// do (buffers.ts, submit.ts, profile.ts, the device guard), and stays small enough to
// read in one sitting. A class past ~300 lines is usually two; the trainer's budget is 250.
// And every source file, there and elsewhere in src/, stays under 400 lines: past that a
// file is usually two as well.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/** Each top-level class of a source file, and its lines from `class` to its closing brace. */
function classSizes(path: string): Map<string, number> {
  const lines = readFileSync(path, 'utf8').split('\n');
  const sizes = new Map<string, number>();
  lines.forEach((line, start) => {
    const name = /^(?:export )?(?:abstract )?class (\w+)/.exec(line)?.[1];
    if (!name) return;
    const end = lines.findIndex((other, k) => k > start && other === '}');
    if (end < 0) throw new Error(`${path}: class ${name} has no closing brace at the start of a line`);
    sizes.set(name, end - start + 1);
  });
  return sizes;
}

/** The .ts files of a folder and of its subfolders. */
function tsFilesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((name) => name.endsWith('.ts')).map((name) => join(dir, name));
}

/** The files of 400 lines or more, with their lengths. */
function longFiles(files: string[]): { file: string; lines: number }[] {
  return files.map((file) => ({ file, lines: readFileSync(file, 'utf8').split('\n').length })).filter(({ lines }) => lines >= 400);
}

describe('the GPU trainer stays slim', () => {
  it('class GpuTrainer is at most 250 lines', () => {
    const size = classSizes('src/gpu/trainer.ts').get('GpuTrainer');
    expect(size, 'class GpuTrainer in src/gpu/trainer.ts').toBeDefined();
    console.log(`class GpuTrainer: ${size} lines`);
    expect(size).toBeLessThanOrEqual(250);
  });

  it('every class of src/gpu is at most 300 lines, and every file under 400', () => {
    const files = readdirSync('src/gpu').filter((name) => name.endsWith('.ts')).map((name) => join('src/gpu', name));
    const classes = files.flatMap((file) => [...classSizes(file)].map(([name, size]) => ({ where: `${file}: class ${name}`, size })));
    expect(classes.length).toBeGreaterThan(3); // the count found the classes (GpuTrainer, TrainerMemory, ChunkQueue, …)
    expect(classes.filter(({ size }) => size > 300)).toEqual([]);
    expect(longFiles(files)).toEqual([]);
  });
});

describe('every source file stays readable', () => {
  it('every .ts file under src/, its subfolders included, is under 400 lines', () => {
    const files = tsFilesUnder('src');
    expect(files).toContain('src/app/playground/session.ts'); // the walk went down into the subfolders
    expect(longFiles(files)).toEqual([]);
  });
});
