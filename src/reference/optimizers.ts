// The parameter update, in float64: w⁺ = w − η·∂E/∂w for plain SGD (the articles'
// rule), and PyTorch's optimizers, each the update rule of its record in
// src/model/ops/optimizers.ts. Weight decay λ is PyTorch's weight_decay: λ·w added to the
// gradient (L2), or, for AdamW, decoupled, applied by the update itself.

import type { ParamLayout } from '../model/layout.ts';
import { constantsOf, OPTIMIZER_OPS, weightDecayOf, type OptimizerSpec } from '../model/ops/optimizers.ts';

/**
 * Bias-correction factors 1 − β^t for step t (1-based), computed in float64, where the
 * optimizer has them (1 otherwise); the GPU receives them per step rather than raising β
 * to a power in f32.
 */
export function adamCorrections(optimizer: OptimizerSpec, step: number): { correction1: number; correction2: number } {
  const corrections = OPTIMIZER_OPS[optimizer.kind].corrections;
  return corrections ? corrections(constantsOf(optimizer), step) : { correction1: 1, correction2: 1 };
}

/** The entries the optimizer steps: every weight matrix, and the biases where they train. */
function trained(layout: ParamLayout, trainBiases: boolean) {
  return layout.entries.filter((entry) => entry.kind === 'weights' || trainBiases);
}

/**
 * Gradient clipping as torch.nn.utils.clip_grad_norm_(params, C): the factor
 * C/(‖g‖ + 1e-6) where that is below 1 (else 1), ‖g‖ the norm of every trained
 * parameter's gradient together.
 */
export function clipScale(
  layout: ParamLayout,
  grads: Float64Array, // (P)
  trainBiases: boolean,
  clipNorm: number,
): number {
  let squares = 0;
  for (const entry of trained(layout, trainBiases)) {
    for (let k = entry.offset; k < entry.offset + entry.length; k++) squares += grads[k] * grads[k];
  }
  return Math.min(1, clipNorm / (Math.sqrt(squares) + 1e-6));
}

/**
 * Updates `params` in place from `grads`, scaled by `gradScale` (clipping's factor).
 * `state` holds the optimizer's arrays (velocity, or Adam's m and v), shaped like the
 * parameters. `step` counts from 1. Frozen biases keep their values (and their optimizer
 * state stays zero).
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
  gradScale = 1,
): void {
  const { update, decoupledDecay } = OPTIMIZER_OPS[optimizer.kind];
  const constants = constantsOf(optimizer);
  const weightDecay = weightDecayOf(optimizer);
  const l2 = decoupledDecay ? 0 : weightDecay;
  const values = { learningRate, weightDecay, ...adamCorrections(optimizer, step) };
  for (const entry of trained(layout, trainBiases)) {
    for (let k = entry.offset; k < entry.offset + entry.length; k++) {
      const g = grads[k] * gradScale + l2 * params[k];
      params[k] = update(params[k], g, state, k, constants, values);
    }
  }
}
