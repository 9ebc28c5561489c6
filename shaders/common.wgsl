// Shared by every kernel: the shader loader (src/gpu/shaders.ts) prepends this file to
// each one, the only include mechanism, followed by shaders/ops.wgsl and the switches on
// the op codes. The struct layouts here are mirrored in src/gpu/abi.ts, and
// test/abi.test.ts checks that the two agree.

// The optimizer, for the kernels that update parameters: its code (OPTIMIZER_CODE in
// src/gpu/abi.ts), the arrays of state it keeps (0, 1 or 2), its weight decay λ (added to
// the gradient, or applied by its update where DECOUPLED_DECAY), and whether biases
// train. Its constants are overrides of shaders/ops.wgsl, beside its update.
override OPTIMIZER: u32 = 0u;
override STATE_SLOTS: u32 = 0u;
override WEIGHT_DECAY: f32 = 0.0;
override DECOUPLED_DECAY: bool = false;
override TRAIN_BIASES: bool = true;
// Gradient clipping to this global norm (0: none): the update waits for Σ g² over every
// trained parameter (grad_norm.wgsl, or the fused kernel's own sum).
override CLIP_NORM: f32 = 0.0;

// One layer of the layered path, a uniform per layer (layerUniform in src/gpu/abi.ts). What
// sets one layer apart from another is here rather than in override constants, so layers
// share a forward (and a δ) pipeline where their tile plans agree, and the choices that
// shape the code do: the activation, vec4 loads, whether dropout draws (the kernels' overrides).
struct Layer {
  batch: u32,                // B
  inputs: u32,               // IN
  units: u32,                // OUT
  next_units: u32,           // NEXT, the units of the layer above (0 for the output layer)
  weights_offset: u32,       // into params, grads and optimizer state: this layer's (OUT, IN) weights
  biases_offset: u32,        // … its (OUT) biases
  next_weights_offset: u32,  // … the layer above's (NEXT, OUT) weights
  index: u32,                // l, dropout's counter
  gather: u32,               // 1: the inputs are the dataset's rows, picked by batch_rows (the first layer)
  activation_parameter: f32, // its activation's parameter (the code is the kernels' ACTIVATION)
  net_only: u32,             // 1: the forward product writes net alone (the output stage, or softmax.wgsl, computes out)
  keep_net: u32,             // 1: net is written for the backward pass (the activation's slope, or dropout, needs it)
  dropout_threshold: u32,    // in training with dropout (the kernels' DROPOUT), a unit is kept where its draw is at least this
  dropout_scale: f32,        // … and then scaled by 1/(1 − p)
}

// What changes from step to step (packStep in src/gpu/abi.ts).
struct Step {
  rows_offset: u32,   // into batch_rows: where this step's B rows start
  loss_slot: u32,     // where this step's mean loss goes in loss_history
  learning_rate: f32, // η of this step, by the schedule
  correction1: f32,   // Adam's 1 − β1^t, computed in float64 on the CPU
  correction2: f32,   // Adam's 1 − β2^t
  index: u32,         // s, the steps since training began: dropout's counter
  seed_low: u32,      // the run's seed, dropout's key: its low 32 bits
  seed_high: u32,     // … and the rest
}

/** clip_grad_norm_'s factor from Σ g²: CLIP_NORM/(‖g‖ + 1e-6), at most 1. */
fn clip_factor(squares: f32) -> f32 {
  return min(1.0, CLIP_NORM / (sqrt(squares) + 1e-6));
}

/**
 * One parameter's step by OPTIMIZER, with weight decay λ·w added to the gradient (L2) unless
 * the update decays the parameter itself; `s0` and `s1` are its optimizer state
 * (STATE_SLOTS of them used), updated in place.
 */
fn optimize(param: f32, grad: f32, s0: ptr<function, f32>, s1: ptr<function, f32>, step: Step) -> f32 {
  let g = select(grad + WEIGHT_DECAY * param, grad, DECOUPLED_DECAY);
  return optimizer_update(OPTIMIZER, param, g, s0, s1, step);
}
