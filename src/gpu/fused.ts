// The fused path: train_tiny.wgsl runs a whole chunk of steps in one dispatch of one
// workgroup, for article-sized networks, where dispatching is the cost.

import { ACTIVATION_CODE, CHUNK_UNIFORM_BYTES, LOSS_CODE } from './abi.ts';
import { optimizerConstants } from './constants.ts';
import type { FusedKernels } from './kernels.ts';
import { whole, type DatasetPlacement } from './memory.ts';
import { stepBufferEntry, stepBufferLayout, type BufferName } from '../model/buffers.ts';
import { paramEntry } from '../model/layout.ts';
import { dropoutThreshold, drops } from '../model/dropout.ts';
import { layerInputs, layerParameter, outputSize } from '../model/model.ts';
import type { Model } from '../model/network.ts';
import type { TrainOptions } from '../model/trainer.ts';
import type { Dispatch, StepContext, StepEncoder } from './encoder.ts';
import { stepFlops } from './layered.ts';
import { BackpropError } from '../errors.ts';

/** train_tiny.wgsl's override constants: the network's sizes and codes, and where each buffer lives. */
export function fusedConstants(model: Model, options: TrainOptions, placement: DatasetPlacement, state1Offset: number): Record<string, number> {
  const { spec, layout } = model;
  const steps = stepBufferLayout(spec, options.batchSize);
  const at = (name: BufferName) => stepBufferEntry(steps, name).offset;
  const constants: Record<string, number> = {
    LAYERS: spec.layers.length,
    BATCH: options.batchSize,
    INPUTS: layerInputs(spec, 0),
    OUTPUTS: outputSize(spec),
    LOSS: LOSS_CODE[spec.loss],
    ...optimizerConstants(spec, options.optimizer, options.clipNorm),
    INPUT_OFFSET: at('input'),
    TARGET_OFFSET: at('target'),
    LOSS_OFFSET: at('loss'),
    TARGETS_OFFSET: placement.targetsOffset,
    STATE1_OFFSET: state1Offset,
  };
  spec.layers.forEach((layer, l) => {
    Object.assign(constants, {
      [`UNITS_${l}`]: layer.units,
      [`ACTIVATION_${l}`]: ACTIVATION_CODE[layer.activation],
      [`PARAMETER_${l}`]: layerParameter(layer),
      ...(drops(layer.dropout) ? { [`DROPOUT_THRESHOLD_${l}`]: dropoutThreshold(layer.dropout), [`DROPOUT_SCALE_${l}`]: 1 / (1 - layer.dropout) } : {}),
      [`WEIGHTS_${l}`]: paramEntry(layout, l, 'weights').offset,
      [`BIASES_${l}`]: paramEntry(layout, l, 'biases').offset,
      [`NET_${l}`]: at(`layer${l}.net`),
      [`OUT_${l}`]: at(`layer${l}.out`),
      [`DELTA_${l}`]: at(`layer${l}.delta`),
    });
  });
  return constants;
}

/**
 * One dispatch runs a whole chunk: `encode` takes all of a chunk's steps at once. Its plan
 * is that dispatch, with one step's FLOPs and bytes.
 */
export function fusedEncoder(context: StepContext, kernels: FusedKernels): StepEncoder {
  const { device, buffers } = context;
  const chunk = device.createBuffer({ label: 'chunk', size: CHUNK_UNIFORM_BYTES, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  buffers.owned.push(chunk);
  const group = context.bindGroup(
    kernels.train,
    [whole(chunk), whole(buffers.dataset), whole(buffers.batchRows), whole(buffers.steps), whole(buffers.values[0]), whole(buffers.params), whole(buffers.grads), whole(buffers.state), whole(buffers.lossHistory)],
    'train tiny',
  );
  const stepCount = new Uint32Array(CHUNK_UNIFORM_BYTES / 4);
  const dispatch: Dispatch = {
    label: 'fused step',
    kernel: 'train_tiny',
    pipeline: kernels.train.pipeline,
    group,
    usesStep: false,
    workgroups: [1, 1, 1],
    flops: stepFlops(context.spec, context.batch, context.optimizer, context.clipNorm !== undefined),
    bytes: 4 * (stepBufferLayout(context.spec, context.batch).size + 3 * context.buffers.params.size / 4),
  };
  return {
    plan: [dispatch],
    submitSteps: Infinity,
    encode(encoder, first, count) {
      if (first !== 0) throw new BackpropError('the fused kernel runs a chunk from its first step');
      // The number of steps is the only thing that changes between chunks.
      stepCount[0] = count;
      device.queue.writeBuffer(chunk, 0, stepCount);
      const pass = encoder.beginComputePass({ label: 'fused steps' });
      pass.setPipeline(kernels.train.pipeline);
      pass.setBindGroup(0, group);
      pass.dispatchWorkgroups(1);
      pass.end();
      context.counts.dispatches++;
    },
    encodeDispatch() {
      throw new BackpropError('the fused kernel runs whole steps only');
    },
  };
}
