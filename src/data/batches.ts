// Which dataset rows make up each training step's batch.
//
// The rows of step s are a pure function of (s, seed): a run resumed from a checkpoint
// at step s sees the same batches as an uninterrupted run, with no sampler state saved.
// - In data order (no shuffling): step s takes rows sB, sB+1, … modulo N, wrapping around.
// - Shuffled: the same stream, read through a fresh permutation of the rows each epoch
//   (epoch e's permutation comes from the seed and e). A batch may straddle two epochs,
//   so every batch has exactly B rows.
// Online training is B = 1; full-batch training is B = N without shuffling.

import { seededRandom } from '../model/init.ts';

export class BatchSchedule {
  private cachedEpoch = -1;
  private cachedPermutation = new Uint32Array(0);

  constructor(
    readonly datasetSize: number,
    readonly batchSize: number,
    readonly shuffle: boolean,
    readonly seed: number,
  ) {
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batch size must be a positive integer, got ${batchSize}`);
    if (datasetSize < 1) throw new Error('the dataset is empty');
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
