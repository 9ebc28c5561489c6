// The column of class labels a CSV names with --labels: class ids (whole numbers from 0),
// or class names (setosa, versicolor, …) that become ids as scikit-learn's LabelEncoder
// makes them, by their place among the names sorted, or among a model's own class names
// where it has them. The column is names if any cell is not a number (decimal or
// exponent form); then every cell is a name, `3` too (the name "3"). A column of numbers
// only is class ids, read as they always were. Cells are trimmed; an empty one is an error.
//
// Which it is shows only at the end of the file: each row keeps the index of its cell's
// text among the distinct texts, and the ids are made from those once every row is in.

import { labelProblem, nameList, sortClassNames } from '../data/labels.ts';
import { valueProblem } from '../data/values.ts';
import { InputError, quoted } from '../errors.ts';
import { RowsBuilder } from './data-table.ts';
import { MODEL_LIMITS } from './model-format.ts';
import { parseDecimal } from './numbers.ts';

/** A label column's ids, and the class names they index where the column held names. */
export interface ReadLabels {
  labels: Int32Array; // (N) class ids
  /** The names, id by id: the model's where it gave them, else the column's, sorted. */
  classes?: string[];
}

export class LabelColumn {
  /** Distinct cell texts, in the order they first appear, with the line each first appears on. */
  private readonly texts = new Map<string, { index: number; line: number }>();
  private readonly rows: RowsBuilder; // (N) each row's index into `texts`
  /** A cell that is not a number has been read: the column is names. */
  private names = false;
  /** The first number that is no class id: an error if the column stays numbers. */
  private idProblem?: InputError;

  constructor(
    readonly source: string,
    readonly column: string,
    /** The model's class names, which names map to where it has them. */
    readonly known?: readonly string[],
  ) {
    this.rows = new RowsBuilder(source);
  }

  private where(line: number): string {
    return `${this.source}: line ${line}, column ${this.column}`;
  }

  /** One row's cell, on `line`. */
  add(cell: string, line: number): void {
    const text = cell.trim();
    if (text === '') throw new InputError(this.where(line), 'expected a class label (a name, or a class id), got an empty cell');
    let seen = this.texts.get(text);
    if (!seen) {
      // More distinct labels than a layer may have units is more classes than any model has.
      if (this.texts.size === MODEL_LIMITS.units) {
        throw this.pendingProblem() ?? new InputError(this.where(line), `more than ${MODEL_LIMITS.units} distinct labels, more classes than an output layer may have units (is it an identifier?)`);
      }
      seen = { index: this.texts.size, line };
      this.texts.set(text, seen);
      const value = parseDecimal(text);
      if (Number.isNaN(value)) this.names = true;
      else this.idProblem ??= this.numberProblem(value, text, line);
    }
    this.rows.add(seen.index);
  }

  private numberProblem(value: number, text: string, line: number): InputError | undefined {
    const problem = valueProblem(value, text) ?? labelProblem(value);
    return problem === undefined ? undefined : new InputError(this.where(line), problem);
  }

  /**
   * The error the column holds so far, if it stays numbers: a number that is no class id.
   * It comes before any later error of the file, as it would were the column known to be ids.
   */
  pendingProblem(): InputError | undefined {
    return this.names ? undefined : this.idProblem;
  }

  /** The ids, once every row is in. */
  finish(): ReadLabels {
    const problem = this.pendingProblem();
    if (problem) throw problem;
    this.rows.endRow();
    const rows = this.rows.finish();
    const texts = [...this.texts.keys()];
    if (!this.names) return { labels: Int32Array.from(rows, (index) => parseDecimal(texts[index])) };
    const classes = this.known ? [...this.known] : sortClassNames(texts);
    const ids = new Map(classes.map((name, id) => [name, id]));
    const idOf = texts.map((text) => {
      const id = ids.get(text);
      if (id === undefined) throw new InputError(this.where(this.texts.get(text)!.line), `${quoted(text)} is not one of the model's classes (${nameList(classes)})`);
      return id;
    });
    return { labels: Int32Array.from(rows, (index) => idOf[index]), classes };
  }
}
