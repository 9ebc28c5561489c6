// Data files: JSON {"inputs": [[...]], "targets": [[...]]}, or CSV with a header row
// whose target columns are named. Every value must be a finite number; every row as
// wide as the first. Errors name the file and the row, line or column.

import Papa from 'papaparse';
import { z } from 'zod';
import { InputError } from '../errors.ts';
import { parseJson, zodError } from './json.ts';

export interface DataRows {
  inputs: number[][];
  /** Absent where a file gives inputs only (for prediction). */
  targets?: number[][];
}

/** Bounds checked before anything is allocated for a data file. */
export const DATA_LIMITS = {
  fileBytes: 1024 * 1024 * 1024,
  rows: 10_000_000,
  columns: 100_000,
};

const dataSchema = z
  .object({
    inputs: z.array(z.array(z.number()).min(1)).min(1).max(DATA_LIMITS.rows),
    targets: z.array(z.array(z.number()).min(1)).max(DATA_LIMITS.rows).optional(),
  })
  .strict();

function checkSize(text: string, source: string): void {
  if (text.length > DATA_LIMITS.fileBytes) {
    throw new InputError(source, `the file is larger than the ${DATA_LIMITS.fileBytes / 2 ** 30} GiB a data file may be`);
  }
}

function checkRectangular(rows: number[][], where: string): void {
  const width = rows[0].length;
  rows.forEach((row, r) => {
    if (row.length !== width) throw new InputError(`${where}[${r}]`, `expected ${width} values like ${where}[0], got ${row.length}`);
  });
}

export function parseDataJson(text: string, source: string): DataRows {
  checkSize(text, source);
  const parsed = dataSchema.safeParse(parseJson(text, source));
  if (!parsed.success) throw zodError(parsed.error, source);
  const { inputs, targets } = parsed.data;
  checkRectangular(inputs, `${source}: inputs`);
  if (targets) {
    if (targets.length !== inputs.length) {
      throw new InputError(`${source}: targets`, `expected ${inputs.length} rows (one per row of inputs), got ${targets.length}`);
    }
    checkRectangular(targets, `${source}: targets`);
  }
  return { inputs, targets };
}

/**
 * CSV with a header row. `targetColumns` names the target columns; all other columns
 * are inputs. With no target columns the file holds inputs only.
 */
export function parseDataCsv(text: string, source: string, targetColumns: string[] = []): DataRows {
  checkSize(text, source);
  const result = Papa.parse<string[]>(text.trim(), { skipEmptyLines: true });
  if (result.errors.length > 0) {
    const error = result.errors[0];
    throw new InputError(`${source}: line ${(error.row ?? 0) + 1}`, `not valid CSV (${error.message})`);
  }
  const [header, ...rows] = result.data;
  if (!header || rows.length === 0) throw new InputError(source, 'expected a header row and at least one row of data');
  if (header.length > DATA_LIMITS.columns) throw new InputError(`${source}: line 1`, `more than ${DATA_LIMITS.columns} columns`);
  if (rows.length > DATA_LIMITS.rows) throw new InputError(source, `more than ${DATA_LIMITS.rows} rows`);
  const names = header.map((name) => name.trim());
  for (const name of targetColumns) {
    if (!names.includes(name)) throw new InputError(`${source}: line 1`, `no column named ${JSON.stringify(name)} (columns: ${names.join(', ')})`);
  }
  const targetIndex = targetColumns.map((name) => names.indexOf(name));
  const inputIndex = names.map((_, c) => c).filter((c) => !targetIndex.includes(c));
  if (inputIndex.length === 0) throw new InputError(`${source}: line 1`, 'every column is a target: no inputs left');
  const inputs: number[][] = [];
  const targets: number[][] = [];
  rows.forEach((row, r) => {
    const line = r + 2;
    if (row.length !== names.length) {
      throw new InputError(`${source}: line ${line}`, `expected ${names.length} values (one per column of the header), got ${row.length}`);
    }
    const values = row.map((cell, c) => {
      const text = cell.trim();
      const value = text === '' ? NaN : Number(text);
      if (!Number.isFinite(value)) {
        throw new InputError(`${source}: line ${line}, column ${names[c]}`, `expected a finite number, got ${JSON.stringify(cell)}`);
      }
      return value;
    });
    inputs.push(inputIndex.map((c) => values[c]));
    if (targetIndex.length > 0) targets.push(targetIndex.map((c) => values[c]));
  });
  return { inputs, targets: targetIndex.length > 0 ? targets : undefined };
}

/** Reads a data file by its extension: .csv, or JSON. */
export function parseDataFile(text: string, source: string, targetColumns?: string[]): DataRows {
  if (source.toLowerCase().endsWith('.csv')) return parseDataCsv(text, source, targetColumns);
  if (targetColumns && targetColumns.length > 0) throw new InputError('--targets', 'names CSV columns; a JSON data file gives its targets itself');
  return parseDataJson(text, source);
}

/** Checks that the rows fit a model of `inputSize` inputs and `outputSize` outputs. */
export function checkDataFits(data: DataRows, source: string, inputSize: number, outputSize: number | undefined): void {
  if (data.inputs[0].length !== inputSize) {
    throw new InputError(`${source}: inputs`, `expected ${inputSize} values per row (the model's inputs), got ${data.inputs[0].length}`);
  }
  if (outputSize !== undefined) {
    if (!data.targets) throw new InputError(source, 'expected targets for training (JSON: a "targets" array; CSV: --targets naming their columns)');
    if (data.targets[0].length !== outputSize) {
      throw new InputError(`${source}: targets`, `expected ${outputSize} values per row (the model's outputs), got ${data.targets[0].length}`);
    }
  }
}
