// Every op's WGSL: the twins of the records of src/model/ops/ (activations.ts, losses.ts,
// optimizers.ts), which give each its code. The shader loader (src/gpu/shaders.ts)
// prepends this file to every kernel, after common.wgsl, followed by the codes and the
// switches on them (`activate`, `derivative`, `loss_term`, `loss_gradient`,
// `optimizer_update`) that src/gpu/op-switch.ts generates from those records.
// test/abi.test.ts checks that the records and these functions agree. Each op has:
//
//   fn <activation>_activate(net: f32, parameter: f32) -> f32
//   fn <activation>_derivative(net: f32, out: f32, parameter: f32) -> f32
//   fn <loss>_loss(out: f32, t: f32, outputs: u32) -> f32        (a loss summed over the outputs)
//   fn <loss>_gradient(out: f32, t: f32, outputs: u32) -> f32
//   fn <loss>_softmax_loss(net: f32, t: f32, log_sum_exp: f32) -> f32   (a loss from the logits)
//   fn <loss>_sigmoid_loss(net: f32, t: f32) -> f32
//   fn <loss>_delta(out: f32, t: f32, target_sum: f32) -> f32
//   fn <optimizer>_update(param: f32, grad: f32, s0: ptr<function, f32>, s1: ptr<function, f32>, step: Step) -> f32
//
// t is the target (`target` is a reserved word). `parameter` is the layer's activation parameter (leaky-relu's negative slope; unused by
// the rest). Softmax, a function of the whole row, has none here: the kernels compute it.

// ---- Activations: out = f(net), and ∂out/∂net from net and out.

fn linear_activate(net: f32, parameter: f32) -> f32 {
  return net;
}

fn linear_derivative(net: f32, out: f32, parameter: f32) -> f32 {
  return 1.0;
}

fn sigmoid_activate(net: f32, parameter: f32) -> f32 {
  return 1.0 / (1.0 + exp(-net));
}

fn sigmoid_derivative(net: f32, out: f32, parameter: f32) -> f32 {
  return out * (1.0 - out);
}

fn tanh_activate(net: f32, parameter: f32) -> f32 {
  // From exp(−2|x|) ≤ 1: no overflow, where some drivers' tanh returns NaN for large |x|.
  let e = exp(-2.0 * abs(net));
  return sign(net) * (1.0 - e) / (1.0 + e);
}

fn tanh_derivative(net: f32, out: f32, parameter: f32) -> f32 {
  return 1.0 - out * out;
}

fn relu_activate(net: f32, parameter: f32) -> f32 {
  return max(net, 0.0);
}

fn relu_derivative(net: f32, out: f32, parameter: f32) -> f32 {
  return select(0.0, 1.0, out > 0.0);
}

// ---- Losses: output k's part of a sample's loss, and ∂(it)/∂out_k.

fn half_sse_loss(out: f32, t: f32, outputs: u32) -> f32 {
  let error = t - out;
  return 0.5 * error * error;
}

fn half_sse_gradient(out: f32, t: f32, outputs: u32) -> f32 {
  return -(t - out);
}

fn sse_loss(out: f32, t: f32, outputs: u32) -> f32 {
  let error = t - out;
  return error * error;
}

fn sse_gradient(out: f32, t: f32, outputs: u32) -> f32 {
  return -2.0 * (t - out);
}

fn mse_loss(out: f32, t: f32, outputs: u32) -> f32 {
  let error = t - out;
  return error * error / f32(outputs);
}

fn mse_gradient(out: f32, t: f32, outputs: u32) -> f32 {
  return -2.0 * (t - out) / f32(outputs);
}

/** −t·log softmax(net)_k, from net: log softmax(net)_k = net_k − log Σ_j e^{net_j}. */
fn cross_entropy_softmax_loss(net: f32, t: f32, log_sum_exp: f32) -> f32 {
  return -t * (net - log_sum_exp);
}

/** Binary, on a sigmoid output: −[t log σ(z) + (1 − t) log(1 − σ(z))] = softplus(z) − t·z, without overflow. */
fn cross_entropy_sigmoid_loss(net: f32, t: f32) -> f32 {
  return max(net, 0.0) + log(1.0 + exp(-abs(net))) - t * net;
}

/** δ = out·Σt − t: the row's t sum after a softmax, 1 after a sigmoid. */
fn cross_entropy_delta(out: f32, t: f32, target_sum: f32) -> f32 {
  return out * target_sum - t;
}

// ---- Optimizers: one parameter's update; s0 and s1 are its state (velocity; Adam's m and v).

override MOMENTUM_FACTOR: f32 = 0.9;
override BETA1: f32 = 0.9;
override BETA2: f32 = 0.999;
override EPSILON: f32 = 1e-8;

fn sgd_update(param: f32, grad: f32, s0: ptr<function, f32>, s1: ptr<function, f32>, step: Step) -> f32 {
  return param - step.learning_rate * grad;
}

fn momentum_update(param: f32, grad: f32, s0: ptr<function, f32>, s1: ptr<function, f32>, step: Step) -> f32 {
  *s0 = MOMENTUM_FACTOR * *s0 + grad;
  return param - step.learning_rate * *s0;
}

fn adam_update(param: f32, grad: f32, s0: ptr<function, f32>, s1: ptr<function, f32>, step: Step) -> f32 {
  *s0 = BETA1 * *s0 + (1.0 - BETA1) * grad;
  *s1 = BETA2 * *s1 + (1.0 - BETA2) * grad * grad;
  let m_hat = *s0 / step.correction1;
  let v_hat = *s1 / step.correction2;
  return param - step.learning_rate * m_hat / (sqrt(v_hat) + EPSILON);
}
