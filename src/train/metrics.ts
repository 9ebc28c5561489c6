// Metrics beside the loss, as Keras names them: accuracy for classifiers, mean absolute
// error and R² for regression. Outputs and targets are (N, K), flat.

/** The metrics: accuracy, mean absolute error, R². */
export const METRICS = ['accuracy', 'mae', 'r2'] as const;
/** A metric `fit` and `evaluate` can report beside the loss. */
export type Metric = (typeof METRICS)[number];

/**
 * The share of rows whose predicted class is the target's: the largest output against the
 * largest target, or (one output) which side of 0.5 each falls.
 */
export function accuracy(outputs: ArrayLike<number>, targets: ArrayLike<number>, width: number): number {
  const rows = targets.length / width;
  let correct = 0;
  for (let r = 0; r < rows; r++) {
    if (width === 1) {
      if (outputs[r] >= 0.5 === targets[r] >= 0.5) correct++;
      continue;
    }
    let predicted = 0;
    let actual = 0;
    for (let k = 1; k < width; k++) {
      if (outputs[r * width + k] > outputs[r * width + predicted]) predicted = k;
      if (targets[r * width + k] > targets[r * width + actual]) actual = k;
    }
    if (predicted === actual) correct++;
  }
  return correct / rows;
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

/** The named metrics of outputs against targets. */
export function computeMetrics(metrics: readonly Metric[], outputs: ArrayLike<number>, targets: ArrayLike<number>, width: number): Partial<Record<Metric, number>> {
  const values: Partial<Record<Metric, number>> = {};
  for (const metric of metrics) {
    if (metric === 'accuracy') values.accuracy = accuracy(outputs, targets, width);
    else if (metric === 'mae') values.mae = meanAbsoluteError(outputs, targets);
    else values.r2 = rSquared(outputs, targets, width);
  }
  return values;
}
