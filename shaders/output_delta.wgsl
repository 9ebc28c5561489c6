// Twin of the output layer's end of forwardLayer, of sampleLosses and of outputDeltas
// (src/reference/backprop.ts, activations.ts, losses.ts): the output stage of a training
// step, one thread per sample. From the output layer's net inputs (or, where forward.wgsl
// split the product, its partial sums plus the biases) it computes out (softmax too), each
// sample's loss and δ = ∂E/∂net; then each workgroup's share of the batch's mean loss goes
// into the loss history (STEPS, GROUPS), which the trainer adds up when it reads it.
//
// The targets are read straight out of the dataset through the step's batch rows. The
// per-sample losses are written only for a check (CAPTURE).
//
// Prepended: reduce_subgroups.wgsl or reduce_workgroup.wgsl (workgroup_sum), common.wgsl
// (Layer, Step, the codes, activate, derivative_from_out, loss_gradient, softplus).

@group(0) @binding(0) var<uniform> layer: Layer;
@group(0) @binding(1) var<storage, read> params: array<f32>;             // (P) the biases at biases_offset
@group(0) @binding(2) var<storage, read> dataset_targets: array<f32>;    // (N, K)
@group(0) @binding(3) var<storage, read> batch_rows: array<u32>;         // (STEPS, B)
@group(0) @binding(4) var<storage, read_write> net: array<f32>;          // (B, K); (SPLIT_K, B, K) partial sums where split
@group(0) @binding(5) var<storage, read_write> out: array<f32>;          // (B, K)
@group(0) @binding(6) var<storage, read_write> delta: array<f32>;        // (B, K)
@group(0) @binding(7) var<storage, read_write> loss: array<f32>;         // (B)
@group(0) @binding(8) var<storage, read_write> loss_history: array<f32>; // (STEPS, GROUPS)
@group(1) @binding(0) var<uniform> step: Step;

override ACTIVATION: u32;      // the output layer's activation code
override LOSS: u32;            // a loss code
override SPLIT_K: u32 = 1u;    // forward.wgsl's split of the output layer's product
override CAPTURE: bool = true; // write each sample's loss
override THREADS: u32 = 64u;   // a power of two, at most 256

/**
 * Sample b's net inputs, where forward.wgsl split the product: the biases plus its
 * SPLIT_K partial sums, into the first slice (each element is this thread's alone).
 */
fn finish_net(b: u32) {
  if (SPLIT_K == 1u) {
    return;
  }
  let K = layer.units;
  let count = layer.batch * K;
  for (var k = 0u; k < K; k++) {
    var sum = params[layer.biases_offset + k];
    for (var z = 0u; z < SPLIT_K; z++) {
      sum += net[z * count + b * K + k];
    }
    net[b * K + k] = sum;
  }
}

/** out = f(net) for sample b; softmax from the row's largest net input, so exp cannot overflow. */
fn activate_row(b: u32) {
  let row = b * layer.units;
  let K = layer.units;
  if (ACTIVATION != SOFTMAX) {
    for (var k = 0u; k < K; k++) {
      out[row + k] = activate(ACTIVATION, net[row + k]);
    }
    return;
  }
  var largest = net[row];
  for (var k = 1u; k < K; k++) {
    largest = max(largest, net[row + k]);
  }
  var sum = 0.0;
  for (var k = 0u; k < K; k++) {
    let e = exp(net[row + k] - largest);
    out[row + k] = e;
    sum += e;
  }
  for (var k = 0u; k < K; k++) {
    out[row + k] /= sum;
  }
}

/** One sample's loss, and its deltas written to `delta`; `t0` is where its targets start. */
fn sample(b: u32, t0: u32) -> f32 {
  let row = b * layer.units;
  let K = layer.units;
  var sample_loss = 0.0;
  if (LOSS == CROSS_ENTROPY) {
    var target_sum = 0.0;
    var largest = net[row];
    for (var k = 0u; k < K; k++) {
      target_sum += dataset_targets[t0 + k];
      largest = max(largest, net[row + k]);
    }
    if (ACTIVATION == SOFTMAX) {
      // −Σ t_k log softmax(net)_k, from net: log softmax(net)_k = net_k − log Σ_j e^{net_j}
      var exp_sum = 0.0;
      for (var k = 0u; k < K; k++) {
        exp_sum += exp(net[row + k] - largest);
      }
      let log_sum_exp = largest + log(exp_sum);
      for (var k = 0u; k < K; k++) {
        sample_loss -= dataset_targets[t0 + k] * (net[row + k] - log_sum_exp);
        delta[row + k] = out[row + k] * target_sum - dataset_targets[t0 + k];
      }
    } else {
      // binary cross-entropy on sigmoid outputs: softplus(z) − t·z, δ = out − t
      for (var k = 0u; k < K; k++) {
        let z = net[row + k];
        sample_loss += softplus(z) - dataset_targets[t0 + k] * z;
        delta[row + k] = out[row + k] - dataset_targets[t0 + k];
      }
    }
    return sample_loss;
  }

  for (var k = 0u; k < K; k++) {
    let error = dataset_targets[t0 + k] - out[row + k];
    sample_loss += error * error;
  }
  if (LOSS == HALF_SSE) {
    sample_loss *= 0.5;
  } else if (LOSS == MSE) {
    sample_loss /= f32(K);
  }

  if (ACTIVATION == SOFTMAX) {
    // δ_k = out_k (g_k − Σ_j out_j g_j), g = ∂E/∂out: softmax couples its outputs.
    var weighted = 0.0;
    for (var j = 0u; j < K; j++) {
      weighted += out[row + j] * loss_gradient(LOSS, out[row + j], dataset_targets[t0 + j], K);
    }
    for (var k = 0u; k < K; k++) {
      delta[row + k] = out[row + k] * (loss_gradient(LOSS, out[row + k], dataset_targets[t0 + k], K) - weighted);
    }
  } else {
    for (var k = 0u; k < K; k++) {
      delta[row + k] = loss_gradient(LOSS, out[row + k], dataset_targets[t0 + k], K) * derivative_from_out(ACTIVATION, out[row + k]);
    }
  }
  return sample_loss;
}

@compute @workgroup_size(THREADS)
fn main(
  @builtin(workgroup_id) group: vec3u,
  @builtin(num_workgroups) groups: vec3u,
  @builtin(local_invocation_index) thread: u32,
) {
  let b = group.x * THREADS + thread;
  var sample_loss = 0.0;
  if (b < layer.batch) {
    finish_net(b);
    activate_row(b);
    sample_loss = sample(b, batch_rows[step.rows_offset + b] * layer.units);
    if (CAPTURE) {
      loss[b] = sample_loss;
    }
  }
  // This workgroup's share of the mean: the trainer adds the GROUPS shares of each step.
  let share = workgroup_sum(sample_loss, thread, THREADS);
  if (thread == 0u) {
    loss_history[step.loss_slot * groups.x + group.x] = share / f32(layer.batch);
  }
}
