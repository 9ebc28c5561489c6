// Losses and the output-layer delta, for one sample, in float64: the records of
// src/model/ops/losses.ts put together as the articles do.

import type { Activation, LayerSpec } from '../model/model.ts';
import { layerParameter } from '../model/model.ts';
import { ACTIVATION_OPS } from '../model/ops/activations.ts';
import { LOSS_OPS, type Loss } from '../model/ops/losses.ts';
import { derivative, logSumExp } from './activations.ts';

/**
 * The loss of one sample, E = Σ_k e_k. Cross-entropy is computed from net rather than out,
 * so a saturated output (out rounding to 0 or 1) still gives a finite loss.
 */
export function sampleLoss(loss: Loss, activation: Activation, net: ArrayLike<number>, out: ArrayLike<number>, target: ArrayLike<number>): number {
  const op = LOSS_OPS[loss];
  const K = out.length;
  let sum = 0;
  if (op.kind === 'logits' && activation === 'softmax') {
    const lse = logSumExp(net);
    for (let k = 0; k < K; k++) sum += op.softmaxLoss(net[k], target[k], lse);
  } else if (op.kind === 'logits') {
    for (let k = 0; k < K; k++) sum += op.sigmoidLoss(net[k], target[k]);
  } else {
    for (let k = 0; k < K; k++) sum += op.loss(out[k], target[k], K);
  }
  return sum;
}

/**
 * δ_k = ∂E/∂net_k for each output neuron k of one sample, from its net inputs and outputs.
 * The articles' form: δ_o1 = −(target_o1 − out_o1) · out_o1(1 − out_o1).
 */
export function outputDelta(loss: Loss, layer: LayerSpec, net: ArrayLike<number>, out: ArrayLike<number>, target: ArrayLike<number>): Float64Array {
  const op = LOSS_OPS[loss];
  const K = out.length;
  const delta = new Float64Array(K);
  if (op.kind === 'logits') {
    // A softmax output is one distribution over the row; a sigmoid output is its own, t + (1 − t) = 1.
    let targetSum = 0;
    for (let k = 0; k < K; k++) targetSum += target[k];
    for (let k = 0; k < K; k++) delta[k] = op.delta(out[k], target[k], layer.activation === 'softmax' ? targetSum : 1);
    return delta;
  }
  if (ACTIVATION_OPS[layer.activation].kind === 'row') {
    // Softmax couples its outputs: δ_k = out_k (g_k − Σ_j out_j g_j), g = ∂E/∂out.
    let weighted = 0;
    for (let j = 0; j < K; j++) weighted += out[j] * op.gradient(out[j], target[j], K);
    for (let k = 0; k < K; k++) delta[k] = out[k] * (op.gradient(out[k], target[k], K) - weighted);
    return delta;
  }
  const parameter = layerParameter(layer);
  for (let k = 0; k < K; k++) {
    delta[k] = op.gradient(out[k], target[k], K) * derivative(layer.activation, net[k], out[k], parameter);
  }
  return delta;
}
