// Dropout's masks: twin of dropoutMask (src/model/dropout.ts), which draws the same mask,
// element for element, with the same generator, Philox4x32-10, keyed by the run's seed and
// counting (step, sample, unit, layer). The shader loader puts this file (after
// common.wgsl, whose Step struct carries the step's count and the seed) before the
// kernels that drop: forward.wgsl, hidden_delta.wgsl, train_tiny.wgsl.

/** The high 32 bits of a·b, from 16-bit halves (each partial product fits in a u32). */
fn mul_high(a: u32, b: u32) -> u32 {
  let a_low = a & 0xffffu;
  let a_high = a >> 16u;
  let b_low = b & 0xffffu;
  let b_high = b >> 16u;
  let low_low = a_low * b_low;
  let low_high = a_low * b_high;
  let high_low = a_high * b_low;
  let carry = (low_low >> 16u) + (low_high & 0xffffu) + (high_low & 0xffffu);
  return a_high * b_high + (low_high >> 16u) + (high_low >> 16u) + (carry >> 16u);
}

/** Philox4x32-10: four words from a 128-bit counter and a 64-bit key. */
fn philox4x32(counter: vec4u, key: vec2u) -> vec4u {
  var c = counter;
  var k = key;
  for (var round = 0u; round < 10u; round++) {
    let high0 = mul_high(0xd2511f53u, c.x);
    let low0 = 0xd2511f53u * c.x;
    let high1 = mul_high(0xcd9e8d57u, c.z);
    let low1 = 0xcd9e8d57u * c.z;
    c = vec4u(high1 ^ c.y ^ k.x, low1, high0 ^ c.w ^ k.y, low0);
    k += vec2u(0x9e3779b9u, 0xbb67ae85u);
  }
  return c;
}

/** What dropout multiplies output (b, j) of `layer` by at this step: 0, or 1/(1 − p) where kept. */
fn dropout_mask(step: Step, b: u32, j: u32, layer: u32, threshold: u32, kept: f32) -> f32 {
  let draw = philox4x32(vec4u(step.index, b, j, layer), vec2u(step.seed_low, step.seed_high));
  return select(0.0, kept, draw.x >= threshold);
}
