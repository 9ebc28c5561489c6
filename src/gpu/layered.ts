// The layered path: a step as one dispatch per job, for networks of any size.
//   [gather_batch]  forward × L (+ finish where split)  output_delta
//   hidden_delta × (L − 1) (+ finish)  weight_update (+ finish)  [grad_norm  apply]
// The weight updates of every layer are one dispatch (of each kind), up to UPDATE_LAYERS
// layers at a time: workgroup z picks the layer.
// The first layer's forward product and weight update read the batch straight out of the
// dataset, and output_delta its targets; gather_batch runs only to capture `input` and
// `target` for a check. The step is planned once: a list of dispatches with their
// pipelines, bind groups and workgroup counts, and the FLOPs and bytes each moves (for
// the benchmarks' roofline table). Encoding steps only records those dispatches; nothing
// is allocated per step.

import { gatherDims, GATHER_DIMS_BYTES, STEP_UNIFORM_BYTES, UPDATE_LAYERS, UPDATE_TABLE_BYTES } from './abi.ts';
import { trainedCount } from './constants.ts';
import { FINISH_THREADS, GATHER_THREADS, type LayeredKernels, type MatmulKernel } from './kernels.ts';
import { whole, type Region } from './memory.ts';
import { layerInputs, outputSize, type ModelSpec } from '../model/model.ts';
import { paramEntry, paramLayout } from '../model/layout.ts';
import { stateSlots, type OptimizerSpec } from '../model/optimizer.ts';
import { OPTIMIZER_OPS } from '../model/ops/optimizers.ts';
import type { Dispatch, StepContext, StepEncoder } from './encoder.ts';


const F32 = 4;
/** Steps per submit: the GPU starts on them while the next are encoded. */
const SUBMIT_STEPS = 16;

/** Per-parameter operations of an optimizer step (besides the gradient's scaling by 1/B): its record's. */
function updateFlops(optimizer: OptimizerSpec): number {
  return OPTIMIZER_OPS[optimizer.kind].flops;
}

/**
 * FLOPs of one step: the three products (2 per multiply-add; no δ for the input layer,
 * which has none), the bias adds, derivatives, bias sums, gradient scaling and updates,
 * and where the gradient is clipped, its norm (2 per trained parameter) and its scaling
 * (1 per parameter). Activations and the loss are not counted. The same count for every
 * backend a benchmark compares. The layered path's dispatches count the same work, plus
 * the SPLIT_K − 1 additions per result by which a split product's partial sums are added up.
 */
export function stepFlops(spec: ModelSpec, batch: number, optimizer: OptimizerSpec = { kind: 'sgd' }, clip = false): number {
  const B = batch;
  let flops = clip ? 2 * trainedCount(spec) : 0;
  spec.layers.forEach((layer, l) => {
    const IN = layerInputs(spec, l);
    const OUT = layer.units;
    flops += 2 * B * IN * OUT + B * OUT; // forward product and bias
    if (l > 0) flops += 2 * B * OUT * IN + B * IN; // δ of the layer below, and its derivative
    flops += 2 * OUT * IN * B + OUT * B + (OUT * IN + OUT) * (1 + updateFlops(optimizer) + (clip ? 1 : 0)); // gradients, bias sums, scaling, (clipping,) update
  });
  return flops;
}

