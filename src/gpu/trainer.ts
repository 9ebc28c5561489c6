// The GPU trainer: the reference's training step as WGSL dispatches.
//
// The dataset is uploaded once (or streamed, where it does not fit one binding). `train`
// runs its steps in chunks and returns once they are submitted; each step's loss is read
// back later, chunk by chunk. The trainer puts together what does each job:
//   buffers.ts   its buffers, and where each named buffer lives in them
//   submit.ts    chunks on their way to the GPU, and losses on their way back
//   profile.ts   one step with each dispatch timed
//   device.ts    the guard that turns a lost device into DeviceLostError
//
// Two paths run a step, checked against the reference by the same tests: layered.ts
// (one dispatch per job, any size) and fused.ts (a whole chunk in one dispatch, for
// article-sized networks). predict.ts runs the forward pass alone.
//
// The layered path writes only what the next kernels read, unless the trainer captures
// (the default for this lower-level trainer): then every named buffer of the last step
// can be read, as the cross-checks do. `fit` trains without capturing.

import { BatchSchedule } from '../data/batches.ts';
import { checkDatasetValues, type Dataset } from '../data/dataset.ts';
import { checkRowCount } from '../data/validate.ts';
import { DisposedError, InputError } from '../errors.ts';
import { bufferShape, type BufferName } from '../model/buffers.ts';
import type { ParamLayout } from '../model/layout.ts';
import { checkLayerIndices, checkTargets, type ModelSpec } from '../model/model.ts';
import type { Model } from '../model/network.ts';
import type { Trainer, TrainerState, TrainOptions } from '../model/trainer.ts';
import { gpuProfile, type GpuProfile } from './adapters.ts';
import { checkSplitRoom, keptWithoutCapture, splitRoom, state1Offset, TrainerMemory, type SplitRoom } from './buffers.ts';
import { trainingSetting, type TrainingSetting } from './constants.ts';
import { DeviceGuard } from './device.ts';
import type { Dispatch, StepContext, StepEncoder } from './encoder.ts';
import { fusedConstants, fusedEncoder } from './fused.ts';
import {
  createFiniteCheck,
  createFusedKernels,
  createLayeredKernels,
  fitsFusedKernel,
  FUSED_MAX_LAYERS,
  FUSED_MAX_PHASE,
  FUSED_MAX_UNITS,
  kernelPlans,
  layerPlans,
  type ForwardKernels,
  type FusedKernels,
  type Kernel,
  type LayeredKernels,
  type LayerPlans,
} from './kernels.ts';
import { layeredEncoder } from './layered.ts';
import { binding, checkDeviceLimits, maxBindingBytes, placeDataset, readRegion, type DatasetPlacement } from './memory.ts';
import { datasetLoss, forwardKernels, forwardRows } from './predict.ts';
import { timeStep, type KernelTiming } from './profile.ts';
import { scoped } from './scopes.ts';
import { ChunkQueue } from './submit.ts';
import type { Tuning } from './tune.ts';
import { tunes, type TuneMode, type TuneSettings } from './tune-mode.ts';

/** Which kernels run a step: `auto` takes the fused kernel wherever the network fits it. */
export type KernelPath = 'auto' | 'layered' | 'fused';

