// Twin of forwardLayer (src/reference/backprop.ts): one layer's forward pass over the
// batch, net = in·Wᵀ + b and out = f(net), as one tiled matrix product with the bias
// and the activation fused into its last step.
//
// Each workgroup computes a TILE_M × TILE_N block of (B, OUT), each of its threads a
// 4 × 4 piece of that block, held in registers. Inputs and weights pass through
// workgroup memory TILE_K columns at a time. The trainer picks the tile per layer
// (16, 32 or 64 a side, so small layers do not idle large workgroups).
//
// Prepended: common.wgsl (the Layer struct, activation codes, activate).

@group(0) @binding(0) var<uniform> layer: Layer;
@group(0) @binding(1) var<storage, read> input: array<f32>;      // (B, IN)
@group(0) @binding(2) var<storage, read> params: array<f32>;     // (P) weights (OUT, IN) and biases (OUT) at their offsets
@group(0) @binding(3) var<storage, read_write> net: array<f32>;  // (B, OUT)
@group(0) @binding(4) var<storage, read_write> out: array<f32>;  // (B, OUT)

override ACTIVATION: u32; // an activation code; softmax.wgsl writes `out` for SOFTMAX

const PER_THREAD = 4u;
override TILE_M: u32 = 64u; // samples per workgroup
override TILE_N: u32 = 64u; // units per workgroup
override TILE_K: u32 = 16u; // inputs per pass through workgroup memory
override THREADS: u32 = (TILE_M / PER_THREAD) * (TILE_N / PER_THREAD); // derived: leave unset

// Both tiles hold vec4s along M and N, so a thread reads its 4 samples and its 4 units
// with one load each.
var<workgroup> input_tile: array<vec4f, TILE_K * TILE_M / 4>;  // [k][b / 4], (TILE_K, TILE_M / 4)
var<workgroup> weight_tile: array<vec4f, TILE_K * TILE_N / 4>; // [k][j / 4], (TILE_K, TILE_N / 4)

/** Adds the bias, applies the activation and stores one row of a thread's 4 × 4 piece. */
fn finish(b: u32, first_unit: u32, sums: vec4f) {
  if (b >= layer.batch) {
    return;
  }
  for (var c = 0u; c < PER_THREAD; c++) {
    let j = first_unit + c;
    if (j < layer.units) {
      let value = sums[c] + params[layer.biases_offset + j];
      net[b * layer.units + j] = value;
      if (ACTIVATION != SOFTMAX) {
        out[b * layer.units + j] = activate(ACTIVATION, value);
      }
    }
  }
}

@compute @workgroup_size(TILE_N / PER_THREAD, TILE_M / PER_THREAD)
fn main(
  @builtin(workgroup_id) group: vec3u,
  @builtin(local_invocation_id) local: vec3u,
  @builtin(local_invocation_index) thread: u32,
) {
  let first_sample = group.y * TILE_M;
  let first_unit = group.x * TILE_N;
  // sums_r[c]: sample first_sample + 4·local.y + r, unit first_unit + 4·local.x + c
  var sums_0 = vec4f(0.0);
  var sums_1 = vec4f(0.0);
  var sums_2 = vec4f(0.0);
  var sums_3 = vec4f(0.0);

  for (var k0 = 0u; k0 < layer.inputs; k0 += TILE_K) {
    // Both operands are row-major with i running fastest: consecutive threads read
    // consecutive inputs, which lie next to each other in memory.
    for (var e = thread; e < TILE_K * TILE_M; e += THREADS) {
      let t = e / TILE_K;
      let k = e % TILE_K;
      let b = first_sample + t;
      var x = 0.0;
      if (b < layer.batch && k0 + k < layer.inputs) {
        x = input[b * layer.inputs + k0 + k];
      }
      input_tile[(k * TILE_M + t) / 4u][t % 4u] = x;
    }
    for (var e = thread; e < TILE_K * TILE_N; e += THREADS) {
      let t = e / TILE_K;
      let k = e % TILE_K;
      let j = first_unit + t;
      var w = 0.0;
      if (j < layer.units && k0 + k < layer.inputs) {
        w = params[layer.weights_offset + j * layer.inputs + k0 + k];
      }
      weight_tile[(k * TILE_N + t) / 4u][t % 4u] = w;
    }
    workgroupBarrier();

    for (var k = 0u; k < TILE_K; k++) {
      let x = input_tile[k * (TILE_M / 4u) + local.y];
      let w = weight_tile[k * (TILE_N / 4u) + local.x];
      sums_0 = fma(vec4f(x.x), w, sums_0);
      sums_1 = fma(vec4f(x.y), w, sums_1);
      sums_2 = fma(vec4f(x.z), w, sums_2);
      sums_3 = fma(vec4f(x.w), w, sums_3);
    }
    workgroupBarrier();
  }

  let b = first_sample + local.y * PER_THREAD;
  let j = first_unit + local.x * PER_THREAD;
  finish(b, j, sums_0);
  finish(b + 1u, j, sums_1);
  finish(b + 2u, j, sums_2);
  finish(b + 3u, j, sums_3);
}
