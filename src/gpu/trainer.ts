// The GPU trainer: the reference's training step as WGSL dispatches.
//
// The dataset is uploaded once (or streamed, where it does not fit one binding). `train`
// runs its steps in chunks: each chunk's batch rows and per-step values are written in
// one go, its steps are submitted a few at a time (so the GPU starts while the CPU still
// encodes), and the call returns once the chunks are submitted, with at most two in
// flight. Each step's loss goes into a GPU-side history, read back chunk by chunk when
// the trainer waits for a chunk or is asked for the losses.
//
// Two paths run a step, checked against the reference by the same tests: layered.ts
// (one dispatch per job, any size) and fused.ts (a whole chunk in one dispatch, for
// article-sized networks). predict.ts runs the forward pass alone.
//
// The layered path writes only what the next kernels read, unless the trainer captures
// (the default for this lower-level trainer): then every named buffer of the last step
// can be read, as the cross-checks do. `fit` trains without capturing.

import { BatchSchedule } from '../data/batches.ts';
import { checkDatasetValues, gatherBatch, type Dataset } from '../data/dataset.ts';
import { checkRowCount } from '../data/validate.ts';
import { DeviceLostError, DisposedError, InputError, LimitError } from '../errors.ts';
import { bufferShape, parseLayerBuffer, stepBufferLayout, type BufferName } from '../model/buffers.ts';
import { alignUp, ALIGNMENT, type ParamLayout } from '../model/layout.ts';
import { layerInputs, outputSize, type ModelSpec } from '../model/model.ts';
import type { Model } from '../model/network.ts';
import { stateSlots, type OptimizerSpec } from '../model/optimizer.ts';
import { adamCorrections } from '../reference/optimizers.ts';
import type { Trainer, TrainerState, TrainOptions } from '../model/trainer.ts';
import { layerUniform, LAYER_UNIFORM_BYTES, packStep, STEP_STORAGE_BYTES, STEP_UNIFORM_BYTES } from './abi.ts';
import { gpuProfile, type GpuProfile } from './adapters.ts';
import { describePlan } from './tiles.ts';
import { fusedConstants, fusedEncoder } from './fused.ts';
import {
  createFusedKernels,
  createForwardKernels,
  createLayeredKernels,
  fitsFusedKernel,
  FUSED_MAX_LAYERS,
  FUSED_MAX_PHASE,
  FUSED_MAX_UNITS,
  layerPlans,
  type ForwardKernels,
  type FusedKernels,
  type LayeredKernels,
} from './kernels.ts';
import { layeredEncoder } from './layered.ts';
import type { Dispatch, StepContext, StepEncoder, TrainerBuffers } from './encoder.ts';
import {
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
import { nextTask, Pacer } from './pacing.ts';
import { datasetLoss, forwardRows } from './predict.ts';

/** Which kernels run a step: `auto` takes the fused kernel wherever the network fits it. */
export type KernelPath = 'auto' | 'layered' | 'fused';

/** How a GpuTrainer runs on its device (all optional). */
export interface GpuTrainerOptions {
  /** Which kernels run a step (default `auto`). */
  path?: KernelPath;
  /**
   * The most bytes one buffer binding may hold: the device's limit, or less to cap the GPU
   * memory a trainer takes. A dataset larger than this is streamed, batch by batch.
   */
  maxBindingBytes?: number;
  /**
   * Write every named buffer at every step, so that `read` can return any of them (default
   * true). Without it the layered path writes only what the next kernels read: the
   * parameters, each layer's out and δ, and the output layer's net; `read` of another
   * buffer throws. The fused path always writes them all. See also `setCapture`.
   */
  capture?: boolean;
  /** Use subgroup operations where the device has them (default true); false forces the workgroup-memory fallback. */
  subgroups?: boolean;
  /**
   * What the tile choice assumes of the adapter, where it should not take it from the
   * table of adapters.ts: its compute units, say (the limits are always the device's). A
   * test can plan as for a large GPU and run those plans here.
   */
  profile?: Partial<Pick<GpuProfile, 'units' | 'threadsPerUnit' | 'minThreads' | 'maxColumnBlocks' | 'dispatchCost'>>;
}

/** Chunks submitted but not yet finished, at most: enough to keep the GPU busy while the next is encoded. */
const MAX_IN_FLIGHT = 2;




/** One kernel's time in a profiled step. */
export interface KernelTiming {
  label: string;
  kernel: string;
  /** A matrix product's tile, e.g. `128×128×32, 8×16 a thread, split 1`. */
  tile?: string;
  ms: number;
  flops: number;
  bytes: number;
  workgroups: [number, number, number];
}

/** A submitted chunk, until its losses are read. */
interface Chunk {
  staging: GPUBuffer; // (count, shares) losses, mapped once the chunk is done
  count: number;
  submittedAt: number;
}

/** Named buffers the layered path keeps without capturing (the rest are written for a check only). */
function keptWithoutCapture(spec: ModelSpec, name: BufferName): boolean {
  const L = spec.layers.length;
  if (name === 'params') return true;
  const buffer = parseLayerBuffer(name);
  if (!buffer) return false;
  return buffer.kind !== 'net' || buffer.layer === L - 1;
}

/**
 * The training step as WGSL compute dispatches on one WebGPU device, float32, with the
 * same named buffers as the reference (CpuTrainer). `train` returns once its steps are
 * submitted; the losses and buffers are read back on request. A lost device makes every
 * later call throw DeviceLostError (ResilientTrainer recovers from that).
 */
export class GpuTrainer implements Trainer {
  readonly backend = 'webgpu';
  readonly schedule: BatchSchedule;
  step = 0;
  /** Compute dispatches and queue submits issued by `train` so far (the benchmarks report them). */
  readonly counts = { dispatches: 0, submits: 0 };
  /** What the tile choice assumed of the adapter. */
  readonly profile: GpuProfile;

  private readonly batch: number;
  private readonly stepStride: number;
  private readonly regions = new Map<BufferName, Region>();
  private readonly buffers: TrainerBuffers;
  private readonly context: StepContext;
  private encoder: StepEncoder;
  /** Shares of each step's loss in the history (the output stage's workgroups; 1 on the fused path). */
  private readonly shares: number;
  /** Where Adam's v starts in the state buffer (floats). */
  private readonly state1Offset: number;
  /** A chunk's batch rows and Step structs, written in place and uploaded (nothing allocated per step). */
  private readonly rowsUpload: Uint32Array<ArrayBuffer>; //  (CHUNK, B)
  private readonly stepsUpload: DataView; //    (CHUNK) Step structs
  private readonly pacer = new Pacer();
  private inFlight: Chunk[] = [];
  /** The last wait for a chunk, which the next one queues behind. */
  private finishing: Promise<void> = Promise.resolve();
  /** Staging buffers of chunks already read, for reuse. */
  private spareStaging: GPUBuffer[] = [];
  /** Losses read from the GPU and not yet taken. */
  private drainedLosses: Float64Array[] = [];
  private markedStep = 0;
  private forwardKernels?: Promise<ForwardKernels>;
  /** Set once the device is lost; every later call throws DeviceLostError. */
  private lost?: string;
  private disposed = false;

  private constructor(
    readonly device: GPUDevice,
    readonly model: Model,
    readonly dataset: Dataset,
    readonly options: TrainOptions,
    private kernels: LayeredKernels | FusedKernels,
    private readonly placement: DatasetPlacement,
    /** The most bytes one binding may hold (see GpuTrainerOptions.maxBindingBytes). */
    private readonly maxBinding: number,
    profile: GpuProfile,
    partialFloats: number,
    outputNetFloats: number,
  ) {
    const { spec, layout } = model;
    this.profile = profile;
    device.lost.then((info) => (this.lost = info.message || info.reason || 'unknown reason'));
    const B = options.batchSize;
    const layered = kernels.path === 'layered';
    this.batch = B;
    this.shares = layered ? kernels.outputGroups : 1;
    this.schedule = new BatchSchedule(dataset.size, B, options.shuffle, options.seed);
    this.stepStride = layered ? Math.max(STEP_UNIFORM_BYTES, device.limits.minUniformBufferOffsetAlignment) : STEP_STORAGE_BYTES;
    this.state1Offset = state1Offset(options.optimizer, layout.size);
    this.rowsUpload = new Uint32Array(placement.chunkSteps * B);
    this.stepsUpload = new DataView(new ArrayBuffer(placement.chunkSteps * this.stepStride));
    const stepLayout = stepBufferLayout(spec, B);
    const L = spec.layers.length;
    const storage = (label: string, floats: number) => storageBuffer(device, label, floats);
    const uniform = (label: string, bytes: number) => device.createBuffer({ label, size: bytes, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    // The output layer's net, with room for the partial sums of its split product.
    const valueLength = (name: BufferName, length: number) => (layered && name === `layer${L - 1}.net` ? Math.max(length, outputNetFloats) : length);
    const values = layered ? stepLayout.entries.map((entry) => storage(entry.name, valueLength(entry.name, entry.length))) : [storage('step buffers', stepLayout.size)];
    this.buffers = {
      dataset: storage('dataset', placement.targetsOffset + placement.rows * dataset.outputSize),
      batchRows: storage('batch rows', placement.chunkSteps * B),
      steps: device.createBuffer({
        label: 'steps',
        size: placement.chunkSteps * this.stepStride,
        usage: (layered ? GPUBufferUsage.UNIFORM : GPUBufferUsage.STORAGE) | GPUBufferUsage.COPY_DST,
      }),
      lossHistory: storage('loss history', placement.chunkSteps * this.shares),
      params: storage('params', layout.size),
      grads: storage('grads', layout.size),
      state: storage('optimizer state', 2 * this.state1Offset),
      marked: storage('marked state', layout.size + 2 * this.state1Offset),
      values,
      outputNet: layered ? values[stepLayout.entries.findIndex((entry) => entry.name === `layer${L - 1}.net`)] : values[0],
      partials: storage('partial sums', partialFloats),
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
    this.context = {
      device,
      spec,
      batch: B,
      optimizer: options.optimizer,
      dataset,
      placement,
      buffers: this.buffers,
      stepStride: this.stepStride,
      counts: this.counts,
      region: (name) => this.region(name),
      stateRegion: (slot) => this.stateRegion(slot),
      bindGroup: (kernel, regions, label) => device.createBindGroup({ label, layout: kernel.layout, entries: regions.map((region, b) => ({ binding: b, resource: binding(region) })) }),
    };
    this.encoder = this.makeEncoder();
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
    const profile = { ...gpuProfile(device, { noSubgroups: gpu.subgroups === false }), ...gpu.profile };
    const secondSlot = state1Offset(options.optimizer, model.layout.size);
    const fused = path === 'fused' || (path === 'auto' && fits);
    // The split products' room is known from the plans alone: refuse before compiling anything.
    const { partials, outputNet } = fused ? { partials: 0, outputNet: 0 } : splitRoom(model.spec, options.batchSize, profile);
    checkPartials(maxBinding, partials, outputNet);
    const kernels = fused
      ? await createFusedKernels(device, model.spec, options.batchSize, fusedConstants(model, options, placement, secondSlot))
      : await createLayeredKernels(device, model.spec, options.optimizer, options.batchSize, profile, gpu.capture ?? true);
    return new GpuTrainer(device, model, dataset, options, kernels, placement, maxBinding, profile, partials, outputNet);
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

  /** Whether every named buffer is written (always, on the fused path). */
  get capture(): boolean {
    return this.kernels.path === 'fused' || this.kernels.capture;
  }

  /** One step's dispatches, with their FLOPs and bytes. */
  get plan(): readonly Dispatch[] {
    return this.encoder.plan;
  }

  /**
   * Starts (or stops) writing every named buffer from the next step on; the first switch
   * compiles the kernels for it. The steps already run are not affected.
   */
  async setCapture(on: boolean): Promise<void> {
    if (this.kernels.path === 'fused' || this.kernels.capture === on) return;
    const kernels = await this.guarded(() => createLayeredKernels(this.device, this.spec, this.options.optimizer, this.batch, this.profile, on));
    this.kernels = kernels;
    this.encoder = this.makeEncoder();
  }

  private makeEncoder(): StepEncoder {
    return this.kernels.path === 'layered' ? layeredEncoder(this.context, this.kernels) : fusedEncoder(this.context, this.kernels);
  }

  private region(name: BufferName): Region {
    const region = this.regions.get(name);
    if (!region) throw new InputError(`buffer ${name}`, 'is not a buffer of this network');
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
      await nextTask();
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
        if (this.inFlight.length >= MAX_IN_FLIGHT) await this.finishOldest();
        this.submitChunk(count);
        done += count;
      }
    });
  }

  /** Writes a chunk's batch rows and per-step values, then encodes and submits its steps a few at a time. */
  private submitChunk(count: number): void {
    const { device, buffers } = this;
    const B = this.batch;
    const rows = this.rowsUpload.subarray(0, count * B); // (CHUNK, B)
    const { learningRate, optimizer } = this.options;
    const adam = optimizer.kind === 'adam';
    for (let k = 0; k < count; k++) {
      const step = this.step + k;
      this.schedule.fill(step, rows, k * B);
      const corrections = adam ? adamCorrections(optimizer, step + 1) : undefined;
      packStep(this.stepsUpload, k * this.stepStride, k * B, k, learningRate, corrections?.correction1 ?? 1, corrections?.correction2 ?? 1);
    }
    if (this.placement.streamed) {
      // Upload this chunk's rows themselves, in order; the kernels then read row k·B + b.
      const { input, target } = gatherBatch(this.dataset, rows);
      device.queue.writeBuffer(buffers.dataset, 0, new Float32Array(input));
      device.queue.writeBuffer(buffers.dataset, 4 * this.placement.targetsOffset, new Float32Array(target));
      for (let k = 0; k < rows.length; k++) rows[k] = k;
    }
    device.queue.writeBuffer(buffers.batchRows, 0, rows);
    device.queue.writeBuffer(buffers.steps, 0, this.stepsUpload.buffer, 0, count * this.stepStride);

    const staging = this.stagingBuffer(count * this.shares);
    for (let first = 0; first < count; first += this.encoder.submitSteps) {
      const steps = Math.min(this.encoder.submitSteps, count - first);
      const encoder = device.createCommandEncoder({ label: `steps ${this.step + first}…${this.step + first + steps - 1}` });
      this.encoder.encode(encoder, first, steps);
      if (first + steps === count) encoder.copyBufferToBuffer(buffers.lossHistory, 0, staging, 0, 4 * count * this.shares);
      device.queue.submit([encoder.finish()]);
      this.counts.submits++;
    }
    this.inFlight.push({ staging, count, submittedAt: performance.now() });
    this.step += count;
  }

  /** A mappable buffer of at least `floats` floats: a spare one, or a new one. */
  private stagingBuffer(floats: number): GPUBuffer {
    const bytes = f32Bytes(floats);
    const spare = this.spareStaging.findIndex((buffer) => buffer.size >= bytes);
    if (spare >= 0) return this.spareStaging.splice(spare, 1)[0];
    return this.device.createBuffer({ label: 'loss readback', size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  }

  /**
   * Waits for the oldest chunk in flight and keeps its losses. Calls queue up (reads may run
   * side by side): each takes the chunk that is oldest when its turn comes, if any is left.
   */
  private finishOldest(): Promise<void> {
    const next = this.finishing.then(() => (this.inFlight.length > 0 ? this.finishOldestNow() : undefined));
    this.finishing = next.catch(() => {});
    return next;
  }

  /** Waits for the oldest chunk in flight (paced: see pacing.ts) and keeps its losses. */
  private async finishOldestNow(): Promise<void> {
    const chunk = this.inFlight[0];
    await this.pacer.wait(chunk.count, chunk.submittedAt, () => chunk.staging.mapAsync(GPUMapMode.READ));
    this.inFlight.shift();
    const shares = new Float32Array(chunk.staging.getMappedRange(), 0, chunk.count * this.shares);
    const losses = new Float64Array(chunk.count);
    for (let k = 0; k < chunk.count; k++) {
      let sum = 0;
      for (let g = 0; g < this.shares; g++) sum += shares[k * this.shares + g];
      losses[k] = sum;
    }
    chunk.staging.unmap();
    this.spareStaging.push(chunk.staging);
    this.drainedLosses.push(losses);
  }

  /** Waits for every chunk in flight. */
  private async settle(): Promise<void> {
    while (this.inFlight.length > 0) await this.finishOldest();
  }

  async takeLosses(): Promise<Float64Array> {
    return this.guarded(async () => {
      await this.settle();
      const losses = concat(this.drainedLosses);
      this.drainedLosses = [];
      return losses;
    });
  }

  async read(name: BufferName): Promise<Float64Array> {
    if (!this.capture && !keptWithoutCapture(this.spec, name)) {
      throw new InputError(`buffer ${name}`, 'is written only while the trainer captures: create it with { capture: true }, or call setCapture(true) before the steps to read');
    }
    const length = bufferShape(this.spec, this.batch, this.layout.size, name).reduce((a, b) => a * b, 1);
    return this.guarded(async () => {
      await this.settle();
      return readRegion(this.device, { ...this.region(name), length });
    });
  }

  async readState(): Promise<TrainerState> {
    const size = this.layout.size;
    const slots = stateSlots(this.options.optimizer);
    const [params, ...optimizerState] = await this.guarded(async () => {
      await this.settle();
      return Promise.all([
        readRegion(this.device, { buffer: this.buffers.params, offset: 0, length: size }),
        ...([0, 1] as const).slice(0, slots).map((slot) => readRegion(this.device, { ...this.stateRegion(slot), length: size })),
      ]);
    });
    return { step: this.step, params, optimizerState };
  }

  /** Restores a state; optimizer state it lacks starts from zero. Losses not yet taken are dropped. */
  async writeState(state: TrainerState): Promise<void> {
    const queue = this.device.queue;
    await this.guarded(async () => {
      await this.settle();
      queue.writeBuffer(this.buffers.params, 0, new Float32Array(state.params));
      for (let slot = 0; slot < stateSlots(this.options.optimizer); slot++) {
        const values = state.optimizerState[slot] ?? new Float64Array(this.layout.size);
        queue.writeBuffer(this.buffers.state, 4 * this.stateRegion(slot as 0 | 1).offset, new Float32Array(values));
      }
      this.step = state.step;
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
      await this.settle();
      this.drainedLosses = [];
      const { params, state, marked } = this.buffers;
      const encoder = this.device.createCommandEncoder({ label: 'rewind' });
      encoder.copyBufferToBuffer(marked, 0, params, 0, params.size);
      encoder.copyBufferToBuffer(marked, params.size, state, 0, state.size);
      this.device.queue.submit([encoder.finish()]);
      this.step = this.markedStep;
    });
  }

  /**
   * Runs one training step with each dispatch timed on its own: with timestamp queries
   * where the device has them, else by the wall clock, one submit per dispatch (which
   * adds each submit's overhead). The step counts as any other (its loss is kept).
   */
  async profileStep(): Promise<{ timings: KernelTiming[]; source: 'timestamp-query' | 'wall clock' }> {
    return this.guarded(async () => {
      await this.settle();
      const { device, buffers } = this;
      const plan = this.encoder.plan;
      const rows = this.rowsUpload.subarray(0, this.batch);
      this.schedule.fill(this.step, rows, 0);
      const corrections = adamCorrections(this.options.optimizer, this.step + 1);
      packStep(this.stepsUpload, 0, 0, 0, this.options.learningRate, corrections.correction1, corrections.correction2);
      if (this.placement.streamed) {
        const { input, target } = gatherBatch(this.dataset, rows);
        device.queue.writeBuffer(buffers.dataset, 0, new Float32Array(input));
        device.queue.writeBuffer(buffers.dataset, 4 * this.placement.targetsOffset, new Float32Array(target));
        rows.forEach((_, k) => (rows[k] = k));
      }
      device.queue.writeBuffer(buffers.batchRows, 0, rows);
      device.queue.writeBuffer(buffers.steps, 0, this.stepsUpload.buffer, 0, this.stepStride);
      const timings: KernelTiming[] = [];
      const timingOf = (dispatch: Dispatch, ms: number): KernelTiming => ({
        label: dispatch.label,
        kernel: dispatch.kernel,
        tile: dispatch.plan && describePlan(dispatch.plan),
        ms,
        flops: dispatch.flops,
        bytes: dispatch.bytes,
        workgroups: dispatch.workgroups,
      });
      const wallClock = async (dispatch: Dispatch, record: (encoder: GPUCommandEncoder) => void) => {
        const encoder = device.createCommandEncoder({ label: dispatch.label });
        record(encoder);
        const started = performance.now();
        device.queue.submit([encoder.finish()]);
        await device.queue.onSubmittedWorkDone();
        timings.push(timingOf(dispatch, performance.now() - started));
      };
      let source: 'timestamp-query' | 'wall clock' = 'wall clock';
      if (this.kernels.path === 'fused') {
        // One dispatch runs the whole step: time its submit.
        await wallClock(plan[0], (encoder) => this.encoder.encode(encoder, 0, 1));
      } else if (device.features.has('timestamp-query')) {
        source = 'timestamp-query';
        const querySet = device.createQuerySet({ type: 'timestamp', count: 2 * plan.length });
        const resolved = device.createBuffer({ size: 16 * plan.length, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
        const readback = device.createBuffer({ size: 16 * plan.length, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
        try {
          const encoder = device.createCommandEncoder({ label: 'profiled step' });
          plan.forEach((dispatch, i) => {
            const pass = encoder.beginComputePass({ label: dispatch.label, timestampWrites: { querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } });
            this.encoder.encodeDispatch(pass, dispatch, 0);
            pass.end();
          });
          encoder.resolveQuerySet(querySet, 0, 2 * plan.length, resolved, 0);
          encoder.copyBufferToBuffer(resolved, 0, readback, 0, 16 * plan.length);
          device.queue.submit([encoder.finish()]);
          // Paced as training is, so that the wait does not take a core from the step it times.
          await this.pacer.wait(1, performance.now(), () => readback.mapAsync(GPUMapMode.READ));
          const stamps = new BigUint64Array(readback.getMappedRange());
          plan.forEach((dispatch, i) => timings.push(timingOf(dispatch, Number(stamps[2 * i + 1] - stamps[2 * i]) / 1e6)));
          readback.unmap();
        } finally {
          querySet.destroy();
          resolved.destroy();
          readback.destroy();
        }
      } else {
        for (const dispatch of plan) {
          await wallClock(dispatch, (encoder) => {
            const pass = encoder.beginComputePass({ label: dispatch.label });
            this.encoder.encodeDispatch(pass, dispatch, 0);
            pass.end();
          });
        }
      }
      // Keep the step's loss, as train would.
      const staging = this.stagingBuffer(this.shares);
      const encoder = device.createCommandEncoder({ label: 'profiled step loss' });
      encoder.copyBufferToBuffer(buffers.lossHistory, 0, staging, 0, 4 * this.shares);
      device.queue.submit([encoder.finish()]);
      this.inFlight.push({ staging, count: 1, submittedAt: performance.now() });
      this.step += 1;
      return { timings, source };
    });
  }

  async predict(inputs: Float64Array, count: number): Promise<Float64Array> {
    checkRowCount(inputs, count, this.spec.inputSize);
    return (await this.guarded(async () => forwardRows(await this.forwardSetting(), inputs, count, false))).out;
  }

  async evaluate(dataset: Dataset): Promise<number> {
    const { net, out } = await this.guarded(async () => forwardRows(await this.forwardSetting(), dataset.inputs, dataset.size, true));
    return datasetLoss(this.spec, net, out, dataset);
  }

  private async forwardSetting() {
    await this.settle();
    this.forwardKernels ??= createForwardKernels(this.device, this.spec, this.batch, this.profile);
    return { device: this.device, spec: this.spec, layout: this.layout, kernels: await this.forwardKernels, params: this.region('params'), maxBinding: this.maxBinding };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const b = this.buffers;
    for (const buffer of [b.dataset, b.batchRows, b.steps, b.lossHistory, b.params, b.grads, b.state, b.marked, b.partials, ...b.values, ...b.layerUniforms, ...b.owned]) buffer.destroy();
    for (const { staging } of this.inFlight) staging.destroy();
    for (const staging of this.spareStaging) staging.destroy();
    this.inFlight = [];
    this.spareStaging = [];
  }
}

/**
 * Room for the split products' partial sums: the largest (SPLIT_K, M, N) of the products
 * finished by their own pass, and the output layer's (SPLIT_K, B, K), kept in its net.
 */
function splitRoom(spec: ModelSpec, batch: number, profile: GpuProfile): { partials: number; outputNet: number } {
  const plans = layerPlans(spec, batch, profile);
  const L = spec.layers.length;
  let partials = 0;
  spec.layers.forEach((layer, l) => {
    const { forward, hidden, update } = plans[l];
    if (l < L - 1 && forward.splitK > 1) partials = Math.max(partials, forward.splitK * batch * layer.units);
    if (hidden && hidden.splitK > 1) partials = Math.max(partials, hidden.splitK * batch * layer.units);
    if (update.splitK > 1) partials = Math.max(partials, update.splitK * layer.units * updateColumns(spec, l));
  });
  return { partials, outputNet: plans[L - 1].forward.splitK * batch * outputSize(spec) };
}

/** Columns of a layer's gradient product: its inputs, and the bias. */
function updateColumns(spec: ModelSpec, l: number): number {
  return layerInputs(spec, l) + 1;
}

/** Where the optimizer's second state slot starts in the state buffer (floats): slots are aligned, and empty for SGD. */
function state1Offset(optimizer: OptimizerSpec, parameters: number): number {
  return stateSlots(optimizer) > 0 ? alignUp(parameters) : ALIGNMENT;
}

function checkPartials(maxBinding: number, partials: number, outputNet: number): void {
  for (const floats of [partials, outputNet]) {
    if (4 * floats > maxBinding) throw new LimitError('the split products', `need ${4 * floats} bytes of partial sums in one GPU buffer; this adapter allows ${maxBinding}`, 'maxStorageBufferBindingSize');
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
