// The parameter update, in float64: w⁺ = w − η·∂E/∂w for plain SGD (the articles'
// rule), and PyTorch's momentum and Adam.

import type { OptimizerSpec } from '../model/optimizer.ts';
import type { ParamLayout } from '../model/layout.ts';

/**
 * Bias-correction factors 1 − β^t for Adam's step t (1-based), computed in float64;
 * the GPU receives them per step rather than raising β to a power in f32.
 */
export function adamCorrections(optimizer: OptimizerSpec, step: number): { correction1: number; correction2: number } {
  if (optimizer.kind !== 'adam') return { correction1: 1, correction2: 1 };
  return { correction1: 1 - optimizer.beta1 ** step, correction2: 1 - optimizer.beta2 ** step };
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
  const { correction1, correction2 } = adamCorrections(optimizer, step);
  for (const entry of layout.entries) {
    if (entry.kind === 'biases' && !trainBiases) continue;
    for (let k = entry.offset; k < entry.offset + entry.length; k++) {
      const g = grads[k];
      switch (optimizer.kind) {
        case 'sgd':
          params[k] -= learningRate * g;
          break;
        case 'momentum': {
          const velocity = state[0];
          velocity[k] = optimizer.momentum * velocity[k] + g;
          params[k] -= learningRate * velocity[k];
          break;
        }
        case 'adam': {
          const [m, v] = state;
          m[k] = optimizer.beta1 * m[k] + (1 - optimizer.beta1) * g;
          v[k] = optimizer.beta2 * v[k] + (1 - optimizer.beta2) * g * g;
          const mHat = m[k] / correction1;
          const vHat = v[k] / correction2;
          params[k] -= (learningRate * mHat) / (Math.sqrt(vHat) + optimizer.epsilon);
          break;
        }
      }
    }
  }
}
