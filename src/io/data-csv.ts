// CSV data files: a header row naming the columns, then one row of numbers per sample.
// `targetColumns` names the target columns; every other column is an input. Papa Parse
// splits the records (quotes, line endings); this reader takes them one at a time, from
// a whole string or from a stream read in chunks (src/node/data-file.ts), and puts the
// numbers straight into the table.
//
// Cells hold numbers in decimal or exponent form (src/io/numbers.ts) that float32 can
// hold (src/data/values.ts); anything else is refused, naming the line and column. The
// column of class labels is the one exception: it may hold names (src/io/label-column.ts).

import Papa from 'papaparse';
import { valueProblem } from '../data/values.ts';
import { InputError, quoted } from '../errors.ts';
import { checkColumnNames, DATA_LIMITS, RowsBuilder, type DataTable } from './data-table.ts';
import { LabelColumn } from './label-column.ts';
import { parseDecimal } from './numbers.ts';

/**
 * Papa Parse's settings. Nothing is left for it to guess from the first chunk of a
 * stream, which could be a few bytes: the delimiter is a comma, and the line ending is
 * guessed once from the file's first 64 KiB (`newline`). Blank lines come through, so
 * that line numbers stay right.
 */
export function csvOptions(start: string) {
  return { delimiter: ',', newline: guessNewline(start), skipEmptyLines: false } as const;
}

/** Bytes of a file's start that `guessNewline` looks at. */
export const NEWLINE_SAMPLE_BYTES = 64 * 1024;

/** The line ending a file's start uses: \r\n (Windows), \r (old Macs), else \n. */
function guessNewline(start: string): '\r\n' | '\r' | '\n' {
  if (start.includes('\r\n')) return '\r\n';
  return start.includes('\r') ? '\r' : '\n';
}

export class CsvTableReader {
  /** The line the next record starts on. */
  private line = 1;
  private names?: string[];
  private inputIndex: number[] = [];
  private targetIndex: number[] = [];
  private labelIndex = -1;
  private rowValues = new Float64Array(0); // (COLUMNS) the record being read
  private readonly inputs: RowsBuilder;
  private readonly targets: RowsBuilder;
  private labels?: LabelColumn;

  constructor(
    readonly source: string,
    readonly targetColumns: readonly string[] = [],
    /** The column of class labels (ids or names), where the file gives those instead of target columns. */
    readonly labelColumn?: string,
    /** The model's class names, which names in the label column map to where it has them. */
    readonly classes?: readonly string[],
  ) {
    this.inputs = new RowsBuilder(source);
    this.targets = new RowsBuilder(source);
  }

  /** One record as Papa Parse splits it, with the errors it found in it. */
  record(cells: string[], errors: readonly { message: string }[] = []): void {
    const line = this.line;
    for (const cell of cells) for (let k = cell.indexOf('\n'); k >= 0; k = cell.indexOf('\n', k + 1)) this.line++;
    this.line++;
    try {
      if (errors.length > 0) throw new InputError(`${this.source}: line ${line}`, `not valid CSV (${errors[0].message})`);
      if (cells.length === 1 && cells[0].trim() === '') return; // a blank line
      if (!this.names) this.header(cells, line);
      else this.data(cells, line);
    } catch (error) {
      // A class id refused on an earlier line, had the label column stayed numbers, is the first error.
      throw this.labels?.pendingProblem() ?? error;
    }
  }

