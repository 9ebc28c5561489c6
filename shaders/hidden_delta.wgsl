// Twin of hiddenDeltas (src/reference/backprop.ts): δ_h = (Σ_o δ_o · w_oh) · f′(net_h, out_h),
// the layer above's deltas sent back through its weights, as one tiled matrix product
// (tile_product.wgsl) (B, OUT) = (B, NEXT) · (NEXT, OUT), with the activation's derivative
// applied as each result is stored.
//
// Where the product is split over NEXT (SPLIT_K > 1), `main` writes partial sums and
// `finish` adds them up and applies the derivative.
//
// The layer's net inputs are read only where its activation's slope needs them (its
// record says so, and forward.wgsl then keeps them, layer.keep_net), or where it dropped:
// δ is then times the step's mask, and the slope takes the output before dropout, f(net).
// Like forward.wgsl, it reads what sets its layer apart from the Layer uniform, but for the
// choices that shape its code: the activation, vec4 loads, and dropout's generator.
//
// Prepended: common.wgsl (Layer, Step), ops.wgsl (the activation codes, activate,
// derivative), dropout.wgsl (dropout_mask), tile_product.wgsl (the product, and the entry
// points main and finish).

@group(0) @binding(0) var<uniform> layer: Layer;
@group(0) @binding(1) var<storage, read_write> next_delta: array<vec4f>; // (B, NEXT); read only, as net and out, but in the activation buffer
                                                                          // that delta is written to (src/gpu/abi.ts, GROUP0)
@group(0) @binding(2) var<storage, read> params: array<vec4f>;        // (P) the layer above's weights (NEXT, OUT) at next_weights_offset
@group(0) @binding(3) var<storage, read_write> net: array<vec4f>;    // (B, OUT), written where keep_net; read_write as out is, for the same reason
@group(0) @binding(4) var<storage, read_write> out: array<vec4f>;    // (B, OUT)
@group(0) @binding(5) var<storage, read_write> delta: array<f32>;     // (B, OUT)
@group(0) @binding(6) var<storage, read_write> partials: array<f32>;  // (SPLIT_K, B, OUT) where split
@group(1) @binding(0) var<uniform> step: Step;

override ACTIVATION: u32;        // the layer's activation, whose slope δ takes
override VEC4_A: bool = false;  // NEXT is a multiple of 4: δ rows are read as vec4s
override VEC4_B: bool = false;  // OUT is a multiple of 4: weight rows, and net and out, are read as vec4s
override DROPOUT: bool = false; // the layer drops (its draws are the uniform's: dropout_threshold)

/** The layer's slope (or dropout) reads net. */
fn reads_net() -> bool {
  return layer.keep_net != 0u;
}

/** Four consecutive deltas δ_o … of the layer above, for sample b; zero past k_end or past the batch. */
fn delta_quad(b: u32, o: u32, k_end: u32) -> vec4f {
  if (b >= layer.batch) {
    return vec4f(0.0);
  }
  let first = b * layer.next_units + o;
  if (VEC4_A) {
    return select(vec4f(0.0), next_delta[first / 4u], o < k_end);
  }
  var v = vec4f(0.0);
  for (var c = 0u; c < 4u; c++) {
    if (o + c < k_end) {
      v[c] = next_delta[(first + c) / 4u][(first + c) % 4u];
    }
  }
  return v;
}

/** Four consecutive weights w_o,h … of row o of the layer above. */
fn weight_quad(o: u32, h: u32, k_end: u32) -> vec4f {
  if (o >= k_end) {
    return vec4f(0.0);
  }
  let first = layer.next_weights_offset + o * layer.units + h;
  if (VEC4_B) {
    return select(vec4f(0.0), params[first / 4u], h < layer.units);
  }
  var v = vec4f(0.0);
  for (var c = 0u; c < 4u; c++) {
    if (h + c < layer.units) {
      v[c] = params[(first + c) / 4u][(first + c) % 4u];
    }
  }
  return v;
}

fn begin_product(index: u32) {}

/** The product (B, OUT) = (B, NEXT) · (NEXT, OUT): rows are samples, columns this layer's units; one product a dispatch (index 0). */
fn product_shape(index: u32) -> vec3u {
  return vec3u(layer.batch, layer.units, layer.next_units);
}

/** Four samples' deltas (A's jobs, 4 o each) or four rows o of weights (B's, 4 h each), one row at a time (set_quad_row). */
fn load_job(job: u32, k0: u32, k_end: u32) -> Quad {
  let is_a = job < A_JOBS;
  var first: u32; // sample b (A), or row o (B)
  var at_k: u32;  // its first o (A), or its first h (B)
  if (is_a) {
    let at = transposed_job(job, TILE_M);
    first = first_row + at.x;
    at_k = k0 + 4u * at.y;
  } else {
    let at = rows_job(job - A_JOBS, TILE_N);
    first = k0 + at.x;
    at_k = first_column + 4u * at.y;
  }
  var quad: Quad;
  for (var r = 0u; r < 4u; r++) {
    if (is_a) {
      set_quad_row(&quad, r, delta_quad(first + r, at_k, k_end));
    } else {
      set_quad_row(&quad, r, weight_quad(first + r, at_k, k_end));
    }
  }
  return quad;
}

fn store_job(job: u32, quad: Quad) {
  if (job < A_JOBS) {
    store_a_transposed(transposed_job(job, TILE_M), quad);
  } else {
    store_b_rows(rows_job(job - A_JOBS, TILE_N), quad);
  }
}

/** δ of sample b, unit h, from ∂E/∂out: times the activation's slope (and dropout's mask). */
fn finish_result(b: u32, h: u32, sum: f32) {
  let index = b * layer.units + h;
  var net_input = 0.0;
  if (reads_net()) {
    net_input = net[index / 4u][index % 4u];
  }
  delta[index] = delta_of(b, h, sum, net_input, out[index / 4u][index % 4u]);
}

/** The same for units h … h + 3 of sample b: net and out read as vec4s where OUT is a multiple of 4. */
fn finish_quad(b: u32, h: u32, sums: vec4f) {
  let index = b * layer.units + h;
  var net_inputs = vec4f(0.0);
  var outs = vec4f(0.0);
  if (VEC4_B) {
    if (reads_net()) {
      net_inputs = net[index / 4u];
    }
    outs = out[index / 4u];
  } else {
    for (var c = 0u; c < 4u; c++) {
      if (reads_net()) {
        net_inputs[c] = net[(index + c) / 4u][(index + c) % 4u];
      }
      outs[c] = out[(index + c) / 4u][(index + c) % 4u];
    }
  }
  for (var c = 0u; c < 4u; c++) {
    delta[index + c] = delta_of(b, h + c, sums[c], net_inputs[c], outs[c]);
  }
}

/** δ from ∂E/∂out `sum`, net input and output of sample b, unit h. */
fn delta_of(b: u32, h: u32, sum: f32, net_input: f32, out_value: f32) -> f32 {
  var activated = out_value;
  var keep = 1.0;
  if (DROPOUT) {
    keep = dropout_mask(step, b, h, layer.index, layer.dropout_threshold, layer.dropout_scale);
    activated = activate(ACTIVATION, net_input, layer.activation_parameter);
  }
  return sum * keep * derivative(ACTIVATION, net_input, activated, layer.activation_parameter);
}

fn result_columns() -> u32 {
  return layer.units;
}

/** No workgroups are dispatched past the units. */
fn beyond_columns(thread: u32, k_begin: u32, k_end: u32) {}

fn store_partial(index: u32, sum: f32) {
  partials[index] = sum;
}

fn load_partial(index: u32) -> f32 {
  return partials[index];
}
