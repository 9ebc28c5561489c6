// Twin of hiddenDeltas (src/reference/backprop.ts): δ_h = (Σ_o δ_o · w_oh) · f′(net_h, out_h),
// the layer above's deltas sent back through its weights, as one tiled matrix product
// (tile_product.wgsl) (B, OUT) = (B, NEXT) · (NEXT, OUT), with the activation's derivative
// applied as each result is stored.
//
// Where the product is split over NEXT (SPLIT_K > 1), `main` writes partial sums and
// `finish` adds them up and applies the derivative.
//
// The layer's net inputs are read only where its activation's slope needs them (its
// record says so, and forward.wgsl then keeps them, KEEP_NET), or where it dropped: δ is
// then times the step's mask, and the slope takes the output before dropout, f(net).
//
// Prepended: common.wgsl (Layer, Step), ops.wgsl (the activation codes, activate,
// derivative), dropout.wgsl (dropout_mask), tile_product.wgsl (the product, and the entry
// points main and finish).

@group(0) @binding(0) var<uniform> layer: Layer;
@group(0) @binding(1) var<storage, read> next_delta: array<vec4f>;    // (B, NEXT)
@group(0) @binding(2) var<storage, read> params: array<vec4f>;        // (P) the layer above's weights (NEXT, OUT) at next_weights_offset
@group(0) @binding(3) var<storage, read> net: array<vec4f>;           // (B, OUT), written where KEEP_NET
@group(0) @binding(4) var<storage, read> out: array<vec4f>;           // (B, OUT)
@group(0) @binding(5) var<storage, read_write> delta: array<f32>;     // (B, OUT)
@group(0) @binding(6) var<storage, read_write> partials: array<f32>;  // (SPLIT_K, B, OUT) where split
@group(1) @binding(0) var<uniform> step: Step;

override ACTIVATION: u32;                 // this layer's activation code
override ACTIVATION_PARAMETER: f32 = 0.0; // … and its parameter
override KEEP_NET: bool = false;          // its slope (or dropout) reads net
override LAYER_INDEX: u32 = 0u;           // the layer's index, dropout's counter
override DROPOUT_THRESHOLD: u32 = 0u;     // dropout, as forward.wgsl's (0: none)
override DROPOUT_SCALE: f32 = 1.0;
override VEC4_A: bool = false;            // NEXT is a multiple of 4: δ rows are read as vec4s
override VEC4_B: bool = false;            // OUT is a multiple of 4: weight rows are read as vec4s

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

/** The product (B, OUT) = (B, NEXT) · (NEXT, OUT): rows are samples, columns this layer's units. */
fn product_shape() -> vec3u {
  return vec3u(layer.batch, layer.units, layer.next_units);
}

fn load_job(job: u32, k0: u32, k_end: u32) -> Quad {
  if (job < A_JOBS) {
    let at = transposed_job(job, TILE_M);
    let b = first_row + at.x;
    let o = k0 + 4u * at.y;
    return Quad(delta_quad(b, o, k_end), delta_quad(b + 1u, o, k_end), delta_quad(b + 2u, o, k_end), delta_quad(b + 3u, o, k_end));
  }
  let at = rows_job(job - A_JOBS, TILE_N);
  let o = k0 + at.x;
  let h = first_column + 4u * at.y;
  return Quad(weight_quad(o, h, k_end), weight_quad(o + 1u, h, k_end), weight_quad(o + 2u, h, k_end), weight_quad(o + 3u, h, k_end));
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
  if (KEEP_NET) {
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
    if (KEEP_NET) {
      net_inputs = net[index / 4u];
    }
    outs = out[index / 4u];
  } else {
    for (var c = 0u; c < 4u; c++) {
      if (KEEP_NET) {
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
  if (DROPOUT_THRESHOLD > 0u) {
    keep = dropout_mask(step, b, h, LAYER_INDEX, DROPOUT_THRESHOLD, DROPOUT_SCALE);
    activated = activate(ACTIVATION, net_input, ACTIVATION_PARAMETER);
  }
  return sum * keep * derivative(ACTIVATION, net_input, activated, ACTIVATION_PARAMETER);
}

fn result_columns() -> u32 {
  return layer.units;
}

/** No workgroups are dispatched past the units. */
fn beyond_columns(thread: u32, k_begin: u32, k_end: u32) {}

fn store_partial(index: u32, sum: f32) {
  partials[index] = sum;
}
