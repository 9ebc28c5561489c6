// Twin of layerGradients and optimizerStep (src/reference/backprop.ts, optimizers.ts):
// the batch's gradient ∂E/∂w_ji = mean_b δ_j·in_i as one tiled matrix product
// (tile_product.wgsl) (OUT, IN) = (OUT, B) · (B, IN), and the optimizer's step applied to
// each weight as soon as its gradient is known.
//
// Every layer's product in one dispatch: workgroup z works on layer z / SPLIT_K (the
// product, in tile_product.wgsl's words), whose sizes and regions are its UpdateLayer in
// `layers`; the dispatch is sized for the largest layer, and the workgroups past a
// smaller layer's tiles return at once. A layer's input and δ lie in the activation
// buffer (src/gpu/buffers.ts lays it out), or, for the first layer, its inputs are the
// dataset's rows, read through the step's batch rows (`gather`).
//
// The biases' gradients, mean_b δ_j, are summed by one more column of workgroups
// (group.x = ⌈IN / TILE_N⌉), each for the TILE_M units of its row of tiles: no thread of
// the product sums them.
//
// `grads` is written only for a check (CAPTURE), where the biases are frozen (their
// gradient is all there is to record), or where the gradient is clipped. Where the
// product is split over the batch (SPLIT_K > 1), `main` writes partial sums (the bias as
// column IN) and `finish` adds them up and updates.
//
// Clipped (CLIP_NORM > 0), the update waits for the global norm: `main` and `finish` only
// record the gradients, grad_norm.wgsl sums their squares into `partials`, and `apply`
// steps every trained parameter of layer group.z with its gradient times clipping's factor.
//
// Prepended: common.wgsl (Step, the optimizer's overrides, optimize), ops.wgsl (the
// updates), tile_product.wgsl (the product, and the entry points main and finish).

// One layer of the weight update, an element of `layers` (updateLayerTable in src/gpu/abi.ts).
// Aligned to 16 bytes, so the array's stride is its size rounded up to 16 bytes (64), as
// UPDATE_LAYER_BYTES packs it, under either of WGSL's uniform layout rules.
struct UpdateLayer {
  @align(16) batch: u32, // B
  inputs: u32,          // IN
  units: u32,           // OUT
  weights_offset: u32,  // into params, grads and state: the layer's (OUT, IN) weights
  biases_offset: u32,   // … its (OUT) biases
  state1_offset: u32,   // into state: where its second slot (Adam's v) starts
  input_offset: u32,    // into activations: the (B, IN) input, in floats (0 where gather)
  delta_offset: u32,    // … the (B, OUT) δ
  partials_offset: u32, // into partials: its (SPLIT_K, OUT, IN + 1) partial sums
  gather: u32,          // 1: the inputs are the dataset's rows, picked by batch_rows
  vec4_a: u32,          // 1: OUT is a multiple of 4, δ rows are read as vec4s
  vec4_b: u32,          // 1: IN is a multiple of 4, input rows are read as vec4s
}

// At most 64 layers a dispatch (UPDATE_LAYERS in src/gpu/abi.ts): a deeper network takes one dispatch per 64 layers.
@group(0) @binding(0) var<uniform> layers: array<UpdateLayer, 64>;
@group(0) @binding(1) var<storage, read> dataset: array<vec4f>;      // (N, IN0) the dataset's inputs (gather)
@group(0) @binding(2) var<storage, read> batch_rows: array<u32>;     // (STEPS, B): the dataset row of each sample (gather)
@group(0) @binding(3) var<storage, read> activations: array<vec4f>; // every layer's net, out and δ (but the output layer's net), by buffers.ts
@group(0) @binding(4) var<storage, read_write> params: array<f32>;   // (P)
@group(0) @binding(5) var<storage, read_write> grads: array<f32>;    // (P)
@group(0) @binding(6) var<storage, read_write> state: array<f32>;    // (2, P) momentum's velocity or Adam's m, then Adam's v (at state1_offset)
@group(0) @binding(7) var<storage, read_write> partials: array<f32>; // each layer's (SPLIT_K, OUT, IN + 1) where split; `apply` reads grad_norm.wgsl's (NORM_GROUPS) sums of g²
@group(1) @binding(0) var<uniform> step: Step;

override CAPTURE: bool = true;      // write every gradient to `grads`
// Every layer's OUT (VEC4_A) or IN (VEC4_B) a multiple of 4: its rows are read as vec4s
// without asking the layer's flag, and the scalar loads are not compiled (on a CPU adapter
// they were a fifth of the kernel's compile time). Else each layer's flag decides.
override VEC4_A: bool = false;
override VEC4_B: bool = false;
override NORM_GROUPS: u32 = 1u;     // grad_norm.wgsl's workgroups, whose sums `apply` adds

