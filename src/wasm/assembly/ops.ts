// The ops that have a WebAssembly body: the twins of the records of src/model/ops/
// (activations.ts, losses.ts, optimizers.ts), named as shaders/ops.wgsl names them. The
// switches on the op codes (switch.ts) are generated from those records for the ops found
// here (src/wasm/op-switch.ts); an op without a body here runs its record's float64
// function on the float32 buffers instead (src/wasm/hooks.ts), so a new op needs no code
// here to work. test/wasm.test.ts checks every body against its record.
//
//   <activation>_activate(net: f32, parameter: f32): f32
//   <activation>_derivative(net: f32, out: f32, parameter: f32): f32
//   <loss>_loss(out: f32, t: f32, outputs: i32): f32             (a loss summed over the outputs)
//   <loss>_gradient(out: f32, t: f32, outputs: i32): f32
//   <loss>_softmax_loss(net: f32, t: f32, logSumExp: f32): f32   (a loss from the logits)
//   <loss>_sigmoid_loss(net: f32, t: f32): f32
//   <loss>_delta(out: f32, t: f32, targetSum: f32): f32
//   <optimizer>_update(param: f32, grad: f32, s0: usize, s1: usize, constants: usize, step: usize): f32
//
// An optimizer's `constants` are its record's constants in their order, then its weight
// decay λ (f32 each), its `step` the step's learning rate and bias corrections (Rates); s0
// and s1 address the parameter's state, which the update writes. `grad` has been clipped
// and has λ·w added already where the decay is not the update's own (L2): the generated
// switch does that from the record.

/** A step's learning rate and the optimizer's bias corrections 1 − β1ᵗ and 1 − β2ᵗ (computed in float64 by the host). */
@unmanaged
export class Rates {
  learningRate: f32;
  correction1: f32;
  correction2: f32;
}

// ---- Activations: out = f(net), and ∂out/∂net from net and out.

@inline export function linear_activate(net: f32, parameter: f32): f32 {
  return net;
}

@inline export function linear_derivative(net: f32, out: f32, parameter: f32): f32 {
  return 1;
}

@inline export function sigmoid_activate(net: f32, parameter: f32): f32 {
  return 1 / (1 + Mathf.exp(-net));
}

@inline export function sigmoid_derivative(net: f32, out: f32, parameter: f32): f32 {
  return out * (1 - out);
}

@inline export function tanh_activate(net: f32, parameter: f32): f32 {
  // From exp(−2|x|) ≤ 1: no overflow for large |x|.
  const e = Mathf.exp(-2 * Mathf.abs(net));
  return copysign<f32>((1 - e) / (1 + e), net);
}

@inline export function tanh_derivative(net: f32, out: f32, parameter: f32): f32 {
  return 1 - out * out;
}

@inline export function relu_activate(net: f32, parameter: f32): f32 {
  return net > 0 ? net : 0;
}

@inline export function relu_derivative(net: f32, out: f32, parameter: f32): f32 {
  return out > 0 ? 1 : 0;
}

/** σ(x) without overflow: e^−|x| is at most 1, and 1 − σ(x) = σ(−x) is as accurate as σ(x). */
@inline function logistic(x: f32): f32 {
  const e = Mathf.exp(-Mathf.abs(x));
  return x >= 0 ? 1 / (1 + e) : e / (1 + e);
}

@inline export function silu_activate(net: f32, parameter: f32): f32 {
  return net * logistic(net);
}

@inline export function silu_derivative(net: f32, out: f32, parameter: f32): f32 {
  const s = logistic(net);
  return s * (1 + net * logistic(-net));
}

// GELU's tanh approximation, 0.5x(1 + tanh(u)), u = √(2/π)(x + 0.044715x³), written with
// 0.5(1 + tanh(u)) = σ(2u) and 1 − tanh²(u) = 4σ(2u)σ(−2u): no cancellation where tanh(u)
// is near ±1. |x| is taken to 10 at most inside u, where σ(2u) is 0 or 1 in f32 already,
// so that x³ cannot overflow.
const GELU_C: f32 = 0.7978845608028654; // √(2/π)
const GELU_K: f32 = 0.044715;

@inline export function gelu_activate(net: f32, parameter: f32): f32 {
  const x = min(max(net, -10), 10);
  return net * logistic(2 * GELU_C * (x + GELU_K * x * x * x));
}

@inline export function gelu_derivative(net: f32, out: f32, parameter: f32): f32 {
  const x = min(max(net, -10), 10);
  const u = GELU_C * (x + GELU_K * x * x * x);
  const s = logistic(2 * u);
  return s + 2 * net * s * logistic(-2 * u) * GELU_C * (1 + 3 * GELU_K * x * x);
}

@inline export function elu_activate(net: f32, parameter: f32): f32 {
  return net > 0 ? net : Mathf.expm1(net);
}

@inline export function elu_derivative(net: f32, out: f32, parameter: f32): f32 {
  return net > 0 ? 1 : Mathf.exp(net);
}

@inline export function softplus_activate(net: f32, parameter: f32): f32 {
  // PyTorch's threshold of 20, past which it is x itself
  return net > 20 ? net : Mathf.log1p(Mathf.exp(net));
}

