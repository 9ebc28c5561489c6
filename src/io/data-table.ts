// What the data file readers build: each array's rows laid end to end in one float64
// array, grown as rows arrive, so a file is held once as numbers and never as one array
// per row (or, when read from disk in chunks, as one string).

import { InputError, quoted } from '../errors.ts';

/** Bounds checked while a data file is read, before anything is allocated for more. */
export const DATA_LIMITS = {
  fileBytes: 1024 * 1024 * 1024,
  rows: 10_000_000,
  columns: 100_000,
};

/**
 * A data file's values: the shape of a Dataset, with targets absent where the file gives
 * inputs only, or class ids (labels) instead of target rows.
 */
export interface DataTable {
  inputs: Float64Array; //   (N, IN)
  targets?: Float64Array; // (N, OUT)
  labels?: Int32Array; //    (N) class ids, where the file gives them instead of targets
  /** The class names the ids index, where the label column held names. */
  classes?: string[];
  size: number; // N
  inputSize: number; // IN
  outputSize: number; // OUT, 0 without targets
}

/** Values per block: 8 MiB of float64. */
const BLOCK = 1 << 20;

/**
 * Rows of numbers, appended one value at a time. They go into blocks of fixed size, so
 * that growing never copies what is already read (the first block starts small and
 * doubles, for small files); `finish` copies the blocks into one array of the exact size.
 * Reading holds the numbers once, and finishing twice, at the most.
 */
export class RowsBuilder {
  constructor(
    /** The array in words, for errors: `data.json: inputs`. */
    readonly where: string,
  ) {}

  private full: (Float64Array | undefined)[] = []; // blocks of BLOCK values
  private block: Float64Array<ArrayBuffer> = new Float64Array(1024);
  private inBlock = 0;
  private length = 0;
  private rowStart = 0;
  /** Completed rows. */
  rows = 0;
  /** The first row's width; every later row must match it. */
  width = 0;

  add(value: number): void {
    if (this.inBlock === this.block.length) this.grow();
    this.block[this.inBlock++] = value;
    this.length++;
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

  /** The values, in one array of their count; the blocks are let go as they are copied. */
  finish(): Float64Array {
    const values = this.allocate(this.length);
    this.full.forEach((block, k) => {
      values.set(block!, k * BLOCK);
      this.full[k] = undefined;
    });
    values.set(this.block.subarray(0, this.inBlock), this.full.length * BLOCK);
    return values;
  }

  private grow(): void {
    if (this.block.length < BLOCK) {
      const larger = this.allocate(this.block.length * 2);
      larger.set(this.block);
      this.block = larger;
    } else {
      this.full.push(this.block);
      this.block = this.allocate(BLOCK);
      this.inBlock = 0;
    }
  }

  private allocate(length: number): Float64Array<ArrayBuffer> {
    try {
      return new Float64Array(length);
    } catch {
      throw new InputError(this.where, `${this.length} values are more than this machine can hold in memory`);
    }
  }
}

/**
 * Refuses a CSV header that names two columns alike (which would make `--targets x` mean
 * either): names both, by their place and their name. `where`: the file and line.
 */
export function checkColumnNames(names: readonly string[], where: string): void {
  const first = new Map<string, number>();
  names.forEach((name, c) => {
    const earlier = first.get(name);
    if (earlier !== undefined) throw new InputError(where, `columns ${earlier + 1} and ${c + 1} are both named ${quoted(name)}: each column needs a name of its own`);
    first.set(name, c);
  });
}