// The bias workgroups' partial sums of δ, (PHASES, TILE_M) with PHASES · TILE_M ≤
// max(THREADS, TILE_M), live in a_tile: those workgroups never multiply, so the tile is
// free, and the gradient product's plan keeps it at least TILE_M + THREADS floats
// (tiles.ts, ChooseOptions.aTileFloats). WGSL has no unions: slot i is float i % 4 of
// vec4 i / 4.
fn bias_sum(slot: u32) -> f32 {
  return a_tile[slot / 4u][slot % 4u];
}

fn set_bias_sum(slot: u32, sum: f32) {
  a_tile[slot / 4u][slot % 4u] = sum;
}

var<private> layer: UpdateLayer; // the workgroup's layer, layers[product]

/** The workgroup's layer, kept where every load reads it: a private copy rather than the uniform array indexed anew. */
fn begin_product(index: u32) {
  layer = layers[index];
}

/** Vec4 `index` of the layer's inputs: the dataset's (gather), or the activation buffer's. */
fn input_vec4(index: u32) -> vec4f {
  if (layer.gather != 0u) {
    return dataset[index];
  }
  return activations[index];
}

/** The dataset row (gather) or the batch row of sample b. */
fn input_row(b: u32) -> u32 {
  if (layer.gather != 0u) {
    return batch_rows[step.rows_offset + b];
  }
  return b;
}

/** Four consecutive deltas δ_j … of sample b; zero past the batch's share (k_end). */
fn delta_quad(b: u32, j: u32, k_end: u32) -> vec4f {
  if (b >= k_end) {
    return vec4f(0.0);
  }
  let units = layer.units;
  let first = layer.delta_offset + b * units + j;
  if (VEC4_A || layer.vec4_a != 0u) {
    return select(vec4f(0.0), activations[first / 4u], j < units);
  }
  var v = vec4f(0.0);
  for (var c = 0u; c < 4u; c++) {
    if (j + c < units) {
      v[c] = activations[(first + c) / 4u][(first + c) % 4u];
    }
  }
  return v;
}

/** Four consecutive inputs in_i … of sample b. */
fn input_quad(b: u32, i: u32, k_end: u32) -> vec4f {
  if (b >= k_end) {
    return vec4f(0.0);
  }
  let inputs = layer.inputs;
  let first = layer.input_offset + input_row(b) * inputs + i;
  if (VEC4_B || layer.vec4_b != 0u) {
    return select(vec4f(0.0), input_vec4(first / 4u), i < inputs);
  }
  var v = vec4f(0.0);
  for (var c = 0u; c < 4u; c++) {
    if (i + c < inputs) {
      v[c] = input_vec4((first + c) / 4u)[(first + c) % 4u];
    }
  }
  return v;
}

/** Layer `index`'s product (OUT, IN) = (OUT, B) · (B, IN): rows are units, columns inputs. */
fn product_shape(index: u32) -> vec3u {
  return vec3u(layers[index].units, layers[index].inputs, layers[index].batch);
}

/** Four samples' deltas (A's jobs, 4 j each) or inputs (B's, 4 i each), one sample at a time (set_quad_row). */
fn load_job(job: u32, k0: u32, k_end: u32) -> Quad {
  let is_a = job < A_JOBS;
  let at = rows_job(select(job - A_JOBS, job, is_a), select(TILE_N, TILE_M, is_a));
  let b = k0 + at.x;
  let first = select(first_column, first_row, is_a) + 4u * at.y; // unit j, or input i
  var quad: Quad;
  for (var r = 0u; r < 4u; r++) {
    if (is_a) {
      set_quad_row(&quad, r, delta_quad(b + r, first, k_end));
    } else {
      set_quad_row(&quad, r, input_quad(b + r, first, k_end));
    }
  }
  return quad;
}

fn store_job(job: u32, quad: Quad) {
  if (job < A_JOBS) {
    store_a_rows(rows_job(job, TILE_M), quad);
  } else {
    store_b_rows(rows_job(job - A_JOBS, TILE_N), quad);
  }
}

/** Records a parameter's gradient (where asked, or where clipping needs it) and, unless the update waits for the norm, steps the parameter. */
fn update(index: u32, grad: f32) {
  if (CAPTURE || CLIP_NORM > 0.0) {
    grads[index] = grad;
  }
  if (CLIP_NORM == 0.0) {
    step_parameter(index, grad);
  }
}