/** How a GpuTrainer runs on its device (all optional). */
export interface GpuTrainerOptions {
  /** Which kernels run a step (default `auto`). */
  path?: KernelPath | undefined;
  /**
   * The most bytes one buffer binding may hold: the device's limit, or less to cap the GPU
   * memory a trainer takes. A dataset larger than this is streamed, batch by batch.
   */
  maxBindingBytes?: number | undefined;
  /**
   * Write every named buffer at every step, so that `read` can return any of them (default
   * true). Without it the layered path writes only what the next kernels read: the
   * parameters, each layer's out and δ, and the output layer's net; `read` of another
   * buffer throws. The fused path always writes them all. See also `setCapture`.
   */
  capture?: boolean | undefined;
  /** Use subgroup operations where the device has them (default true); false forces the workgroup-memory fallback. */
  subgroups?: boolean | undefined;
  /**
   * What the tile choice assumes of the adapter, where it should not take it from the
   * table of adapters.ts: its compute units, say (the limits are always the device's). A
   * test can plan as for a large GPU and run those plans here.
   */
  profile?: Partial<Pick<GpuProfile, 'units' | 'threadsPerUnit' | 'minThreads' | 'maxColumnBlocks' | 'dispatchCost' | 'tileBuffers' | 'registersPerUnit' | 'registerBudget' | 'maxRegistersPerThread'>> | undefined;
  /**
   * Tile plans by measurement (tune.ts): `auto` (the default) times a few candidate plans
   * of each large product (2²⁴ FLOPs or more) on a hardware adapter at first use, and keeps
   * the fastest per adapter (where `backend: 'auto'` keeps its measurements); `on` tunes on
   * a software adapter too; `off` takes the cost model's plans. An object sets the
   * candidates per product and the FLOPs threshold too.
   */
  tune?: TuneMode | TuneSettings | undefined;
}

