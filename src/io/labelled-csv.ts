// CSV for training, as people keep it: a header row, numeric input columns, and target
// columns that hold numbers or text labels (species = setosa, versicolor, …). A text
// label column is one-hot encoded over its classes in sorted order (by code point, as
// scikit-learn's OneHotEncoder and LabelEncoder sort); a numeric target column is taken as it is. Errors name the file,
// the line and the column.

import Papa from 'papaparse';
import { sortClassNames } from '../data/labels.ts';
import { InputError, quoted } from '../errors.ts';
import { DATA_LIMITS } from './data-file.ts';
import { checkColumnNames } from './data-table.ts';

/** Distinct labels a text column may hold: more are an identifier, not a class. */
export const MAX_CLASSES = 1000;

/** A CSV read for training with its targets made numeric: text labels one-hot encoded, and what each column became. */
export interface LabelledData {
  inputs: number[][]; //  (N, IN)
  targets: number[][]; // (N, OUT): numeric target columns as given, label columns one-hot
  /** The input columns' names, in order. */
  inputColumns: string[];
  /** A name for each target value: the column's name, or `column: label` for a one-hot class. */
  outputNames: string[];
  /** For each text label column, its classes in the order of their one-hot outputs. */
  classes: Record<string, string[]>;
}

function parseNumber(cell: string): number {
  const text = cell.trim();
  return text === '' ? NaN : Number(text);
}

/**
 * Reads CSV with a header row; `targetColumns` names the target columns, every other
 * column is an input and must hold numbers.
 */
export function parseLabelledCsv(text: string, source: string, targetColumns: string[]): LabelledData {
  if (text.length > DATA_LIMITS.fileBytes) throw new InputError(source, `the file is larger than the ${DATA_LIMITS.fileBytes / 2 ** 30} GiB a data file may be`);
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
  checkColumnNames(names, `${source}: line 1`);
  if (targetColumns.length === 0) throw new InputError(source, `name at least one target column (columns: ${names.join(', ')})`);
  for (const name of targetColumns) {
    if (!names.includes(name)) throw new InputError(`${source}: line 1`, `no column named ${quoted(name)} (columns: ${names.join(', ')})`);
  }
  const targetIndex = targetColumns.map((name) => names.indexOf(name));
  const inputIndex = names.map((_, c) => c).filter((c) => !targetIndex.includes(c));
  if (inputIndex.length === 0) throw new InputError(`${source}: line 1`, 'every column is a target: no inputs left');
  rows.forEach((row, r) => {
    if (row.length !== names.length) throw new InputError(`${source}: line ${r + 2}`, `expected ${names.length} values (one per column of the header), got ${row.length}`);
  });

  const inputs = rows.map((row, r) =>
    inputIndex.map((c) => {
      const value = parseNumber(row[c]);
      if (!Number.isFinite(value)) {
        throw new InputError(`${source}: line ${r + 2}, column ${names[c]}`, `expected a finite number (only target columns may hold text labels), got ${quoted(row[c])}`);
      }
      return value;
    }),
  );

  // Each target column: numbers as they are, or text labels one-hot over their sorted classes.
  const classes: Record<string, string[]> = {};
  const outputNames: string[] = [];
  const encoders = targetIndex.map((c) => {
    const cells = rows.map((row) => row[c].trim());
    const empty = cells.findIndex((cell) => cell === '');
    if (empty >= 0) throw new InputError(`${source}: line ${empty + 2}, column ${names[c]}`, 'expected a target value, got an empty cell');
    if (cells.every((cell) => Number.isFinite(parseNumber(cell)))) {
      outputNames.push(names[c]);
      return (r: number) => [parseNumber(cells[r])];
    }
    const labels = sortClassNames(new Set(cells));
    if (labels.length > MAX_CLASSES) {
      throw new InputError(`${source}: column ${names[c]}`, `has ${labels.length} distinct labels; at most ${MAX_CLASSES} classes are encoded (is it an identifier?)`);
    }
    classes[names[c]] = labels;
    outputNames.push(...labels.map((label) => `${names[c]}: ${label}`));
    const position = new Map(labels.map((label, k) => [label, k]));
    return (r: number) => labels.map((_, k) => (k === position.get(cells[r]) ? 1 : 0));
  });
  const targets = rows.map((_, r) => encoders.flatMap((encode) => encode(r)));
  return { inputs, targets, inputColumns: inputIndex.map((c) => names[c]), outputNames, classes };
}
