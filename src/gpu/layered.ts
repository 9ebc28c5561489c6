// The layered path: a step as one dispatch per job, for networks of any size.
//   gather_batch, forward × L (+ softmax), output_delta, hidden_delta × (L − 1), weight_update × L
// Bind groups are built once; encoding a chunk of steps only records dispatches.

import { gatherDims, GATHER_DIMS_BYTES, STEP_UNIFORM_BYTES } from './abi.ts';
import type { Kernel, LayeredKernels, MatmulKernel } from './kernels.ts';
import { whole, type Region } from './memory.ts';
import { layerInputs, outputActivation } from '../model/model.ts';
import type { StepContext, StepEncoder } from './trainer.ts';

const GATHER_WORKGROUP = 64; // gather_batch.wgsl's WORKGROUP_SIZE
const SOFTMAX_WORKGROUP = 64; // softmax.wgsl's WORKGROUP_SIZE

export function layeredEncoder(context: StepContext, kernels: LayeredKernels): StepEncoder {
  const { device, spec, buffers, dataset, placement, bindGroup, region } = context;
  const L = spec.layers.length;
  const B = context.batch;
  const uniform = (l: number) => whole(buffers.layerUniforms[l]);
  const layerInput = (l: number) => region(l === 0 ? 'input' : `layer${l - 1}.out`);
  const value = (l: number, kind: 'net' | 'out' | 'delta') => region(`layer${l}.${kind}`);
  const params = region('params');
  const gatherUniform = device.createBuffer({ label: 'gather dims', size: GATHER_DIMS_BYTES, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  buffers.owned.push(gatherUniform);
  device.queue.writeBuffer(gatherUniform, 0, gatherDims(B, dataset.inputSize, dataset.outputSize));
  const datasetInputs: Region = { buffer: buffers.dataset, offset: 0, length: placement.rows * dataset.inputSize };
  const datasetTargets: Region = { buffer: buffers.dataset, offset: placement.targetsOffset, length: placement.rows * dataset.outputSize };
  const groups = {
    gather: bindGroup(kernels.gather, [whole(gatherUniform), datasetInputs, datasetTargets, whole(buffers.batchRows), region('input'), region('target')], 'gather'),
    forward: spec.layers.map((_, l) => bindGroup(kernels.forward[l], [uniform(l), layerInput(l), params, value(l, 'net'), value(l, 'out')], `forward layer${l}`)),
    softmax: outputActivation(spec) === 'softmax' ? bindGroup(kernels.softmax, [uniform(L - 1), value(L - 1, 'net'), value(L - 1, 'out')], 'softmax') : undefined,
    outputDelta: bindGroup(
      kernels.outputDelta,
      [uniform(L - 1), value(L - 1, 'net'), value(L - 1, 'out'), region('target'), value(L - 1, 'delta'), region('loss'), whole(buffers.lossHistory)],
      'output delta',
    ),
    hiddenDelta: spec.layers.map((_, l) =>
      l < L - 1 ? bindGroup(kernels.hiddenDelta[l]!, [uniform(l), value(l + 1, 'delta'), params, value(l, 'out'), value(l, 'delta')], `hidden delta layer${l}`) : undefined,
    ),
    weightUpdate: spec.layers.map((_, l) =>
      bindGroup(kernels.weightUpdate[l], [uniform(l), layerInput(l), value(l, 'delta'), params, region('grads'), context.stateRegion(0), context.stateRegion(1)], `weight update layer${l}`),
    ),
    step: device.createBindGroup({ label: 'step', layout: kernels.stepLayout, entries: [{ binding: 0, resource: { buffer: buffers.steps, size: STEP_UNIFORM_BYTES } }] }),
  };
  const maxGroups = device.limits.maxComputeWorkgroupsPerDimension;
  const gatherGroups = Math.min(maxGroups, Math.ceil((B * (dataset.inputSize + dataset.outputSize)) / GATHER_WORKGROUP));
  const softmaxGroups = Math.min(maxGroups, Math.ceil(B / SOFTMAX_WORKGROUP));

  return (encoder, count) => {
    const pass = encoder.beginComputePass({ label: 'layered steps' });
    for (let k = 0; k < count; k++) {
      const stepOffset = k * context.stepStride;
      const run = (kernel: Kernel, group: GPUBindGroup, x: number, y = 1, usesStep = false) => {
        pass.setPipeline(kernel.pipeline);
        pass.setBindGroup(0, group);
        if (usesStep) pass.setBindGroup(1, groups.step, [stepOffset]);
        pass.dispatchWorkgroups(x, y);
        context.counts.dispatches++;
      };
      // An M × N product in tiles of tile.m × tile.n: workgroups along N (x) and M (y).
      const matmul = (kernel: MatmulKernel, group: GPUBindGroup, m: number, n: number, usesStep = false) =>
        run(kernel, group, Math.ceil(n / kernel.tile.n), Math.ceil(m / kernel.tile.m), usesStep);

      run(kernels.gather, groups.gather, gatherGroups, 1, true);
      spec.layers.forEach((layer, l) => matmul(kernels.forward[l], groups.forward[l], B, layer.units));
      if (groups.softmax) run(kernels.softmax, groups.softmax, softmaxGroups);
      run(kernels.outputDelta, groups.outputDelta, 1, 1, true);
      for (let l = L - 2; l >= 0; l--) matmul(kernels.hiddenDelta[l]!, groups.hiddenDelta[l]!, B, spec.layers[l].units);
      spec.layers.forEach((layer, l) => matmul(kernels.weightUpdate[l], groups.weightUpdate[l], layer.units, layerInputs(spec, l), true));
    }
    pass.end();
  };
}
