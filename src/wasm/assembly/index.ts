// The WebAssembly module's exports: what the host (src/wasm/runtime.ts) calls. The host
// allocates every buffer in the one memory and describes the network to the step with
// `set_net` and `set_layer`; the step then runs without the host, but for an op that has
// no body here.

import { Product } from './gemm';
import { Elementwise } from './elementwise';
import { Pool } from './pool';
import { Layer, layerOf, Net } from './step';

export { net_bytes, train_steps, forward_rows, output_rows } from './step';
export { dropout_draw } from './dropout';
export { pool_bytes, pack_floats, worker_loop, pool_failed_offset, pool_done_offset } from './pool';
export {
  activate_rows,
  derivative_rows,
  dropped_derivative_rows,
  has_activation,
  is_row_activation,
  activate_row,
  loss_body,
  loss_term,
  loss_gradient,
  logits_softmax_loss,
  logits_sigmoid_loss,
  logits_delta,
  optimizer_update,
  has_optimizer,
} from './switch';

/** Bytes of a network's task space: a Product or an Elementwise, whichever is larger (a network keeps one to post to the pool). */
export function task_bytes(): i32 {
  return max(offsetof<Product>(), offsetof<Elementwise>());
}

/** Sets the pool's threads (the posting one included), the first thread's packing space, and whether the posting thread may block. */
export function set_pool(address: usize, threads: i32, pack: usize, mayBlock: i32): void {
  const pool = changetype<Pool>(address);
  pool.threads = threads;
  pool.pack = pack;
  pool.mayBlock = mayBlock;
}

/** Describes a network to the step (see Net in step.ts). */
export function set_net(
  address: usize,
  handle: i32,
  layers: i32,
  batch: i32,
  inputs: i32,
  outputs: i32,
  loss: i32,
  optimizer: i32,
  trainBiases: i32,
  data: usize,
  targets: usize,
  input: usize,
  target: usize,
  losses: usize,
  params: usize,
  grads: usize,
  state0: usize,
  state1: usize,
  constants: usize,
  clipNorm: f32,
  seedLow: u32,
  seedHigh: u32,
  pool: usize,
  task: usize,
): void {
  const net = changetype<Net>(address);
  net.handle = handle;
  net.layers = layers;
  net.batch = batch;
  net.inputs = inputs;
  net.outputs = outputs;
  net.loss = loss;
  net.optimizer = optimizer;
  net.trainBiases = trainBiases;
  net.data = data;
  net.targets = targets;
  net.input = input;
  net.target = target;
  net.losses = losses;
  net.params = params;
  net.grads = grads;
  net.state0 = state0;
  net.state1 = state1;
  net.constants = constants;
  net.clipNorm = clipNorm;
  net.seedLow = seedLow;
  net.seedHigh = seedHigh;
  net.pool = pool;
  net.task = task;
}

/** Describes layer `l` of a network (see Layer in step.ts). */
export function set_layer(
  address: usize,
  l: i32,
  units: i32,
  inputs: i32,
  activation: i32,
  parameter: f32,
  weights: usize,
  biases: usize,
  gradWeights: usize,
  gradBiases: usize,
  net: usize,
  out: usize,
  delta: usize,
  dropoutThreshold: u32,
  dropoutScale: f32,
  mask: usize,
): void {
  const layer: Layer = layerOf(changetype<Net>(address), l);
  layer.units = units;
  layer.inputs = inputs;
  layer.activation = activation;
  layer.parameter = parameter;
  layer.weights = weights;
  layer.biases = biases;
  layer.gradWeights = gradWeights;
  layer.gradBiases = gradBiases;
  layer.net = net;
  layer.out = out;
  layer.delta = delta;
  layer.dropoutThreshold = dropoutThreshold;
  layer.dropoutScale = dropoutScale;
  layer.mask = mask;
}
