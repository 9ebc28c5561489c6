// Standardised inputs, as scikit-learn's StandardScaler makes them: each input column
// shifted by its mean and divided by its standard deviation, with the statistics of the
// training data. The statistics travel in the model file (`inputScaling`), so that a
// network trained on scaled inputs is given scaled inputs wherever it predicts.

import { asText, InputError } from '../errors.ts';
import { flattenRows, type Rows } from './validate.ts';

/** Per input column: x′ = (x − mean) / std. */
export interface InputScaling {
  mean: number[]; // (IN)
  std: number[]; //  (IN), each > 0
}

/**
 * The mean and the (population) standard deviation of each of the `width` input columns.
 * A constant column gets std 1, as scikit-learn gives it, so it scales to 0 rather than
 * dividing by zero.
 */
export function fitInputScaling(inputs: Rows, width: number): InputScaling {
  const flat = flattenRows(inputs, width, 'inputs'); // (N, IN)
  const rows = flat.length / width;
  const mean = new Array<number>(width).fill(0);
  const std = new Array<number>(width).fill(0);
  for (let k = 0; k < flat.length; k++) mean[k % width] += flat[k] / rows;
  for (let k = 0; k < flat.length; k++) std[k % width] += (flat[k] - mean[k % width]) ** 2 / rows;
  for (let c = 0; c < width; c++) std[c] = std[c] > 0 ? Math.sqrt(std[c]) : 1;
  return { mean, std };
}

/** Checks a scaling for `width` inputs; `where` names it in errors (`model.json: inputScaling`). */
export function checkInputScaling(scaling: InputScaling, width: number, where: string): void {
  for (const key of ['mean', 'std'] as const) {
    const values = scaling[key];
    if (!Array.isArray(values) || values.length !== width) {
      throw new InputError(`${where}.${key}`, `expected ${width} values (one per input), got ${Array.isArray(values) ? values.length : asText(values)}`);
    }
    values.forEach((value, c) => {
      if (typeof value !== 'number' || !Number.isFinite(value) || (key === 'std' && value <= 0)) {
        throw new InputError(`${where}.${key}[${c}]`, `expected a ${key === 'std' ? 'positive' : 'finite'} number, got ${asText(value)}`);
      }
    });
  }
}

/** Scales flat rows (N, IN) in place and returns them. */
export function applyInputScaling(flat: Float64Array, scaling: InputScaling): Float64Array {
  const width = scaling.mean.length;
  for (let k = 0; k < flat.length; k++) flat[k] = (flat[k] - scaling.mean[k % width]) / scaling.std[k % width];
  return flat;
}
