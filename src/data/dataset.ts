// A dataset held as two flat float64 arrays, one row per sample. Its values are checked
// where it is made: finite, and within float32's range (values.ts), on every backend.

import { InputError } from '../errors.ts';
import { valueProblem } from './values.ts';

/** A dataset: inputs and targets as flat float64 arrays, one row per sample. */
export interface Dataset {
  inputs: Float64Array; //  (N, IN)
  targets: Float64Array; // (N, OUT)
  size: number; // N
  inputSize: number; // IN
  outputSize: number; // OUT
}

/** Rows as a dataset; throws an InputError naming the row (`inputs[3]`) or value (`targets[3][1]`) at fault. */
export function datasetFromRows(inputs: readonly (readonly number[])[], targets: readonly (readonly number[])[]): Dataset {
  if (inputs.length === 0) throw new InputError('inputs', 'a dataset needs at least one sample');
  if (inputs.length !== targets.length) throw new InputError('targets', `expected ${inputs.length} rows (one per row of inputs), got ${targets.length}`);
  const flat = (rows: readonly (readonly number[])[], name: string): Float64Array => {
    const width = rows[0].length;
    if (width === 0) throw new InputError(`${name}[0]`, 'expected at least one value');
    const values = new Float64Array(rows.length * width);
    rows.forEach((row, r) => {
      if (row.length !== width) throw new InputError(`${name}[${r}]`, `expected ${width} values like ${name}[0], got ${row.length}`);
      values.set(row, r * width);
    });
    return values;
  };
  const dataset = {
    inputs: flat(inputs, 'inputs'),
    targets: flat(targets, 'targets'),
    size: inputs.length,
    inputSize: inputs[0].length,
    outputSize: targets[0].length,
  };
  checkDatasetValues(dataset);
  return dataset;
}

/** Throws an InputError naming the first value (`inputs[3][1]`) that is not finite or that float32 cannot hold. */
export function checkDatasetValues(dataset: Dataset): void {
  for (const [name, values, width] of [
    ['inputs', dataset.inputs, dataset.inputSize],
    ['targets', dataset.targets, dataset.outputSize],
  ] as const) {
    for (let k = 0; k < values.length; k++) {
      const problem = valueProblem(values[k]);
      if (problem) throw new InputError(`${name}[${Math.floor(k / width)}][${k % width}]`, problem);
    }
  }
}

/** Copies the rows `indices` of the dataset into a batch: input (B, IN), target (B, OUT). */
export function gatherBatch(dataset: Dataset, indices: ArrayLike<number>): { input: Float64Array; target: Float64Array } {
  const B = indices.length;
  const input = new Float64Array(B * dataset.inputSize);
  const target = new Float64Array(B * dataset.outputSize);
  for (let b = 0; b < B; b++) {
    const row = indices[b];
    input.set(dataset.inputs.subarray(row * dataset.inputSize, (row + 1) * dataset.inputSize), b * dataset.inputSize);
    target.set(dataset.targets.subarray(row * dataset.outputSize, (row + 1) * dataset.outputSize), b * dataset.outputSize);
  }
  return { input, target };
}

export function splitRows(flat: ArrayLike<number>, width: number): number[][] {
  const rows: number[][] = [];
  for (let r = 0; r * width < flat.length; r++) rows.push(Array.from({ length: width }, (_, k) => flat[r * width + k]));
  return rows;
}
