// Class labels: one class id per row, for a classifier (a softmax output layer with
// cross-entropy), in place of one-hot targets. A row with id c trains exactly as the
// target row with 1 at c and 0 elsewhere does: the labels are turned into those rows.

import { asText, InputError, quoted } from '../errors.ts';

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

/**
 * Class names in the order their ids follow: by Unicode code point, as scikit-learn's
 * LabelEncoder sorts them (numpy's string order; JavaScript's default sort compares UTF-16
 * units, which puts characters past U+FFFF before U+E000 … U+FFFF).
 */
export function sortClassNames(names: Iterable<string>): string[] {
  return [...names].sort(byCodePoint);
}

function byCodePoint(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let k = 0; k < Math.min(x.length, y.length); k++) {
    if (x[k] !== y[k]) return x[k].codePointAt(0)! - y[k].codePointAt(0)!;
  }
  return x.length - y.length;
}

/** A list of names for a message: the first 20, then how many more. */
export function nameList(names: readonly string[]): string {
  const shown = names.slice(0, 20).map((name) => JSON.stringify(name)).join(', ');
  return names.length > 20 ? `${shown}, … ${names.length - 20} more` : shown;
}

/**
 * Checks a model's class names (a model file's `classes`): one distinct, non-empty name
 * per unit of the output layer, `units` of them. `where` names them in errors
 * (`model.json: classes`, or the data file's label column they came from).
 */
export function checkClasses(classes: unknown, units: number, where: string): void {
  if (!Array.isArray(classes)) throw new InputError(where, `expected an array of class names, got ${asText(classes)}`);
  if (units < 2) throw new InputError(where, `class names need an output layer of at least 2 units, one per class; this one has ${units}`);
  if (classes.length !== units) throw new InputError(where, `expected ${units} class names (one per unit of the output layer), got ${classes.length}: ${nameList(classes.map(String))}`);
  const first = new Map<string, number>();
  classes.forEach((name: unknown, k) => {
    if (typeof name !== 'string' || name.trim() === '' || name !== name.trim()) throw new InputError(`${where}[${k}]`, `expected a class name, text without spaces around it, got ${quoted(name)}`);
    const earlier = first.get(name);
    if (earlier !== undefined) throw new InputError(`${where}[${k}]`, `${quoted(name)} is also classes[${earlier}]: each class needs a name of its own`);
    first.set(name, k);
  });
}
