// A GPU trainer's buffers (TrainerBuffers, encoder.ts): their sizes, what is uploaded into
// them at the start, and where each named buffer lives in them. The layered path keeps
// the layers' net, out and δ in one activation buffer (inActivations), and the batch's
// input, target and loss, and the output layer's net, in buffers of their own; the fused
// path keeps them all in one, laid out by stepBufferLayout. Also the room the split products' partial sums need,
// known from the tile plans alone, so a trainer too large for a binding is refused
// before any kernel is compiled.

import type { Dataset } from '../data/dataset.ts';
import { InputError, LimitError } from '../errors.ts';
import { parseLayerBuffer, stepBufferLayout, type BufferName } from '../model/buffers.ts';
import { alignUp, ALIGNMENT, paramEntry } from '../model/layout.ts';
import { layerInputs, outputSize, type ModelSpec } from '../model/model.ts';
import type { Model } from '../model/network.ts';
import { stateSlots, type OptimizerSpec } from '../model/optimizer.ts';
import type { TrainerState, TrainOptions } from '../model/trainer.ts';
import { layerUniform, updateLayerTable, LAYER_UNIFORM_BYTES, STEP_STORAGE_BYTES, STEP_UNIFORM_BYTES, UPDATE_LAYERS, UPDATE_TABLE_BYTES } from './abi.ts';
import type { TrainerBuffers } from './encoder.ts';
import { MAX_NORM_GROUPS, vec4Loads } from './constants.ts';
import type { FusedKernels, LayeredKernels, LayerPlans } from './kernels.ts';
import { readRegion, storageBuffer, type DatasetPlacement, type Region } from './memory.ts';
import type { Allocations } from './scopes.ts';

/** Floats of partial sums the split products need, beside the named buffers (layered path). */
export interface SplitRoom {
  partials: number; //  the largest (SPLIT_K, M, N) of the products finished by their own pass, or all layers' gradients' together
  outputNet: number; // (SPLIT_K, B, K): the output layer's, kept in its net
  /** Where each layer's (SPLIT_K, OUT, IN + 1) gradient partial sums start in `partials`: the weight update runs every layer's product at once. */
  updatePartials: number[];
}

/**
 * The room for the split products' partial sums, from the tile plans of every layer's
 * products. Where the gradient is clipped, its norm's partial sums go in the same buffer,
 * once the products are done.
 */
export function splitRoom(spec: ModelSpec, batch: number, plans: readonly LayerPlans[], clipping = false): SplitRoom {
  const L = spec.layers.length;
  let partials = 0;
  let updates = 0;
  const updatePartials: number[] = [];
  spec.layers.forEach((layer, l) => {
    const { forward, hidden, update } = plans[l];
    if (l < L - 1 && forward.splitK > 1) partials = Math.max(partials, forward.splitK * batch * layer.units);
    if (hidden && hidden.splitK > 1) partials = Math.max(partials, hidden.splitK * batch * layer.units);
    // The gradient product's columns: the layer's inputs, and the bias; every layer's at once.
    updatePartials.push(updates);
    if (update.splitK > 1) updates += alignUp(update.splitK * layer.units * (layerInputs(spec, l) + 1));
  });
  partials = Math.max(partials, updates);
  if (clipping) partials = Math.max(partials, MAX_NORM_GROUPS);
  return { partials, outputNet: plans[L - 1].forward.splitK * batch * outputSize(spec), updatePartials };
}

/** Refuses partial sums that one binding cannot hold. */
export function checkSplitRoom(room: SplitRoom, maxBinding: number): void {
  for (const floats of [room.partials, room.outputNet]) {
    if (4 * floats > maxBinding) throw new LimitError('the split products', `need ${4 * floats} bytes of partial sums in one GPU buffer; this adapter allows ${maxBinding}`, 'maxStorageBufferBindingSize');
  }
}

/**
 * Whether the layered path keeps a buffer in its activation buffer: every layer's net, out
 * and δ, but the output layer's net (it has room for partial sums) and the batch's input,
 * target and loss. The weight update reads every layer's input (the out below) and δ
 * from that one binding (see GROUP0 in abi.ts for how the other kernels bind it).
 */
export function inActivations(spec: ModelSpec, name: BufferName): boolean {
  const buffer = parseLayerBuffer(name);
  return buffer !== undefined && !(buffer.kind === 'net' && buffer.layer === spec.layers.length - 1);
}

/** Where the optimizer's second state slot starts in the state buffer (floats): slots are aligned, and empty for SGD. */
export function state1Offset(optimizer: OptimizerSpec, parameters: number): number {
  return stateSlots(optimizer) > 0 ? alignUp(parameters) : ALIGNMENT;
}

