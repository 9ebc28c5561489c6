// Arrays handed to the library, checked and turned into datasets: every row as wide as
// the model needs, every value a finite number that float32 can hold (the GPU computes
// in float32; a larger value would turn into Infinity there). Errors name the argument,
// the row and the column.

import { asText, InputError } from '../errors.ts';
import type { Dataset } from './dataset.ts';
import { valueProblem } from './values.ts';

/** Rows as plain arrays, one typed array per row, or one flat typed array of rows × width. */
export type Rows = readonly (readonly number[])[] | readonly ArrayLike<number>[] | Float32Array | Float64Array;

/** Checks one value (see valueProblem); `where` names it for the message. */
function checkValue(value: number, where: () => string): void {
  const problem = typeof value === 'number' ? valueProblem(value) : `expected a finite number, got ${asText(value)}`;
  if (problem) throw new InputError(where(), problem);
}

/** Rows of `width` values as one flat array, checked; `name` is the argument's name (`inputs`, `targets`). */
export function flattenRows(rows: Rows, width: number, name: string): Float64Array {
  if (rows instanceof Float32Array || rows instanceof Float64Array) {
    if (rows.length === 0 || rows.length % width !== 0) {
      throw new InputError(name, `expected a flat array of rows of ${width} values (a multiple of ${width} values), got ${rows.length}`);
    }
    const flat = Float64Array.from(rows);
    flat.forEach((value, k) => checkValue(value, () => `${name}[${Math.floor(k / width)}][${k % width}]`));
    return flat;
  }
  if (!Array.isArray(rows) || rows.length === 0) throw new InputError(name, 'expected at least one row (an array of rows, or a flat Float32Array/Float64Array)');
  const flat = new Float64Array(rows.length * width);
  rows.forEach((row: ArrayLike<number>, r: number) => {
    if (row === null || typeof row !== 'object' || typeof row.length !== 'number') throw new InputError(`${name}[${r}]`, `expected a row of ${width} numbers, got ${asText(row)}`);
    if (row.length !== width) throw new InputError(`${name}[${r}]`, `expected ${width} values, got ${row.length}`);
    for (let c = 0; c < width; c++) {
      checkValue(row[c], () => `${name}[${r}][${c}]`);
      flat[r * width + c] = row[c];
    }
  });
  return flat;
}

/** Inputs and targets as a dataset for a model of `inputSize` inputs and `outputSize` outputs. */
export function toDataset(inputs: Rows, targets: Rows, inputSize: number, outputSize: number, names = { inputs: 'inputs', targets: 'targets' }): Dataset {
  const x = flattenRows(inputs, inputSize, names.inputs);
  const y = flattenRows(targets, outputSize, names.targets);
  const size = x.length / inputSize;
  if (y.length / outputSize !== size) throw new InputError(names.targets, `expected ${size} rows (one per row of ${names.inputs}), got ${y.length / outputSize}`);
  return { inputs: x, targets: y, size, inputSize, outputSize };
}

/** Checks that `inputs` holds exactly `count` rows of `width` values (the lower-level trainers' predict). */
export function checkRowCount(inputs: ArrayLike<number>, count: number, width: number): void {
  if (!Number.isSafeInteger(count) || count < 1 || inputs.length !== count * width) {
    throw new InputError('count', `expected the number of rows of ${width} values in inputs (${inputs.length / width}), got ${count}`);
  }
}

/**
 * Targets of a loss over probabilities (cross-entropy): each one in [0, 1], a class label
 * or a probability (soft labels are legal). Throws an InputError naming the row and column
 * of the first one outside; `loss` names the loss in the message.
 */
export function checkProbabilityTargets(targets: Float64Array, width: number, loss: string, name = 'targets'): void {
  for (let k = 0; k < targets.length; k++) {
    const value = targets[k];
    if (value >= 0 && value <= 1) continue;
    throw new InputError(`${name}[${Math.floor(k / width)}][${k % width}]`, `${loss} takes targets in [0, 1] (class labels or probabilities), got ${value}; for numbers to predict use mse with a linear output`);
  }
}
