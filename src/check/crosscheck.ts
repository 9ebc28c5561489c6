// A float32 trainer against the float64 reference, buffer by buffer: what the tests, the
// benchmarks (every timed run's parameters) and the browser app all run.

import { compareBuffers, type Comparison, type Tolerance } from './compare.ts';
import type { Dataset } from '../data/dataset.ts';
import { bufferNames, type BufferName } from '../model/buffers.ts';
import { describeParamIndex } from '../model/layout.ts';
import type { Model } from '../model/network.ts';
import { CpuTrainer } from '../reference/trainer.ts';
import { learningRateAt } from '../model/schedule.ts';
import { float32Tolerances } from './tolerance.ts';
import type { TrainOptions } from '../model/trainer.ts';
import { InputError } from '../errors.ts';

/** What a candidate must offer to be checked: training, and reading named buffers. */
export interface Checkable {
  /** Runs `steps` training steps. */
  train(steps: number): Promise<void>;
  /** A named buffer's values as of the last step. */
  read(name: BufferName): Promise<Float64Array>;
  /** The batch loss of each step since the last call; leave out where the candidate has none. */
  takeLosses?(): Promise<Float64Array>;
}

/**
 * The reference trained step by step, with the float32 tolerance of every buffer as of
 * its last step. Each update adds its own error to the parameters, so their bound is the
 * sum of every step's; the other buffers of step s, computed from parameters that have
 * drifted, get s times their one-step bound (training that converges damps errors; this
 * assumes they do not grow).
 */
export class ReferenceTrajectory {
  readonly reference: CpuTrainer;
  private readonly paramsTolerance: Float64Array;
  /** Each step's bound on its mean loss: the mean of its samples' bounds. */
  readonly lossTolerance: number[] = [];
  private buffers = new Map<string, Float64Array>();
  private oneStep: ((name: string) => Tolerance) | undefined;

  constructor(
    readonly model: Model,
    readonly dataset: Dataset,
    readonly options: TrainOptions,
  ) {
    this.reference = new CpuTrainer(model, dataset, options);
    this.paramsTolerance = new Float64Array(model.layout.size);
  }

  get step(): number {
    return this.reference.step;
  }

  /** Trains the reference up to step `step`, one step at a time. */
  async advanceTo(step: number): Promise<void> {
    while (this.reference.step < step) {
      // The step's own learning rate, where a schedule changes it.
      const learningRate = learningRateAt(this.options.learningRate, this.options.schedule, this.reference.step);
      const setting = { ...this.model, ...this.options, learningRate, batch: this.options.batchSize, step: this.reference.step };
      await this.reference.train(1);
      const buffers = new Map<string, Float64Array>();
      for (const name of bufferNames(this.model.spec)) buffers.set(name, await this.reference.read(name));
      this.buffers = buffers;
      const oneStep = float32Tolerances(setting, (name) => buffers.get(name)!);
      (oneStep('params').atol as Float64Array).forEach((a, k) => (this.paramsTolerance[k] += a));
      this.oneStep = oneStep;
      this.lossTolerance.push(Array.from(this.tolerance('loss').atol as ArrayLike<number>).reduce((a, b) => a + b, 0) / this.options.batchSize);
    }
  }

  /** A buffer of the last step. */
  buffer(name: BufferName): Float64Array {
    const values = this.buffers.get(name);
    if (!values) throw new InputError(`buffer ${name}`, 'the reference has not run a step');
    return values;
  }

  /** A buffer's tolerance as of the last step. */
  tolerance(name: BufferName): Tolerance {
    if (!this.oneStep) throw new InputError('crossCheck', 'the reference has not run a step');
    if (name === 'params') return { atol: this.paramsTolerance, rtol: 0 };
    const { atol, rtol } = this.oneStep(name);
    const s = this.reference.step;
    return { atol: Array.from(atol as ArrayLike<number>, (a) => a * s), rtol: rtol * s };
  }

  /** A candidate's values of a named buffer against the reference's, as of the last step. */
  compare(name: BufferName, actual: ArrayLike<number>): Comparison {
    const describe = name === 'params' || name === 'grads' ? (k: number) => describeParamIndex(this.model.layout, k) : undefined;
    return compareBuffers(name, actual, this.buffer(name), this.tolerance(name), describe);
  }
}

/**
 * Trains `steps` steps on the candidate and on the reference, and compares every step's
 * loss and the last step's buffers (all of them, or `names`).
 */
export async function crossCheck(
  candidate: Checkable,
  model: Model,
  dataset: Dataset,
  options: TrainOptions,
  steps: number,
  names: BufferName[] = bufferNames(model.spec),
): Promise<Comparison[]> {
  const trajectory = new ReferenceTrajectory(model, dataset, options);
  await candidate.train(steps);
  await trajectory.advanceTo(steps);
  const comparisons: Comparison[] = [];
  for (const name of names) comparisons.push(trajectory.compare(name, await candidate.read(name)));
  if (candidate.takeLosses) {
    comparisons.push(compareBuffers('loss per step', await candidate.takeLosses(), await trajectory.reference.takeLosses(), { atol: trajectory.lossTolerance, rtol: 0 }));
  }
  return comparisons;
}