@inline export function softplus_derivative(net: f32, out: f32, parameter: f32): f32 {
  return net > 20 ? 1 : logistic(net);
}

@inline export function leaky_relu_activate(net: f32, parameter: f32): f32 {
  return net > 0 ? net : parameter * net;
}

@inline export function leaky_relu_derivative(net: f32, out: f32, parameter: f32): f32 {
  return out > 0 ? 1 : parameter;
}

/** softmax over a row of `count` net inputs, less their largest (no overflow); returns log Σ e^net. */
export function softmax_row(net: usize, out: usize, count: i32): f32 {
  let largest = -Infinity as f32;
  for (let k = 0; k < count; k++) largest = max(largest, load<f32>(net + k * 4));
  let sum: f32 = 0;
  for (let k = 0; k < count; k++) {
    const e = Mathf.exp(load<f32>(net + k * 4) - largest);
    store<f32>(out + k * 4, e);
    sum += e;
  }
  for (let k = 0; k < count; k++) store<f32>(out + k * 4, load<f32>(out + k * 4) / sum);
  return largest + Mathf.log(sum);
}

// ---- Losses: output k's part of a sample's loss, and ∂(it)/∂out_k.

@inline export function half_sse_loss(out: f32, t: f32, outputs: i32): f32 {
  const error = t - out;
  return 0.5 * error * error;
}

@inline export function half_sse_gradient(out: f32, t: f32, outputs: i32): f32 {
  return out - t;
}

@inline export function sse_loss(out: f32, t: f32, outputs: i32): f32 {
  const error = t - out;
  return error * error;
}

@inline export function sse_gradient(out: f32, t: f32, outputs: i32): f32 {
  return 2 * (out - t);
}

@inline export function mse_loss(out: f32, t: f32, outputs: i32): f32 {
  const error = t - out;
  return (error * error) / <f32>outputs;
}

@inline export function mse_gradient(out: f32, t: f32, outputs: i32): f32 {
  return (2 * (out - t)) / <f32>outputs;
}

@inline export function huber_loss(out: f32, t: f32, outputs: i32): f32 {
  const error = Mathf.abs(out - t);
  return (error < 1 ? 0.5 * error * error : error - 0.5) / <f32>outputs;
}

@inline export function huber_gradient(out: f32, t: f32, outputs: i32): f32 {
  return min(max(out - t, -1), 1) / <f32>outputs;
}

@inline export function cross_entropy_softmax_loss(net: f32, t: f32, logSumExp: f32): f32 {
  return -t * (net - logSumExp);
}

@inline export function cross_entropy_sigmoid_loss(net: f32, t: f32): f32 {
  // softplus(z) − t·z, softplus without overflow
  return max(net, 0) + Mathf.log1p(Mathf.exp(-Mathf.abs(net))) - t * net;
}

@inline export function cross_entropy_delta(out: f32, t: f32, targetSum: f32): f32 {
  return out * targetSum - t;
}

// ---- Optimizers: the new value of a parameter from its gradient, its state updated.

@inline export function sgd_update(param: f32, grad: f32, s0: usize, s1: usize, constants: usize, step: usize): f32 {
  return param - changetype<Rates>(step).learningRate * grad;
}

@inline export function momentum_update(param: f32, grad: f32, s0: usize, s1: usize, constants: usize, step: usize): f32 {
  const momentum = load<f32>(constants);
  const velocity = momentum * load<f32>(s0) + grad;
  store<f32>(s0, velocity);
  return param - changetype<Rates>(step).learningRate * velocity;
}

@inline export function rmsprop_update(param: f32, grad: f32, s0: usize, s1: usize, constants: usize, step: usize): f32 {
  const alpha = load<f32>(constants);
  const epsilon = load<f32>(constants, 4);
  const v = alpha * load<f32>(s0) + (1 - alpha) * grad * grad;
  store<f32>(s0, v);
  return param - (changetype<Rates>(step).learningRate * grad) / (Mathf.sqrt(v) + epsilon);
}

@inline export function adam_update(param: f32, grad: f32, s0: usize, s1: usize, constants: usize, step: usize): f32 {
  const beta1 = load<f32>(constants);
  const beta2 = load<f32>(constants, 4);
  const epsilon = load<f32>(constants, 8);
  const rates = changetype<Rates>(step);
  const m = beta1 * load<f32>(s0) + (1 - beta1) * grad;
  const v = beta2 * load<f32>(s1) + (1 - beta2) * grad * grad;
  store<f32>(s0, m);
  store<f32>(s1, v);
  const mHat = m / rates.correction1;
  const vHat = v / rates.correction2;
  return param - (rates.learningRate * mHat) / (Mathf.sqrt(vHat) + epsilon);
}

/** Decoupled weight decay, w·(1 − η·λ) with λ after Adam's three constants, then Adam's step. */
@inline export function adamw_update(param: f32, grad: f32, s0: usize, s1: usize, constants: usize, step: usize): f32 {
  const weightDecay = load<f32>(constants, 12);
  return adam_update(param * (1 - changetype<Rates>(step).learningRate * weightDecay), grad, s0, s1, constants, step);
}
