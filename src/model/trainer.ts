// What every trainer offers, on the CPU reference and on WebGPU alike: the lower-level
// interface under `Network`, for tests and tools that compare buffers step by step.

import type { BufferName } from './buffers.ts';
import type { ParamLayout } from './layout.ts';
import type { ModelSpec } from './model.ts';
import type { OptimizerSpec } from './optimizer.ts';
import type { LearningRateSchedule } from './schedule.ts';
import type { BatchSchedule } from '../data/batches.ts';
import type { Dataset } from '../data/dataset.ts';

/** How a trainer trains: the learning rate and its schedule, the batches, the optimizer. */
export interface TrainOptions {
  /** The initial learning rate η. */
  learningRate: number;
  /** How the rate changes from step to step (schedule.ts); constant where absent. */
  schedule?: LearningRateSchedule;
  /**
   * Clips the batch's gradient to this global norm before weight decay and the update, as
   * torch.nn.utils.clip_grad_norm_ does; no clipping where absent.
   */
  clipNorm?: number;
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

/**
 * The two states a trainer keeps in memory to go back to (Trainer.mark and rewind): the
 * last mark and the one before it. The trainers that hold their state on the host use it.
 */
export class StateMarks {
  private last: TrainerState;
  private previous: TrainerState;

  constructor(start: TrainerState) {
    this.last = start;
    this.previous = start;
  }

  /** Makes `state` the last mark; the last becomes the previous one. */
  mark(state: TrainerState): void {
    this.previous = this.last;
    this.last = state;
  }

  at(to: 'last' | 'previous'): TrainerState {
    return to === 'last' ? this.last : this.previous;
  }
}

/** A trainer: `CpuTrainer` (the float64 reference), `GpuTrainer` (WebGPU) or `WasmTrainer` (WebAssembly), with the same named buffers. */
export interface Trainer {
  readonly backend: 'cpu' | 'webgpu' | 'wasm';
  readonly spec: ModelSpec;
  readonly layout: ParamLayout;
  readonly options: TrainOptions;
  readonly schedule: BatchSchedule;
  /** Steps taken so far; step s trains on `schedule.indices(s)`. */
  readonly step: number;

  /**
   * Runs `steps` training steps. On WebGPU it resolves once they are submitted; whatever
   * is read afterwards (losses, buffers, state) sees them done.
   */
  train(steps: number): Promise<void>;
  /** The batch loss of every step run since the last call, oldest first. */
  takeLosses(): Promise<Float64Array>;
  /** A named buffer as the last step left it (params: as of now, after the update). */
  read(name: BufferName): Promise<Float64Array>;
  /** The step, the parameters and the optimizer's state: all a run needs to continue. */
  readState(): Promise<TrainerState>;
  /** Restores a state; optimizer state it lacks starts from zero. Losses not yet taken are dropped. */
  writeState(state: TrainerState): Promise<void>;
  /**
   * Remembers the current parameters, optimizer state and step (on the GPU: a copy there,
   * no read-back); the mark before it is kept too, as the previous one.
   */
  mark(): void;
  /**
   * Returns to the last `mark` (or, `previous`, to the one before it; either is the start
   * where there was none). Losses not yet taken are dropped.
   */
  rewind(to?: 'last' | 'previous'): Promise<void>;
  /** Forward pass only: outputs (N, OUT) for inputs (N, IN). */
  predict(inputs: Float64Array, count: number): Promise<Float64Array>;
  /**
   * Forward pass only: the out (after the activation) of each layer in `layers`, counted
   * from 0 (the first hidden layer) to L − 1 (the output layer): (N, units_l) each.
   */
  layerOutputs(inputs: Float64Array, count: number, layers: readonly number[]): Promise<Float64Array[]>;
  /** The mean loss over a whole dataset, with the current parameters. */
  evaluate(dataset: Dataset): Promise<number>;
  /**
   * Where a trainer writes some named buffers only on request (the GPU trainer's layered
   * path): start (or stop) writing all of them, from the next step on. Trainers that always
   * write them all leave this out.
   */
  setCapture?(on: boolean): Promise<void>;
  /** Whether every named buffer is written, where `setCapture` can change it. */
  readonly capture?: boolean;
  /** Frees what the trainer holds; any later call throws `DisposedError`. */
  dispose(): void;
}
