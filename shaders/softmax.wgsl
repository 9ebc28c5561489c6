// Twin of softmax (src/reference/activations.ts): out = softmax(net) row by row, for a
// softmax output layer in prediction (src/gpu/predict.ts), after forward.wgsl has written
// its net inputs. In training the output stage (output_delta.wgsl) computes it.
//
// Prepended: common.wgsl (the Layer struct), ops.wgsl (not used here).

@group(0) @binding(0) var<uniform> layer: Layer;
@group(0) @binding(1) var<storage, read> net: array<f32>;        // (B, OUT)
@group(0) @binding(2) var<storage, read_write> out: array<f32>;  // (B, OUT)

override WORKGROUP_SIZE: u32;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  for (var b = id.x; b < layer.batch; b += groups.x * WORKGROUP_SIZE) {
    let row = b * layer.units;
    // Subtracting the row's largest net input keeps exp from overflowing.
    var largest = net[row];
    for (var k = 1u; k < layer.units; k++) {
      largest = max(largest, net[row + k]);
    }
    var sum = 0.0;
    for (var k = 0u; k < layer.units; k++) {
      let e = exp(net[row + k] - largest);
      out[row + k] = e;
      sum += e;
    }
    for (var k = 0u; k < layer.units; k++) {
      out[row + k] /= sum;
    }
  }
}
