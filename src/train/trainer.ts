// What every trainer offers, on the CPU reference and on WebGPU alike.

import type { BufferName } from '../model/buffers.ts';
import type { ParamLayout } from '../model/layout.ts';
import type { ModelSpec } from '../model/model.ts';
import type { OptimizerSpec } from '../model/optimizer.ts';
import type { BatchSchedule } from '../data/batches.ts';
import type { Dataset } from '../data/dataset.ts';

export interface TrainOptions {
  learningRate: number;
  batchSize: number;
  /** Shuffled mini-batches (a new permutation each epoch); false takes rows in data order. */
  shuffle: boolean;
  /** Seeds the shuffling. */
  seed: number;
  optimizer: OptimizerSpec;
}

/** Everything a run needs to continue exactly where it stopped. */
export interface TrainerState {
  step: number; // steps taken
  params: Float64Array; // (P)
  optimizerState: Float64Array[]; // each (P): momentum's velocity, Adam's m and v
}

export interface Trainer {
  readonly backend: 'cpu' | 'webgpu';
  readonly spec: ModelSpec;
  readonly layout: ParamLayout;
  readonly options: TrainOptions;
  readonly schedule: BatchSchedule;
  /** Steps taken so far; step s trains on `schedule.indices(s)`. */
  readonly step: number;

  /** Runs `steps` training steps. */
  train(steps: number): Promise<void>;
  /** The batch loss of every step run since the last call, oldest first. */
  takeLosses(): Promise<Float64Array>;
  /** A named buffer as the last step left it (params: as of now, after the update). */
  read(name: BufferName): Promise<Float64Array>;
  readState(): Promise<TrainerState>;
  writeState(state: TrainerState): Promise<void>;
  /** Forward pass only: outputs (N, OUT) for inputs (N, IN). */
  predict(inputs: Float64Array, count: number): Promise<Float64Array>;
  /** The mean loss over a whole dataset, with the current parameters. */
  evaluate(dataset: Dataset): Promise<number>;
  destroy(): void;
}
