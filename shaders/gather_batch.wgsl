// Twin of gatherBatch (src/data/dataset.ts): copies one step's batch out of the dataset
// on the GPU into `input` and `target`. It runs only where the trainer captures, so that a
// check can read those two buffers: otherwise the first layer and the output stage read
// the batch's rows straight out of the dataset. The rows of every step of a chunk are
// uploaded together; `step.rows_offset` says where this step's rows start.
//
// Prepended: common.wgsl (the Step struct), ops.wgsl (not used here).

struct Dims {
  batch: u32,   // B
  inputs: u32,  // IN
  outputs: u32, // OUT
}

@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> dataset_inputs: array<f32>;  // (N, IN)
@group(0) @binding(2) var<storage, read> dataset_targets: array<f32>; // (N, OUT)
@group(0) @binding(3) var<storage, read> batch_rows: array<u32>;      // (STEPS, B)
@group(0) @binding(4) var<storage, read_write> input: array<f32>;     // (B, IN)
@group(0) @binding(5) var<storage, read_write> targets: array<f32>;   // (B, OUT)
@group(1) @binding(0) var<uniform> step: Step;

override WORKGROUP_SIZE: u32;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) id: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let total = dims.batch * (dims.inputs + dims.outputs);
  // A grid-stride loop: any batch fits in however many workgroups were dispatched.
  for (var k = id.x; k < total; k += groups.x * WORKGROUP_SIZE) {
    let b = k / (dims.inputs + dims.outputs);
    let column = k % (dims.inputs + dims.outputs);
    let row = batch_rows[step.rows_offset + b];
    if (column < dims.inputs) {
      input[b * dims.inputs + column] = dataset_inputs[row * dims.inputs + column];
    } else {
      let c = column - dims.inputs;
      targets[b * dims.outputs + c] = dataset_targets[row * dims.outputs + c];
    }
  }
}
