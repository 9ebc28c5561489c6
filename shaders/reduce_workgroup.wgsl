// Sums over a workgroup through workgroup memory: a tree of log2(threads) steps, each
// after a barrier. Prepended to kernels that reduce (output_delta.wgsl) on adapters
// without the `subgroups` feature; reduce_subgroups.wgsl defines the same function with
// subgroup operations. Twin: `mean` of src/reference/backprop.ts, the additions.

var<workgroup> reduce_scratch: array<f32, 256>; // (threads)

/** Σ `value` over the workgroup's `threads` threads (a power of two, at most 256), valid in thread 0. */
fn workgroup_sum(value: f32, thread: u32, threads: u32) -> f32 {
  reduce_scratch[thread] = value;
  workgroupBarrier();
  for (var stride = threads / 2u; stride > 0u; stride /= 2u) {
    if (thread < stride) {
      reduce_scratch[thread] += reduce_scratch[thread + stride];
    }
    workgroupBarrier();
  }
  return reduce_scratch[0];
}
