enable subgroups;

// Sums over a workgroup with subgroup operations: each subgroup adds its values in
// registers (subgroupAdd), its first lane leaves the sum in workgroup memory, and after
// one barrier thread 0 adds those, in thread order (so the result does not depend on
// scheduling). Prepended to kernels that reduce (output_delta.wgsl) on adapters with the
// `subgroups` feature; reduce_workgroup.wgsl is the fallback with the same function.
// Twin: `mean` of src/reference/backprop.ts, the additions.

var<workgroup> reduce_scratch: array<f32, 256>; // (threads): each subgroup's sum at its first lane, zeros elsewhere

/** Σ `value` over the workgroup's `threads` threads (at most 256), valid in thread 0. */
fn workgroup_sum(value: f32, thread: u32, threads: u32) -> f32 {
  let subgroup_sum = subgroupAdd(value);
  let first_lane = subgroupBroadcastFirst(thread);
  reduce_scratch[thread] = select(0.0, subgroup_sum, thread == first_lane);
  workgroupBarrier();
  var total = 0.0;
  if (thread == 0u) {
    for (var t = 0u; t < threads; t++) {
      total += reduce_scratch[t];
    }
  }
  return total;
}
