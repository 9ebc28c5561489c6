// Twin of outputDeltas and sampleLosses (src/reference/backprop.ts, losses.ts): each
// sample's loss and the output layer's δ = ∂E/∂net, then the batch's mean loss into
// its slot of the loss history, where it stays until the trainer is asked for it.
//
// One workgroup does the whole batch, so the mean needs no second pass.
//
// Prepended: common.wgsl (Layer, Step, the codes, derivative_from_out, loss_gradient, softplus).

@group(0) @binding(0) var<uniform> layer: Layer;
@group(0) @binding(1) var<storage, read> net: array<f32>;               // (B, K)
@group(0) @binding(2) var<storage, read> out: array<f32>;               // (B, K)
@group(0) @binding(3) var<storage, read> targets: array<f32>;           // (B, K)
@group(0) @binding(4) var<storage, read_write> delta: array<f32>;       // (B, K)
@group(0) @binding(5) var<storage, read_write> loss: array<f32>;        // (B)
@group(0) @binding(6) var<storage, read_write> loss_history: array<f32>; // (HISTORY)
@group(1) @binding(0) var<uniform> step: Step;

override ACTIVATION: u32; // the output layer's activation code
override LOSS: u32;       // a loss code

const WORKGROUP_SIZE = 64u;
var<workgroup> partial_sums: array<f32, WORKGROUP_SIZE>;

/** One sample's loss, and its deltas written to `delta`. */
fn sample(b: u32) -> f32 {
  let row = b * layer.units;
  let K = layer.units;
  var sample_loss = 0.0;
  if (LOSS == CROSS_ENTROPY) {
    var target_sum = 0.0;
    var largest = net[row];
    for (var k = 0u; k < K; k++) {
      target_sum += targets[row + k];
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
        sample_loss -= targets[row + k] * (net[row + k] - log_sum_exp);
        delta[row + k] = out[row + k] * target_sum - targets[row + k];
      }
    } else {
      // binary cross-entropy on sigmoid outputs: softplus(z) − t·z, δ = out − t
      for (var k = 0u; k < K; k++) {
        let z = net[row + k];
        sample_loss += softplus(z) - targets[row + k] * z;
        delta[row + k] = out[row + k] - targets[row + k];
      }
    }
    return sample_loss;
  }

  for (var k = 0u; k < K; k++) {
    let error = targets[row + k] - out[row + k];
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
      weighted += out[row + j] * loss_gradient(LOSS, out[row + j], targets[row + j], K);
    }
    for (var k = 0u; k < K; k++) {
      delta[row + k] = out[row + k] * (loss_gradient(LOSS, out[row + k], targets[row + k], K) - weighted);
    }
  } else {
    for (var k = 0u; k < K; k++) {
      delta[row + k] = loss_gradient(LOSS, out[row + k], targets[row + k], K) * derivative_from_out(ACTIVATION, out[row + k]);
    }
  }
  return sample_loss;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) thread: u32) {
  var sum = 0.0;
  for (var b = thread; b < layer.batch; b += WORKGROUP_SIZE) {
    let sample_loss = sample(b);
    loss[b] = sample_loss;
    sum += sample_loss;
  }
  partial_sums[thread] = sum;
  workgroupBarrier();
  for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride /= 2u) {
    if (thread < stride) {
      partial_sums[thread] += partial_sums[thread + stride];
    }
    workgroupBarrier();
  }
  if (thread == 0u) {
    loss_history[step.loss_slot] = partial_sums[0] / f32(layer.batch);
  }
}
