// Twin of forwardLayer (src/reference/backprop.ts): one layer's forward pass over the
// batch, net = in·Wᵀ + b and out = f(net), as one tiled matrix product (tile_product.wgsl)
// (B, OUT) = (B, IN) · (IN, OUT), with the bias and the activation applied as each
// result is stored.
//
// The first layer reads its inputs straight out of the dataset, through the step's batch
// rows (layer.gather): no gathered copy of the batch is written. `net` is written only
// where something reads it: the output stage or softmax (layer.net_only), the backward
// pass (layer.keep_net), or a check (CAPTURE); hidden layers' `out` always, since the next
// layer, the deltas and the gradients read it.
//
// What sets a layer apart (whether it reads the dataset or leaves net to the output stage,
// its activation's parameter, dropout's rate) is in its Layer uniform, not in override
// constants, so layers share a pipeline where their tile plans agree, and the choices
// that shape the kernel's code do: the activation, vec4 loads, and dropout's generator.
// A layer whose out another kernel computes (net_only) applies no activation, and takes
// any code (the first layer's: src/gpu/constants.ts).
//
// Where the product is split over IN (SPLIT_K > 1), `main` writes partial sums and
// `finish` adds them up and applies the epilogue; the output layer leaves them in SPLIT_K
// slices of `net`, and output_delta.wgsl adds them up.
//
// In training, a hidden layer with dropout multiplies its outputs by the step's mask
// (DROPOUT); prediction never drops.
//
// Prepended: common.wgsl (Layer, Step), ops.wgsl (the activation codes, activate),
// dropout.wgsl (dropout_mask), tile_product.wgsl (the product, and the entry points main
// and finish).

@group(0) @binding(0) var<uniform> layer: Layer;
@group(0) @binding(1) var<storage, read_write> input: array<vec4f>;    // (B, IN), or the dataset's (N, IN) inputs (gather); read only, but
                                                                         // in the activation buffer the kernel writes out to (src/gpu/abi.ts, GROUP0)
@group(0) @binding(2) var<storage, read> batch_rows: array<u32>;       // (STEPS, B): the dataset row of each sample (gather)
@group(0) @binding(3) var<storage, read> params: array<vec4f>;         // (P) weights (OUT, IN) and biases (OUT) at their offsets
@group(0) @binding(4) var<storage, read_write> net: array<f32>;        // (B, OUT); (SPLIT_K, B, OUT) partial sums (net_only, split)
@group(0) @binding(5) var<storage, read_write> out: array<f32>;        // (B, OUT)
@group(0) @binding(6) var<storage, read_write> partials: array<f32>;   // (SPLIT_K, B, OUT) where split (not net_only)
@group(1) @binding(0) var<uniform> step: Step;

override ACTIVATION: u32;          // the activation out = f(net) takes (any, where the layer leaves out to another kernel: net_only)
override CAPTURE: bool = true;     // write net for every layer (the named buffers a check reads)
override VEC4_LOADS: bool = false; // IN is a multiple of 4: rows are read as vec4s
override DROPOUT: bool = false;    // the layer drops in training (its draws are the uniform's: dropout_threshold)

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
  if (layer.gather != 0u) {
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

fn begin_product(index: u32) {}

/** The product (B, OUT) = (B, IN) · (IN, OUT): rows are samples, columns units; one product a dispatch (index 0). */
fn product_shape(index: u32) -> vec3u {
  return vec3u(layer.batch, layer.units, layer.inputs);
}

/** Four samples' inputs (A's jobs) or four units' weights (B's), 4 k each, one row at a time (set_quad_row). */
fn load_job(job: u32, k0: u32, k_end: u32) -> Quad {
  let is_a = job < A_JOBS;
  let at = transposed_job(select(job - A_JOBS, job, is_a), select(TILE_N, TILE_M, is_a));
  let first = select(first_column, first_row, is_a) + at.x; // sample b, or unit j
  let k = k0 + 4u * at.y;
  var quad: Quad;
  for (var r = 0u; r < 4u; r++) {
    if (is_a) {
      set_quad_row(&quad, r, input_quad(first + r, k, k_end));
    } else {
      set_quad_row(&quad, r, weight_quad(first + r, k, k_end));
    }
  }
  return quad;
}

fn store_job(job: u32, quad: Quad) {
  if (job < A_JOBS) {
    store_a_transposed(transposed_job(job, TILE_M), quad);
  } else {
    store_b_transposed(transposed_job(job - A_JOBS, TILE_N), quad);
  }
}

/** The bias, the activation, and the stores of one result: net input `sum` of sample b, unit j. */
fn finish_result(b: u32, j: u32, sum: f32) {
  let index = b * layer.units + j;
  let value = sum + param_element(layer.biases_offset + j);
  if (writes_net()) {
    net[index] = value;
  }
  if (layer.net_only == 0u) {
    out[index] = activated(b, j, value);
  }
}

/**
 * The same for units j … j + 3 of sample b: the four biases read as one vec4 (biases
 * start at a multiple of 64 floats, j is a multiple of 4), the activation applied lane by lane.
 */
fn finish_quad(b: u32, j: u32, sums: vec4f) {
  let index = b * layer.units + j;
  let value = sums + params[(layer.biases_offset + j) / 4u];
  for (var c = 0u; c < 4u; c++) {
    if (writes_net()) {
      net[index + c] = value[c];
    }
    if (layer.net_only == 0u) {
      out[index + c] = activated(b, j + c, value[c]);
    }
  }
}

/** Whether net is stored: where the output stage or softmax reads it, the backward pass, or a check. */
fn writes_net() -> bool {
  return CAPTURE || layer.net_only != 0u || layer.keep_net != 0u;
}

/** out of sample b, unit j from its net input: the activation, times dropout's mask where the layer drops. */
fn activated(b: u32, j: u32, net_input: f32) -> f32 {
  let value = activate(ACTIVATION, net_input, layer.activation_parameter);
  if (DROPOUT) {
    return value * dropout_mask(step, b, j, layer.index, layer.dropout_threshold, layer.dropout_scale);
  }
  return value;
}

fn result_columns() -> u32 {
  return layer.units;
}

/** No workgroups are dispatched past the units. */
fn beyond_columns(thread: u32, k_begin: u32, k_end: u32) {}

/** The output layer leaves its partial sums in `net`, for output_delta.wgsl to add up. */
fn store_partial(index: u32, sum: f32) {
  if (layer.net_only != 0u) {
    net[index] = sum;
  } else {
    partials[index] = sum;
  }
}

/** A hidden layer's split product is finished by `finish` (the output layer's by output_delta.wgsl). */
fn load_partial(index: u32) -> f32 {
  return partials[index];
}
