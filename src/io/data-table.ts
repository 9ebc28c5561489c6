// What the data file readers build: each array's rows laid end to end in one float64
// array, grown as rows arrive, so a file is held once as numbers and never as one array
// per row (or, when read from disk in chunks, as one string).

import { InputError } from '../errors.ts';

/** Bounds checked while a data file is read, before anything is allocated for more. */
export const DATA_LIMITS = {
  fileBytes: 1024 * 1024 * 1024,
  rows: 10_000_000,
  columns: 100_000,
};

/** A data file's values: the shape of a Dataset, with targets absent where the file gives inputs only. */
export interface DataTable {
  inputs: Float64Array; //   (N, IN)
  targets?: Float64Array; // (N, OUT)
  size: number; // N
  inputSize: number; // IN
  outputSize: number; // OUT, 0 without targets
}

/** Rows of numbers, appended one value at a time into a float64 array that grows by half. */
export class RowsBuilder {
  constructor(
    /** The array in words, for errors: `data.json: inputs`. */
    readonly where: string,
  ) {}

  private values: Float64Array<ArrayBuffer> = new Float64Array(1024);
  private length = 0;
  private rowStart = 0;
  /** Completed rows. */
  rows = 0;
  /** The first row's width; every later row must match it. */
  width = 0;

  add(value: number): void {
    if (this.length === this.values.length) this.grow();
    this.values[this.length++] = value;
  }

  /** Values in the row being built. */
  get rowLength(): number {
    return this.length - this.rowStart;
  }

  /** Ends the row; returns its width. */
  endRow(): number {
    const width = this.length - this.rowStart;
    if (this.rows === 0) this.width = width;
    this.rowStart = this.length;
    this.rows++;
    return width;
  }

  /** The values, trimmed to their count. */
  finish(): Float64Array {
    return this.length === this.values.length ? this.values : this.values.slice(0, this.length);
  }

  private grow(): void {
    let larger: Float64Array<ArrayBuffer>;
    try {
      larger = new Float64Array(Math.ceil(this.values.length * 1.5));
    } catch {
      throw new InputError(this.where, `${this.length} values are more than this machine can hold in memory`);
    }
    larger.set(this.values);
    this.values = larger;
  }
}
