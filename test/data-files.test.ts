// Data files: strict numbers, values float32 can hold, errors that name the file, row and
// column, and reading from disk in chunks of any size with the same result as reading the
// whole text.

import { closeSync, mkdtempSync, openSync, ftruncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkDatasetValues, datasetFromRows } from '../src/data/dataset.ts';
import { FLOAT32_MAX } from '../src/data/values.ts';
import { InputError } from '../src/errors.ts';
import { DATA_LIMITS, parseDataTable, type DataTable } from '../src/io/data-file.ts';
import { parseDecimal } from '../src/io/numbers.ts';
import { readDataFile } from '../src/node/data-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'webgpu-backprop-data-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

/** The error a parse throws, as its one line; fails if it throws none or another kind. */
function refusal(parse: () => unknown): string {
  try {
    parse();
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as Error).message;
  }
  throw new Error('expected the input to be refused');
}

/** The next double above float32's largest finite value: the first one refused. */
const ABOVE_FLOAT32_MAX = 3.4028234663852889e38;

describe('numbers in CSV: decimal and exponent forms only', () => {
  it.each([
    ['12', 12],
    ['-0.5', -0.5],
    ['.5', 0.5],
    ['3.', 3],
    ['1e-3', 1e-3],
    ['+2E+4', 2e4],
    [' 7\t', 7],
    ['-0', -0],
    ['00012', 12],
  ])('%j reads as %d', (text, value) => {
    expect(Object.is(parseDecimal(text), value)).toBe(true);
    const table = parseDataTable(`x,y\n${text},1\n`, 'ok.csv', ['y']);
    expect(Object.is(table.inputs[0], value)).toBe(true);
  });

  it.each(['0x10', '1_000', ' Infinity', 'Infinity', '-Infinity', 'NaN', '1e', 'e5', '.', '-', '0b1', '0o7', '1.2.3', '1e5.5', '5%', '', ' '])('%j is refused, naming the file, line and column', (text) => {
    expect(Number.isNaN(parseDecimal(text))).toBe(true);
    expect(refusal(() => parseDataTable(`x,y\n1,0\n${text},1\n`, 'bad.csv', ['y']))).toBe(
      `bad.csv: line 3, column x: expected a number in decimal or exponent form (such as 0.5, -2 or 1e-3), got ${JSON.stringify(text)}`,
    );
  });

  it('a quoted number is a number; line numbers count blank lines and line breaks inside quotes', () => {
    const table = parseDataTable('x,"y"\n"1.5",2\n\n"3",4\n', 'quoted.csv', ['y']);
    expect(Array.from(table.inputs)).toEqual([1.5, 3]);
    expect(Array.from(table.targets!)).toEqual([2, 4]);
    expect(refusal(() => parseDataTable('x,"y\nz"\n1,2\n\n3,oops\n', 'lines.csv', ['y\nz']))).toMatch(/^lines\.csv: line 5, column y z: /);
  });
});

