// Class labels: one class id per row, for a classifier (a softmax output layer with
// cross-entropy), in place of one-hot targets. A row with id c trains exactly as the
// target row with 1 at c and 0 elsewhere does: the labels are turned into those rows.

import { asText, InputError } from '../errors.ts';

/** One class id per row, each a whole number from 0 to the outputs − 1. */
export type Labels = readonly number[] | Int32Array;

/** Whether targets given as `targets` are class ids: an Int32Array, or an array of numbers (rather than of rows). */
export function isLabels(targets: unknown): targets is Labels {
  return targets instanceof Int32Array || (Array.isArray(targets) && targets.length > 0 && typeof targets[0] === 'number');
}

/** What is wrong with a class id read from a file, if anything (its range is checked against the model later). */
export function labelProblem(value: number): string | undefined {
  return Number.isInteger(value) && value >= 0 && value <= 2 ** 31 - 1 ? undefined : `expected a class id, a whole number ≥ 0, got ${asText(value)}`;
}

/** The labels as one-hot rows of `classes` values: (N, classes). `where` names each id in errors (`labels[3]`). */
export function oneHot(labels: ArrayLike<number>, classes: number, where: (row: number) => string): Float64Array {
  if (classes < 2) throw new InputError(where(0).replace(/\[0\]$/, ''), `class ids need an output layer of at least 2 units, one per class; this one has ${classes}: give targets instead`);
  const rows = new Float64Array(labels.length * classes);
  for (let r = 0; r < labels.length; r++) {
    const id = labels[r];
    if (!(typeof id === 'number' && Number.isInteger(id) && id >= 0 && id < classes)) {
      throw new InputError(where(r), `expected a class id, a whole number from 0 to ${classes - 1} (one per output unit), got ${asText(id)}`);
    }
    rows[r * classes + id] = 1;
  }
  return rows;
}
