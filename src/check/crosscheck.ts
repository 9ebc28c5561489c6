// A float32 trainer against the float64 reference, buffer by buffer: what the tests, the
// benchmarks (before they time anything) and the browser app all run.

import { compareBuffers, type Comparison } from './compare.ts';
import type { Dataset } from '../data/dataset.ts';
import { bufferNames, type BufferName } from '../model/buffers.ts';
import { describeParamIndex } from '../model/layout.ts';
import type { Model } from '../model/network.ts';
import { CpuTrainer } from '../reference/trainer.ts';
import { float32Tolerances } from './tolerance.ts';
import type { TrainOptions } from '../train/trainer.ts';

/** What a candidate must offer to be checked: training, and reading named buffers. */
export interface Checkable {
  train(steps: number): Promise<void>;
  read(name: BufferName): Promise<Float64Array>;
  /** The batch loss of each step since the last call; leave out where the candidate has none. */
  takeLosses?(): Promise<Float64Array>;
}

/**
 * Trains `steps` steps on the candidate and on the reference, and compares every step's
 * loss and the last step's buffers (all of them, or `names`). Each update adds its own
 * error to the parameters, so their bound is the sum of every step's; the other buffers
 * of step s, computed from parameters that have drifted, get s times their one-step bound
 * (training that converges damps errors; this assumes they do not grow).
 */
export async function crossCheck(
  candidate: Checkable,
  model: Model,
  dataset: Dataset,
  options: TrainOptions,
  steps: number,
  names: BufferName[] = bufferNames(model.spec),
): Promise<Comparison[]> {
  const reference = new CpuTrainer(model, dataset, options);
  await candidate.train(steps);
  const setting = { ...model, ...options, batch: options.batchSize };
  const lossTolerance: number[] = [];
  const paramsTolerance = new Float64Array(model.layout.size);
  let buffers = new Map<string, Float64Array>();
  let tolerance: (name: string) => { atol: ArrayLike<number>; rtol: number } = () => ({ atol: [], rtol: 0 });
  for (let s = 1; s <= steps; s++) {
    await reference.train(1);
    buffers = new Map<string, Float64Array>();
    for (const name of bufferNames(model.spec)) buffers.set(name, await reference.read(name));
    const oneStep = float32Tolerances(setting, (name) => buffers.get(name)!);
    (oneStep('params').atol as Float64Array).forEach((a, k) => (paramsTolerance[k] += a));
    tolerance = (name) => {
      if (name === 'params') return { atol: paramsTolerance, rtol: 0 };
      const { atol, rtol } = oneStep(name);
      return { atol: Array.from(atol as ArrayLike<number>, (a) => a * s), rtol: rtol * s };
    };
    // The mean loss is off by at most the mean of its samples' bounds.
    lossTolerance.push(Array.from(tolerance('loss').atol).reduce((a, b) => a + b, 0) / options.batchSize);
  }
  const comparisons: Comparison[] = [];
  for (const name of names) {
    const describe = name === 'params' || name === 'grads' ? (k: number) => describeParamIndex(model.layout, k) : undefined;
    comparisons.push(compareBuffers(name, await candidate.read(name), buffers.get(name)!, tolerance(name), describe));
  }
  if (candidate.takeLosses) {
    comparisons.push(compareBuffers('loss per step', await candidate.takeLosses(), await reference.takeLosses(), { atol: lossTolerance, rtol: 0 }));
  }
  return comparisons;
}
