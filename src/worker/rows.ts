// Rows a worker holds (NetworkWorker.upload), named in the messages of any fit, predict
// or evaluate of its networks instead of being sent again.

import type { Labels } from '../data/labels.ts';
import type { Rows } from '../data/validate.ts';
import { InputError } from '../errors.ts';
import type { RowsRef } from './protocol.ts';

/** Rows held by a worker (`NetworkWorker.upload`), which `fit`, `predict` and `evaluate` of its networks take in place of rows. */
export class WorkerRows {
  private released = false;

  /** @internal */
  constructor(
    /** The worker that holds them. */
    readonly worker: object,
    /** @internal */
    readonly id: number,
    private readonly releaseThere: () => void,
  ) {}

  /** Frees them in the worker; naming them afterwards is an InputError. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.releaseThere();
  }
}

/** Rows, or rows held by the worker. */
export type WorkerRowsInput = Rows | WorkerRows;

/** Rows as a message names them: by id where `worker` holds them, else sent with it. */
export function rowsRef(rows: WorkerRowsInput | Labels, worker: object): RowsRef {
  if (!(rows instanceof WorkerRows)) return { values: rows };
  if (rows.worker !== worker) throw new InputError('rows', 'these rows were uploaded to another worker');
  return { uploaded: rows.id };
}
