// Data files: JSON {"inputs": [[...]], "targets": [[...]]}, or CSV with a header row
// whose target columns are named. Every value must be a finite number that float32 can
// hold; every row as wide as the first. Errors name the file and the row, line or column.
//
// The readers (data-json.ts, data-csv.ts) build flat float64 tables and take their text
// in chunks; src/node/data-file.ts streams a file from disk through them. Here they read
// a whole text, as the browser app has it.

import { splitRows, type Dataset } from '../data/dataset.ts';
import { InputError } from '../errors.ts';
import { oneHot } from '../data/labels.ts';
import { parseCsvTable } from './data-csv.ts';
import { parseJsonTable } from './data-json.ts';
import { DATA_LIMITS, type DataTable } from './data-table.ts';

export { DATA_LIMITS, type DataTable } from './data-table.ts';

/** A data file's rows: inputs, and targets where it has them. */
export interface DataRows {
  inputs: number[][];
  /** Absent where a file gives inputs only (for prediction). */
  targets?: number[][];
}

function checkSize(text: string, source: string): void {
  if (text.length > DATA_LIMITS.fileBytes) {
    throw new InputError(source, `the file is larger than the ${DATA_LIMITS.fileBytes / 2 ** 30} GiB a data file may be`);
  }
}

function tableToRows(table: DataTable): DataRows {
  return {
    inputs: splitRows(table.inputs, table.inputSize),
    targets: table.targets ? splitRows(table.targets, table.outputSize) : undefined,
  };
}

/** Whether a file name says CSV (else it is read as JSON). */
export function isCsv(source: string): boolean {
  return source.toLowerCase().endsWith('.csv');
}

/** Refuses target or label columns for a JSON file, which gives its targets (or labels) itself, and both together. */
export function checkTargetColumns(source: string, targetColumns: readonly string[] | undefined, labelColumn?: string): void {
  if (!isCsv(source) && targetColumns && targetColumns.length > 0) {
    throw new InputError('--targets', 'names CSV columns; a JSON data file gives its targets itself');
  }
  if (!isCsv(source) && labelColumn !== undefined) throw new InputError('--labels', 'names a CSV column; a JSON data file gives its labels itself ("labels": [...])');
  if (targetColumns && targetColumns.length > 0 && labelColumn !== undefined) throw new InputError('--targets, --labels', 'give target columns or a column of class ids, not both');
}

/** Parses a JSON data file's text; `source` names it in errors. */
export function parseDataJson(text: string, source: string): DataRows {
  checkSize(text, source);
  return tableToRows(parseJsonTable(text, source));
}

/**
 * CSV with a header row. `targetColumns` names the target columns; all other columns
 * are inputs. With no target columns the file holds inputs only.
 */
export function parseDataCsv(text: string, source: string, targetColumns: string[] = []): DataRows {
  checkSize(text, source);
  return tableToRows(parseCsvTable(text, source, targetColumns));
}

/** A data file's text as a table, read by its extension: .csv, or JSON. */
export function parseDataTable(text: string, source: string, targetColumns?: string[]): DataTable {
  checkSize(text, source);
  checkTargetColumns(source, targetColumns);
  return isCsv(source) ? parseCsvTable(text, source, targetColumns) : parseJsonTable(text, source);
}

/** Reads a data file by its extension: .csv, or JSON. */
export function parseDataFile(text: string, source: string, targetColumns?: string[]): DataRows {
  return tableToRows(parseDataTable(text, source, targetColumns));
}

/** Checks that a data file's table fits a model of `inputSize` inputs and `outputSize` outputs (undefined: no targets needed). */
export function checkDataFits(data: DataTable, source: string, inputSize: number, outputSize: number | undefined): void {
  const width = { inputs: data.inputSize, targets: data.targets ? data.outputSize : undefined };
  if (width.inputs !== inputSize) {
    throw new InputError(`${source}: inputs`, `expected ${inputSize} values per row (the model's inputs), got ${width.inputs}`);
  }
  if (outputSize !== undefined && data.labels) {
    // Class ids, one per row: each names one of the outputs.
    oneHot(data.labels, outputSize, (row) => `${source}: labels[${row}]`);
    return;
  }
  if (outputSize !== undefined) {
    if (width.targets === undefined) throw new InputError(source, 'expected targets for training (JSON: a "targets" array, or "labels"; CSV: --targets naming their columns, or --labels)');
    if (width.targets !== outputSize) {
      throw new InputError(`${source}: targets`, `expected ${outputSize} values per row (the model's outputs), got ${width.targets}`);
    }
  }
}

/** A table read for training as a Dataset (the readers have checked its values). */
export function tableDataset(table: DataTable, source: string): Dataset {
  if (!table.targets) throw new InputError(source, 'expected targets for training (JSON: a "targets" array; CSV: --targets naming their columns)');
  return { inputs: table.inputs, targets: table.targets, size: table.size, inputSize: table.inputSize, outputSize: table.outputSize };
}
