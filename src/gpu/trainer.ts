// The GPU trainer: the reference's training step as WGSL dispatches.
//
// The dataset is uploaded once (or streamed, where it does not fit one binding). `train`
// encodes its steps in chunks: each chunk's batch rows and per-step values are written
// in one go, its steps go into one command buffer and one submit, and the call returns
// once the chunks are submitted, with at most two in flight, so the GPU runs while the
// CPU encodes the next chunk. Each step's mean loss goes into a GPU-side history, read
// back when `takeLosses` asks for it.
//
// Two paths run a step, checked against the reference by the same tests: layered.ts
// (one dispatch per job, any size) and fused.ts (a whole chunk in one dispatch, for
// article-sized networks). predict.ts runs the forward pass alone.

import { BatchSchedule } from '../data/batches.ts';
import { checkDatasetValues, gatherBatch, type Dataset } from '../data/dataset.ts';
import { checkRowCount } from '../data/validate.ts';
import { DeviceLostError, DisposedError, InputError } from '../errors.ts';
import { bufferShape, stepBufferLayout, type BufferName } from '../model/buffers.ts';
import type { ParamLayout } from '../model/layout.ts';
import type { ModelSpec } from '../model/model.ts';
import type { Model } from '../model/network.ts';
import { stateSlots } from '../model/optimizer.ts';
import { adamCorrections } from '../reference/optimizers.ts';
import type { Trainer, TrainerState, TrainOptions } from '../train/trainer.ts';
import { layerUniform, LAYER_UNIFORM_BYTES, packStep, STEP_STORAGE_BYTES, STEP_UNIFORM_BYTES } from './abi.ts';
import { fusedConstants, fusedEncoder } from './fused.ts';
import { createFusedKernels, createLayeredKernels, fitsFusedKernel, FUSED_MAX_LAYERS, FUSED_MAX_PHASE, FUSED_MAX_UNITS, type FusedKernels, type Kernel, type LayeredKernels } from './kernels.ts';
import { layeredEncoder } from './layered.ts';
import {
  alignUp,
  ALIGNMENT,
  binding,
  checkDeviceLimits,
  f32Bytes,
  maxBindingBytes,
  placeDataset,
  readRegion,
  storageBuffer,
  type DatasetPlacement,
  type Region,
} from './memory.ts';
import { datasetLoss, forwardRows } from './predict.ts';

/** Which kernels run a step: `auto` takes the fused kernel wherever the network fits it. */
export type KernelPath = 'auto' | 'layered' | 'fused';

export interface GpuTrainerOptions {
  path?: KernelPath;
  /**
   * The most bytes one buffer binding may hold: the device's limit, or less to cap the GPU
   * memory a trainer takes. A dataset larger than this is streamed, batch by batch.
   */
  maxBindingBytes?: number;
}

/** Chunks submitted but not yet finished, at most: enough to keep the GPU busy while the next is encoded. */
const MAX_IN_FLIGHT = 2;
/** Chunks of losses left unread before they are drained to the CPU (each holds a staging buffer). */
const MAX_PENDING_LOSSES = 16;

/** The GPU buffers of a trainer. */
export interface TrainerBuffers {
  dataset: GPUBuffer; //        (ROWS, IN) inputs, then (ROWS, OUT) targets: every row, or the chunk's when streamed
  batchRows: GPUBuffer; //      (CHUNK, B) u32
  steps: GPUBuffer; //          (CHUNK) Step structs: uniforms stepStride apart (layered), or packed (fused)
  lossHistory: GPUBuffer; //    (CHUNK)
  params: GPUBuffer; //         (P)
  grads: GPUBuffer; //          (P)
  state: GPUBuffer; //          (2, P): momentum's velocity or Adam's m, then Adam's v
  marked: GPUBuffer; //         (3, P): params and state as of the last mark()
  values: GPUBuffer[]; //       the per-step buffers: one each (layered), or one laid out by stepBufferLayout (fused)
  layerUniforms: GPUBuffer[]; // (L) Layer structs (layered)
  /** Buffers the paths made for themselves, destroyed with the rest. */
  owned: GPUBuffer[];
}