/** A training step's tile plans (layerPlans), tuned where `settings` say (tune.ts, loaded only then). */
async function stepPlans(device: GPUDevice, spec: ModelSpec, batch: number, profile: GpuProfile, setting: TrainingSetting, settings: TuneMode | TuneSettings | undefined): Promise<{ plans: LayerPlans[]; tuning: Tuning }> {
  if (!tunes(settings, profile)) return { plans: layerPlans(spec, batch, profile, device, setting), tuning: { settings, products: [] } };
  return (await import('./tune.ts')).tunedLayerPlans(device, spec, batch, profile, setting, settings);
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

  private readonly chunks: ChunkQueue;
  private readonly guard: DeviceGuard;
  private readonly context: StepContext;
  private encoder: StepEncoder;
  private markedStep = 0;
  private previousStep = 0;
  private forwardKernels?: Promise<ForwardKernels>;
  private disposed = false;

  private constructor(
    readonly device: GPUDevice,
    readonly model: Model,
    readonly dataset: Dataset,
    readonly options: TrainOptions,
    private kernels: LayeredKernels | FusedKernels,
    private readonly memory: TrainerMemory,
    private readonly placement: DatasetPlacement,
    /** The most bytes one binding may hold (see GpuTrainerOptions.maxBindingBytes). */
    private readonly maxBinding: number,
    /** What the tile choice assumed of the adapter. */
    readonly profile: GpuProfile,
    finiteCheck: Kernel,
    /** How tile plans are tuned, and the products tuned (measured now, or kept from an earlier run on this adapter): training's, then prediction's once it runs. */
    readonly tuning: Tuning,
  ) {
    this.guard = new DeviceGuard(device);
    this.schedule = new BatchSchedule(dataset.size, options.batchSize, options.shuffle, options.seed);
    this.chunks = new ChunkQueue(device, this.memory, this.schedule, options, dataset, placement, this.counts, finiteCheck);
    this.context = {
      device,
      spec: model.spec,
      batch: options.batchSize,
      optimizer: options.optimizer,
      clipNorm: options.clipNorm,
      dataset,
      placement,
      buffers: memory.buffers,
      stepStride: memory.stepStride,
      counts: this.counts,
      region: (name) => memory.region(name),
      stateRegion: (slot) => memory.stateRegion(slot),
      bindGroup: (kernel, regions, label) => device.createBindGroup({ label, layout: kernel.layout, entries: regions.map((region, b) => ({ binding: b, resource: binding(region) })) }),
    };
    this.encoder = this.makeEncoder();
    // Both marks at the start.
    this.mark();
    this.mark();
  }

  /** Compiles the kernels for `model` (or takes them from the device's cache) and uploads the dataset. */
  static async create(device: GPUDevice, model: Model, dataset: Dataset, options: TrainOptions, gpu: GpuTrainerOptions = {}): Promise<GpuTrainer> {
    checkDatasetValues(dataset);
    checkTargets(model.spec, dataset.targets);
    const { spec, layout } = model;
    const batch = options.batchSize;
    const maxBinding = maxBindingBytes(device, gpu.maxBindingBytes);
    checkDeviceLimits(device, spec, layout, batch, maxBinding);
    const placement = placeDataset(dataset, batch, maxBinding);
    const fits = fitsFusedKernel(spec, batch);
    const path = gpu.path ?? 'auto';
    if (path === 'fused' && !fits) {
      throw new InputError('the fused kernel', `takes up to ${FUSED_MAX_LAYERS} layers of at most ${FUSED_MAX_UNITS} units, and batch × width up to ${FUSED_MAX_PHASE}`);
    }
    const profile = { ...gpuProfile(device, { noSubgroups: gpu.subgroups === false }), ...gpu.profile };
    if (path === 'fused' || (path === 'auto' && fits)) {
      const constants = fusedConstants(model, options, placement, state1Offset(options.optimizer, layout.size));
      const [kernels, finiteCheck] = await Promise.all([createFusedKernels(device, spec, batch, constants), createFiniteCheck(device)]);
      const memory = await allocate(device, model, dataset, options, placement, kernels, { partials: 0, outputNet: 0, updatePartials: [] });
      return new GpuTrainer(device, model, dataset, options, kernels, memory, placement, maxBinding, profile, finiteCheck, { settings: gpu.tune, products: [] });
    }
    // The split products' room is known from the plans alone: refuse before compiling anything.
    const setting = trainingSetting(options, gpu.capture ?? true);
    const { plans, tuning } = await stepPlans(device, spec, batch, profile, setting, gpu.tune);
    const room = splitRoom(spec, batch, plans, options.clipNorm !== undefined);
    checkSplitRoom(room, maxBinding);
    const [kernels, finiteCheck] = await Promise.all([createLayeredKernels(device, spec, setting, batch, profile, plans), createFiniteCheck(device)]);
    const memory = await allocate(device, model, dataset, options, placement, kernels, room);
    return new GpuTrainer(device, model, dataset, options, kernels, memory, placement, maxBinding, profile, finiteCheck, tuning);
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
    this.kernels = await this.guarded(() => createLayeredKernels(this.device, this.spec, trainingSetting(this.options, on), this.options.batchSize, this.profile, kernelPlans(this.kernels as LayeredKernels)));
    this.encoder = this.makeEncoder();
  }

  private makeEncoder(): StepEncoder {
    return this.kernels.path === 'layered' ? layeredEncoder(this.context, this.kernels) : fusedEncoder(this.context, this.kernels);
  }

  /** Runs `work` unless disposed; a lost device shows as DeviceLostError (see DeviceGuard). */
  private guarded<T>(work: () => Promise<T>): Promise<T> {
    if (this.disposed) return Promise.reject(new DisposedError('trainer'));
    return this.guard.run(work);
  }

  async train(steps: number): Promise<void> {
    return this.guarded(async () => {
      for (let done = 0; done < steps; ) {
        const count = Math.min(this.placement.chunkSteps, steps - done);
        await this.chunks.makeRoom();
        this.chunks.submit(this.encoder, this.step, count);
        this.step += count;
        done += count;
      }
    });
  }

  async takeLosses(): Promise<Float64Array> {
    return this.guarded(async () => {
      await this.chunks.settle();
      return this.chunks.takeLosses();
    });
  }

  async read(name: BufferName): Promise<Float64Array> {
    if (!this.capture && !keptWithoutCapture(this.spec, name)) {
      throw new InputError(`buffer ${name}`, 'is written only while the trainer captures: create it with { capture: true }, or call setCapture(true) before the steps to read');
    }
    const length = bufferShape(this.spec, this.options.batchSize, this.layout.size, name).reduce((a, b) => a * b, 1);
    return this.guarded(async () => {
      await this.chunks.settle();
      return readRegion(this.device, { ...this.memory.region(name), length }, `reading back ${name}`);
    });
  }

  async readState(): Promise<TrainerState> {
    const { params, optimizerState } = await this.guarded(async () => {
      await this.chunks.settle();
      return this.memory.readState();
    });
    return { step: this.step, params, optimizerState };
  }

  /** Restores a state; optimizer state it lacks starts from zero. Losses not yet taken are dropped. */
  async writeState(state: TrainerState): Promise<void> {
    await this.guarded(async () => {
      await this.chunks.settle();
      this.memory.writeState(state);
      this.step = state.step;
      this.chunks.dropLosses();
      await this.device.queue.onSubmittedWorkDone();
    });
  }

  /** Remembers the parameters and optimizer state, on the GPU, for `rewind`. */
  mark(): void {
    if (this.disposed) throw new DisposedError('trainer');
    this.memory.copyMarked('save');
    this.previousStep = this.markedStep;
    this.markedStep = this.step;
  }

  /** Back to the last `mark` (or the one before it): its parameters, optimizer state and step. Losses not yet taken are dropped. */
  async rewind(to: 'last' | 'previous' = 'last'): Promise<void> {
    await this.guarded(async () => {
      await this.chunks.settle();
      this.chunks.dropLosses();
      this.memory.copyMarked(to === 'last' ? 'restore' : 'restore previous');
      this.step = to === 'last' ? this.markedStep : this.previousStep;
    });
  }

  /**
   * Runs one training step with each dispatch timed on its own: with timestamp queries
   * where the device has them, else by the wall clock, one submit per dispatch (which
   * adds each submit's overhead). The step counts as any other (its loss is kept).
   */
  async profileStep(): Promise<{ timings: KernelTiming[]; source: 'timestamp-query' | 'wall clock' }> {
    return this.guarded(async () => {
      await this.chunks.settle();
      this.chunks.upload(this.step, 1);
      const profiled = await timeStep(this.device, this.encoder, this.kernels.path === 'fused', this.chunks.pacer);
      this.chunks.keepLosses(1);
      this.step += 1;
      return profiled;
    });
  }

  async predict(inputs: Float64Array, count: number): Promise<Float64Array> {
    return (await this.layerOutputs(inputs, count, [this.spec.layers.length - 1]))[0];
  }

  async layerOutputs(inputs: Float64Array, count: number, layers: readonly number[]): Promise<Float64Array[]> {
    checkRowCount(inputs, count, this.spec.inputSize);
    checkLayerIndices(layers, this.spec, 'layers');
    return (await this.guarded(async () => forwardRows(await this.forwardSetting(), inputs, count, { layers, net: false }))).outs;
  }

  async evaluate(dataset: Dataset): Promise<number> {
    const { net, outs } = await this.guarded(async () => forwardRows(await this.forwardSetting(), dataset.inputs, dataset.size, { layers: [this.spec.layers.length - 1], net: true }));
    return datasetLoss(this.spec, net, outs[0], dataset);
  }

  private async forwardSetting() {
    await this.chunks.settle();
    this.forwardKernels ??= forwardKernels(this.device, this.spec, this.options.batchSize, this.profile, this.capture, this.tuning);
    return { device: this.device, spec: this.spec, layout: this.layout, kernels: await this.forwardKernels, params: this.memory.region('params'), maxBinding: this.maxBinding };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    // Chunks in flight still use the buffers: they are freed once the GPU is through.
    const free = () => {
      this.memory.destroy();
      this.chunks.destroy();
    };
    this.chunks.settle().then(free, free);
  }
}

/**
 * A trainer's buffers, allocated and filled inside error scopes: a buffer the GPU has no
 * memory for is a LimitError naming it, and nothing of the trainer is left allocated.
 */
function allocate(device: GPUDevice, model: Model, dataset: Dataset, options: TrainOptions, placement: DatasetPlacement, kernels: LayeredKernels | FusedKernels, room: SplitRoom): Promise<TrainerMemory> {
  return scoped(
    device,
    `allocating the trainer's GPU buffers for a batch of ${options.batchSize}`,
    (log) => new TrainerMemory(device, model, dataset, options, placement, kernels, room, log),
    (memory) => memory.destroy(),
  );
}
