// What a user waits for: a whole job, from `Network.create` to a trained network, as a
// new user runs it. Two jobs, each trained with `fit` on every backend (and TensorFlow.js
// `model.fit`), timed to the first step and to the end, in a fresh process each time
// (bench/job.ts), and each result checked against the float64 reference trained the same
// steps, within the float32 tolerance of src/check/.

import { ReferenceTrajectory } from '../check/crosscheck.ts';
import type { Comparison } from '../check/compare.ts';
import { seededRandom } from '../data/random.ts';
import type { ModelFile } from '../io/model-format.ts';
import { declareDescription } from '../io/model-declaration.ts';
import { DEFAULT_OPTIMIZERS } from '../model/optimizer.ts';
import type { TrainOptions } from '../model/trainer.ts';

/** A job: a network, its data, how `fit` trains it. */
export interface Job {
  /** Short name: `J1`, `J2`. */
  name: string;
  /** In words: `784-128-10 relu/softmax, 4,096 rows, batch 64, 3 epochs (192 steps)`. */
  title: string;
  description: ModelFile & { inputSize: number; seed: number };
  rows: number;
  batchSize: number;
  epochs: number;
  learningRate: number;
}

/** Inputs in [0, 1) and one-hot targets, from the job's seed: (rows, IN) and (rows, K), float32 as a user would hold them. */
export function jobData(job: Job): { inputs: Float32Array; targets: Float32Array } {
  const random = seededRandom(`${job.name}:data`);
  const IN = job.description.inputSize;
  const K = job.description.layers[job.description.layers.length - 1].units!;
  const inputs = Float32Array.from({ length: job.rows * IN }, () => random());
  const targets = new Float32Array(job.rows * K);
  for (let n = 0; n < job.rows; n++) targets[n * K + Math.floor(random() * K)] = 1;
  return { inputs, targets };
}

/** Steps of the job: its epochs of batches (the batch divides the rows). */
export function jobSteps(job: Job): number {
  return (job.epochs * job.rows) / job.batchSize;
}

/** `fit`'s options for the job: plain SGD, batches in data order (as TensorFlow.js `model.fit` with shuffle off takes them). */
export function jobFitOptions(job: Job) {
  return { epochs: job.epochs, batchSize: job.batchSize, learningRate: job.learningRate, optimizer: 'sgd' as const, shuffle: false };
}

/** J1, an MNIST-shaped network for a few epochs, and J2, a tiny one for many: the jobs `npm run bench` times from create to trained. */
export const JOBS: readonly Job[] = [
  {
    name: 'J1',
    title: '784-128-10 relu/softmax, 4,096 rows, batch 64, 3 epochs (192 steps)',
    description: { inputSize: 784, seed: 1, loss: 'cross-entropy', layers: [{ units: 128, activation: 'relu' }, { units: 10, activation: 'softmax' }] },
    rows: 4096,
    batchSize: 64,
    epochs: 3,
    learningRate: 0.05,
  },
  {
    name: 'J2',
    title: '2-16-2 tanh/softmax, 256 rows, batch 32, 200 epochs (1,600 steps)',
    description: { inputSize: 2, seed: 1, loss: 'cross-entropy', layers: [{ units: 16, activation: 'tanh' }, { units: 2, activation: 'softmax' }] },
    rows: 256,
    batchSize: 32,
    epochs: 200,
    learningRate: 0.05,
  },
];

/**
 * Checks trained parameters (in this project's layout) against the float64 reference
 * trained the job's steps from the same start, within the float32 tolerance: one
 * trajectory per job, shared by every result checked against it.
 */
export class JobCheck {
  private readonly trajectory: ReferenceTrajectory;
  private ready?: Promise<void>;

  constructor(readonly job: Job) {
    // As Network.create makes it: the description's seed gives the initial weights.
    const model = declareDescription(job.description, job.name).create();
    const { inputs, targets } = jobData(job);
    const K = job.description.layers[job.description.layers.length - 1].units!;
    const dataset = { inputs: Float64Array.from(inputs), targets: Float64Array.from(targets), size: job.rows, inputSize: job.description.inputSize, outputSize: K };
    const options: TrainOptions = { learningRate: job.learningRate, batchSize: job.batchSize, shuffle: false, seed: 1, optimizer: DEFAULT_OPTIMIZERS.sgd };
    this.trajectory = new ReferenceTrajectory(model, dataset, options);
  }

  /** The initial parameters, in this project's layout. */
  get initialParams(): Float64Array {
    return this.trajectory.model.params;
  }

  /** Trained parameters against the reference's after the job's steps (trained once, at the first call). */
  async compare(params: ArrayLike<number>): Promise<Comparison> {
    this.ready ??= this.trajectory.advanceTo(jobSteps(this.job));
    await this.ready;
    return this.trajectory.compare('params', params);
  }
}
