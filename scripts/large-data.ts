// Reads a large generated data file from disk in chunks,
// through src/node/data-file.ts. Prints the time, the rows read, and the process's peak
// memory beside the size of the numbers themselves. Run by hand (not in CI):
//
//   npx tsx scripts/large-data.ts --mb 600 --format csv
//   npx tsx scripts/large-data.ts --mb 600 --format json
//
// The file goes to a temporary folder and is removed afterwards. It also shows that
// reading the whole file as one string, as a whole-text parser must, fails past V8's
// string limit (about 512 MiB).

import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readDataFile } from '../src/node/data-file.ts';

const INPUTS = 8;
const OUTPUTS = 2;

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : fallback;
}

/** Writes rows of INPUTS + OUTPUTS numbers until the file has `bytes` bytes; returns the rows written. */
async function generate(path: string, format: string, bytes: number): Promise<number> {
  const out = createWriteStream(path, { highWaterMark: 1 << 20 });
  let seed = 1;
  const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const row = (n: number) => Array.from({ length: n }, () => (2 * random() - 1).toPrecision(9)).join(',');
  const write = async (text: string) => {
    if (!out.write(text)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  };
  let written = 0;
  let rows = 0;
  if (format === 'csv') {
    const header = `${[...Array.from({ length: INPUTS }, (_, k) => `x${k}`), ...Array.from({ length: OUTPUTS }, (_, k) => `y${k}`)].join(',')}\n`;
    await write(header);
    written += header.length;
    while (written < bytes) {
      const line = `${row(INPUTS + OUTPUTS)}\n`;
      await write(line);
      written += line.length;
      rows++;
    }
  } else {
    // Inputs first, then as many target rows: estimate the rows from one row's length.
    const perRow = row(INPUTS).length + row(OUTPUTS).length + 8;
    rows = Math.floor(bytes / perRow);
    await write('{"inputs": [\n');
    for (let r = 0; r < rows; r++) await write(`${r ? ',\n' : ''}[${row(INPUTS)}]`);
    await write('],\n"targets": [\n');
    for (let r = 0; r < rows; r++) await write(`${r ? ',\n' : ''}[${row(OUTPUTS)}]`);
    await write(']}\n');
  }
  await new Promise<void>((resolve) => out.end(() => resolve()));
  return rows;
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

const format = option('format', 'csv');
const megabytes = Number(option('mb', '600'));
const dir = mkdtempSync(join(tmpdir(), 'webgpu-backprop-large-'));
const path = join(dir, `large.${format}`);
try {
  let started = performance.now();
  const rows = await generate(path, format, megabytes * 1e6);
  const size = statSync(path).size;
  console.log(`generated ${path}: ${mib(size)} (${size} bytes), ${rows} rows of ${INPUTS} inputs and ${OUTPUTS} targets, in ${((performance.now() - started) / 1000).toFixed(1)} s`);

  global.gc?.();
  const before = process.memoryUsage();
  started = performance.now();
  const table = await readDataFile(path, { targetColumns: format === 'csv' ? ['y0', 'y1'] : undefined });
  const seconds = (performance.now() - started) / 1000;
  const after = process.memoryUsage();
  const numbers = table.inputs.byteLength + (table.targets?.byteLength ?? 0);
  console.log(`read ${table.size} rows (${table.inputSize} inputs, ${table.outputSize} targets) in ${seconds.toFixed(1)} s: ${(size / 2 ** 20 / seconds).toFixed(0)} MiB/s`);
  console.log(`the numbers as float64: ${mib(numbers)}; peak resident memory of the process: ${mib(process.resourceUsage().maxRSS * 1024)} (${mib(before.rss)} before reading)`);
  console.log(`after reading: heap ${mib(after.heapUsed)}, array buffers ${mib(after.arrayBuffers)}`);

  // Last, since its buffer would count in the peak above.
  try {
    readFileSync(path, 'utf8');
    console.log('reading it as one string: worked (the file is under the string limit)');
  } catch (error) {
    console.log(`reading it as one string: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
