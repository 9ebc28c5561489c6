// Twin of the output layer's end of forwardLayer, of sampleLosses and of outputDeltas
// (src/reference/backprop.ts, activations.ts, losses.ts): the output stage of a training
// step, one thread per sample. From the output layer's net inputs (or, where forward.wgsl
// split the product, its partial sums plus the biases) it computes out (softmax too), each
// sample's loss and δ = ∂E/∂net (output_stage.wgsl); then each workgroup's share of the
// batch's mean loss goes into the loss history (STEPS, GROUPS), which the trainer adds up
// when it reads it.
//
// The targets are read straight out of the dataset through the step's batch rows. The
// per-sample losses are written only for a check (CAPTURE).
//
// Prepended: reduce_subgroups.wgsl or reduce_workgroup.wgsl (workgroup_sum), common.wgsl
// (Layer, Step), ops.wgsl (the codes, activate, derivative, the losses), output_stage.wgsl
// (LOSS, softmax_row, sample_loss).

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

override ACTIVATION: u32;                // the output layer's activation code
override ACTIVATION_PARAMETER: f32 = 0.0; // … and its parameter
override SPLIT_K: u32 = 1u;              // forward.wgsl's split of the output layer's product
override CAPTURE: bool = true;           // write each sample's loss
override THREADS: u32 = 64u;             // a power of two, at most 256

/** Where this thread's sample's targets start in the dataset. */
var<private> target_start: u32;

// Where output_stage.wgsl finds the output layer's values.
fn output_net(b: u32, k: u32) -> f32 {
  return net[b * layer.units + k];
}

fn output_out(b: u32, k: u32) -> f32 {
  return out[b * layer.units + k];
}

fn output_target(b: u32, k: u32) -> f32 {
  return dataset_targets[target_start + k];
}

fn set_output_out(b: u32, k: u32, value: f32) {
  out[b * layer.units + k] = value;
}

fn set_output_delta(b: u32, k: u32, value: f32) {
  delta[b * layer.units + k] = value;
}

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

/** out = f(net) for sample b. */
fn activate_row(b: u32) {
  if (ACTIVATION == SOFTMAX) {
    softmax_row(b, layer.units);
    return;
  }
  for (var k = 0u; k < layer.units; k++) {
    set_output_out(b, k, activate(ACTIVATION, output_net(b, k), ACTIVATION_PARAMETER));
  }
}

@compute @workgroup_size(THREADS)
fn main(
  @builtin(workgroup_id) group: vec3u,
  @builtin(num_workgroups) groups: vec3u,
  @builtin(local_invocation_index) thread: u32,
) {
  let b = group.x * THREADS + thread;
  var sample = 0.0;
  if (b < layer.batch) {
    finish_net(b);
    activate_row(b);
    target_start = batch_rows[step.rows_offset + b] * layer.units;
    sample = sample_loss(b, layer.units, ACTIVATION, ACTIVATION_PARAMETER);
    if (CAPTURE) {
      loss[b] = sample;
    }
  }
  // This workgroup's share of the mean: the trainer adds the GROUPS shares of each step.
  let share = workgroup_sum(sample, thread, THREADS);
  if (thread == 0u) {
    loss_history[step.loss_slot * groups.x + group.x] = share / f32(layer.batch);
  }
}
