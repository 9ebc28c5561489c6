// The training step in float32: the twin of src/reference/backprop.ts and
// src/reference/trainer.ts's trainStep, with the same named buffers (each layer's net,
// out and δ, the batch's input and target, each sample's loss, the gradients and the
// parameters), laid out as the host's parameter table and buffer table say.
//
// The products, and the element-wise work of large layers, run on the thread pool
// (gemm.ts, elementwise.ts, pool.ts); every op runs its body from
// ops.ts through the generated switches (switch.ts), or, where it has none, calls the
// host, which runs the op's float64 record on these float32 buffers (src/wasm/hooks.ts).

import { Product } from './gemm';
import { Pool, runElementwise, runProduct, sharesElements } from './pool';
import { ACTIVATE, activateRows, addBiases, DERIVATIVE, DROPPED_DERIVATIVE, Elementwise, UPDATE } from './elementwise';
import { Rates } from './ops';
import { dropRows } from './dropout';
import {
  activate_row,
  derivative_of,
  derivative_rows,
  dropped_derivative_rows,
  has_activation,
  has_optimizer,
  is_row_activation,
  logits_delta,
  logits_sigmoid_loss,
  logits_softmax_loss,
  loss_body,
  loss_gradient,
  loss_term,
  optimizer_update,
} from './switch';

// The host's ops, for an op that has no body here: each works on the buffers of network
// `handle`, for its first `count` rows.
@external('host', 'activate') declare function host_activate(handle: i32, layer: i32, count: i32): void; //  out = f(net)
@external('host', 'derivative') declare function host_derivative(handle: i32, layer: i32, count: i32): void; // δ ·= f′(net, out), and dropout's mask where it dropped
@external('host', 'output') declare function host_output(handle: i32, target: usize, count: i32): void; //      each sample's loss, and the output layer's δ
@external('host', 'update') declare function host_update(handle: i32, step: i32, learningRate: f32, gradScale: f32): void; // the optimizer, at step t (1-based)

/** A network and its buffers (host-allocated, float32 unless said): what a step reads and writes. */
@unmanaged
export class Net {
  /** The host's name for it, which the host's ops are called with. */
  handle: i32;
  layers: i32;
  /** Rows the buffers hold: the batch (B). */
  batch: i32;
  inputs: i32;
  outputs: i32;
  loss: i32;
  optimizer: i32;
  trainBiases: i32;
  data: usize; //      (N, IN) the dataset's inputs
  targets: usize; //   (N, K)  its targets
  input: usize; //     (B, IN) the batch's inputs
  target: usize; //    (B, K)
  losses: usize; //    (B)     each sample's loss
  params: usize; //    (P)
  grads: usize; //     (P)
  state0: usize; //    (P) the optimizer's state, where it has any
  state1: usize; //    (P)
  constants: usize; // the optimizer's constants, in its record's order, then its weight decay λ
  /** The global norm the gradient is clipped to (0: none). */
  clipNorm: f32;
  /** Dropout's key: the run's seed, its low and high 32 bits. */
  seedLow: u32;
  seedHigh: u32;
  pool: usize;
  task: usize; //      a Product or an Elementwise of its own (the larger's bytes), to post to the pool
}

/** One layer: its parameters' places and its buffers. */
@unmanaged
export class Layer {
  units: i32;
  inputs: i32;
  activation: i32;
  parameter: f32;
  weights: usize; //     (OUT, IN)
  biases: usize; //      (OUT)
  gradWeights: usize; // (OUT, IN)
  gradBiases: usize; //  (OUT)
  net: usize; //         (B, OUT)
  out: usize; //         (B, OUT)
  delta: usize; //       (B, OUT)
  /** Dropout: a unit is kept where its draw is at least this (0: the layer never drops), and then scaled by dropoutScale. */
  dropoutThreshold: u32;
  dropoutScale: f32;
  mask: usize; //        (B, OUT) the step's mask, where the layer drops
}

/** Bytes of a network's description with `layers` layers. */
export function net_bytes(layers: i32): i32 {
  return offsetof<Net>() + layers * offsetof<Layer>();
}

export function layerOf(net: Net, l: i32): Layer {
  return changetype<Layer>(changetype<usize>(net) + offsetof<Net>() + <usize>l * offsetof<Layer>());
}

