// Twin of clipScale (src/reference/optimizers.ts), its sum: Σ g² over every trained
// parameter's gradient, for clipping the batch's gradient to a global norm on the GPU
// without reading anything back. Each of NORM_GROUPS workgroups sums its share (a
// grid-stride over the trained ranges of `grads`) and leaves it in `partials`; the update
// (weight_update.wgsl's `apply`, or the fused kernel) adds the NORM_GROUPS sums itself,
// in order, so every workgroup finds the same norm.
//
// Prepended: reduce_subgroups.wgsl or reduce_workgroup.wgsl (workgroup_sum), common.wgsl,
// ops.wgsl (not used here).

@group(0) @binding(0) var<storage, read> ranges: array<vec2u>;          // (RANGES): offset and length in `grads` of each trained weight matrix and bias vector
@group(0) @binding(1) var<storage, read> grads: array<f32>;             // (P)
@group(0) @binding(2) var<storage, read_write> partials: array<f32>;    // (NORM_GROUPS): each workgroup's Σ g²

override RANGES: u32;
override THREADS: u32 = 256u; // a power of two, at most 256

@compute @workgroup_size(THREADS)
fn main(
  @builtin(workgroup_id) group: vec3u,
  @builtin(num_workgroups) groups: vec3u,
  @builtin(global_invocation_id) id: vec3u,
  @builtin(local_invocation_index) thread: u32,
) {
  var squares = 0.0;
  for (var r = 0u; r < RANGES; r++) {
    let range = ranges[r];
    for (var k = id.x; k < range.y; k += groups.x * THREADS) {
      let g = grads[range.x + k];
      squares += g * g;
    }
  }
  let sum = workgroup_sum(squares, thread, THREADS);
  if (thread == 0u) {
    partials[group.x] = sum;
  }
}