export function layeredEncoder(context: StepContext, kernels: LayeredKernels): StepEncoder {
  const { device, spec, buffers, dataset, placement, bindGroup, region } = context;
  const L = spec.layers.length;
  const B = context.batch;
  const K = outputSize(spec);
  const capture = kernels.capture;
  const uniform = (l: number) => whole(buffers.layerUniforms[l]);
  const layerInput = (l: number) => region(l === 0 ? 'input' : `layer${l - 1}.out`);
  const value = (l: number, kind: 'net' | 'out' | 'delta') => region(`layer${l}.${kind}`);
  const params = region('params');
  const partials = whole(buffers.partials);
  const batchRows = whole(buffers.batchRows);
  const datasetInputs: Region = { buffer: buffers.dataset, offset: 0, length: placement.rows * dataset.inputSize }; // (N, IN)
  const datasetTargets: Region = { buffer: buffers.dataset, offset: placement.targetsOffset, length: placement.rows * dataset.outputSize }; // (N, K)
  // (B, K), or (SPLIT_K, B, K): forward.wgsl's partial sums where the output layer's product is split.
  const outputNet: Region = { buffer: buffers.outputNet, offset: 0, length: buffers.outputNet.size / F32 };
  const stepGroup = device.createBindGroup({ label: 'step', layout: kernels.stepLayout, entries: [{ binding: 0, resource: { buffer: buffers.steps, size: STEP_UNIFORM_BYTES } }] });
  const maxGroups = device.limits.maxComputeWorkgroupsPerDimension;
  const finishGroups = (count: number) => Math.min(maxGroups, Math.ceil(count / FINISH_THREADS));
  const stateBytes = F32 * stateSlots(context.optimizer);
  const plan: Dispatch[] = [];

  // A product's dispatch, and its finish pass where the plan splits it; `finished` describes the finish's epilogue.
  const product = (label: string, name: string, matmul: MatmulKernel, group: GPUBindGroup, usesStep: boolean, cost: { flops: number; bytes: number }, finished: { count: number; flops: number; bytes: number }) => {
    const { plan: tiles } = matmul;
    const split = tiles.splitK > 1;
    plan.push({
      label,
      kernel: name,
      pipeline: matmul.main.pipeline,
      group,
      usesStep,
      workgroups: tiles.groups,
      plan: tiles,
      flops: cost.flops + (split ? 0 : finished.flops),
      bytes: cost.bytes + (split ? F32 * tiles.splitK * finished.count : finished.bytes),
    });
    if (split && matmul.finish) {
      plan.push({
        label: `${label} finish`,
        kernel: `${name} finish`,
        pipeline: matmul.finish.pipeline,
        group,
        usesStep,
        workgroups: [finishGroups(finished.count), 1, 1],
        flops: (tiles.splitK - 1) * finished.count + finished.flops,
        bytes: F32 * tiles.splitK * finished.count + finished.bytes,
      });
    }
  };

  if (kernels.gather) {
    const gatherUniform = device.createBuffer({ label: 'gather dims', size: GATHER_DIMS_BYTES, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    buffers.owned.push(gatherUniform);
    device.queue.writeBuffer(gatherUniform, 0, gatherDims(B, dataset.inputSize, dataset.outputSize));
    plan.push({
      label: 'gather batch',
      kernel: 'gather_batch',
      pipeline: kernels.gather.pipeline,
      group: bindGroup(kernels.gather, [whole(gatherUniform), datasetInputs, datasetTargets, batchRows, region('input'), region('target')], 'gather'),
      usesStep: true,
      workgroups: [Math.min(maxGroups, Math.ceil((B * (dataset.inputSize + dataset.outputSize)) / GATHER_THREADS)), 1, 1],
      flops: 0,
      bytes: 2 * F32 * B * (dataset.inputSize + dataset.outputSize),
    });
  }

  spec.layers.forEach((layer, l) => {
    const IN = layerInputs(spec, l);
    const OUT = layer.units;
    const last = l === L - 1;
    const input = l === 0 ? datasetInputs : layerInput(l);
    const net = last ? outputNet : value(l, 'net');
    const group = bindGroup(kernels.forward[l].main, [uniform(l), input, batchRows, params, net, value(l, 'out'), partials], `forward layer${l}`);
    // Stored per result: a hidden layer's out, and its net too where captured; the output
    // layer's net only (the output stage writes its out).
    const stores = last ? 1 : capture ? 2 : 1;
    product(
      `forward layer${l}`,
      'forward',
      kernels.forward[l],
      group,
      true,
      { flops: 2 * B * IN * OUT, bytes: F32 * (B * IN + OUT * IN + OUT) },
      { count: B * OUT, flops: B * OUT, bytes: F32 * stores * B * OUT },
    );
  });

  plan.push({
    label: 'output delta',
    kernel: 'output_delta',
    pipeline: kernels.output.pipeline,
    group: bindGroup(kernels.output, [uniform(L - 1), params, datasetTargets, batchRows, outputNet, value(L - 1, 'out'), value(L - 1, 'delta'), region('loss'), whole(buffers.lossHistory)], 'output delta'),
    usesStep: true,
    workgroups: [kernels.outputGroups, 1, 1],
    // Where the output layer's product is split, its partial sums and bias are added here.
    flops: kernels.forward[L - 1].plan.splitK > 1 ? kernels.forward[L - 1].plan.splitK * B * K : 0,
    bytes: F32 * B * K * (kernels.forward[L - 1].plan.splitK + 4) + (capture ? F32 * B : 0),
  });

  for (let l = L - 2; l >= 0; l--) {
    const OUT = spec.layers[l].units;
    const NEXT = spec.layers[l + 1].units;
    const matmul = kernels.hiddenDelta[l]!;
    const group = bindGroup(matmul.main, [uniform(l), value(l + 1, 'delta'), params, value(l, 'net'), value(l, 'out'), value(l, 'delta'), partials], `hidden delta layer${l}`);
    product(
      `hidden delta layer${l}`,
      'hidden_delta',
      matmul,
      group,
      true,
      { flops: 2 * B * NEXT * OUT, bytes: F32 * (B * NEXT + NEXT * OUT) },
      { count: B * OUT, flops: B * OUT, bytes: F32 * 2 * B * OUT },
    );
  }

  // Every layer's weight update in one dispatch, UPDATE_LAYERS layers at a time: workgroup
  // z is layer z / SPLIT_K's split z % SPLIT_K, over a grid sized for the largest layer
  // (weight_update.wgsl); each layer's sizes and regions are its UpdateLayer (buffers.ts).
  const update = kernels.weightUpdate;
  const splitK = update.plan.splitK;
  const activations = whole(buffers.activations!);
  const updates: { layers: number[]; group: GPUBindGroup; suffix: string }[] = [];
  for (let first = 0; first < L; first += UPDATE_LAYERS) {
    const layers = spec.layers.map((_, l) => l).slice(first, first + UPDATE_LAYERS);
    const suffix = L > UPDATE_LAYERS ? ` layers ${first}–${layers[layers.length - 1]}` : '';
    const table: Region = { buffer: buffers.updateLayers, offset: (first / UPDATE_LAYERS) * (UPDATE_TABLE_BYTES / F32), length: UPDATE_TABLE_BYTES / F32 };
    const group = bindGroup(update.main, [table, datasetInputs, batchRows, activations, params, region('grads'), whole(buffers.state), partials], `weight update${suffix}`);
    updates.push({ layers, group, suffix });
  }
  for (const { layers, group, suffix } of updates) {
    const plans = layers.map((l) => kernels.updatePlans[l]);
    // Per layer: its product's results (the bias as column IN), parameters, and FLOPs and bytes.
    const sum = (f: (l: number, IN: number, OUT: number) => number) => layers.reduce((total, l) => total + f(l, layerInputs(spec, l), spec.layers[l].units), 0);
    const results = sum((_, IN, OUT) => OUT * (IN + 1));
    const parameters = results;
    // Clipped, the epilogue only scales and records the gradients; `apply` updates.
    const epilogue = kernels.clip
      ? { flops: parameters, bytes: parameters * F32 }
      : { flops: parameters * (1 + updateFlops(context.optimizer)), bytes: parameters * (2 * F32 + 2 * stateBytes + (capture ? F32 : 0)) };
    const split = splitK > 1;
    const workgroups: [number, number, number] = [Math.max(...plans.map((plan) => plan.groups[0])), Math.max(...plans.map((plan) => plan.groups[1])), layers.length * splitK];
    plan.push({
      label: `weight update${suffix}`,
      kernel: 'weight_update',
      pipeline: update.main.pipeline,
      group,
      usesStep: true,
      workgroups,
      plan: { ...update.plan, groups: workgroups },
      flops: sum((_, IN, OUT) => 2 * OUT * IN * B + OUT * B) + (split ? 0 : epilogue.flops),
      bytes: sum((_, IN, OUT) => F32 * (B * OUT + B * IN)) + (split ? F32 * splitK * results : epilogue.bytes),
    });
    if (split && update.finish) {
      plan.push({
        label: `weight update${suffix} finish`,
        kernel: 'weight_update finish',
        pipeline: update.finish.pipeline,
        group,
        usesStep: true,
        workgroups: [finishGroups(Math.max(...layers.map((l) => spec.layers[l].units * (layerInputs(spec, l) + 1)))), 1, layers.length],
        flops: (splitK - 1) * results + epilogue.flops,
        bytes: F32 * splitK * results + epilogue.bytes,
      });
    }
  }

  if (kernels.clip) {
    // Σ g² over the trained ranges (each layer's weights, and biases where they train), then every layer's update.
    const layout = paramLayout(spec);
    const trained = spec.layers.flatMap((_, l) => (['weights', 'biases'] as const).filter((kind) => kind === 'weights' || spec.trainBiases).map((kind) => paramEntry(layout, l, kind)));
    const ranges = device.createBuffer({ label: 'trained ranges', size: 8 * trained.length, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
    buffers.owned.push(ranges);
    device.queue.writeBuffer(ranges, 0, Uint32Array.from(trained.flatMap((entry) => [entry.offset, entry.length])));
    const count = trainedCount(spec);
    plan.push({
      label: 'gradient norm',
      kernel: 'grad_norm',
      pipeline: kernels.clip.norm.pipeline,
      group: bindGroup(kernels.clip.norm, [whole(ranges), region('grads'), partials], 'gradient norm'),
      usesStep: false,
      workgroups: [kernels.clip.groups, 1, 1],
      flops: 2 * count,
      bytes: F32 * (count + kernels.clip.groups),
    });
    for (const { layers, group, suffix } of updates) {
      const sizes = layers.map((l) => spec.layers[l].units * (layerInputs(spec, l) + 1));
      const parameters = sizes.reduce((a, b) => a + b, 0);
      plan.push({
        label: `clipped update${suffix}`,
        kernel: 'weight_update apply',
        pipeline: kernels.clip.apply.pipeline,
        group,
        usesStep: true,
        workgroups: [finishGroups(Math.max(...sizes)), 1, layers.length],
        flops: parameters * (1 + updateFlops(context.optimizer)),
        bytes: parameters * (3 * F32 + 2 * stateBytes),
      });
    }
  }

  const encodeDispatch = (pass: GPUComputePassEncoder, dispatch: Dispatch, stepOffset: number) => {
    pass.setPipeline(dispatch.pipeline);
    pass.setBindGroup(0, dispatch.group);
    if (dispatch.usesStep) pass.setBindGroup(1, stepGroup, [stepOffset]);
    pass.dispatchWorkgroups(dispatch.workgroups[0], dispatch.workgroups[1], dispatch.workgroups[2]);
  };
  const stepOffsets = [0]; // reused: setBindGroup copies it

  return {
    plan,
    submitSteps: SUBMIT_STEPS,
    encode(encoder, first, count) {
      const pass = encoder.beginComputePass({ label: 'layered steps' });
      for (let k = first; k < first + count; k++) {
        const offset = k * context.stepStride;
        for (const dispatch of plan) {
          stepOffsets[0] = offset;
          pass.setPipeline(dispatch.pipeline);
          pass.setBindGroup(0, dispatch.group);
          if (dispatch.usesStep) pass.setBindGroup(1, stepGroup, stepOffsets);
          pass.dispatchWorkgroups(dispatch.workgroups[0], dispatch.workgroups[1], dispatch.workgroups[2]);
        }
        context.counts.dispatches += plan.length;
      }
      pass.end();
    },
    encodeDispatch,
  };
}