describe('values float32 cannot hold are refused before training, naming the file, row and column', () => {
  it('the largest finite float32 is accepted; the next double above it is refused, in CSV and JSON', () => {
    expect(Math.fround(FLOAT32_MAX)).toBe(FLOAT32_MAX);
    expect(FLOAT32_MAX).toBe((2 - 2 ** -23) * 2 ** 127);
    for (const value of [FLOAT32_MAX, -FLOAT32_MAX]) {
      expect(parseDataTable(`a,y\n${value},0\n`, 'max.csv', ['y']).inputs[0]).toBe(value);
      expect(parseDataTable(`{"inputs": [[${value}]]}`, 'max.json').inputs[0]).toBe(value);
    }
    expect(refusal(() => parseDataTable(`a,b,y\n1,2,3\n4,${ABOVE_FLOAT32_MAX},6\n`, 'big.csv', ['y']))).toBe(
      'big.csv: line 3, column b: expected a number float32 can hold (|x| ≤ 3.4028234663852886e+38), got 3.402823466385289e+38',
    );
    expect(refusal(() => parseDataTable('{"inputs": [[1, 2], [3, 4]], "targets": [[0], [-1e39]]}', 'big.json'))).toBe(
      'big.json: targets[1][0]: expected a number float32 can hold (|x| ≤ 3.4028234663852886e+38), got -1e39',
    );
  });

  it('a number too large even for float64 is named as written, not as Infinity', () => {
    expect(refusal(() => parseDataTable('{"inputs": [[1, 1e400]]}', 'huge.json'))).toBe(
      'huge.json: inputs[0][1]: expected a number float32 can hold (|x| ≤ 3.4028234663852886e+38), got 1e400',
    );
    expect(refusal(() => parseDataTable('x,y\n1e400,1\n', 'huge.csv', ['y']))).toBe(
      'huge.csv: line 2, column x: expected a number float32 can hold (|x| ≤ 3.4028234663852886e+38), got 1e400',
    );
  });

  it('a dataset made through the API is checked too, naming the array, row and column', () => {
    expect(refusal(() => datasetFromRows([[0, 1], [2, 1e39]], [[0], [1]]))).toBe(
      'inputs[1][1]: expected a number float32 can hold (|x| ≤ 3.4028234663852886e+38), got 1e+39',
    );
    expect(refusal(() => datasetFromRows([[0, 1]], [[NaN]]))).toBe('targets[0][0]: expected a finite number, got NaN');
    expect(refusal(() => datasetFromRows([[0, 1], [2]], [[0], [1]]))).toBe('inputs[1]: expected 2 values like inputs[0], got 1');
    expect(refusal(() => datasetFromRows([[0, 1]], [[0], [1]]))).toBe('targets: expected 1 rows (one per row of inputs), got 2');
    const dataset = datasetFromRows([[0, 1]], [[0]]);
    dataset.targets[0] = -Infinity;
    expect(refusal(() => checkDatasetValues(dataset))).toBe('targets[0][0]: expected a finite number, got -Infinity');
  });
});

describe('JSON data files: one-line errors naming the field, row and column, or the line and column', () => {
  it.each([
    ['{"inputs": [[1, NaN]], "targets": [[1]]}', 'nan.json: line 1, column 17: NaN is not a number in JSON: expected a finite number'],
    ['{"inputs": [[1, -Infinity]]}', 'nan.json: line 1, column 17: -Infinity is not a number in JSON: expected a finite number'],
    ['{"inputs": [[1, 2], [3]], "targets": [[1], [2]]}', 'nan.json: inputs[1]: expected 2 values like inputs[0], got 1'],
    ['{"inputs": [[1, 2]], "targets": [[1], [2]]}', 'nan.json: targets: expected 1 rows (one per row of inputs), got 2'],
    ['{"inputs": [[1, 2]], "weights": 1}', 'nan.json: weights: is not a field of a data file (expected "inputs" and, for training, "targets" or "labels")'],
    ['{"inputs": [[1]], "inputs": [[2]]}', 'nan.json: inputs: appears twice'],
    ['{"inputs": [[1, "2"]]}', 'nan.json: inputs[0][1]: expected a number, got "2"'],
    ['{"inputs": [[1, [2]]]}', 'nan.json: inputs[0][1]: expected a number, got an array'],
    ['{"inputs": [[1, null]]}', 'nan.json: inputs[0][1]: expected a number, got null'],
    ['{"inputs": [1, 2]}', 'nan.json: inputs[0]: expected an array of numbers'],
    ['{"inputs": 5}', 'nan.json: inputs: expected an array of rows, each an array of numbers'],
    ['{"inputs": []}', 'nan.json: inputs: expected at least one row'],
    ['{"inputs": [[]]}', 'nan.json: inputs[0]: expected at least one number'],
    ['{"targets": [[1]]}', 'nan.json: inputs: expected the inputs: an array of rows, each an array of numbers'],
    ['[[1]]', 'nan.json: expected an object: {"inputs": [[…], …], "targets": [[…], …]}'],
    ['{"inputs": [[1, 2]]', 'nan.json: line 1, column 20: the file ends where "," or "}" was expected'],
    ['{"inputs": [[1, 2', 'nan.json: line 1, column 18: the file ends where "," or "]" was expected'],
    ['{"inputs": [[1, 2]], "tar', 'nan.json: line 1, column 26: the file ends in the middle of a value'],
    ['{"inputs": [[1 2]]}', 'nan.json: line 1, column 16: not valid JSON (expected "," or "]", got 2)'],
    ['{"inputs": [[1, 2,]]}', 'nan.json: line 1, column 19: not valid JSON (expected a number, got "]")'],
    ['{\n  "inputs": [[1],\n    [2]]\n  "targets": [[1], [2]]}', 'nan.json: line 4, column 3: not valid JSON (expected "," or "}", got "targets")'],
    ['{"inputs": [[1]]}\nx', 'nan.json: line 2, column 1: not valid JSON (unexpected "x")'],
    ['', 'nan.json: line 1, column 1: the file ends where "{" was expected'],
  ])('%j', (text, message) => {
    expect(refusal(() => parseDataTable(text, 'nan.json'))).toBe(message);
  });
});

