// The float64 reference: forward pass, loss, deltas and gradients, written as the
// articles write them. It is the specification; the WGSL kernels must agree with it.
//
// Flat arrays are row-major; shape comments give (rows, columns). B is the batch size,
// IN a layer's inputs, OUT its units.

import type { LayerSpec, ModelSpec } from '../model/model.ts';
import { layerParameter, outputSize } from '../model/model.ts';
import { paramView, type ParamLayout } from '../model/layout.ts';
import { ACTIVATION_OPS } from '../model/ops/activations.ts';
import { activate, derivative } from './activations.ts';
import { dropoutMask, drops, type DropoutStep } from '../model/dropout.ts';
import { outputDelta, sampleLoss } from './losses.ts';
import { InputError } from '../errors.ts';

/** A forward pass's values: every layer's net inputs and outputs (after dropout, in training). */
export interface ForwardValues {
  net: Float64Array[]; // net[l]: (B, OUT_l)
  out: Float64Array[]; // out[l]: (B, OUT_l)
  /** Dropout's mask of each layer that drops: (B, OUT_l) of 0 or 1/(1 − p). */
  mask?: (Float64Array | undefined)[];
}

/** A backward pass's values: every layer's deltas, and the gradients. */
export interface BackwardValues {
  delta: Float64Array[]; // delta[l]: (B, OUT_l), δ = ∂E/∂net
  grads: Float64Array; //   (P) by the parameter layout
}

/** net_j = Σ_i w_ji · in_i + b_j for one sample. */
export function netInput(
  weights: Float64Array, // (OUT, IN)
  biases: Float64Array, //  (OUT)
  input: Float64Array, //   (IN)
  j: number,
): number {
  const inputs = input.length;
  let net = biases[j];
  for (let i = 0; i < inputs; i++) net += weights[j * inputs + i] * input[i];
  return net;
}

/** One layer's forward pass over a batch: net = in·Wᵀ + b, out = f(net). */
export function forwardLayer(
  layer: LayerSpec,
  weights: Float64Array, // (OUT, IN)
  biases: Float64Array, //  (OUT)
  input: Float64Array, //   (B, IN)
  batch: number,
): { net: Float64Array; out: Float64Array } {
  const units = layer.units;
  const inputs = input.length / batch;
  const op = ACTIVATION_OPS[layer.activation];
  const parameter = layerParameter(layer);
  const net = new Float64Array(batch * units);
  const out = new Float64Array(batch * units);
  for (let b = 0; b < batch; b++) {
    const sample = input.subarray(b * inputs, (b + 1) * inputs);
    for (let j = 0; j < units; j++) net[b * units + j] = netInput(weights, biases, sample, j);
    const netRow = net.subarray(b * units, (b + 1) * units);
    const outRow = out.subarray(b * units, (b + 1) * units);
    if (op.kind === 'row') outRow.set(op.row(netRow));
    else for (let j = 0; j < units; j++) outRow[j] = op.f(netRow[j], parameter);
  }
  return { net, out };
}

/**
 * The forward pass of a whole network over a batch. In training (`dropout` says which
 * step), a layer with dropout has its outputs multiplied by that step's mask.
 */
export function forward(
  spec: ModelSpec,
  layout: ParamLayout,
  params: Float64Array, // (P)
  input: Float64Array, //  (B, IN)
  batch: number,
  dropout?: DropoutStep,
): ForwardValues {
  const values: ForwardValues = { net: [], out: [], mask: [] };
  let layerInput = input;
  spec.layers.forEach((layer, l) => {
    const weights = paramView(layout, params, l, 'weights');
    const biases = paramView(layout, params, l, 'biases');
    const { net, out } = forwardLayer(layer, weights, biases, layerInput, batch);
    const mask = dropout && drops(layer.dropout) ? dropoutMask(layer.dropout, dropout, l, batch, layer.units) : undefined;
    if (mask) for (let k = 0; k < out.length; k++) out[k] *= mask[k];
    values.net.push(net);
    values.out.push(out);
    values.mask!.push(mask);
    layerInput = out;
  });
  return values;
}

/** Each sample's loss: (B). The loss of the batch is their mean. */
export function sampleLosses(
  spec: ModelSpec,
  values: ForwardValues,
  target: Float64Array, // (B, K)
  batch: number,
): Float64Array {
  const K = outputSize(spec);
  const last = spec.layers.length - 1;
  const losses = new Float64Array(batch);
  for (let b = 0; b < batch; b++) {
    const row = (a: Float64Array) => a.subarray(b * K, (b + 1) * K);
    losses[b] = sampleLoss(spec.loss, spec.layers[last].activation, row(values.net[last]), row(values.out[last]), row(target));
  }
  return losses;
}

