// The output stage of one sample: out of a softmax output layer, the sample's loss, and
// its output deltas δ = ∂E/∂net. Twin of the output layer's end of forwardLayer, and of
// sampleLoss and outputDelta (src/reference/backprop.ts, losses.ts). The shader loader
// puts it after common.wgsl and ops.wgsl in the two kernels that run it,
// output_delta.wgsl (the layered path) and train_tiny.wgsl (the fused kernel); each says
// where the output layer's values of sample b, output k live by defining:
//   fn output_net(b: u32, k: u32) -> f32
//   fn output_out(b: u32, k: u32) -> f32
//   fn output_target(b: u32, k: u32) -> f32
//   fn set_output_out(b: u32, k: u32, value: f32)
//   fn set_output_delta(b: u32, k: u32, value: f32)

override LOSS: u32; // a loss code

/** out = softmax(net) for sample b, from the row's largest net input, so exp cannot overflow. */
fn softmax_row(b: u32, K: u32) {
  var largest = output_net(b, 0u);
  for (var k = 1u; k < K; k++) {
    largest = max(largest, output_net(b, k));
  }
  var sum = 0.0;
  for (var k = 0u; k < K; k++) {
    let e = exp(output_net(b, k) - largest);
    set_output_out(b, k, e);
    sum += e;
  }
  for (var k = 0u; k < K; k++) {
    set_output_out(b, k, output_out(b, k) / sum);
  }
}

/** Cross-entropy from the logits: sample b's loss, and its deltas. */
fn logits_sample_loss(b: u32, K: u32, activation: u32) -> f32 {
  var loss = 0.0;
  var target_sum = 0.0;
  var largest = output_net(b, 0u);
  for (var k = 0u; k < K; k++) {
    target_sum += output_target(b, k);
    largest = max(largest, output_net(b, k));
  }
  if (activation == SOFTMAX) {
    var exp_sum = 0.0;
    for (var k = 0u; k < K; k++) {
      exp_sum += exp(output_net(b, k) - largest);
    }
    let log_sum_exp = largest + log(exp_sum);
    for (var k = 0u; k < K; k++) {
      loss += cross_entropy_softmax_loss(output_net(b, k), output_target(b, k), log_sum_exp);
    }
  } else {
    for (var k = 0u; k < K; k++) {
      loss += cross_entropy_sigmoid_loss(output_net(b, k), output_target(b, k));
    }
  }
  // A softmax output is one distribution over the row; a sigmoid output is its own, t + (1 − t) = 1.
  let distribution_sum = select(1.0, target_sum, activation == SOFTMAX);
  for (var k = 0u; k < K; k++) {
    set_output_delta(b, k, cross_entropy_delta(output_out(b, k), output_target(b, k), distribution_sum));
  }
  return loss;
}

/** Sample b's loss, E = Σ_k e_k; writes its deltas. `activation` and `parameter` are the output layer's. */
fn sample_loss(b: u32, K: u32, activation: u32, parameter: f32) -> f32 {
  if (LOSS == CROSS_ENTROPY) {
    return logits_sample_loss(b, K, activation);
  }
  var loss = 0.0;
  for (var k = 0u; k < K; k++) {
    loss += loss_term(LOSS, output_out(b, k), output_target(b, k), K);
  }
  if (activation == SOFTMAX) {
    // δ_k = out_k (g_k − Σ_j out_j g_j), g = ∂E/∂out: softmax couples its outputs.
    var weighted = 0.0;
    for (var j = 0u; j < K; j++) {
      weighted += output_out(b, j) * loss_gradient(LOSS, output_out(b, j), output_target(b, j), K);
    }
    for (var k = 0u; k < K; k++) {
      let o = output_out(b, k);
      set_output_delta(b, k, o * (loss_gradient(LOSS, o, output_target(b, k), K) - weighted));
    }
  } else {
    for (var k = 0u; k < K; k++) {
      let o = output_out(b, k);
      set_output_delta(b, k, loss_gradient(LOSS, o, output_target(b, k), K) * derivative(activation, output_net(b, k), o, parameter));
    }
  }
  return loss;
}