/** Random small tables, written as CSV and as JSON. */
const tables = fc
  .record({
    width: fc.integer({ min: 1, max: 4 }),
    outputs: fc.integer({ min: 1, max: 2 }),
    rows: fc.integer({ min: 1, max: 12 }),
    seed: fc.integer(),
  })
  .chain(({ width, outputs, rows }) =>
    fc.array(fc.array(fc.double({ noNaN: true, min: -FLOAT32_MAX, max: FLOAT32_MAX }), { minLength: width + outputs, maxLength: width + outputs }), { minLength: rows, maxLength: rows }).map((values) => ({ width, outputs, values })),
  );

function asCsv({ width, outputs, values }: { width: number; outputs: number; values: number[][] }): string {
  const names = [...Array.from({ length: width }, (_, k) => `x${k}`), ...Array.from({ length: outputs }, (_, k) => `t${k}`)];
  const write = (v: number) => (Object.is(v, -0) ? '-0' : String(v));
  return `${names.join(',')}\r\n${values.map((row) => row.map(write).join(',')).join('\r\n')}\n`;
}

function asJson({ width, values }: { width: number; values: number[][] }): string {
  const rows = (from: number, to: number) => values.map((row) => `[${row.slice(from, to).map((v) => (Object.is(v, -0) ? '-0' : String(v))).join(', ')}]`).join(',\n  ');
  return `{"inputs": [\n  ${rows(0, width)}],\n "targets": [\n  ${rows(width, values[0].length)}]}\n`;
}

function same(a: DataTable, b: DataTable): void {
  expect({ ...a, inputs: Array.from(a.inputs), targets: Array.from(a.targets ?? []) }).toEqual({ ...b, inputs: Array.from(b.inputs), targets: Array.from(b.targets ?? []) });
}

