// The parameter update, in float64: w⁺ = w − η·∂E/∂w for plain SGD (the articles'
// rule), and PyTorch's momentum and Adam, each the update rule of its record in
// src/model/ops/optimizers.ts.

import type { ParamLayout } from '../model/layout.ts';
import { constantsOf, OPTIMIZER_OPS, type OptimizerSpec } from '../model/ops/optimizers.ts';

/**
 * Bias-correction factors 1 − β^t for step t (1-based), computed in float64, where the
 * optimizer has them (1 otherwise); the GPU receives them per step rather than raising β
 * to a power in f32.
 */
export function adamCorrections(optimizer: OptimizerSpec, step: number): { correction1: number; correction2: number } {
  const corrections = OPTIMIZER_OPS[optimizer.kind].corrections;
  return corrections ? corrections(constantsOf(optimizer), step) : { correction1: 1, correction2: 1 };
}

/**
 * Updates `params` in place from `grads`. `state` holds the optimizer's arrays (velocity,
 * or Adam's m and v), shaped like the parameters. `step` counts from 1. Frozen biases
 * keep their values (and their optimizer state stays zero).
 */
export function optimizerStep(
  optimizer: OptimizerSpec,
  layout: ParamLayout,
  params: Float64Array, // (P)
  grads: Float64Array, //  (P)
  state: Float64Array[], // each (P)
  learningRate: number,
  step: number,
  trainBiases: boolean,
): void {
  const { update } = OPTIMIZER_OPS[optimizer.kind];
  const constants = constantsOf(optimizer);
  const values = { learningRate, ...adamCorrections(optimizer, step) };
  for (const entry of layout.entries) {
    if (entry.kind === 'biases' && !trainBiases) continue;
    for (let k = entry.offset; k < entry.offset + entry.length; k++) {
      params[k] = update(params[k], grads[k], state, k, constants, values);
    }
  }
}