function product(net: Net, m: i32, n: i32, k: i32, a: usize, rsA: i32, csA: i32, b: usize, rsB: i32, csB: i32, c: usize, rsC: i32, alpha: f32): void {
  const p = changetype<Product>(net.task);
  p.m = m;
  p.n = n;
  p.k = k;
  p.a = a;
  p.rsA = rsA;
  p.csA = csA;
  p.b = b;
  p.rsB = rsB;
  p.csB = csB;
  p.c = c;
  p.rsC = rsC;
  p.alpha = alpha;
  runProduct(changetype<Pool>(net.pool), p);
}

/** The network's task space as an Elementwise of `kind`, op `code`, over `count` rows or elements; its buffers are the caller's to set. */
function elementwise(net: Net, kind: i32, code: i32, count: i32, parameter: f32): Elementwise {
  const work = changetype<Elementwise>(net.task);
  work.kind = kind;
  work.code = code;
  work.count = count;
  work.parameter = parameter;
  return work;
}

/** `count` floats from `from` to `to`: a loop below 64 (a bulk copy's call costs more than a tiny network's row). */
@inline
function copyFloats(to: usize, from: usize, count: i32): void {
  if (count >= 64) {
    memory.copy(to, from, <usize>count << 2);
    return;
  }
  for (let k = 0; k < count; k++) store<f32>(to + (<usize>k << 2), load<f32>(from + (<usize>k << 2)));
}

/** The batch's rows of the dataset, by the host's schedule: `rows` (B). */
function gather(net: Net, rows: usize): void {
  const inputs = net.inputs;
  const outputs = net.outputs;
  for (let b = 0; b < net.batch; b++) {
    const row = <usize>load<u32>(rows + (<usize>b << 2));
    copyFloats(net.input + (<usize>(b * inputs) << 2), net.data + ((row * <usize>inputs) << 2), inputs);
    copyFloats(net.target + (<usize>(b * outputs) << 2), net.targets + ((row * <usize>outputs) << 2), outputs);
  }
}

/** net = in·Wᵀ + b, out = f(net), layer by layer, for `count` rows of `input` (count, IN): prediction's forward pass (its Net's layers never drop). */
export function forward_rows(address: usize, input: usize, count: i32): void {
  forward(changetype<Net>(address), input, count, 0);
}

/**
 * The forward pass; a layer that drops multiplies its outputs by the mask of step `step`
 * (0-based). Only a training Net's layers drop: the host describes the rows it predicts
 * with as layers that never do (dropoutThreshold 0).
 */
function forward(net: Net, input: usize, count: i32, step: u32): void {
  let x = input;
  for (let l = 0; l < net.layers; l++) {
    const layer = layerOf(net, l);
    const units = layer.units;
    // (count, OUT) = (count, IN) · (IN, OUT): Wᵀ read through its strides
    product(net, count, units, layer.inputs, x, layer.inputs, 1, layer.weights, 1, layer.inputs, layer.net, units, 1);
    if (has_activation(layer.activation)) {
      if (sharesElements(changetype<Pool>(net.pool), <i64>count * units)) {
        const work = elementwise(net, ACTIVATE, layer.activation, count, layer.parameter);
        work.width = units;
        work.net = layer.net;
        work.out = layer.out;
        work.biases = layer.biases;
        runElementwise(changetype<Pool>(net.pool), work);
      } else {
        activateRows(layer.activation, layer.net, layer.out, layer.biases, count, units, layer.parameter);
      }
    } else if (is_row_activation(layer.activation)) {
      addBiases(layer.net, layer.biases, count, units);
      for (let b = 0; b < count; b++) {
        const at = <usize>b * units << 2;
        if (isNaN(activate_row(layer.activation, layer.net + at, layer.out + at, units))) {
          host_activate(net.handle, l, count);
          break;
        }
      }
    } else {
      addBiases(layer.net, layer.biases, count, units);
      host_activate(net.handle, l, count);
    }
    if (layer.dropoutThreshold != 0) dropRows(layer.out, layer.mask, count, units, l, step, net.seedLow, net.seedHigh, layer.dropoutThreshold, layer.dropoutScale);
    x = layer.out;
  }
}

/** log Σ_k e^net_k over a row, less its largest (no overflow). */
function logSumExpOf(net: usize, count: i32): f32 {
  let largest = -Infinity as f32;
  for (let k = 0; k < count; k++) largest = max(largest, load<f32>(net + (<usize>k << 2)));
  let sum: f32 = 0;
  for (let k = 0; k < count; k++) sum += Mathf.exp(load<f32>(net + (<usize>k << 2)) - largest);
  return largest + Mathf.log(sum);
}