describe('reading from disk in chunks', () => {
  it('gives, for any chunk size, the table the whole text gives, and the exact values written', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(tables, fc.integer({ min: 1, max: 40 }), async (table, chunkBytes) => {
        const targets = Array.from({ length: table.outputs }, (_, k) => `t${k}`);
        const csv = file(`random-${run}.csv`, asCsv(table));
        const json = file(`random-${run++}.json`, asJson(table));
        const whole = parseDataTable(asCsv(table), csv, targets);
        expect(Array.from(whole.inputs)).toEqual(table.values.flatMap((row) => row.slice(0, table.width)));
        expect(Array.from(whole.targets!)).toEqual(table.values.flatMap((row) => row.slice(table.width)));
        same(await readDataFile(csv, { targetColumns: targets, chunkBytes }), whole);
        same(await readDataFile(json, { chunkBytes }), { ...whole, inputs: whole.inputs, targets: whole.targets });
      }),
      { numRuns: 60 },
    );
  });

  it('a table of 400,000 rows, more than one block of a million values, reads back every value exactly', async () => {
    const rows = 400_000;
    const value = (r: number, c: number) => (c === 3 ? r % 7 : r * 0.25 - c * 1e-3);
    const table = { width: 3, outputs: 1, values: Array.from({ length: rows }, (_, r) => [0, 1, 2, 3].map((c) => value(r, c))) };
    const csv = file('long.csv', asCsv(table));
    const json = file('long.json', asJson(table));
    for (const read of [parseDataTable(asCsv(table), csv, ['t0']), await readDataFile(csv, { targetColumns: ['t0'] }), await readDataFile(json)]) {
      expect([read.size, read.inputSize, read.outputSize]).toEqual([rows, 3, 1]);
      let wrong = 0;
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < 3; c++) if (read.inputs[r * 3 + c] !== value(r, c)) wrong++;
        if (read.targets![r] !== value(r, 3)) wrong++;
      }
      expect(wrong).toBe(0);
    }
  });

  it('locates an error at the same line and column whatever the chunk size', async () => {
    const csv = file('late.csv', 'a,b,y\n1,2,3\n\n4,5,6\n7,0x10,9\n');
    const json = file('late.json', '{"inputs": [[1, 2],\n  [3, 4],\n  [5, NaN]]}');
    const bad = file('syntax.json', '{"inputs": [[1, 2],\n  [3, 4]\n  [5, 6]]}');
    for (const chunkBytes of [1, 2, 3, 5, 8, 13, 1 << 20]) {
      await expect(readDataFile(csv, { targetColumns: ['y'], chunkBytes })).rejects.toThrow(`${csv}: line 5, column b: expected a number in decimal or exponent form (such as 0.5, -2 or 1e-3), got "0x10"`);
      await expect(readDataFile(json, { chunkBytes })).rejects.toThrow(`${json}: line 3, column 7: NaN is not a number in JSON: expected a finite number`);
      await expect(readDataFile(bad, { chunkBytes })).rejects.toThrow(`${bad}: line 3, column 3: not valid JSON (expected "," or "]", got an array)`);
    }
  });

  it('refuses a file over the limit from its size, before reading it', async () => {
    const path = join(dir, 'huge.csv');
    const fd = openSync(path, 'w');
    ftruncateSync(fd, DATA_LIMITS.fileBytes + 1); // sparse: takes no disk
    closeSync(fd);
    await expect(readDataFile(path)).rejects.toThrow(`${path}: the data file is 1073741825 bytes; at most 1073741824 (1 GiB) are read`);
  });

  it('a 600 MB file is read a chunk at a time: an error at its start is reported without reading the rest', async () => {
    // Sparse: 600 MB of zero bytes that take no disk. As one string it would be past V8's limit (ERR_STRING_TOO_LONG).
    const path = join(dir, 'zeros.json');
    const fd = openSync(path, 'w');
    ftruncateSync(fd, 600e6);
    closeSync(fd);
    const before = process.memoryUsage().arrayBuffers;
    await expect(readDataFile(path)).rejects.toThrow(`${path}: line 1, column 1: not valid JSON (unexpected "\\u0000")`);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 2 ** 20);
  });

  it('names a missing file, a directory, and target columns given for JSON', async () => {
    await expect(readDataFile(join(dir, 'nope.csv'))).rejects.toThrow(/nope\.csv: no such data file$/);
    await expect(readDataFile(dir)).rejects.toThrow(/: expected a data file, found a directory or device$/);
    await expect(readDataFile(file('t.json', '{"inputs": [[1]]}'), { targetColumns: ['y'] })).rejects.toThrow('--targets: names CSV columns; a JSON data file gives its targets itself');
  });
});