/** What a path needs to build its encoder. */
export interface StepContext {
  device: GPUDevice;
  spec: ModelSpec;
  batch: number;
  dataset: Dataset;
  placement: DatasetPlacement;
  buffers: TrainerBuffers;
  stepStride: number; // bytes between Step structs in `steps`
  counts: { dispatches: number; submits: number };
  region(name: BufferName): Region;
  stateRegion(slot: 0 | 1): Region;
  bindGroup(kernel: Kernel, regions: Region[], label: string): GPUBindGroup;
}

/** Records `count` steps into a command encoder. */
export type StepEncoder = (encoder: GPUCommandEncoder, count: number) => void;

export class GpuTrainer implements Trainer {
  readonly backend = 'webgpu';
  readonly schedule: BatchSchedule;
  step = 0;
  /** Compute dispatches and queue submits issued by `train` so far (the benchmarks report them). */
  readonly counts = { dispatches: 0, submits: 0 };

  private readonly batch: number;
  private readonly stepStride: number;
  private readonly regions = new Map<BufferName, Region>();
  private readonly buffers: TrainerBuffers;
  private readonly encodeSteps: StepEncoder;
  /** Where Adam's v starts in the state buffer (floats). */
  private readonly state1Offset: number;
  /** Loss histories of submitted chunks, not yet read: staging buffers and their step counts. */
  private pendingLosses: { buffer: GPUBuffer; count: number }[] = [];
  /** Losses drained from the GPU and not yet taken. */
  private drainedLosses: Float64Array[] = [];
  private inFlight: Promise<unknown>[] = [];
  private markedStep = 0;
  /** Set once the device is lost; every later call throws DeviceLostError. */
  private lost?: string;
  private disposed = false;

