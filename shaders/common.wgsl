// Shared by every kernel: the shader loader (src/gpu/shaders.ts) prepends this file to
// each one, the only include mechanism. The codes and struct layouts here are mirrored
// in src/gpu/abi.ts, and test/abi.test.ts checks that the two agree.
//
// Twins: activate and derivative_from_out of src/reference/activations.ts; loss_gradient
// and softplus of src/reference/losses.ts; optimize of src/reference/optimizers.ts.

// Activation codes: ACTIVATION_CODE in src/gpu/abi.ts.
const LINEAR = 0u;
const SIGMOID = 1u;
const TANH = 2u;
const RELU = 3u;
const SOFTMAX = 4u; // a row-wise function: in training the output stage (or the fused kernel) writes `out`, in prediction softmax.wgsl

// Loss codes: LOSS_CODE in src/gpu/abi.ts.
const HALF_SSE = 0u;
const SSE = 1u;
const MSE = 2u;
const CROSS_ENTROPY = 3u;

// Optimizer codes: OPTIMIZER_CODE in src/gpu/abi.ts.
const SGD = 0u;
const MOMENTUM = 1u;
const ADAM = 2u;

// The optimizer, for the kernels that update parameters.
override OPTIMIZER: u32 = SGD;
override MOMENTUM_FACTOR: f32 = 0.9;
override BETA1: f32 = 0.9;
override BETA2: f32 = 0.999;
override EPSILON: f32 = 1e-8;
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

/** out = f(net) for the element-wise activations. */
fn activate(activation: u32, x: f32) -> f32 {
  switch activation {
    case SIGMOID: {
      return 1.0 / (1.0 + exp(-x));
    }
    case TANH: {
      // From exp(−2|x|) ≤ 1: no overflow, where some drivers' tanh returns NaN for large |x|.
      let e = exp(-2.0 * abs(x));
      return sign(x) * (1.0 - e) / (1.0 + e);
    }
    case RELU: {
      return max(x, 0.0);
    }
    default: {
      return x;
    }
  }
}

/** ∂out/∂net from out, for the element-wise activations. */
fn derivative_from_out(activation: u32, o: f32) -> f32 {
  switch activation {
    case SIGMOID: {
      return o * (1.0 - o);
    }
    case TANH: {
      return 1.0 - o * o;
    }
    case RELU: {
      return select(0.0, 1.0, o > 0.0);
    }
    default: {
      return 1.0;
    }
  }
}

/** ∂E/∂out_k of the squared-error losses: −(target − out) for half-sse. */
fn loss_gradient(loss: u32, o: f32, t: f32, outputs: u32) -> f32 {
  switch loss {
    case SSE: {
      return -2.0 * (t - o);
    }
    case MSE: {
      return -2.0 * (t - o) / f32(outputs);
    }
    default: {
      return -(t - o);
    }
  }
}

/** log(1 + e^z) without overflow. */
fn softplus(z: f32) -> f32 {
  return max(z, 0.0) + log(1.0 + exp(-abs(z)));
}

/** One parameter's step by OPTIMIZER; `s0` and `s1` are its optimizer state, updated in place. */
fn optimize(param: f32, grad: f32, s0: ptr<function, f32>, s1: ptr<function, f32>, step: Step) -> f32 {
  switch OPTIMIZER {
    case MOMENTUM: {
      *s0 = MOMENTUM_FACTOR * *s0 + grad;
      return param - step.learning_rate * *s0;
    }
    case ADAM: {
      *s0 = BETA1 * *s0 + (1.0 - BETA1) * grad;
      *s1 = BETA2 * *s1 + (1.0 - BETA2) * grad * grad;
      let m_hat = *s0 / step.correction1;
      let v_hat = *s1 / step.correction2;
      return param - step.learning_rate * m_hat / (sqrt(v_hat) + EPSILON);
    }
    default: {
      return param - step.learning_rate * grad;
    }
  }
}
