// Shared by every kernel: the shader loader (src/gpu/shaders.ts) prepends this file to
// each one, the only include mechanism, followed by shaders/ops.wgsl and the switches on
// the op codes. The struct layouts here are mirrored in src/gpu/abi.ts, and
// test/abi.test.ts checks that the two agree.

// The optimizer, for the kernels that update parameters: its code (OPTIMIZER_CODE in
// src/gpu/abi.ts), the arrays of state it keeps (0, 1 or 2), and whether biases train.
// Its constants are overrides of shaders/ops.wgsl, beside its update.
override OPTIMIZER: u32 = 0u;
override STATE_SLOTS: u32 = 0u;
override TRAIN_BIASES: bool = true;

// One layer of the layered path, a uniform per layer (layerUniform in src/gpu/abi.ts).
struct Layer {
  batch: u32,               // B
  inputs: u32,              // IN
  units: u32,               // OUT
  next_units: u32,          // NEXT, the units of the layer above (0 for the output layer)
  weights_offset: u32,      // into params, grads and optimizer state: this layer's (OUT, IN) weights
  biases_offset: u32,       // … its (OUT) biases
  next_weights_offset: u32, // … the layer above's (NEXT, OUT) weights
}

// What changes from step to step (packSteps in src/gpu/abi.ts).
struct Step {
  rows_offset: u32,   // into batch_rows: where this step's B rows start
  loss_slot: u32,     // where this step's mean loss goes in loss_history
  learning_rate: f32, // η
  correction1: f32,   // Adam's 1 − β1^t, computed in float64 on the CPU
  correction2: f32,   // Adam's 1 − β2^t
}

/** One parameter's step by OPTIMIZER; `s0` and `s1` are its optimizer state (STATE_SLOTS of them used), updated in place. */
fn optimize(param: f32, grad: f32, s0: ptr<function, f32>, s1: ptr<function, f32>, step: Step) -> f32 {
  return optimizer_update(OPTIMIZER, param, grad, s0, s1, step);
}