/** The mean of the values. */
export function mean(values: Float64Array): number {
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/** δ of the output layer for each sample: (B, K). */
export function outputDeltas(
  spec: ModelSpec,
  net: Float64Array, //    (B, K)
  out: Float64Array, //    (B, K)
  target: Float64Array, // (B, K)
  batch: number,
): Float64Array {
  const K = outputSize(spec);
  const layer = spec.layers[spec.layers.length - 1];
  const delta = new Float64Array(batch * K);
  for (let b = 0; b < batch; b++) {
    const row = (a: Float64Array) => a.subarray(b * K, (b + 1) * K);
    delta.set(outputDelta(spec.loss, layer, row(net), row(out), row(target)), b * K);
  }
  return delta;
}

/**
 * δ_h = (Σ_o δ_o · w_oh) · f′(net_h, out_h): the next layer's deltas sent back through its
 * weights. Where the layer dropped (`mask`), δ_h is also times its mask element, and the
 * slope takes the output before dropout, f(net_h).
 */
export function hiddenDeltas(
  layer: LayerSpec,
  nextWeights: Float64Array, // (NEXT, OUT)
  nextDelta: Float64Array, //   (B, NEXT)
  net: Float64Array, //         (B, OUT)
  out: Float64Array, //         (B, OUT)
  batch: number,
  mask?: Float64Array, //       (B, OUT)
): Float64Array {
  const units = layer.units;
  const next = nextDelta.length / batch;
  const activation = layer.activation;
  if (ACTIVATION_OPS[activation].kind === 'row') throw new InputError('activation', `${activation} is an output-layer activation`);
  const parameter = layerParameter(layer);
  const delta = new Float64Array(batch * units);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < units; h++) {
      let dEdOut = 0; // ∂E/∂out_h
      for (let o = 0; o < next; o++) dEdOut += nextDelta[b * next + o] * nextWeights[o * units + h];
      const e = b * units + h;
      if (mask) {
        const undropped = activate(activation as Exclude<typeof activation, 'softmax'>, net[e], parameter);
        delta[e] = dEdOut * mask[e] * derivative(activation, net[e], undropped, parameter);
      } else {
        delta[e] = dEdOut * derivative(activation, net[e], out[e], parameter);
      }
    }
  }
  return delta;
}

/** ∂E/∂w_ji = mean over the batch of δ_j · in_i, and ∂E/∂b_j = mean of δ_j. */
export function layerGradients(
  delta: Float64Array, //       (B, OUT)
  input: Float64Array, //       (B, IN)
  batch: number,
  gradWeights: Float64Array, // (OUT, IN), written
  gradBiases: Float64Array, //  (OUT), written
): void {
  const units = gradBiases.length;
  const inputs = input.length / batch;
  for (let j = 0; j < units; j++) {
    let biasSum = 0;
    for (let b = 0; b < batch; b++) biasSum += delta[b * units + j];
    gradBiases[j] = biasSum / batch;
    for (let i = 0; i < inputs; i++) {
      let sum = 0;
      for (let b = 0; b < batch; b++) sum += delta[b * units + j] * input[b * inputs + i];
      gradWeights[j * inputs + i] = sum / batch;
    }
  }
}

/**
 * The backward pass. Every delta is computed with the weights the forward pass used;
 * the update comes after (article 001: "we use the original weights").
 */
export function backward(
  spec: ModelSpec,
  layout: ParamLayout,
  params: Float64Array, // (P)
  input: Float64Array, //  (B, IN)
  target: Float64Array, // (B, K)
  values: ForwardValues,
  batch: number,
): BackwardValues {
  const L = spec.layers.length;
  const delta: Float64Array[] = new Array(L);
  delta[L - 1] = outputDeltas(spec, values.net[L - 1], values.out[L - 1], target, batch);
  for (let l = L - 2; l >= 0; l--) {
    delta[l] = hiddenDeltas(spec.layers[l], paramView(layout, params, l + 1, 'weights'), delta[l + 1], values.net[l], values.out[l], batch, values.mask?.[l]);
  }
  const grads = new Float64Array(layout.size);
  for (let l = 0; l < L; l++) {
    const layerInput = l === 0 ? input : values.out[l - 1];
    layerGradients(delta[l], layerInput, batch, paramView(layout, grads, l, 'weights'), paramView(layout, grads, l, 'biases'));
  }
  return { delta, grads };
}
