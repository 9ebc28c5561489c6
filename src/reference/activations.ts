// Activation functions and their derivatives, in float64.
//
// The derivative is written in terms of the neuron's output, as the articles do
// (∂out/∂net = out(1 − out) for the sigmoid): backpropagation then needs only the
// stored outputs, on the CPU and on the GPU alike.

import type { Activation } from '../model/model.ts';

export function sigmoid(net: number): number {
  return 1 / (1 + Math.exp(-net));
}

/** out = f(net) for the element-wise activations. Softmax needs the whole row: see `softmax`. */
export function activate(activation: Exclude<Activation, 'softmax'>, net: number): number {
  switch (activation) {
    case 'sigmoid':
      return sigmoid(net);
    case 'linear':
      return net;
    case 'tanh':
      return Math.tanh(net);
    case 'relu':
      return net > 0 ? net : 0;
  }
}

/** ∂out/∂net from out. Softmax's Jacobian is not diagonal; the output delta handles it. */
export function derivativeFromOut(activation: Exclude<Activation, 'softmax'>, out: number): number {
  switch (activation) {
    case 'sigmoid':
      return out * (1 - out);
    case 'linear':
      return 1;
    case 'tanh':
      return 1 - out * out;
    case 'relu':
      return out > 0 ? 1 : 0;
  }
}

/** softmax(net)_k = exp(net_k − max) / Σ_j exp(net_j − max); subtracting the max avoids overflow. */
export function softmax(net: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let k = 0; k < net.length; k++) max = Math.max(max, net[k]);
  const out = new Float64Array(net.length);
  let sum = 0;
  for (let k = 0; k < net.length; k++) {
    out[k] = Math.exp(net[k] - max);
    sum += out[k];
  }
  for (let k = 0; k < net.length; k++) out[k] /= sum;
  return out;
}

/** log Σ_k exp(net_k), computed without overflow. */
export function logSumExp(net: ArrayLike<number>): number {
  let max = -Infinity;
  for (let k = 0; k < net.length; k++) max = Math.max(max, net[k]);
  let sum = 0;
  for (let k = 0; k < net.length; k++) sum += Math.exp(net[k] - max);
  return max + Math.log(sum);
}
