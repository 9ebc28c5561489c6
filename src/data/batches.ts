// Which dataset rows make up each training step's batch.
//
// The rows of step s are a pure function of (s, seed): a run resumed from a checkpoint
// at step s sees the same batches as an uninterrupted run, with no sampler state saved.
// - In data order (no shuffling): step s takes rows sB, sB+1, … modulo N, wrapping around.
// - Shuffled: the same stream, read through a fresh permutation of the rows each epoch
//   (epoch e's permutation comes from the seed and e). A batch may straddle two epochs,
//   so every batch has exactly B rows.
// Online training is B = 1; full-batch training is B = N without shuffling.

import { InputError } from '../errors.ts';
import { seededRandom } from './random.ts';

/**
 * The largest seed: 2⁵³ − 1. Past it a number no longer stands for one integer
 * (9007199254740993 reads as …992), so a seed could not be written down and given back
 * exactly, as a checkpoint must.
 */
export const MAX_SEED = Number.MAX_SAFE_INTEGER;

/** Rows the endless stream of a schedule can count exactly: step·B + k stays below 2⁵³. */
const MAX_POSITIONS = 2 ** 53;

/**
 * Which rows each step's batch takes: a pure function of the step and the seed, so a
 * resumed run sees the same batches (data order with wrap-around, or shuffled per epoch).
 */
export class BatchSchedule {
  private cachedEpoch = -1;
  private cachedPermutation = new Uint32Array(0);

  constructor(
    readonly datasetSize: number,
    readonly batchSize: number,
    readonly shuffle: boolean,
    readonly seed: number,
  ) {
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new InputError('batchSize', `expected a positive integer, got ${batchSize}`);
    if (!Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) throw new InputError('seed', `expected a whole number from 0 to ${MAX_SEED}, got ${seed}`);
    if (datasetSize < 1) throw new InputError('dataset', 'is empty: expected at least one sample');
  }

  /** The most steps a run can take: beyond, a step's rows would be counted past 2⁵³, inexactly. */
  get maxSteps(): number {
    return Math.floor(MAX_POSITIONS / this.batchSize);
  }

  /** Refuses a run of `steps` steps that the schedule cannot count exactly. */
  checkSteps(steps: number): void {
    if (!Number.isInteger(steps) || steps < 0 || steps > this.maxSteps) {
      throw new InputError('steps', `expected a whole number up to ${this.maxSteps} (steps × batch size ${this.batchSize} must stay within 2^53), got ${steps}`);
    }
  }

  /** The rows of step `step`'s batch: (B). */
  indices(step: number): Uint32Array {
    const rows = new Uint32Array(this.batchSize);
    this.fill(step, rows, 0);
    return rows;
  }

  /** Writes the rows of step `step`'s batch into `out` at `offset`. */
  fill(step: number, out: Uint32Array, offset: number): void {
    const N = this.datasetSize;
    for (let k = 0; k < this.batchSize; k++) {
      const position = step * this.batchSize + k; // place in the endless stream of rows
      const epoch = Math.floor(position / N);
      const inEpoch = position - epoch * N;
      out[offset + k] = this.shuffle ? this.permutation(epoch)[inEpoch] : inEpoch;
    }
  }

  /** Steps in `epochs` passes over the data (the last batch may run into the next pass). */
  stepsForEpochs(epochs: number): number {
    return Math.ceil((epochs * this.datasetSize) / this.batchSize);
  }

  private permutation(epoch: number): Uint32Array {
    if (epoch !== this.cachedEpoch) {
      const random = seededRandom(`${this.seed}:epoch${epoch}`);
      const rows = Uint32Array.from({ length: this.datasetSize }, (_, k) => k);
      for (let k = rows.length - 1; k > 0; k--) {
        // Fisher–Yates
        const pick = Math.floor(random() * (k + 1));
        [rows[k], rows[pick]] = [rows[pick], rows[k]];
      }
      this.cachedEpoch = epoch;
      this.cachedPermutation = rows;
    }
    return this.cachedPermutation;
  }
}