/** Each sample's loss and the output layer's δ (as src/reference/losses.ts), for `count` rows of `target`; the sum of the losses. */
export function output_rows(address: usize, target: usize, count: i32): f64 {
  const net = changetype<Net>(address);
  const layer = layerOf(net, net.layers - 1);
  const K = layer.units;
  const kind = loss_body(net.loss);
  const row = is_row_activation(layer.activation);
  if (kind == 0 || (kind == 1 && !row && !has_activation(layer.activation))) {
    host_output(net.handle, target, count);
  } else {
    for (let b = 0; b < count; b++) {
      const at = <usize>b * K << 2;
      const netRow = layer.net + at;
      const outRow = layer.out + at;
      const deltaRow = layer.delta + at;
      const t = target + at;
      let loss: f32 = 0;
      if (kind == 2) {
        // From the logits: softmax's row is one distribution, a sigmoid output its own.
        let targetSum: f32 = 1;
        if (row) {
          targetSum = 0;
          for (let k = 0; k < K; k++) targetSum += load<f32>(t + (<usize>k << 2));
          const logSumExp = logSumExpOf(netRow, K);
          for (let k = 0; k < K; k++) loss += logits_softmax_loss(net.loss, load<f32>(netRow + (<usize>k << 2)), load<f32>(t + (<usize>k << 2)), logSumExp);
        } else {
          for (let k = 0; k < K; k++) loss += logits_sigmoid_loss(net.loss, load<f32>(netRow + (<usize>k << 2)), load<f32>(t + (<usize>k << 2)));
        }
        for (let k = 0; k < K; k++) store<f32>(deltaRow + (<usize>k << 2), logits_delta(net.loss, load<f32>(outRow + (<usize>k << 2)), load<f32>(t + (<usize>k << 2)), targetSum));
      } else {
        for (let k = 0; k < K; k++) loss += loss_term(net.loss, load<f32>(outRow + (<usize>k << 2)), load<f32>(t + (<usize>k << 2)), K);
        if (row) {
          // Softmax couples its outputs: δ_k = out_k (g_k − Σ_j out_j g_j).
          let weighted: f32 = 0;
          for (let j = 0; j < K; j++) {
            const out = load<f32>(outRow + (<usize>j << 2));
            weighted += out * loss_gradient(net.loss, out, load<f32>(t + (<usize>j << 2)), K);
          }
          for (let k = 0; k < K; k++) {
            const out = load<f32>(outRow + (<usize>k << 2));
            store<f32>(deltaRow + (<usize>k << 2), out * (loss_gradient(net.loss, out, load<f32>(t + (<usize>k << 2)), K) - weighted));
          }
        } else {
          for (let k = 0; k < K; k++) {
            const out = load<f32>(outRow + (<usize>k << 2));
            const slope = derivative_of(layer.activation, load<f32>(netRow + (<usize>k << 2)), out, layer.parameter);
            store<f32>(deltaRow + (<usize>k << 2), loss_gradient(net.loss, out, load<f32>(t + (<usize>k << 2)), K) * slope);
          }
        }
      }
      store<f32>(net.losses + (<usize>b << 2), loss);
    }
  }
  let sum: f64 = 0;
  for (let b = 0; b < count; b++) sum += <f64>load<f32>(net.losses + (<usize>b << 2));
  return sum;
}

/** δ of every hidden layer: the next layer's δ sent back through its weights, times f′. */
function backward(net: Net): void {
  const B = net.batch;
  for (let l = net.layers - 2; l >= 0; l--) {
    const layer = layerOf(net, l);
    const next = layerOf(net, l + 1);
    // (B, OUT) = (B, NEXT) · (NEXT, OUT)
    product(net, B, layer.units, next.units, next.delta, next.units, 1, next.weights, layer.units, 1, layer.delta, layer.units, 1);
    if (!has_activation(layer.activation)) {
      host_derivative(net.handle, l, B);
      continue;
    }
    // Where the layer dropped, δ is times its mask, and the slope is of the output before it, f(net).
    const dropped = layer.dropoutThreshold != 0;
    const count = B * layer.units;
    if (sharesElements(changetype<Pool>(net.pool), count)) {
      const work = elementwise(net, dropped ? DROPPED_DERIVATIVE : DERIVATIVE, layer.activation, count, layer.parameter);
      work.net = layer.net;
      work.out = layer.out;
      work.mask = layer.mask;
      work.delta = layer.delta;
      runElementwise(changetype<Pool>(net.pool), work);
    } else if (dropped) {
      dropped_derivative_rows(layer.activation, layer.net, layer.mask, layer.delta, count, layer.parameter);
    } else {
      derivative_rows(layer.activation, layer.net, layer.out, layer.delta, count, layer.parameter);
    }
  }
}

