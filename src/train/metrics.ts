// Metrics beside the loss, as Keras names them: accuracy for classifiers, mean absolute
// error and R² for regression. Outputs and targets are (N, K), flat; targets may be class
// ids instead, one per row.

import type { Dataset } from '../data/dataset.ts';
import { oneHot } from '../data/labels.ts';
import { checkFiniteLoss } from './loop.ts';

/** A metric `fit` and `evaluate` can report beside the loss: accuracy, mean absolute error, R². */
export type Metric = 'accuracy' | 'mae' | 'r2';
/** The metrics. */
export const METRICS: readonly Metric[] = ['accuracy', 'mae', 'r2'];

/**
 * The share of rows whose predicted class is the target's: the largest output against the
 * largest target (Keras's categorical accuracy), or (one output) whether each is above 0.5
 * (its binary accuracy: 0.5 itself is class 0).
 */
export function accuracy(outputs: ArrayLike<number>, targets: ArrayLike<number>, width: number): number {
  const predicted = predictedClasses(outputs, width);
  const actual = predictedClasses(targetRows(outputs, targets, width), width);
  let correct = 0;
  for (let r = 0; r < predicted.length; r++) if (predicted[r] === actual[r]) correct++;
  return correct / predicted.length;
}

/** The mean of |output − target| over every value. */
export function meanAbsoluteError(outputs: ArrayLike<number>, targets: ArrayLike<number>): number {
  let sum = 0;
  for (let k = 0; k < targets.length; k++) sum += Math.abs(outputs[k] - targets[k]);
  return sum / targets.length;
}

/**
 * The coefficient of determination, 1 − Σ(t − o)² / Σ(t − t̄)², with t̄ each output
 * column's mean, over all columns together (scikit-learn's variance-weighted R²).
 */
export function rSquared(outputs: ArrayLike<number>, targets: ArrayLike<number>, width: number): number {
  const rows = targets.length / width;
  const means = new Float64Array(width);
  for (let k = 0; k < targets.length; k++) means[k % width] += targets[k] / rows;
  let residual = 0;
  let total = 0;
  for (let k = 0; k < targets.length; k++) {
    residual += (targets[k] - outputs[k]) ** 2;
    total += (targets[k] - means[k % width]) ** 2;
  }
  return total === 0 ? (residual === 0 ? 1 : -Infinity) : 1 - residual / total;
}

/**
 * Targets as (N, K) rows: as they are, or, where they are class ids (one per row of
 * outputs, for K ≥ 2 outputs), their one-hot rows.
 */
function targetRows(outputs: ArrayLike<number>, targets: ArrayLike<number>, width: number): ArrayLike<number> {
  return width > 1 && targets.length * width === outputs.length ? oneHot(targets, width, (row) => `targets[${row}]`) : targets;
}

/** The named metrics of outputs against targets: rows (N, K), or class ids (N). */
export function computeMetrics(metrics: readonly Metric[], outputs: ArrayLike<number>, given: ArrayLike<number>, width: number): Partial<Record<Metric, number>> {
  const targets = targetRows(outputs, given, width);
  const values: Partial<Record<Metric, number>> = {};
  for (const metric of metrics) {
    if (metric === 'accuracy') values.accuracy = accuracy(outputs, targets, width);
    else if (metric === 'mae') values.mae = meanAbsoluteError(outputs, targets);
    else values.r2 = rSquared(outputs, targets, width);
  }
  return values;
}

/** The predicted class of each row: the largest output, the first of equal ones (one output: whether it is above 0.5, as Keras thresholds it). */
export function predictedClasses(outputs: ArrayLike<number>, width: number): Int32Array {
  const rows = outputs.length / width;
  const classes = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    if (width === 1) {
      classes[r] = outputs[r] > 0.5 ? 1 : 0;
      continue;
    }
    let best = 0;
    for (let k = 1; k < width; k++) if (outputs[r * width + k] > outputs[r * width + best]) best = k;
    classes[r] = best;
  }
  return classes;
}

/**
 * The confusion matrix of a classifier, as TensorFlow.js's `tf.math.confusionMatrix`:
 * `matrix[actual][predicted]` counts the rows of each actual class (the largest target)
 * given each predicted class (the largest output). One output counts as two classes, 0
 * and 1, split at 0.5.
 */
export function confusionMatrix(outputs: ArrayLike<number>, targets: ArrayLike<number>, width: number): number[][] {
  const classes = width === 1 ? 2 : width;
  const matrix = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  const predicted = predictedClasses(outputs, width);
  const actual = predictedClasses(targetRows(outputs, targets, width), width);
  for (let r = 0; r < predicted.length; r++) matrix[actual[r]][predicted[r]]++;
  return matrix;
}

/** What `evaluate` gives: the mean loss, and each metric asked for. */
export type Evaluation = { loss: number } & Partial<Record<Metric, number>>;

/** What runs a forward pass: a trainer, or a predictor. */
interface ForwardRunner {
  evaluate(dataset: Dataset): Promise<number>;
  predict(inputs: Float64Array, count: number): Promise<Float64Array>;
}

/** The loss, and the metrics asked for, over a dataset with the runner's current weights; `finite`: a non-finite loss is a divergence. */
export async function measure(runner: ForwardRunner, data: Dataset, metrics: readonly Metric[], finite: boolean): Promise<Evaluation> {
  const loss = await runner.evaluate(data);
  if (finite) checkFiniteLoss(loss, 'the validation data');
  if (metrics.length === 0) return { loss };
  const outputs = await runner.predict(data.inputs, data.size);
  return { loss, ...computeMetrics(metrics, outputs, data.targets, data.outputSize) };
}