  private constructor(
    readonly device: GPUDevice,
    readonly model: Model,
    readonly dataset: Dataset,
    readonly options: TrainOptions,
    private readonly kernels: LayeredKernels | FusedKernels,
    private readonly placement: DatasetPlacement,
    /** The most bytes one binding may hold (see GpuTrainerOptions.maxBindingBytes). */
    private readonly maxBinding: number,
  ) {
    const { spec, layout } = model;
    device.lost.then((info) => (this.lost = info.message || info.reason || 'unknown reason'));
    const B = options.batchSize;
    const layered = kernels.path === 'layered';
    this.batch = B;
    this.schedule = new BatchSchedule(dataset.size, B, options.shuffle, options.seed);
    this.stepStride = layered ? Math.max(STEP_UNIFORM_BYTES, device.limits.minUniformBufferOffsetAlignment) : STEP_STORAGE_BYTES;
    this.state1Offset = stateSlots(options.optimizer) > 0 ? alignUp(layout.size) : ALIGNMENT;
    const stepLayout = stepBufferLayout(spec, B);
    const storage = (label: string, floats: number) => storageBuffer(device, label, floats);
    const uniform = (label: string, bytes: number) => device.createBuffer({ label, size: bytes, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    this.buffers = {
      dataset: storage('dataset', placement.targetsOffset + placement.rows * dataset.outputSize),
      batchRows: storage('batch rows', placement.chunkSteps * B),
      steps: device.createBuffer({
        label: 'steps',
        size: placement.chunkSteps * this.stepStride,
        usage: (layered ? GPUBufferUsage.UNIFORM : GPUBufferUsage.STORAGE) | GPUBufferUsage.COPY_DST,
      }),
      lossHistory: storage('loss history', placement.chunkSteps),
      params: storage('params', layout.size),
      grads: storage('grads', layout.size),
      state: storage('optimizer state', 2 * this.state1Offset),
      marked: storage('marked state', layout.size + 2 * this.state1Offset),
      values: layered ? stepLayout.entries.map((entry) => storage(entry.name, entry.length)) : [storage('step buffers', stepLayout.size)],
      layerUniforms: layered ? spec.layers.map((_, l) => uniform(`layer${l} dims`, LAYER_UNIFORM_BYTES)) : [],
      owned: [],
    };
    stepLayout.entries.forEach((entry, k) => {
      const buffer = layered ? this.buffers.values[k] : this.buffers.values[0];
      this.regions.set(entry.name, { buffer, offset: layered ? 0 : entry.offset, length: entry.length });
    });
    this.regions.set('params', { buffer: this.buffers.params, offset: 0, length: layout.size });
    this.regions.set('grads', { buffer: this.buffers.grads, offset: 0, length: layout.size });

    const queue = device.queue;
    if (!placement.streamed) {
      queue.writeBuffer(this.buffers.dataset, 0, new Float32Array(dataset.inputs));
      queue.writeBuffer(this.buffers.dataset, 4 * placement.targetsOffset, new Float32Array(dataset.targets));
    }
    queue.writeBuffer(this.buffers.params, 0, new Float32Array(model.params));
    this.buffers.layerUniforms.forEach((buffer, l) => queue.writeBuffer(buffer, 0, layerUniform(spec, layout, l, B)));
    const context: StepContext = {
      device,
      spec,
      batch: B,
      dataset,
      placement,
      buffers: this.buffers,
      stepStride: this.stepStride,
      counts: this.counts,
      region: (name) => this.region(name),
      stateRegion: (slot) => this.stateRegion(slot),
      bindGroup: (kernel, regions, label) => device.createBindGroup({ label, layout: kernel.layout, entries: regions.map((region, b) => ({ binding: b, resource: binding(region) })) }),
    };
    this.encodeSteps = kernels.path === 'layered' ? layeredEncoder(context, kernels) : fusedEncoder(context, kernels);
    this.mark();
  }

  /** Compiles the kernels for `model` (or takes them from the device's cache) and uploads the dataset. */
  static async create(device: GPUDevice, model: Model, dataset: Dataset, options: TrainOptions, gpu: GpuTrainerOptions = {}): Promise<GpuTrainer> {
    checkDatasetValues(dataset);
    const maxBinding = maxBindingBytes(device, gpu.maxBindingBytes);
    checkDeviceLimits(device, model.spec, model.layout, options.batchSize, maxBinding);
    const placement = placeDataset(dataset, options.batchSize, maxBinding);
    const fits = fitsFusedKernel(model.spec, options.batchSize);
    const path = gpu.path ?? 'auto';
    if (path === 'fused' && !fits) {
      throw new InputError('the fused kernel', `takes up to ${FUSED_MAX_LAYERS} layers of at most ${FUSED_MAX_UNITS} units, and batch × width up to ${FUSED_MAX_PHASE}`);
    }
    const state1Offset = stateSlots(options.optimizer) > 0 ? alignUp(model.layout.size) : ALIGNMENT;
    const kernels =
      path === 'fused' || (path === 'auto' && fits)
        ? await createFusedKernels(device, model.spec, options.batchSize, fusedConstants(model, options, placement, state1Offset))
        : await createLayeredKernels(device, model.spec, options.optimizer, options.batchSize);
    return new GpuTrainer(device, model, dataset, options, kernels, placement, maxBinding);
  }

  /** Whether the dataset is streamed batch by batch (it does not fit in one binding). */
  get streamsDataset(): boolean {
    return this.placement.streamed;
  }

  get spec(): ModelSpec {
    return this.model.spec;
  }

  get layout(): ParamLayout {
    return this.model.layout;
  }

  /** The kernels that run a step: 'layered' or 'fused'. */
  get path(): 'layered' | 'fused' {
    return this.kernels.path;
  }

  private region(name: BufferName): Region {
    const region = this.regions.get(name);
    if (!region) throw new Error(`unknown buffer ${name}`);
    return region;
  }

  private stateRegion(slot: 0 | 1): Region {
    return { buffer: this.buffers.state, offset: slot === 0 ? 0 : this.state1Offset, length: this.state1Offset };
  }

  /** Runs `work`; if the device is (or turns out to have been) lost, throws DeviceLostError instead. */
  private async guarded<T>(work: () => Promise<T>): Promise<T> {
    if (this.disposed) throw new DisposedError('trainer');
    if (this.lost) throw new DeviceLostError(this.lost);
    try {
      const result = await work();
      // A lost device fails nothing loudly: its work is dropped. Let its lost promise settle first.
      await new Promise((resolve) => setTimeout(resolve, 0));
      if (this.lost) throw new DeviceLostError(this.lost);
      return result;
    } catch (error) {
      // A mapping aborted by the device's loss can reject before the lost promise settles: give it a moment.
      await Promise.race([this.device.lost, new Promise((resolve) => setTimeout(resolve, 1000))]);
      if (this.lost) throw new DeviceLostError(this.lost);
      throw error;
    }
  }

  async train(steps: number): Promise<void> {
    return this.guarded(async () => {
      for (let done = 0; done < steps; ) {
        const count = Math.min(this.placement.chunkSteps, steps - done);
        if (this.inFlight.length >= MAX_IN_FLIGHT) await this.inFlight.shift();
        this.submitChunk(count);
        done += count;
        if (this.pendingLosses.length > MAX_PENDING_LOSSES) this.drainedLosses.push(await this.readLosses());
      }
    });
  }

  /** Writes a chunk's batch rows and per-step values, encodes its steps, submits them. */
  private submitChunk(count: number): void {
    const { device, buffers } = this;
    const B = this.batch;
    const rows = new Uint32Array(count * B); // (CHUNK, B)
    const stepData = new ArrayBuffer(count * this.stepStride);
    for (let k = 0; k < count; k++) {
      const step = this.step + k;
      this.schedule.fill(step, rows, k * B);
      const { correction1, correction2 } = adamCorrections(this.options.optimizer, step + 1);
      packStep(stepData, k * this.stepStride, { rowsOffset: k * B, lossSlot: k, learningRate: this.options.learningRate, correction1, correction2 });
    }
    if (this.placement.streamed) {
      // Upload this chunk's rows themselves, in order; the kernels then read row k·B + b.
      const { input, target } = gatherBatch(this.dataset, rows);
      device.queue.writeBuffer(buffers.dataset, 0, new Float32Array(input));
      device.queue.writeBuffer(buffers.dataset, 4 * this.placement.targetsOffset, new Float32Array(target));
      rows.forEach((_, k) => (rows[k] = k));
    }
    device.queue.writeBuffer(buffers.batchRows, 0, rows);
    device.queue.writeBuffer(buffers.steps, 0, stepData);

    const encoder = device.createCommandEncoder({ label: `steps ${this.step}…${this.step + count - 1}` });
    this.encodeSteps(encoder, count);
    const staging = device.createBuffer({ label: 'loss readback', size: f32Bytes(count), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    encoder.copyBufferToBuffer(buffers.lossHistory, 0, staging, 0, 4 * count);
    device.queue.submit([encoder.finish()]);
    this.inFlight.push(device.queue.onSubmittedWorkDone());
    this.counts.submits++;
    this.pendingLosses.push({ buffer: staging, count });
    this.step += count;
  }

  async takeLosses(): Promise<Float64Array> {
    return this.guarded(async () => {
      const parts = [...this.drainedLosses, await this.readLosses()];
      this.drainedLosses = [];
      return concat(parts);
    });
  }

  private async readLosses(): Promise<Float64Array> {
    const pending = this.pendingLosses;
    this.pendingLosses = [];
    const parts = await Promise.all(
      pending.map(async ({ buffer, count }) => {
        try {
          await buffer.mapAsync(GPUMapMode.READ);
          return Float64Array.from(new Float32Array(buffer.getMappedRange(), 0, count));
        } finally {
          buffer.destroy();
        }
      }),
    );
    this.inFlight = [];
    return concat(parts);
  }

  async read(name: BufferName): Promise<Float64Array> {
    const length = bufferShape(this.spec, this.batch, this.layout.size, name).reduce((a, b) => a * b, 1);
    return this.guarded(() => readRegion(this.device, { ...this.region(name), length }));
  }

  async readState(): Promise<TrainerState> {
    const size = this.layout.size;
    const slots = stateSlots(this.options.optimizer);
    const [params, ...optimizerState] = await this.guarded(() =>
      Promise.all([
        readRegion(this.device, { buffer: this.buffers.params, offset: 0, length: size }),
        ...([0, 1] as const).slice(0, slots).map((slot) => readRegion(this.device, { ...this.stateRegion(slot), length: size })),
      ]),
    );
    return { step: this.step, params, optimizerState };
  }

  /** Restores a state; optimizer state it lacks starts from zero. Losses not yet taken are dropped. */
  async writeState(state: TrainerState): Promise<void> {
    const queue = this.device.queue;
    await this.guarded(async () => {
      queue.writeBuffer(this.buffers.params, 0, new Float32Array(state.params));
      for (let slot = 0; slot < stateSlots(this.options.optimizer); slot++) {
        const values = state.optimizerState[slot] ?? new Float64Array(this.layout.size);
        queue.writeBuffer(this.buffers.state, 4 * this.stateRegion(slot as 0 | 1).offset, new Float32Array(values));
      }
      this.step = state.step;
      await this.readLosses();
      this.drainedLosses = [];
      await queue.onSubmittedWorkDone();
    });
  }

  /** Remembers the parameters and optimizer state, on the GPU, for `rewind`. */
  mark(): void {
    if (this.disposed) throw new DisposedError('trainer');
    const { params, state, marked } = this.buffers;
    const encoder = this.device.createCommandEncoder({ label: 'mark' });
    encoder.copyBufferToBuffer(params, 0, marked, 0, params.size);
    encoder.copyBufferToBuffer(state, 0, marked, params.size, state.size);
    this.device.queue.submit([encoder.finish()]);
    this.markedStep = this.step;
  }

  /** Back to the last `mark`: its parameters, optimizer state and step. Losses not yet taken are dropped. */
  async rewind(): Promise<void> {
    await this.guarded(async () => {
      await this.readLosses();
      this.drainedLosses = [];
      const { params, state, marked } = this.buffers;
      const encoder = this.device.createCommandEncoder({ label: 'rewind' });
      encoder.copyBufferToBuffer(marked, 0, params, 0, params.size);
      encoder.copyBufferToBuffer(marked, params.size, state, 0, state.size);
      this.device.queue.submit([encoder.finish()]);
      this.step = this.markedStep;
    });
  }

  async predict(inputs: Float64Array, count: number): Promise<Float64Array> {
    checkRowCount(inputs, count, this.spec.inputSize);
    return (await this.guarded(() => forwardRows(this.forwardSetting(), inputs, count, false))).out;
  }

  async evaluate(dataset: Dataset): Promise<number> {
    const { net, out } = await this.guarded(() => forwardRows(this.forwardSetting(), dataset.inputs, dataset.size, true));
    return datasetLoss(this.spec, net, out, dataset);
  }

  private forwardSetting() {
    return { device: this.device, spec: this.spec, layout: this.layout, kernels: this.kernels, params: this.region('params'), maxBinding: this.maxBinding };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const b = this.buffers;
    for (const buffer of [b.dataset, b.batchRows, b.steps, b.lossHistory, b.params, b.grads, b.state, b.marked, ...b.values, ...b.layerUniforms, ...b.owned]) buffer.destroy();
    for (const { buffer } of this.pendingLosses) buffer.destroy();
    this.pendingLosses = [];
  }
}

function concat(parts: Float64Array[]): Float64Array {
  const all = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    all.set(part, offset);
    offset += part.length;
  }
  return all;
}
