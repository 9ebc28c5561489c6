// Twin of hiddenDeltas (src/reference/backprop.ts): δ_h = (Σ_o δ_o · w_oh) · f′(out_h),
// the layer above's deltas sent back through its weights, as one tiled matrix product
// (B, NEXT) · (NEXT, OUT) with the activation's derivative fused into its last step.
// Tiling as in forward.wgsl: TILE_M × TILE_N blocks of (B, OUT), a 4 × 4 piece per thread.
//
// Prepended: common.wgsl (the Layer struct, activation codes, derivative_from_out).

@group(0) @binding(0) var<uniform> layer: Layer;
@group(0) @binding(1) var<storage, read> next_delta: array<f32>;  // (B, NEXT)
@group(0) @binding(2) var<storage, read> params: array<f32>;      // (P) the layer above's weights at next_weights_offset
@group(0) @binding(3) var<storage, read> out: array<f32>;         // (B, OUT)
@group(0) @binding(4) var<storage, read_write> delta: array<f32>; // (B, OUT)

override ACTIVATION: u32; // this layer's activation code

const PER_THREAD = 4u;
override TILE_M: u32 = 64u; // samples per workgroup
override TILE_N: u32 = 64u; // units per workgroup
override TILE_K: u32 = 16u; // units of the layer above per pass through workgroup memory
override THREADS: u32 = (TILE_M / PER_THREAD) * (TILE_N / PER_THREAD); // derived: leave unset

var<workgroup> delta_tile: array<vec4f, TILE_K * TILE_M / 4>;  // [o][b / 4], (TILE_K, TILE_M / 4)
var<workgroup> weight_tile: array<vec4f, TILE_K * TILE_N / 4>; // [o][h / 4], (TILE_K, TILE_N / 4)

/** Multiplies by f′(out) and stores one row of a thread's 4 × 4 piece. */
fn finish(b: u32, first_unit: u32, sums: vec4f) {
  if (b >= layer.batch) {
    return;
  }
  for (var c = 0u; c < PER_THREAD; c++) {
    let h = first_unit + c;
    if (h < layer.units) {
      let index = b * layer.units + h;
      delta[index] = sums[c] * derivative_from_out(ACTIVATION, out[index]);
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
  // sums_r[c]: ∂E/∂out of sample first_sample + 4·local.y + r, unit first_unit + 4·local.x + c
  var sums_0 = vec4f(0.0);
  var sums_1 = vec4f(0.0);
  var sums_2 = vec4f(0.0);
  var sums_3 = vec4f(0.0);

  for (var k0 = 0u; k0 < layer.next_units; k0 += TILE_K) {
    // δ of the layer above: consecutive threads read consecutive o of one sample.
    for (var e = thread; e < TILE_K * TILE_M; e += THREADS) {
      let t = e / TILE_K;
      let k = e % TILE_K;
      let b = first_sample + t;
      var d = 0.0;
      if (b < layer.batch && k0 + k < layer.next_units) {
        d = next_delta[b * layer.next_units + k0 + k];
      }
      delta_tile[(k * TILE_M + t) / 4u][t % 4u] = d;
    }
    // Its weights, (NEXT, OUT): consecutive threads read consecutive h of one row o.
    for (var e = thread; e < TILE_K * TILE_N; e += THREADS) {
      let o = k0 + e / TILE_N;
      let h = first_unit + e % TILE_N;
      var w = 0.0;
      if (o < layer.next_units && h < layer.units) {
        w = params[layer.next_weights_offset + o * layer.units + h];
      }
      weight_tile[e / 4u][e % 4u] = w;
    }
    workgroupBarrier();

    for (var k = 0u; k < TILE_K; k++) {
      let d = delta_tile[k * (TILE_M / 4u) + local.y];
      let w = weight_tile[k * (TILE_N / 4u) + local.x];
      sums_0 = fma(vec4f(d.x), w, sums_0);
      sums_1 = fma(vec4f(d.y), w, sums_1);
      sums_2 = fma(vec4f(d.z), w, sums_2);
      sums_3 = fma(vec4f(d.w), w, sums_3);
    }
    workgroupBarrier();
  }

  let b = first_sample + local.y * PER_THREAD;
  let h = first_unit + local.x * PER_THREAD;
  finish(b, h, sums_0);
  finish(b + 1u, h, sums_1);
  finish(b + 2u, h, sums_2);
  finish(b + 3u, h, sums_3);
}
