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
// In training, a hidden layer with dropout multiplies its outputs by the step's mask
// (DROPOUT_THRESHOLD > 0); prediction never drops.
//
// Prepended: common.wgsl (Layer, Step), ops.wgsl (the activation codes, activate),
// dropout.wgsl (dropout_mask), tile_product.wgsl (the product, and the entry points main
// and finish).

@group(0) @binding(0) var<uniform> layer: Layer;
@group(0) @binding(1) var<storage, read_write> input: array<vec4f>;    // (B, IN), or the dataset's (N, IN) inputs (GATHER); read only, but
                                                                         // in the activation buffer the kernel writes out to (src/gpu/abi.ts, GROUP0)
@group(0) @binding(2) var<storage, read> batch_rows: array<u32>;       // (STEPS, B): the dataset row of each sample (GATHER)
@group(0) @binding(3) var<storage, read> params: array<vec4f>;         // (P) weights (OUT, IN) and biases (OUT) at their offsets
@group(0) @binding(4) var<storage, read_write> net: array<f32>;        // (B, OUT); (SPLIT_K, B, OUT) partial sums (OUTPUT, split)
@group(0) @binding(5) var<storage, read_write> out: array<f32>;        // (B, OUT)
@group(0) @binding(6) var<storage, read_write> partials: array<f32>;   // (SPLIT_K, B, OUT) where split (not OUTPUT)
@group(1) @binding(0) var<uniform> step: Step;

override ACTIVATION: u32;                 // an activation code; for SOFTMAX, `out` is written by output_delta.wgsl (training) or softmax.wgsl (prediction)
override ACTIVATION_PARAMETER: f32 = 0.0; // … and its parameter
override GATHER: bool = false;            // the inputs are dataset rows, picked by batch_rows
override OUTPUT: bool = false;            // the output layer of a training step: write net only (output_delta.wgsl does the rest)
override CAPTURE: bool = true;            // write net for every layer (the named buffers a check reads)
override KEEP_NET: bool = false;          // write net: the activation's slope (or dropout) needs it in the backward pass
override LAYER_INDEX: u32 = 0u;           // the layer's index, dropout's counter
override DROPOUT_THRESHOLD: u32 = 0u;     // dropout: a unit is kept where its draw is at least this (0: no dropout)
override DROPOUT_SCALE: f32 = 1.0;        // … and then scaled by 1/(1 − p)
override VEC4_LOADS: bool = false;        // IN is a multiple of 4: rows are read as vec4s

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
  if (CAPTURE || OUTPUT || KEEP_NET || ACTIVATION == SOFTMAX) {
    net[index] = value;
  }
  if (!OUTPUT && ACTIVATION != SOFTMAX) {
    var activated = activate(ACTIVATION, value, ACTIVATION_PARAMETER);
    if (DROPOUT_THRESHOLD > 0u) {
      activated *= dropout_mask(step, b, j, LAYER_INDEX, DROPOUT_THRESHOLD, DROPOUT_SCALE);
    }
    out[index] = activated;
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
    if (CAPTURE || OUTPUT || KEEP_NET || ACTIVATION == SOFTMAX) {
      net[index + c] = value[c];
    }
    if (!OUTPUT && ACTIVATION != SOFTMAX) {
      var activated = activate(ACTIVATION, value[c], ACTIVATION_PARAMETER);
      if (DROPOUT_THRESHOLD > 0u) {
        activated *= dropout_mask(step, b, j + c, LAYER_INDEX, DROPOUT_THRESHOLD, DROPOUT_SCALE);
      }
      out[index + c] = activated;
    }
  }
}

fn result_columns() -> u32 {
  return layer.units;
}

/** No workgroups are dispatched past the units. */
fn beyond_columns(thread: u32, k_begin: u32, k_end: u32) {}

/** The output layer leaves its partial sums in `net`, for output_delta.wgsl to add up. */
fn store_partial(index: u32, sum: f32) {
  if (OUTPUT) {
    net[index] = sum;
  } else {
    partials[index] = sum;
  }
}

/** A hidden layer's split product is finished by `finish` (the output layer's by output_delta.wgsl). */
fn load_partial(index: u32) -> f32 {
  return partials[index];
}