/** Applies the optimizer to parameter `index`, with its state. */
fn step_parameter(index: u32, grad: f32) {
  let index1 = layer.state1_offset + index;
  var s0 = 0.0;
  var s1 = 0.0;
  if (STATE_SLOTS >= 1u) {
    s0 = state[index];
  }
  if (STATE_SLOTS == 2u) {
    s1 = state[index1];
  }
  params[index] = optimize(params[index], grad, &s0, &s1, step);
  if (STATE_SLOTS >= 1u) {
    state[index] = s0;
  }
  if (STATE_SLOTS == 2u) {
    state[index1] = s1;
  }
}

/** Weight w_ji's gradient from Σ_b δ_j·in_i, and its update. */
fn weight_epilogue(j: u32, i: u32, sum: f32) {
  update(layer.weights_offset + j * layer.inputs + i, sum * (1.0 / f32(layer.batch)));
}

/** Bias b_j's gradient from Σ_b δ_j, and its update (where biases train). */
fn bias_epilogue(j: u32, sum: f32) {
  let grad = sum * (1.0 / f32(layer.batch));
  let index = layer.biases_offset + j;
  if (TRAIN_BIASES) {
    update(index, grad);
  } else {
    grads[index] = grad;
  }
}

/** A finished sum: a weight's (i < IN), or the bias's (column IN, from the bias workgroups). */
fn finish_result(j: u32, i: u32, sum: f32) {
  if (i < layer.inputs) {
    weight_epilogue(j, i, sum);
  } else {
    bias_epilogue(j, sum);
  }
}

/** Weights w_j,i … w_j,i+3 (all inside IN): their gradients and updates, lane by lane. */
fn finish_quad(j: u32, i: u32, sums: vec4f) {
  for (var c = 0u; c < 4u; c++) {
    weight_epilogue(j, i + c, sums[c]);
  }
}

/** The inputs, and the bias as column IN. */
fn result_columns() -> u32 {
  return layer.inputs + 1u;
}

fn store_partial(index: u32, sum: f32) {
  partials[layer.partials_offset + index] = sum;
}

fn load_partial(index: u32) -> f32 {
  return partials[layer.partials_offset + index];
}

/**
 * The bias workgroups, past the inputs: Σ_b δ_j over the batch's share for the TILE_M
 * units of this row of tiles, the result in column IN. PHASES threads per unit, each
 * summing every PHASES-th sample, then one of them adds the PHASES sums.
 */
fn beyond_columns(thread: u32, k_begin: u32, k_end: u32) {
  let phases = max(THREADS / TILE_M, 1u);
  let units = layer.units;
  for (var slot = thread; slot < TILE_M * phases; slot += THREADS) {
    let j = first_row + slot % TILE_M;
    var sum = 0.0;
    if (j < units) {
      for (var b = k_begin + slot / TILE_M; b < k_end; b += phases) {
        let e = layer.delta_offset + b * units + j;
        sum += activations[e / 4u][e % 4u];
      }
    }
    set_bias_sum(slot, sum);
  }
  workgroupBarrier();
  for (var unit = thread; unit < TILE_M; unit += THREADS) {
    let j = first_row + unit;
    if (j < units) {
      var sum = 0.0;
      for (var p = 0u; p < phases; p++) {
        sum += bias_sum(p * TILE_M + unit);
      }
      finish_element(j, layer.inputs, sum);
    }
  }
}

/** Clipping's update, once grad_norm.wgsl has summed Σ g²: every trained parameter of layer group.z, its gradient times the factor. */
@compute @workgroup_size(FINISH_THREADS)
fn apply(@builtin(global_invocation_id) id: vec3u, @builtin(workgroup_id) group: vec3u, @builtin(num_workgroups) groups: vec3u) {
  begin_product(group.z);
  var squares = 0.0;
  for (var g = 0u; g < NORM_GROUPS; g++) {
    squares += partials[g];
  }
  let factor = clip_factor(squares);
  let columns = layer.inputs + 1u;
  let count = layer.units * columns;
  for (var e = id.x; e < count; e += groups.x * FINISH_THREADS) {
    let j = e / columns;
    let i = e % columns;
    if (i < layer.inputs) {
      let index = layer.weights_offset + j * layer.inputs + i;
      step_parameter(index, grads[index] * factor);
    } else if (TRAIN_BIASES) {
      let index = layer.biases_offset + j;
      step_parameter(index, grads[index] * factor);
    }
  }
}
