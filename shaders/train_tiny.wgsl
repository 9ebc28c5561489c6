// Twin of CpuTrainer's training step (src/reference/trainer.ts), repeated: a whole chunk
// of steps in one dispatch of one workgroup. For article-sized networks a step is a few
// hundred operations, far less than the cost of dispatching the layered kernels
// (forward.wgsl … weight_update.wgsl) one by one; here the phases of a step (gather,
// forward, output delta, hidden deltas, update) are separated by barriers instead, and
// each thread takes every WORKGROUP_SIZE-th element of a phase.
//
// The activation, loss and optimizer arithmetic is that of forward.wgsl,
// output_delta.wgsl and weight_update.wgsl (the output stage is the same code,
// output_stage.wgsl); the trainer runs the same cross-checks on both paths.
//
// Prepended: common.wgsl (Step, the optimizer's overrides, optimize), ops.wgsl (the codes,
// activate, derivative), output_stage.wgsl (LOSS, softmax_row, sample_loss).

// The network is compiled in: every size, offset and code below is an override
// constant, so loops over layers unroll and each layer's activation is known. The
// trainer sets them from the model's layer table and buffer layouts.
override LAYERS: u32;        // at most 4
override BATCH: u32;         // B
override INPUTS: u32;        // IN
override OUTPUTS: u32;       // K
override INPUT_OFFSET: u32;   // into values: the batch's (B, IN) inputs
override TARGET_OFFSET: u32;  //             … its (B, K) targets
override LOSS_OFFSET: u32;    //             … each sample's loss (B)
override TARGETS_OFFSET: u32; // into dataset: the (N, K) targets, after the (N, IN) inputs
override STATE1_OFFSET: u32;  // into state: Adam's v, after m (or the velocity)
// Layer l: its units, its activation and the activation's parameter; its weights and
// biases in params; its net, out and delta in values, and where its input is (the
// batch's inputs, or the layer below's out).
override UNITS_0: u32 = 0;
override ACTIVATION_0: u32 = 0;
override PARAMETER_0: f32 = 0.0;
override WEIGHTS_0: u32 = 0;
override BIASES_0: u32 = 0;
override NET_0: u32 = 0;
override OUT_0: u32 = 0;
override DELTA_0: u32 = 0;
override UNITS_1: u32 = 0;
override ACTIVATION_1: u32 = 0;
override PARAMETER_1: f32 = 0.0;
override WEIGHTS_1: u32 = 0;
override BIASES_1: u32 = 0;
override NET_1: u32 = 0;
override OUT_1: u32 = 0;
override DELTA_1: u32 = 0;
override UNITS_2: u32 = 0;
override ACTIVATION_2: u32 = 0;
override PARAMETER_2: f32 = 0.0;
override WEIGHTS_2: u32 = 0;
override BIASES_2: u32 = 0;
override NET_2: u32 = 0;
override OUT_2: u32 = 0;
override DELTA_2: u32 = 0;
override UNITS_3: u32 = 0;
override ACTIVATION_3: u32 = 0;
override PARAMETER_3: f32 = 0.0;
override WEIGHTS_3: u32 = 0;
override BIASES_3: u32 = 0;
override NET_3: u32 = 0;
override OUT_3: u32 = 0;
override DELTA_3: u32 = 0;

struct Chunk {
  steps: u32, // steps in this dispatch
}

@group(0) @binding(0) var<uniform> chunk: Chunk;
@group(0) @binding(1) var<storage, read> dataset: array<f32>;          // (N, IN) inputs, then (N, K) targets
@group(0) @binding(2) var<storage, read> batch_rows: array<u32>;       // (STEPS, B)
@group(0) @binding(3) var<storage, read> steps: array<Step>;           // (STEPS)
@group(0) @binding(4) var<storage, read_write> values: array<f32>;     // every per-step buffer, by stepBufferLayout
@group(0) @binding(5) var<storage, read_write> params: array<f32>;     // (P)
@group(0) @binding(6) var<storage, read_write> grads: array<f32>;      // (P)
@group(0) @binding(7) var<storage, read_write> state: array<f32>;      // (2, P): optimizer state
@group(0) @binding(8) var<storage, read_write> loss_history: array<f32>; // (STEPS)

override WORKGROUP_SIZE: u32 = 64;

struct LayerInfo {
  units: u32,
  activation: u32,
  parameter: f32,
  weights: u32,
  biases: u32,
  net: u32,
  out: u32,
  delta: u32,
  input: u32,  // where its input is in values
  inputs: u32, // its input width
}

fn layer_info(l: u32) -> LayerInfo {
  switch l {
    case 0u: {
      return LayerInfo(UNITS_0, ACTIVATION_0, PARAMETER_0, WEIGHTS_0, BIASES_0, NET_0, OUT_0, DELTA_0, INPUT_OFFSET, INPUTS);
    }
    case 1u: {
      return LayerInfo(UNITS_1, ACTIVATION_1, PARAMETER_1, WEIGHTS_1, BIASES_1, NET_1, OUT_1, DELTA_1, OUT_0, UNITS_0);
    }
    case 2u: {
      return LayerInfo(UNITS_2, ACTIVATION_2, PARAMETER_2, WEIGHTS_2, BIASES_2, NET_2, OUT_2, DELTA_2, OUT_1, UNITS_1);
    }
    default: {
      return LayerInfo(UNITS_3, ACTIVATION_3, PARAMETER_3, WEIGHTS_3, BIASES_3, NET_3, OUT_3, DELTA_3, OUT_2, UNITS_2);
    }
  }
}

