// Twin of forwardLayer (src/reference/backprop.ts): one layer's forward pass over the
// batch, net = in·Wᵀ + b and out = f(net), as one tiled matrix product (tile_product.wgsl)
// (B, OUT) = (B, IN) · (IN, OUT), with the bias and the activation applied as each
// result is stored.
//
// The first layer reads its inputs straight out of the dataset, through the step's batch
// rows (GATHER): no gathered copy of the batch is written. `net` is written only where
// something reads it: the output stage (OUTPUT), softmax, or a check (CAPTURE); hidden
// layers' `out` always, since the next layer, the deltas and the gradients read it.
//
// Where the product is split over IN (SPLIT_K > 1), `main` writes partial sums and
// `finish` adds them up and applies the epilogue; the output layer leaves them in SPLIT_K
// slices of `net`, and output_delta.wgsl adds them up.
//
// Prepended: common.wgsl (Layer, Step, the activation codes, activate), tile_product.wgsl.

@group(0) @binding(0) var<uniform> layer: Layer;
@group(0) @binding(1) var<storage, read> input: array<vec4f>;          // (B, IN), or the dataset's (N, IN) inputs (GATHER)
@group(0) @binding(2) var<storage, read> batch_rows: array<u32>;       // (STEPS, B): the dataset row of each sample (GATHER)
@group(0) @binding(3) var<storage, read> params: array<vec4f>;         // (P) weights (OUT, IN) and biases (OUT) at their offsets
@group(0) @binding(4) var<storage, read_write> net: array<f32>;        // (B, OUT); (SPLIT_K, B, OUT) partial sums (OUTPUT, split)
@group(0) @binding(5) var<storage, read_write> out: array<f32>;        // (B, OUT)
@group(0) @binding(6) var<storage, read_write> partials: array<f32>;   // (SPLIT_K, B, OUT) where split (not OUTPUT)
@group(1) @binding(0) var<uniform> step: Step;

override ACTIVATION: u32;           // an activation code; for SOFTMAX, `out` is written by output_delta.wgsl (training) or softmax.wgsl (prediction)
override GATHER: bool = false;      // the inputs are dataset rows, picked by batch_rows
override OUTPUT: bool = false;      // the output layer of a training step: write net only (output_delta.wgsl does the rest)
override CAPTURE: bool = true;      // write net for every layer (the named buffers a check reads)
override VEC4_LOADS: bool = false;  // IN is a multiple of 4: rows are read as vec4s
override FINISH_THREADS: u32 = 256u;

var<private> split: u32;

/** Element e of `input` and of `params`, which are read as vec4s elsewhere. */
fn input_element(e: u32) -> f32 {
  return input[e / 4u][e % 4u];
}

fn param_element(e: u32) -> f32 {
  return params[e / 4u][e % 4u];
}

/** Four consecutive inputs k, k + 1, … of sample b; zero past k_end or past the batch. */
fn input_quad(b: u32, k: u32, k_end: u32) -> vec4f {
  if (b >= layer.batch) {
    return vec4f(0.0);
  }
  var row = b;
  if (GATHER) {
    row = batch_rows[step.rows_offset + b];
  }
  let first = row * layer.inputs + k;
  if (VEC4_LOADS) {
    return select(vec4f(0.0), input[first / 4u], k < k_end);
  }
  var v = vec4f(0.0);
  for (var c = 0u; c < 4u; c++) {
    if (k + c < k_end) {
      v[c] = input_element(first + c);
    }
  }
  return v;
}

/** Four consecutive weights w_j,k … of unit j. */
fn weight_quad(j: u32, k: u32, k_end: u32) -> vec4f {
  if (j >= layer.units) {
    return vec4f(0.0);
  }
  let first = layer.weights_offset + j * layer.inputs + k;
  if (VEC4_LOADS) {
    return select(vec4f(0.0), params[first / 4u], k < k_end);
  }
  var v = vec4f(0.0);
  for (var c = 0u; c < 4u; c++) {
    if (k + c < k_end) {
      v[c] = param_element(first + c);
    }
  }
  return v;
}

var<private> first_sample: u32;
var<private> first_unit: u32;

fn load_job(job: u32, k0: u32, k_end: u32) -> Quad {
  if (job < A_JOBS) {
    let at = transposed_job(job, TILE_M);
    let b = first_sample + at.x;
    let k = k0 + 4u * at.y;
    return Quad(input_quad(b, k, k_end), input_quad(b + 1u, k, k_end), input_quad(b + 2u, k, k_end), input_quad(b + 3u, k, k_end));
  }
  let at = transposed_job(job - A_JOBS, TILE_N);
  let j = first_unit + at.x;
  let k = k0 + 4u * at.y;
  return Quad(weight_quad(j, k, k_end), weight_quad(j + 1u, k, k_end), weight_quad(j + 2u, k, k_end), weight_quad(j + 3u, k, k_end));
}

fn store_job(job: u32, quad: Quad) {
  if (job < A_JOBS) {
    store_a_transposed(transposed_job(job, TILE_M), quad);
  } else {
    store_b_transposed(transposed_job(job - A_JOBS, TILE_N), quad);
  }
}

/** The bias, the activation, and the stores of one result: net input `sum` of sample b, unit j. */
fn epilogue(b: u32, j: u32, sum: f32) {
  let index = b * layer.units + j;
  let value = sum + param_element(layer.biases_offset + j);
  if (CAPTURE || OUTPUT || ACTIVATION == SOFTMAX) {
    net[index] = value;
  }
  if (!OUTPUT && ACTIVATION != SOFTMAX) {
    out[index] = activate(ACTIVATION, value);
  }
}

fn finish_element(b: u32, j: u32, sum: f32) {
  if (SPLIT_K > 1u) {
    let index = (split * layer.batch + b) * layer.units + j;
    if (OUTPUT) {
      net[index] = sum;
    } else {
      partials[index] = sum;
    }
  } else {
    epilogue(b, j, sum);
  }
}

@compute @workgroup_size(WG_X, WG_Y)
fn main(
  @builtin(workgroup_id) group: vec3u,
  @builtin(local_invocation_id) local: vec3u,
  @builtin(local_invocation_index) thread: u32,
) {
  first_sample = group.y * TILE_M;
  first_unit = group.x * TILE_N;
  split = group.z;
  let k = k_range(group.z, layer.inputs);
  let acc = multiply(k.x, k.y, thread, local.x, local.y);
  finish_block(acc, first_sample, first_unit, local.x, local.y, layer.batch, layer.units);
}

/** A split product's partial sums added up, then the epilogue: one thread per result. */
@compute @workgroup_size(FINISH_THREADS)
fn finish(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let count = layer.batch * layer.units;
  for (var e = id.x; e < count; e += groups.x * FINISH_THREADS) {
    var sum = 0.0;
    for (var z = 0u; z < SPLIT_K; z++) {
      sum += partials[z * count + e];
    }
    epilogue(e / layer.units, e % layer.units, sum);
  }
}
