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
// An optimizer's `constants` are its record's constants in their order (f32 each), its
// `step` the step's learning rate and bias corrections (Rates); s0 and s1 address the
// parameter's state, which the update writes.

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
