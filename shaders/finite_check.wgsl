// Twin of CpuTrainer's check after every step (src/reference/trainer.ts, float32Finite):
// whether the parameters and the optimizer's state are all finite. The reference checks
// every step; here the last submit of each chunk runs this kernel once, which is enough
// because a value that has gone Infinity or NaN stays so in every later update. A flag
// set here makes the chunk's last loss read back as NaN (src/gpu/submit.ts), which the
// training loop turns into a DivergedError, replaying the chunk to find the step.
//
// Prepended: common.wgsl, ops.wgsl (not used here).

@group(0) @binding(0) var<storage, read> params: array<f32>;        // (P)
@group(0) @binding(1) var<storage, read> state: array<f32>;         // (2, S): the optimizer's slots
@group(0) @binding(2) var<storage, read_write> flag: atomic<u32>;   // 1 once a value is not finite

override WORKGROUP_SIZE: u32;

/** Infinity and NaN have every exponent bit set; read as bits, so that no fast-math folds the test away. */
fn not_finite(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7f800000u) == 0x7f800000u;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let stride = groups.x * WORKGROUP_SIZE;
  var bad = false;
  for (var k = id.x; k < arrayLength(&params); k += stride) {
    bad = bad || not_finite(params[k]);
  }
  for (var k = id.x; k < arrayLength(&state); k += stride) {
    bad = bad || not_finite(state[k]);
  }
  if (bad) {
    atomicOr(&flag, 1u);
  }
}
