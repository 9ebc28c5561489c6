// Activations and their derivatives, in float64: the records of src/model/ops/activations.ts.
//
// The articles write the derivative from the neuron's output (∂out/∂net = out(1 − out)
// for the sigmoid), and so does every activation that can: backpropagation then needs
// only the stored outputs. Those whose slope needs the net input (gelu, say) say so in
// their record, and the kernels keep net for them.

import { ACTIVATION_OPS, sigmoid, softmax, type Activation } from '../model/ops/activations.ts';
import { InputError } from '../errors.ts';

export { sigmoid, softmax };

/** out = f(net) for the element-wise activations. Softmax needs the whole row: see `softmax`. */
export function activate(activation: Exclude<Activation, 'softmax'>, net: number, parameter = 0): number {
  return ACTIVATION_OPS[activation].f(net, parameter);
}

/** ∂out/∂net from net and out (softmax: the diagonal of its Jacobian; the output delta uses the whole). */
export function derivative(activation: Activation, net: number, out: number, parameter = 0): number {
  return ACTIVATION_OPS[activation].derivative(net, out, parameter);
}

/** ∂out/∂net from out alone, for the activations whose slope does not need net. */
export function derivativeFromOut(activation: Activation, out: number, parameter = 0): number {
  if (ACTIVATION_OPS[activation].derivativeNeedsNet) throw new InputError('activation', `the slope of ${activation} needs its net input: use derivative()`);
  return derivative(activation, NaN, out, parameter);
}

/** log Σ_k exp(net_k), computed without overflow. */
export function logSumExp(net: ArrayLike<number>): number {
  let max = -Infinity;
  for (let k = 0; k < net.length; k++) max = Math.max(max, net[k]);
  let sum = 0;
  for (let k = 0; k < net.length; k++) sum += Math.exp(net[k] - max);
  return max + Math.log(sum);
}