/** ∂E/∂W = δᵀ·in / B and ∂E/∂b = Σ_b δ / B, layer by layer. */
function gradients(net: Net): void {
  const B = net.batch;
  let x = net.input;
  for (let l = 0; l < net.layers; l++) {
    const layer = layerOf(net, l);
    const units = layer.units;
    // (OUT, IN) = (OUT, B) · (B, IN): δᵀ read through its strides
    product(net, units, layer.inputs, B, layer.delta, 1, units, x, layer.inputs, 1, layer.gradWeights, layer.inputs, 1 / <f32>B);
    for (let j = 0; j < units; j++) store<f32>(layer.gradBiases + (<usize>j << 2), 0);
    for (let b = 0; b < B; b++) {
      const row = layer.delta + (<usize>b * units << 2);
      for (let j = 0; j < units; j++) store<f32>(layer.gradBiases + (<usize>j << 2), load<f32>(layer.gradBiases + (<usize>j << 2)) + load<f32>(row + (<usize>j << 2)));
    }
    for (let j = 0; j < units; j++) store<f32>(layer.gradBiases + (<usize>j << 2), load<f32>(layer.gradBiases + (<usize>j << 2)) / <f32>B);
    x = layer.out;
  }
}

/**
 * Clipping's factor, as clip_grad_norm_ (src/reference/optimizers.ts, clipScale):
 * C/(‖g‖ + 1e-6), at most 1, ‖g‖ over every trained parameter's gradient, its squares
 * summed in f64 where they lie.
 */
function clipScale(net: Net): f32 {
  let squares: f64 = 0;
  for (let l = 0; l < net.layers; l++) {
    const layer = layerOf(net, l);
    for (let part = 0; part < 2; part++) {
      if (part == 1 && !net.trainBiases) continue;
      const grads = part == 0 ? layer.gradWeights : layer.gradBiases;
      const count = part == 0 ? layer.units * layer.inputs : layer.units;
      for (let k = 0; k < count; k++) {
        const g = <f64>load<f32>(grads + (<usize>k << 2));
        squares += g * g;
      }
    }
  }
  return <f32>min(1, <f64>net.clipNorm / (Math.sqrt(squares) + 1e-6));
}

/** The optimizer's update of every trained parameter (the biases where they train), its gradient clipped first where it is. */
function update(net: Net, rates: usize, t: i32): void {
  const scale: f32 = net.clipNorm > 0 ? clipScale(net) : 1;
  if (!has_optimizer(net.optimizer)) {
    host_update(net.handle, t, changetype<Rates>(rates).learningRate, scale);
    return;
  }
  for (let l = 0; l < net.layers; l++) {
    const layer = layerOf(net, l);
    for (let part = 0; part < 2; part++) {
      if (part == 1 && !net.trainBiases) continue;
      const params = part == 0 ? layer.weights : layer.biases;
      const grads = part == 0 ? layer.gradWeights : layer.gradBiases;
      const count = part == 0 ? layer.units * layer.inputs : layer.units;
      const offset = params - net.params;
      if (!sharesElements(changetype<Pool>(net.pool), count)) {
        optimizer_update(net.optimizer, params, grads, net.state0 + offset, net.state1 + offset, count, net.constants, rates, scale);
        continue;
      }
      const work = elementwise(net, UPDATE, net.optimizer, count, 0);
      work.params = params;
      work.grads = grads;
      work.state0 = net.state0 + offset;
      work.state1 = net.state1 + offset;
      work.constants = net.constants;
      work.rates = rates;
      work.scale = scale;
      runElementwise(changetype<Pool>(net.pool), work);
    }
  }
}

/**
 * `steps` training steps: step s takes the rows `rows` + s·B (u32), its rates from `rates`
 * (a Rates each) and writes its mean loss to `losses` (f64 each). The first is step
 * `first` + 1 (the optimizer counts from 1; dropout's counter, from 0, is `first`).
 */
export function train_steps(address: usize, steps: i32, rows: usize, rates: usize, losses: usize, first: i32): void {
  const net = changetype<Net>(address);
  const B = net.batch;
  for (let s = 0; s < steps; s++) {
    gather(net, rows + (<usize>s * B << 2));
    forward(net, net.input, B, <u32>(first + s));
    const loss = output_rows(address, net.target, B);
    backward(net);
    gradients(net);
    update(net, rates + <usize>s * offsetof<Rates>(), first + s + 1);
    store<f64>(losses + (<usize>s << 3), loss / <f64>B);
  }
}
