// Losses and the output-layer delta, for one sample, in float64.

import type { Activation, Loss } from '../model/model.ts';
import { derivativeFromOut, logSumExp } from './activations.ts';

/** log(1 + e^z) without overflow. */
function softplus(z: number): number {
  return Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
}

/**
 * The loss of one sample. Cross-entropy is computed from net rather than out, so a
 * saturated output (out rounding to 0 or 1) still gives a finite loss.
 */
export function sampleLoss(loss: Loss, activation: Activation, net: ArrayLike<number>, out: ArrayLike<number>, target: ArrayLike<number>): number {
  const K = out.length;
  let sum = 0;
  switch (loss) {
    case 'half-sse':
      for (let k = 0; k < K; k++) sum += 0.5 * (target[k] - out[k]) ** 2;
      return sum;
    case 'sse':
      for (let k = 0; k < K; k++) sum += (target[k] - out[k]) ** 2;
      return sum;
    case 'mse':
      for (let k = 0; k < K; k++) sum += (target[k] - out[k]) ** 2;
      return sum / K;
    case 'cross-entropy':
      if (activation === 'softmax') {
        // −Σ t_k log softmax(net)_k, with log softmax(net)_k = net_k − log Σ_j e^{net_j}
        const lse = logSumExp(net);
        for (let k = 0; k < K; k++) sum -= target[k] * (net[k] - lse);
        return sum;
      }
      // binary: −[t log σ(z) + (1 − t) log(1 − σ(z))] = softplus(z) − t·z
      for (let k = 0; k < K; k++) sum += softplus(net[k]) - target[k] * net[k];
      return sum;
  }
}

/** ∂E/∂out_k for one sample: −(target − out) for the articles' half-sse. */
export function lossGradient(loss: Exclude<Loss, 'cross-entropy'>, out: number, target: number, outputs: number): number {
  switch (loss) {
    case 'half-sse':
      return -(target - out);
    case 'sse':
      return -2 * (target - out);
    case 'mse':
      return (-2 * (target - out)) / outputs;
  }
}

/**
 * δ_k = ∂E/∂net_k for each output neuron k of one sample.
 * The articles' form: δ_o1 = −(target_o1 − out_o1) · out_o1(1 − out_o1).
 */
export function outputDelta(loss: Loss, activation: Activation, out: ArrayLike<number>, target: ArrayLike<number>): Float64Array {
  const K = out.length;
  const delta = new Float64Array(K);
  if (loss === 'cross-entropy') {
    // Both pairings simplify: the division by out in ∂E/∂out cancels against ∂out/∂net.
    let targetSum = 0;
    for (let k = 0; k < K; k++) targetSum += target[k];
    for (let k = 0; k < K; k++) {
      delta[k] = activation === 'softmax' ? out[k] * targetSum - target[k] : out[k] - target[k];
    }
    return delta;
  }
  if (activation === 'softmax') {
    // Softmax couples its outputs: δ_k = out_k (g_k − Σ_j out_j g_j), g = ∂E/∂out.
    let weighted = 0;
    for (let j = 0; j < K; j++) weighted += out[j] * lossGradient(loss, out[j], target[j], K);
    for (let k = 0; k < K; k++) delta[k] = out[k] * (lossGradient(loss, out[k], target[k], K) - weighted);
    return delta;
  }
  for (let k = 0; k < K; k++) {
    delta[k] = lossGradient(loss, out[k], target[k], K) * derivativeFromOut(activation, out[k]);
  }
  return delta;
}