  private header(cells: string[], line: number): void {
    if (cells.length > DATA_LIMITS.columns) throw new InputError(`${this.source}: line ${line}`, `more than ${DATA_LIMITS.columns} columns`);
    const names = cells.map((name, c) => (c === 0 ? name.replace(/^\uFEFF/, '') : name).trim());
    checkColumnNames(names, `${this.source}: line ${line}`);
    for (const name of [...this.targetColumns, ...(this.labelColumn !== undefined ? [this.labelColumn] : [])]) {
      if (!names.includes(name)) throw new InputError(`${this.source}: line ${line}`, `no column named ${quoted(name)} (columns: ${names.join(', ')})`);
    }
    this.targetIndex = this.targetColumns.map((name) => names.indexOf(name));
    this.labelIndex = this.labelColumn !== undefined ? names.indexOf(this.labelColumn) : -1;
    if (this.labelColumn !== undefined) this.labels = new LabelColumn(this.source, this.labelColumn, this.classes);
    this.inputIndex = names.map((_, c) => c).filter((c) => !this.targetIndex.includes(c) && c !== this.labelIndex);
    if (this.inputIndex.length === 0) throw new InputError(`${this.source}: line ${line}`, 'every column is a target: no inputs left');
    this.names = names;
    this.rowValues = new Float64Array(names.length);
  }

  private data(cells: string[], line: number): void {
    const names = this.names!;
    if (cells.length !== names.length) {
      throw new InputError(`${this.source}: line ${line}`, `expected ${names.length} values (one per column of the header), got ${cells.length}`);
    }
    if (this.inputs.rows === DATA_LIMITS.rows) throw new InputError(this.source, `more than ${DATA_LIMITS.rows} rows`);
    const values = this.rowValues;
    for (let c = 0; c < cells.length; c++) {
      if (c === this.labelIndex) {
        this.labels!.add(cells[c], line);
        continue;
      }
      const value = parseDecimal(cells[c]);
      const problem = Number.isNaN(value)
        ? `expected a number in decimal or exponent form (such as 0.5, -2 or 1e-3), got ${quoted(cells[c])}`
        : valueProblem(value, cells[c].trim());
      if (problem) throw new InputError(`${this.source}: line ${line}, column ${names[c]}`, problem);
      values[c] = value;
    }
    for (const c of this.inputIndex) this.inputs.add(values[c]);
    this.inputs.endRow();
    if (this.targetIndex.length > 0) {
      for (const c of this.targetIndex) this.targets.add(values[c]);
      this.targets.endRow();
    }
  }

  /** The table, once every record is in. */
  finish(): DataTable {
    if (!this.names || this.inputs.rows === 0) throw new InputError(this.source, 'expected a header row and at least one row of data');
    const hasTargets = this.targetIndex.length > 0;
    const labels = this.labels?.finish();
    return {
      inputs: this.inputs.finish(),
      targets: hasTargets ? this.targets.finish() : undefined,
      ...(labels ? { labels: labels.labels } : {}),
      ...(labels?.classes ? { classes: labels.classes } : {}),
      size: this.inputs.rows,
      inputSize: this.inputIndex.length,
      outputSize: this.targetIndex.length,
    };
  }
}

/**
 * Feeds Papa Parse's records to `reader`, for `Papa.parse(input, …)`: stops at the first
 * error, which `failure()` then gives (a throw inside a stream's callback would escape).
 */
export function csvSteps(reader: CsvTableReader): { step: (results: Papa.ParseStepResult<string[]>, parser: Papa.Parser) => void; failure: () => unknown } {
  let failure: unknown;
  return {
    step: (results, parser) => {
      if (failure !== undefined) return;
      try {
        reader.record(results.data, results.errors);
      } catch (error) {
        failure = error;
        parser.abort();
      }
    },
    failure: () => failure,
  };
}

/** A whole CSV text as a table. */
export function parseCsvTable(text: string, source: string, targetColumns: readonly string[] = [], labelColumn?: string, classes?: readonly string[]): DataTable {
  const reader = new CsvTableReader(source, targetColumns, labelColumn, classes);
  const steps = csvSteps(reader);
  Papa.parse<string[]>(text, { ...csvOptions(text.slice(0, NEWLINE_SAMPLE_BYTES)), step: steps.step });
  if (steps.failure() !== undefined) throw steps.failure();
  return reader.finish();
}
