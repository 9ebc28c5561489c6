// Twin of layerGradients and optimizerStep (src/reference/backprop.ts, optimizers.ts):
// the batch's gradient ∂E/∂w_ji = mean_b δ_j·in_i as one tiled matrix product
// (OUT, B) · (B, IN), and the optimizer's step applied to each weight as soon as its
// gradient is known. Workgroups of the first column of tiles also sum δ over the batch
// for the biases. Tiling as in forward.wgsl: TILE_M × TILE_N blocks of (OUT, IN).
//
// Prepended: common.wgsl (Layer, Step, the optimizer's overrides and codes, optimize).

@group(0) @binding(0) var<uniform> layer: Layer;
@group(0) @binding(1) var<storage, read> input: array<f32>;        // (B, IN)
@group(0) @binding(2) var<storage, read> delta: array<f32>;        // (B, OUT)
@group(0) @binding(3) var<storage, read_write> params: array<f32>; // (P)
@group(0) @binding(4) var<storage, read_write> grads: array<f32>;  // (P)
@group(0) @binding(5) var<storage, read_write> state0: array<f32>; // (P) momentum's velocity, Adam's m; unused by SGD
@group(0) @binding(6) var<storage, read_write> state1: array<f32>; // (P) Adam's v; unused otherwise
@group(1) @binding(0) var<uniform> step: Step;

const PER_THREAD = 4u;
override TILE_M: u32 = 64u; // units per workgroup
override TILE_N: u32 = 64u; // inputs per workgroup
override TILE_K: u32 = 16u; // samples per pass through workgroup memory
override THREADS: u32 = (TILE_M / PER_THREAD) * (TILE_N / PER_THREAD); // derived: leave unset

var<workgroup> delta_tile: array<vec4f, TILE_K * TILE_M / 4>;  // [b][j / 4], (TILE_K, TILE_M / 4)
var<workgroup> input_tile: array<vec4f, TILE_K * TILE_N / 4>;  // [b][i / 4], (TILE_K, TILE_N / 4)

/** Writes a parameter's gradient and applies the optimizer to it. */
fn update(index: u32, grad: f32) {
  grads[index] = grad;
  var s0 = 0.0;
  var s1 = 0.0;
  if (OPTIMIZER != SGD) {
    s0 = state0[index];
  }
  if (OPTIMIZER == ADAM) {
    s1 = state1[index];
  }
  params[index] = optimize(params[index], grad, &s0, &s1, step);
  if (OPTIMIZER != SGD) {
    state0[index] = s0;
  }
  if (OPTIMIZER == ADAM) {
    state1[index] = s1;
  }
}

/** One row of a thread's 4 × 4 piece: the weights' gradients and updates, and the bias's. */
fn finish(j: u32, first_input: u32, sums: vec4f, bias_sum: f32, sums_biases: bool) {
  if (j >= layer.units) {
    return;
  }
  let mean = 1.0 / f32(layer.batch);
  for (var c = 0u; c < PER_THREAD; c++) {
    let i = first_input + c;
    if (i < layer.inputs) {
      update(layer.weights_offset + j * layer.inputs + i, sums[c] * mean);
    }
  }
  if (sums_biases) {
    let index = layer.biases_offset + j;
    if (TRAIN_BIASES) {
      update(index, bias_sum * mean);
    } else {
      grads[index] = bias_sum * mean;
    }
  }
}

@compute @workgroup_size(TILE_N / PER_THREAD, TILE_M / PER_THREAD)
fn main(
  @builtin(workgroup_id) group: vec3u,
  @builtin(local_invocation_id) local: vec3u,
  @builtin(local_invocation_index) thread: u32,
) {
  let first_unit = group.y * TILE_M;
  let first_input = group.x * TILE_N;
  // The first column of tiles also sums δ over the batch for the biases.
  let sums_biases = group.x == 0u && local.x == 0u;
  // sums_r[c]: Σ_b δ_j·in_i, j = first_unit + 4·local.y + r, i = first_input + 4·local.x + c
  var sums_0 = vec4f(0.0);
  var sums_1 = vec4f(0.0);
  var sums_2 = vec4f(0.0);
  var sums_3 = vec4f(0.0);
  var bias_sums = vec4f(0.0); // Σ_b δ_j for the thread's 4 units

  for (var k0 = 0u; k0 < layer.batch; k0 += TILE_K) {
    // Both operands are (B, ·): consecutive threads read consecutive columns of one sample.
    for (var e = thread; e < TILE_K * TILE_M; e += THREADS) {
      let b = k0 + e / TILE_M;
      let j = first_unit + e % TILE_M;
      var d = 0.0;
      if (b < layer.batch && j < layer.units) {
        d = delta[b * layer.units + j];
      }
      delta_tile[e / 4u][e % 4u] = d;
    }
    for (var e = thread; e < TILE_K * TILE_N; e += THREADS) {
      let b = k0 + e / TILE_N;
      let i = first_input + e % TILE_N;
      var x = 0.0;
      if (b < layer.batch && i < layer.inputs) {
        x = input[b * layer.inputs + i];
      }
      input_tile[e / 4u][e % 4u] = x;
    }
    workgroupBarrier();

    for (var k = 0u; k < TILE_K; k++) {
      let d = delta_tile[k * (TILE_M / 4u) + local.y];
      let x = input_tile[k * (TILE_N / 4u) + local.x];
      sums_0 = fma(vec4f(d.x), x, sums_0);
      sums_1 = fma(vec4f(d.y), x, sums_1);
      sums_2 = fma(vec4f(d.z), x, sums_2);
      sums_3 = fma(vec4f(d.w), x, sums_3);
      bias_sums += d;
    }
    workgroupBarrier();
  }

  let j = first_unit + local.y * PER_THREAD;
  let i = first_input + local.x * PER_THREAD;
  finish(j, i, sums_0, bias_sums.x, sums_biases);
  finish(j + 1u, i, sums_1, bias_sums.y, sums_biases);
  finish(j + 2u, i, sums_2, bias_sums.z, sums_biases);
  finish(j + 3u, i, sums_3, bias_sums.w, sums_biases);
}