// Where output_stage.wgsl finds the output layer's values: in `values`, by the layer table.
fn output_net(b: u32, k: u32) -> f32 {
  return values[layer_info(LAYERS - 1u).net + b * OUTPUTS + k];
}

fn output_out(b: u32, k: u32) -> f32 {
  return values[layer_info(LAYERS - 1u).out + b * OUTPUTS + k];
}

fn output_target(b: u32, k: u32) -> f32 {
  return values[TARGET_OFFSET + b * OUTPUTS + k];
}

fn set_output_out(b: u32, k: u32, value: f32) {
  values[layer_info(LAYERS - 1u).out + b * OUTPUTS + k] = value;
}

fn set_output_delta(b: u32, k: u32, value: f32) {
  values[layer_info(LAYERS - 1u).delta + b * OUTPUTS + k] = value;
}

/** One parameter's gradient and optimizer step. As weight_update.wgsl's `update`. */
fn update(index: u32, grad: f32, step: Step) {
  grads[index] = grad;
  var s0 = 0.0;
  var s1 = 0.0;
  if (STATE_SLOTS >= 1u) {
    s0 = state[index];
  }
  if (STATE_SLOTS == 2u) {
    s1 = state[STATE1_OFFSET + index];
  }
  params[index] = optimize(params[index], grad, &s0, &s1, step);
  if (STATE_SLOTS >= 1u) {
    state[index] = s0;
  }
  if (STATE_SLOTS == 2u) {
    state[STATE1_OFFSET + index] = s1;
  }
}

/** All threads have written what the next phase reads (storageBarrier is a control barrier too). */
fn phase_done() {
  storageBarrier();
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(local_invocation_index) thread: u32) {
  let B = BATCH;
  let L = LAYERS;
  let last = layer_info(L - 1u);
  for (var s = 0u; s < chunk.steps; s++) {
    let step = steps[s];

    // Gather: the batch's rows out of the dataset (gather_batch.wgsl).
    let width = INPUTS + OUTPUTS;
    for (var e = thread; e < B * width; e += WORKGROUP_SIZE) {
      let b = e / width;
      let c = e % width;
      let row = batch_rows[step.rows_offset + b];
      if (c < INPUTS) {
        values[INPUT_OFFSET + b * INPUTS + c] = dataset[row * INPUTS + c];
      } else {
        let k = c - INPUTS;
        values[TARGET_OFFSET + b * OUTPUTS + k] = dataset[TARGETS_OFFSET + row * OUTPUTS + k];
      }
    }
    phase_done();

    // Forward (forward.wgsl, softmax.wgsl).
    for (var l = 0u; l < L; l++) {
      let layer = layer_info(l);
      for (var e = thread; e < B * layer.units; e += WORKGROUP_SIZE) {
        let b = e / layer.units;
        let j = e % layer.units;
        var sum = params[layer.biases + j];
        for (var i = 0u; i < layer.inputs; i++) {
          sum += params[layer.weights + j * layer.inputs + i] * values[layer.input + b * layer.inputs + i];
        }
        values[layer.net + e] = sum;
        if (layer.activation != SOFTMAX) {
          values[layer.out + e] = activate(layer.activation, sum, layer.parameter);
        }
      }
      if (layer.activation == SOFTMAX) {
        // Softmax is the output layer's only (checkSpec): output_stage.wgsl's.
        phase_done();
        for (var b = thread; b < B; b += WORKGROUP_SIZE) {
          softmax_row(b, layer.units);
        }
      }
      phase_done();
    }

    // Output deltas and each sample's loss (output_stage.wgsl, as output_delta.wgsl).
    for (var b = thread; b < B; b += WORKGROUP_SIZE) {
      values[LOSS_OFFSET + b] = sample_loss(b, OUTPUTS, last.activation, last.parameter);
    }
    phase_done();
    if (thread == 0u) {
      var total = 0.0;
      for (var b = 0u; b < B; b++) {
        total += values[LOSS_OFFSET + b];
      }
      loss_history[step.loss_slot] = total / f32(B);
    }

    // Hidden deltas, from the top down (hidden_delta.wgsl).
    for (var l = i32(L) - 2; l >= 0; l--) {
      let layer = layer_info(u32(l));
      let above = layer_info(u32(l) + 1u);
      for (var e = thread; e < B * layer.units; e += WORKGROUP_SIZE) {
        let b = e / layer.units;
        let h = e % layer.units;
        var sum = 0.0;
        for (var o = 0u; o < above.units; o++) {
          sum += values[above.delta + b * above.units + o] * params[above.weights + o * layer.units + h];
        }
        values[layer.delta + e] = sum * derivative(layer.activation, values[layer.net + e], values[layer.out + e], layer.parameter);
      }
      phase_done();
    }

    // Gradients and the update (weight_update.wgsl): element i = inputs is the bias.
    for (var l = 0u; l < L; l++) {
      let layer = layer_info(l);
      let per_unit = layer.inputs + 1u;
      for (var e = thread; e < layer.units * per_unit; e += WORKGROUP_SIZE) {
        let j = e / per_unit;
        let i = e % per_unit;
        var sum = 0.0;
        for (var b = 0u; b < B; b++) {
          var x = 1.0;
          if (i < layer.inputs) {
            x = values[layer.input + b * layer.inputs + i];
          }
          sum += values[layer.delta + b * layer.units + j] * x;
        }
        let grad = sum * (1.0 / f32(B));
        if (i < layer.inputs) {
          update(layer.weights + j * layer.inputs + i, grad, step);
        } else if (TRAIN_BIASES) {
          update(layer.biases + j, grad, step);
        } else {
          grads[layer.biases + j] = grad;
        }
      }
    }
    phase_done();
  }
}
