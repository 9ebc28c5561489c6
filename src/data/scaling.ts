// Standardised inputs, as scikit-learn's StandardScaler makes them: each input column
// shifted by its mean and divided by its standard deviation, with the statistics of the
// training data. The statistics travel in the model file (`inputScaling`), so that a
// network trained on scaled inputs is given scaled inputs wherever it predicts.

import { asText, InputError } from '../errors.ts';
import { flattenRows, type Rows } from './validate.ts';
import { FLOAT32_MAX, positiveFloat32Problem, valueProblem } from './values.ts';

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
export function checkInputScaling(scaling: Readonly<Record<keyof InputScaling, readonly number[]>>, width: number, where: string): void {
  for (const key of ['mean', 'std'] as const) {
    const values = scaling[key];
    if (!Array.isArray(values) || values.length !== width) {
      throw new InputError(`${where}.${key}`, `expected ${width} values (one per input), got ${Array.isArray(values) ? values.length : asText(values)}`);
    }
    values.forEach((value, c) => {
      // The divisor must stay a normal float32: 1e-45 would scale inputs to Infinity.
      const problem = key === 'std' ? positiveFloat32Problem(value) : typeof value === 'number' ? valueProblem(value) : `expected a finite number, got ${asText(value)}`;
      if (problem) throw new InputError(`${where}.${key}[${c}]`, problem);
    });
  }
}

/**
 * Scales flat rows (N, IN) in place and returns them; refuses a row that scales beyond
 * float32's range (`name`: the rows' name in the message, `inputs`).
 */
export function applyInputScaling(flat: Float64Array, scaling: InputScaling, name = 'inputs'): Float64Array {
  const width = scaling.mean.length;
  for (let k = 0; k < flat.length; k++) {
    const scaled = (flat[k] - scaling.mean[k % width]) / scaling.std[k % width];
    if (!(Math.abs(scaled) <= FLOAT32_MAX)) {
      throw new InputError(`${name}[${Math.floor(k / width)}][${k % width}]`, `${flat[k]} scales by inputScaling to ${scaled}, which float32 cannot hold`);
    }
    flat[k] = scaled;
  }
  return flat;
}