/** Named buffers the layered path keeps without capturing (the rest are written for a check only). */
export function keptWithoutCapture(spec: ModelSpec, name: BufferName): boolean {
  if (name === 'params') return true;
  const buffer = parseLayerBuffer(name);
  if (!buffer) return false;
  return buffer.kind !== 'net' || buffer.layer === spec.layers.length - 1;
}

/**
 * A trainer's buffers, allocated for its kernels' path and filled with the dataset (unless
 * streamed), the parameters and the layers' uniforms; the regions of its named buffers;
 * and the copies that save, restore and read its parameters and optimizer state.
 */
export class TrainerMemory {
  readonly buffers: TrainerBuffers;
  /** Bytes between Step structs in `steps`: uniforms at an allowed offset (layered), or packed (fused). */
  readonly stepStride: number;
  /** Shares of each step's loss in the history (the output stage's workgroups; 1 on the fused path). */
  readonly shares: number;
  /** Where the optimizer's second state slot starts in the state buffer (floats). */
  private readonly state1Offset: number;
  /** P: the parameters' count. */
  private readonly parameters: number;
  private readonly regions = new Map<BufferName, Region>();

  constructor(
    private readonly device: GPUDevice,
    model: Model,
    dataset: Dataset,
    private readonly options: TrainOptions,
    placement: DatasetPlacement,
    kernels: LayeredKernels | FusedKernels,
    room: SplitRoom,
    /** Notes each buffer's size, for an out-of-memory message (see scopes.ts). */
    log?: Allocations,
  ) {
    const { spec, layout } = model;
    const B = options.batchSize;
    const L = spec.layers.length;
    const layered = kernels.path === 'layered';
    this.shares = layered ? kernels.outputGroups : 1;
    this.stepStride = layered ? Math.max(STEP_UNIFORM_BYTES, device.limits.minUniformBufferOffsetAlignment) : STEP_STORAGE_BYTES;
    this.parameters = layout.size;
    this.state1Offset = state1Offset(options.optimizer, layout.size);
    const stepLayout = stepBufferLayout(spec, B);
    const outputNetName: BufferName = `layer${L - 1}.net`;
    const storage = (label: string, floats: number) => storageBuffer(device, label, floats, log);
    const create = (descriptor: GPUBufferDescriptor & { label: string }) => (log ? log.buffer(device, descriptor) : device.createBuffer(descriptor));
    const uniform = (label: string, bytes: number) => create({ label, size: bytes, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    // The output layer's net, with room for the partial sums of its split product.
    const valueLength = (name: BufferName, length: number) => (name === outputNetName ? Math.max(length, room.outputNet) : length);
    // Layered: the activation buffer, each entry at an aligned offset, then a buffer for each other entry.
    let activationsLength = 0;
    const activationOffsets = stepLayout.entries.map((entry) => {
      if (!layered || !inActivations(spec, entry.name)) return 0;
      activationsLength += alignUp(entry.length);
      return activationsLength - alignUp(entry.length);
    });
    const alone = stepLayout.entries.filter((entry) => !inActivations(spec, entry.name));
    const values = layered
      ? [storage('activations', activationsLength), ...alone.map((entry) => storage(entry.name, valueLength(entry.name, entry.length)))]
      : [storage('step buffers', stepLayout.size)];
    const valueBuffer = (name: BufferName) => {
      if (!layered) return values[0];
      return inActivations(spec, name) ? values[0] : values[1 + alone.findIndex((entry) => entry.name === name)];
    };
    this.buffers = {
      dataset: storage('dataset', placement.targetsOffset + placement.rows * dataset.outputSize),
      batchRows: storage('batch rows', placement.chunkSteps * B),
      steps: create({
        label: 'steps',
        size: placement.chunkSteps * this.stepStride,
        usage: (layered ? GPUBufferUsage.UNIFORM : GPUBufferUsage.STORAGE) | GPUBufferUsage.COPY_DST,
      }),
      lossHistory: storage('loss history', placement.chunkSteps * this.shares),
      params: storage('params', layout.size),
      grads: storage('grads', layout.size),
      state: storage('optimizer state', 2 * this.state1Offset),
      marked: storage('marked state', layout.size + 2 * this.state1Offset),
      previous: storage('previously marked state', layout.size + 2 * this.state1Offset),
      values,
      activations: layered ? values[0] : undefined,
      outputNet: valueBuffer(outputNetName),
      partials: storage('partial sums', room.partials),
      layerUniforms: layered ? spec.layers.map((_, l) => uniform(`layer${l} dims`, LAYER_UNIFORM_BYTES)) : [],
      updateLayers: uniform('update layers', layered ? Math.ceil(L / UPDATE_LAYERS) * UPDATE_TABLE_BYTES : 16),
      finiteFlag: storage('finite flag', 1),
      owned: [],
    };
    stepLayout.entries.forEach((entry, k) => {
      this.regions.set(entry.name, { buffer: valueBuffer(entry.name), offset: layered ? activationOffsets[k] : entry.offset, length: entry.length });
    });
    this.regions.set('params', { buffer: this.buffers.params, offset: 0, length: layout.size });
    this.regions.set('grads', { buffer: this.buffers.grads, offset: 0, length: layout.size });

    const queue = device.queue;
    if (!placement.streamed) {
      queue.writeBuffer(this.buffers.dataset, 0, new Float32Array(dataset.inputs));
      queue.writeBuffer(this.buffers.dataset, 4 * placement.targetsOffset, new Float32Array(dataset.targets));
    }
    queue.writeBuffer(this.buffers.params, 0, new Float32Array(model.params));
    this.buffers.layerUniforms.forEach((buffer, l) => queue.writeBuffer(buffer, 0, layerUniform(spec, layout, l, B, true)));
    if (layered) {
      // weight_update.wgsl's layers: sizes, and where each one's parameters, input, δ and partial sums are.
      const table = spec.layers.map((layer, l) => {
        const IN = layerInputs(spec, l);
        const delta = this.region(`layer${l}.delta`);
        return {
          batch: B,
          inputs: IN,
          units: layer.units,
          weights_offset: paramEntry(layout, l, 'weights').offset,
          biases_offset: paramEntry(layout, l, 'biases').offset,
          state1_offset: this.state1Offset,
          input_offset: l === 0 ? 0 : this.region(`layer${l - 1}.out`).offset,
          delta_offset: delta.offset,
          partials_offset: room.updatePartials[l],
          gather: l === 0 ? 1 : 0,
          vec4_a: vec4Loads(layer.units),
          vec4_b: vec4Loads(IN),
        };
      });
      queue.writeBuffer(this.buffers.updateLayers, 0, updateLayerTable(table));
    }
  }

  /** Where a named buffer lives. */
  region(name: BufferName): Region {
    const region = this.regions.get(name);
    if (!region) throw new InputError(`buffer ${name}`, 'is not a buffer of this network');
    return region;
  }

  /** An optimizer state slot: momentum's velocity or Adam's m (0), Adam's v (1). */
  stateRegion(slot: 0 | 1): Region {
    return { buffer: this.buffers.state, offset: slot === 0 ? 0 : this.state1Offset, length: this.state1Offset };
  }

  /** The parameters and the optimizer's state slots, read back. */
  async readState(): Promise<Pick<TrainerState, 'params' | 'optimizerState'>> {
    const length = this.parameters;
    const slots = ([0, 1] as const).slice(0, stateSlots(this.options.optimizer));
    const [params, ...optimizerState] = await Promise.all([
      readRegion(this.device, { buffer: this.buffers.params, offset: 0, length }, 'reading back the parameters'),
      ...slots.map((slot) => readRegion(this.device, { ...this.stateRegion(slot), length }, "reading back the optimizer's state")),
    ]);
    return { params, optimizerState };
  }

  /** Writes parameters and optimizer state; a slot the state lacks starts from zero. */
  writeState(state: Pick<TrainerState, 'params' | 'optimizerState'>): void {
    const queue = this.device.queue;
    queue.writeBuffer(this.buffers.params, 0, new Float32Array(state.params));
    for (let slot = 0; slot < stateSlots(this.options.optimizer); slot++) {
      const values = state.optimizerState[slot] ?? new Float64Array(this.parameters);
      queue.writeBuffer(this.buffers.state, 4 * this.stateRegion(slot as 0 | 1).offset, new Float32Array(values));
    }
  }

  /**
   * `save`: the mark becomes the previous one, and the parameters and optimizer state the
   * mark; `restore`: back to the mark; `restore previous`: back to the previous one.
   */
  copyMarked(direction: 'save' | 'restore' | 'restore previous'): void {
    const { params, state, marked, previous } = this.buffers;
    const encoder = this.device.createCommandEncoder({ label: direction === 'save' ? 'mark' : 'rewind' });
    if (direction === 'save') {
      encoder.copyBufferToBuffer(marked, 0, previous, 0, marked.size);
      encoder.copyBufferToBuffer(params, 0, marked, 0, params.size);
      encoder.copyBufferToBuffer(state, 0, marked, params.size, state.size);
    } else {
      const source = direction === 'restore' ? marked : previous;
      encoder.copyBufferToBuffer(source, 0, params, 0, params.size);
      encoder.copyBufferToBuffer(source, params.size, state, 0, state.size);
    }
    this.device.queue.submit([encoder.finish()]);
  }

  destroy(): void {
    const b = this.buffers;
    for (const buffer of [b.dataset, b.batchRows, b.steps, b.lossHistory, b.params, b.grads, b.state, b.marked, b.previous, b.partials, b.finiteFlag, b.updateLayers, ...b.values, ...b.layerUniforms, ...b.owned]) buffer.destroy();
  }
}
