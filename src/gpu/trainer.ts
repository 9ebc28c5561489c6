// The GPU trainer: the reference's training step as WGSL dispatches.
//
// The dataset is uploaded once. A call to `train` encodes its steps in chunks: each
// chunk's batch rows and per-step values are written in one go, and all its steps go
// into one command buffer and one submit. Batches are gathered on the GPU; each step's
// mean loss is written into a GPU-side history and read back only when `takeLosses`
// asks for it.
//
// Two paths run a step, checked against the reference by the same tests:
// - layered: gather_batch, forward × L (+ softmax), output_delta, hidden_delta × (L − 1),
//   weight_update × L, one dispatch each, for networks of any size;
// - fused: train_tiny.wgsl runs a whole chunk of steps in one dispatch of one workgroup,
//   for article-sized networks, where dispatching is the cost.

import { BatchSchedule } from '../data/batches.ts';
import { gatherBatch, type Dataset } from '../data/dataset.ts';
import { DeviceLostError, InputError } from '../errors.ts';
import { bufferShape, stepBufferEntry, stepBufferLayout, type BufferName, type StepBufferLayout } from '../model/buffers.ts';
import { paramEntry, type ParamLayout } from '../model/layout.ts';
import { layerInputs, LOSS_CODE, ACTIVATION_CODE, outputActivation, outputSize, type ModelSpec } from '../model/model.ts';
import type { Model } from '../model/network.ts';
import { OPTIMIZER_CODE, stateSlots } from '../model/optimizer.ts';
import { mean, sampleLosses, type ForwardValues } from '../reference/backprop.ts';
import { adamCorrections } from '../reference/optimizers.ts';
import type { Trainer, TrainerState, TrainOptions } from '../train/trainer.ts';
import {
  createFusedKernels,
  createLayeredKernels,
  fitsFusedKernel,
  LAYER_UNIFORM_BYTES,
  STEP_STORAGE_BYTES,
  STEP_UNIFORM_BYTES,
  type FusedKernels,
  type Kernel,
  type LayeredKernels,
  type MatmulKernel,
} from './kernels.ts';

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

const GATHER_WORKGROUP = 64;
const SOFTMAX_WORKGROUP = 64;
/** Batch rows uploaded per chunk at most (16 MiB of u32). */
const MAX_CHUNK_ROWS = 1 << 22;
const MAX_CHUNK_STEPS = 1024;
/** Floats between regions of one buffer: 256 bytes, WebGPU's minStorageBufferOffsetAlignment. */
const ALIGNMENT = 64;

/** Storage buffers that can be written and read back. (A function: under Node the GPU* globals arrive with Dawn.) */
function storageUsage(): number {
  return GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
}

function alignUp(n: number): number {
  return Math.ceil(n / ALIGNMENT) * ALIGNMENT;
}

/** Bytes for `count` floats; WebGPU buffers are not made smaller than 16 bytes here. */
function f32Bytes(count: number): number {
  return Math.max(4 * count, 16);
}

/** A region of a GPU buffer: where a named buffer lives. */
interface Region {
  buffer: GPUBuffer;
  offset: number; // floats
  length: number; // floats
}

function binding(region: Region): GPUBufferBinding {
  return { buffer: region.buffer, offset: 4 * region.offset, size: 4 * Math.max(1, region.length) };
}

export class GpuTrainer implements Trainer {
  readonly backend = 'webgpu';
  readonly schedule: BatchSchedule;
  step = 0;
  /** Compute dispatches and queue submits issued by `train` so far (the benchmarks report them). */
  readonly counts = { dispatches: 0, submits: 0 };

  private readonly batch: number;
  private readonly chunkSteps: number;
  private readonly stepStride: number;
  private readonly stepLayout: StepBufferLayout;
  private readonly regions = new Map<BufferName, Region>();
  /** Loss histories of submitted chunks, not yet read: staging buffers and their step counts. */
  private pendingLosses: { buffer: GPUBuffer; count: number }[] = [];
  private readonly encodeChunk: (encoder: GPUCommandEncoder, count: number) => void;
  private readonly buffers: {
    dataset: GPUBuffer; //     (ROWS, IN) inputs, then (ROWS, OUT) targets: every row, or the chunk's when streamed
    batchRows: GPUBuffer; //   (CHUNK, B) u32
    steps: GPUBuffer; //       (CHUNK) Step structs: uniforms stepStride apart (layered), or packed (fused)
    lossHistory: GPUBuffer; // (CHUNK)
    params: GPUBuffer; //      (P)
    grads: GPUBuffer; //       (P)
    state: GPUBuffer; //       (2, P): momentum's velocity or Adam's m, then Adam's v
    values: GPUBuffer[]; //    the per-step buffers: one each (layered), or one laid out by stepBufferLayout (fused)
    uniforms: GPUBuffer[]; //  layer dimensions (layered), or the chunk's step count (fused)
  };
  private readonly state1Offset: number;
  /** Set once the device is lost; every later call throws DeviceLostError. */
  private lost?: string;

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
    this.batch = B;
    this.schedule = new BatchSchedule(dataset.size, B, options.shuffle, options.seed);
    this.chunkSteps = placement.chunkSteps;
    this.stepStride = kernels.path === 'layered' ? Math.max(STEP_UNIFORM_BYTES, device.limits.minUniformBufferOffsetAlignment) : STEP_STORAGE_BYTES;
    this.stepLayout = stepBufferLayout(spec, B);
    this.state1Offset = state1Offset(model, options);
    const stateRegion = this.state1Offset;

    const storage = (label: string, floats: number) => device.createBuffer({ label, size: f32Bytes(floats), usage: storageUsage() });
    const layered = kernels.path === 'layered';
    this.buffers = {
      dataset: storage('dataset', placement.targetsOffset + placement.rows * dataset.outputSize),
      batchRows: storage('batch rows', this.chunkSteps * B),
      steps: device.createBuffer({
        label: 'steps',
        size: this.chunkSteps * this.stepStride,
        usage: (layered ? GPUBufferUsage.UNIFORM : GPUBufferUsage.STORAGE) | GPUBufferUsage.COPY_DST,
      }),
      lossHistory: storage('loss history', this.chunkSteps),
      params: storage('params', layout.size),
      grads: storage('grads', layout.size),
      state: storage('optimizer state', 2 * stateRegion),
      values: layered
        ? this.stepLayout.entries.map((entry) => storage(entry.name, entry.length))
        : [storage('step buffers', this.stepLayout.size)],
      uniforms: layered
        ? spec.layers.map((_, l) => device.createBuffer({ label: `layer${l} dims`, size: LAYER_UNIFORM_BYTES, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST }))
        : [device.createBuffer({ label: 'chunk', size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST })],
    };
    this.stepLayout.entries.forEach((entry, k) => {
      this.regions.set(entry.name, layered ? { buffer: this.buffers.values[k], offset: 0, length: entry.length } : { buffer: this.buffers.values[0], offset: entry.offset, length: entry.length });
    });
    this.regions.set('params', { buffer: this.buffers.params, offset: 0, length: layout.size });
    this.regions.set('grads', { buffer: this.buffers.grads, offset: 0, length: layout.size });

    const queue = device.queue;
    if (!placement.streamed) {
      queue.writeBuffer(this.buffers.dataset, 0, new Float32Array(dataset.inputs));
      queue.writeBuffer(this.buffers.dataset, 4 * placement.targetsOffset, new Float32Array(dataset.targets));
    }
    queue.writeBuffer(this.buffers.params, 0, new Float32Array(model.params));
    if (kernels.path === 'layered') {
      this.buffers.uniforms.forEach((buffer, l) => queue.writeBuffer(buffer, 0, layerUniform(spec, layout, l, B)));
      this.encodeChunk = this.layeredEncoder(kernels);
    } else {
      this.encodeChunk = this.fusedEncoder(kernels);
    }
  }

  /** Compiles the kernels for `model` and uploads the dataset. */
  static async create(device: GPUDevice, model: Model, dataset: Dataset, options: TrainOptions, gpu: GpuTrainerOptions = {}): Promise<GpuTrainer> {
    const maxBinding = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize, gpu.maxBindingBytes ?? Infinity);
    checkDeviceLimits(device, model.spec, model.layout, options.batchSize, maxBinding);
    const placement = placeDataset(dataset, options.batchSize, maxBinding);
    const fits = fitsFusedKernel(model.spec, options.batchSize);
    const path = gpu.path ?? 'auto';
    if (path === 'fused' && !fits) throw new InputError('the fused kernel', 'takes up to 4 layers of at most 64 units, and batch × width up to 4096');
    const kernels =
      path === 'fused' || (path === 'auto' && fits)
        ? await createFusedKernels(device, model.spec, options.batchSize, fusedConstants(model, options, placement))
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

  private bindGroup(kernel: Kernel, regions: Region[], label: string): GPUBindGroup {
    return this.device.createBindGroup({ label, layout: kernel.layout, entries: regions.map((region, b) => ({ binding: b, resource: binding(region) })) });
  }

  private whole(buffer: GPUBuffer): Region {
    return { buffer, offset: 0, length: buffer.size / 4 };
  }

  /** The layered path: bind groups built once, then a dozen dispatches per step. */
  private layeredEncoder(kernels: LayeredKernels): (encoder: GPUCommandEncoder, count: number) => void {
    const { device, spec, buffers } = this;
    const L = spec.layers.length;
    const B = this.batch;
    const uniform = (l: number) => this.whole(buffers.uniforms[l]);
    const layerInput = (l: number) => this.region(l === 0 ? 'input' : `layer${l - 1}.out`);
    const value = (l: number, kind: 'net' | 'out' | 'delta') => this.region(`layer${l}.${kind}`);
    const params = this.region('params');
    const gatherDims = device.createBuffer({ label: 'gather dims', size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(gatherDims, 0, new Uint32Array([B, this.dataset.inputSize, this.dataset.outputSize, 0]));
    const datasetInputs = { buffer: buffers.dataset, offset: 0, length: this.placement.rows * this.dataset.inputSize };
    const datasetTargets = { buffer: buffers.dataset, offset: this.placement.targetsOffset, length: this.placement.rows * this.dataset.outputSize };
    const groups = {
      gather: this.bindGroup(
        kernels.gather,
        [this.whole(gatherDims), datasetInputs, datasetTargets, this.whole(buffers.batchRows), this.region('input'), this.region('target')],
        'gather',
      ),
      forward: spec.layers.map((_, l) => this.bindGroup(kernels.forward[l], [uniform(l), layerInput(l), params, value(l, 'net'), value(l, 'out')], `forward layer${l}`)),
      softmax:
        outputActivation(spec) === 'softmax'
          ? this.bindGroup(kernels.softmax, [uniform(L - 1), value(L - 1, 'net'), value(L - 1, 'out')], 'softmax')
          : undefined,
      outputDelta: this.bindGroup(
        kernels.outputDelta,
        [uniform(L - 1), value(L - 1, 'net'), value(L - 1, 'out'), this.region('target'), value(L - 1, 'delta'), this.region('loss'), this.whole(buffers.lossHistory)],
        'output delta',
      ),
      hiddenDelta: spec.layers.map((_, l) =>
        l < L - 1 ? this.bindGroup(kernels.hiddenDelta[l]!, [uniform(l), value(l + 1, 'delta'), params, value(l, 'out'), value(l, 'delta')], `hidden delta layer${l}`) : undefined,
      ),
      weightUpdate: spec.layers.map((_, l) =>
        this.bindGroup(
          kernels.weightUpdate[l],
          [uniform(l), layerInput(l), value(l, 'delta'), params, this.region('grads'), this.stateRegion(0), this.stateRegion(1)],
          `weight update layer${l}`,
        ),
      ),
      step: device.createBindGroup({ label: 'step', layout: kernels.stepLayout, entries: [{ binding: 0, resource: { buffer: buffers.steps, size: STEP_UNIFORM_BYTES } }] }),
    };
    const maxGroups = device.limits.maxComputeWorkgroupsPerDimension;
    const gatherGroups = Math.min(maxGroups, Math.ceil((B * (this.dataset.inputSize + this.dataset.outputSize)) / GATHER_WORKGROUP));

    return (encoder, count) => {
      const pass = encoder.beginComputePass();
      for (let k = 0; k < count; k++) {
        const stepOffset = k * this.stepStride;
        const run = (kernel: Kernel, group: GPUBindGroup, x: number, y = 1, usesStep = false) => {
          pass.setPipeline(kernel.pipeline);
          pass.setBindGroup(0, group);
          if (usesStep) pass.setBindGroup(1, groups.step, [stepOffset]);
          pass.dispatchWorkgroups(x, y);
          this.counts.dispatches++;
        };
        // An M × N product in tiles of tile.m × tile.n: workgroups along N (x) and M (y).
        const matmul = (kernel: MatmulKernel, group: GPUBindGroup, m: number, n: number, usesStep = false) =>
          run(kernel, group, Math.ceil(n / kernel.tile.n), Math.ceil(m / kernel.tile.m), usesStep);

        run(kernels.gather, groups.gather, gatherGroups, 1, true);
        spec.layers.forEach((layer, l) => matmul(kernels.forward[l], groups.forward[l], B, layer.units));
        if (groups.softmax) run(kernels.softmax, groups.softmax, Math.min(maxGroups, Math.ceil(B / SOFTMAX_WORKGROUP)));
        run(kernels.outputDelta, groups.outputDelta, 1, 1, true);
        for (let l = L - 2; l >= 0; l--) matmul(kernels.hiddenDelta[l]!, groups.hiddenDelta[l]!, B, spec.layers[l].units);
        spec.layers.forEach((layer, l) => matmul(kernels.weightUpdate[l], groups.weightUpdate[l], layer.units, layerInputs(spec, l), true));
      }
      pass.end();
    };
  }

  /** The fused path: one dispatch runs the whole chunk. */
  private fusedEncoder(kernels: FusedKernels): (encoder: GPUCommandEncoder, count: number) => void {
    const { buffers } = this;
    const group = this.bindGroup(
      kernels.train,
      [
        this.whole(buffers.uniforms[0]),
        this.whole(buffers.dataset),
        this.whole(buffers.batchRows),
        this.whole(buffers.steps),
        this.whole(buffers.values[0]),
        this.whole(buffers.params),
        this.whole(buffers.grads),
        this.whole(buffers.state),
        this.whole(buffers.lossHistory),
      ],
      'train tiny',
    );
    return (encoder, count) => {
      // The number of steps is the only thing that changes between chunks.
      this.device.queue.writeBuffer(buffers.uniforms[0], 0, new Uint32Array([count, 0, 0, 0]));
      const pass = encoder.beginComputePass();
      pass.setPipeline(kernels.train.pipeline);
      pass.setBindGroup(0, group);
      pass.dispatchWorkgroups(1);
      pass.end();
      this.counts.dispatches++;
    };
  }

  /** Runs `work`; if the device is (or turns out to have been) lost, throws DeviceLostError instead. */
  private async guarded<T>(work: () => Promise<T>): Promise<T> {
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
        const count = Math.min(this.chunkSteps, steps - done);
        this.submitChunk(count);
        done += count;
      }
      await this.device.queue.onSubmittedWorkDone();
    });
  }

  /** Writes a chunk's batch rows and per-step values, encodes its steps, submits them. */
  private submitChunk(count: number): void {
    const { device, buffers } = this;
    const B = this.batch;
    const rows = new Uint32Array(count * B);
    const stepData = new ArrayBuffer(count * this.stepStride);
    for (let k = 0; k < count; k++) {
      const step = this.step + k;
      this.schedule.fill(step, rows, k * B);
      const { correction1, correction2 } = adamCorrections(this.options.optimizer, step + 1);
      new Uint32Array(stepData, k * this.stepStride, 2).set([k * B, k]); // rows_offset, loss_slot
      new Float32Array(stepData, k * this.stepStride + 8, 3).set([this.options.learningRate, correction1, correction2]);
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
    this.encodeChunk(encoder, count);
    const staging = device.createBuffer({ label: 'loss readback', size: f32Bytes(count), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    encoder.copyBufferToBuffer(buffers.lossHistory, 0, staging, 0, 4 * count);
    device.queue.submit([encoder.finish()]);
    this.counts.submits++;
    this.pendingLosses.push({ buffer: staging, count });
    this.step += count;
  }

  async takeLosses(): Promise<Float64Array> {
    return this.guarded(() => this.readLosses());
  }

  private async readLosses(): Promise<Float64Array> {
    const pending = this.pendingLosses;
    this.pendingLosses = [];
    const parts = await Promise.all(
      pending.map(async ({ buffer, count }) => {
        await buffer.mapAsync(GPUMapMode.READ);
        const values = Float64Array.from(new Float32Array(buffer.getMappedRange(), 0, count));
        buffer.destroy();
        return values;
      }),
    );
    const losses = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
    let offset = 0;
    for (const part of parts) {
      losses.set(part, offset);
      offset += part.length;
    }
    return losses;
  }

  async read(name: BufferName): Promise<Float64Array> {
    const length = bufferShape(this.spec, this.batch, this.layout.size, name).reduce((a, b) => a * b, 1);
    return this.guarded(() => this.readRegion({ ...this.region(name), length }));
  }

  private async readRegion(region: Region): Promise<Float64Array> {
    const staging = this.device.createBuffer({ size: f32Bytes(region.length), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const encoder = this.device.createCommandEncoder();
    encoder.copyBufferToBuffer(region.buffer, 4 * region.offset, staging, 0, 4 * region.length);
    this.device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const values = Float64Array.from(new Float32Array(staging.getMappedRange(), 0, region.length));
    staging.destroy();
    return values;
  }

  async readState(): Promise<TrainerState> {
    const size = this.layout.size;
    const slots = stateSlots(this.options.optimizer);
    const [params, ...optimizerState] = await this.guarded(() =>
      Promise.all([
        this.readRegion({ buffer: this.buffers.params, offset: 0, length: size }),
        ...([0, 1] as const).slice(0, slots).map((slot) => this.readRegion({ ...this.stateRegion(slot), length: size })),
      ]),
    );
    return { step: this.step, params, optimizerState };
  }

  /** Restores a state; optimizer state it lacks starts from zero. */
  async writeState(state: TrainerState): Promise<void> {
    const queue = this.device.queue;
    await this.guarded(async () => {
      queue.writeBuffer(this.buffers.params, 0, new Float32Array(state.params));
      // Optimizer state the state lacks starts from zero.
      for (let slot = 0; slot < stateSlots(this.options.optimizer); slot++) {
        const values = state.optimizerState[slot] ?? new Float64Array(this.layout.size);
        queue.writeBuffer(this.buffers.state, 4 * this.stateRegion(slot as 0 | 1).offset, new Float32Array(values));
      }
      this.step = state.step;
      await this.readLosses(); // drop losses of the abandoned run
      await queue.onSubmittedWorkDone();
    });
  }

  async predict(inputs: Float64Array, count: number): Promise<Float64Array> {
    return (await this.guarded(() => this.forwardOnly(inputs, count, false))).out;
  }

  async evaluate(dataset: Dataset): Promise<number> {
    const { net, out } = await this.guarded(() => this.forwardOnly(dataset.inputs, dataset.size, true));
    // The mean over the dataset in float64, from the GPU's net inputs and outputs.
    return mean(sampleLosses(this.spec, outputValues(this.spec, net, out), dataset.targets, dataset.size));
  }

  /**
   * The forward pass on `count` rows with buffers of its own; returns the last layer's
   * out (and net). Rows are split into passes where one pass would not fit the adapter's
   * binding size or workgroup count.
   */
  private async forwardOnly(inputs: Float64Array, count: number, withNet: boolean): Promise<{ net: Float64Array; out: Float64Array }> {
    const { spec } = this;
    const widest = Math.max(spec.inputSize, ...spec.layers.map((layer) => layer.units));
    const perPass = Math.max(1, Math.min(Math.floor(this.maxBinding / (4 * widest)), this.device.limits.maxComputeWorkgroupsPerDimension * 16));
    if (count <= perPass) return this.forwardPass(inputs, count, withNet);
    const K = outputSize(spec);
    const net = new Float64Array(withNet ? count * K : 0);
    const out = new Float64Array(count * K);
    for (let first = 0; first < count; first += perPass) {
      const rows = Math.min(perPass, count - first);
      const pass = await this.forwardPass(inputs.subarray(first * spec.inputSize, (first + rows) * spec.inputSize), rows, withNet);
      out.set(pass.out, first * K);
      if (withNet) net.set(pass.net, first * K);
    }
    return { net, out };
  }

  private async forwardPass(inputs: Float64Array, count: number, withNet: boolean): Promise<{ net: Float64Array; out: Float64Array }> {
    const { device, spec, layout } = this;
    const temporary: GPUBuffer[] = [];
    const storage = (floats: number) => {
      const buffer = device.createBuffer({ size: f32Bytes(floats), usage: storageUsage() });
      temporary.push(buffer);
      return this.whole(buffer);
    };
    const input = storage(inputs.length);
    device.queue.writeBuffer(input.buffer, 0, new Float32Array(inputs));
    const encoder = device.createCommandEncoder({ label: 'forward only' });
    const pass = encoder.beginComputePass();
    let layerInput = input;
    let last = { net: input, out: input };
    spec.layers.forEach((layer, l) => {
      const uniform = device.createBuffer({ size: LAYER_UNIFORM_BYTES, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
      temporary.push(uniform);
      device.queue.writeBuffer(uniform, 0, layerUniform(spec, layout, l, count));
      const net = storage(count * layer.units);
      const out = storage(count * layer.units);
      const kernel = this.kernels.forward[l];
      pass.setPipeline(kernel.pipeline);
      pass.setBindGroup(0, this.bindGroup(kernel, [this.whole(uniform), layerInput, this.region('params'), net, out], `predict layer${l}`));
      pass.dispatchWorkgroups(Math.ceil(layer.units / kernel.tile.n), Math.ceil(count / kernel.tile.m));
      if (layer.activation === 'softmax') {
        pass.setPipeline(this.kernels.softmax.pipeline);
        pass.setBindGroup(0, this.bindGroup(this.kernels.softmax, [this.whole(uniform), net, out], 'predict softmax'));
        pass.dispatchWorkgroups(Math.min(device.limits.maxComputeWorkgroupsPerDimension, Math.ceil(count / SOFTMAX_WORKGROUP)));
      }
      layerInput = out;
      last = { net, out };
    });
    pass.end();
    device.queue.submit([encoder.finish()]);
    const length = count * outputSize(spec);
    const [out, net] = await Promise.all([
      this.readRegion({ ...last.out, length }),
      withNet ? this.readRegion({ ...last.net, length }) : Promise.resolve(new Float64Array(0)),
    ]);
    for (const buffer of temporary) buffer.destroy();
    return { net, out };
  }

  destroy(): void {
    const b = this.buffers;
    for (const buffer of [b.dataset, b.batchRows, b.steps, b.lossHistory, b.params, b.grads, b.state, ...b.values, ...b.uniforms]) buffer.destroy();
    for (const { buffer } of this.pendingLosses) buffer.destroy();
    this.pendingLosses = [];
  }
}

/**
 * Where the dataset lives on the GPU: all of it, uploaded once (resident); or, where it
 * would not fit in one binding, only the rows of the chunk being trained, uploaded with
 * each chunk (streamed).
 */
interface DatasetPlacement {
  streamed: boolean;
  rows: number; //          rows the dataset buffer holds
  targetsOffset: number; // where the targets start, after the inputs
  chunkSteps: number; //    steps per chunk
}

function placeDataset(dataset: Dataset, batch: number, maxBinding: number): DatasetPlacement {
  const chunkSteps = Math.max(1, Math.min(MAX_CHUNK_STEPS, Math.floor(MAX_CHUNK_ROWS / batch)));
  const bytes = (rows: number) => 4 * (alignUp(rows * dataset.inputSize) + rows * dataset.outputSize);
  if (bytes(dataset.size) <= maxBinding) {
    return { streamed: false, rows: dataset.size, targetsOffset: alignUp(dataset.inputs.length), chunkSteps };
  }
  const rowBytes = 4 * (dataset.inputSize + dataset.outputSize);
  const steps = Math.min(chunkSteps, Math.floor((maxBinding - 4 * ALIGNMENT) / (rowBytes * batch)));
  if (steps < 1) {
    throw new InputError(`batch size ${batch}`, `needs ${rowBytes * batch} bytes of data in one GPU buffer; this adapter allows ${maxBinding} (maxStorageBufferBindingSize)`);
  }
  const rows = steps * batch;
  return { streamed: true, rows, targetsOffset: alignUp(rows * dataset.inputSize), chunkSteps: steps };
}

/** Where Adam's v starts in the state buffer. SGD keeps no state, momentum one array, Adam two; unused regions stay small. */
function state1Offset(model: Model, options: TrainOptions): number {
  return stateSlots(options.optimizer) > 0 ? alignUp(model.layout.size) : ALIGNMENT;
}

/** train_tiny.wgsl's override constants: the network's sizes and codes, and where each buffer lives. */
function fusedConstants(model: Model, options: TrainOptions, placement: DatasetPlacement): Record<string, number> {
  const { spec, layout } = model;
  const steps = stepBufferLayout(spec, options.batchSize);
  const at = (name: BufferName) => stepBufferEntry(steps, name).offset;
  const optimizer = options.optimizer;
  const constants: Record<string, number> = {
    LAYERS: spec.layers.length,
    BATCH: options.batchSize,
    INPUTS: layerInputs(spec, 0),
    OUTPUTS: outputSize(spec),
    LOSS: LOSS_CODE[spec.loss],
    OPTIMIZER: OPTIMIZER_CODE[optimizer.kind],
    TRAIN_BIASES: spec.trainBiases ? 1 : 0,
    ...(optimizer.kind === 'momentum' ? { MOMENTUM_FACTOR: optimizer.momentum } : {}),
    ...(optimizer.kind === 'adam' ? { BETA1: optimizer.beta1, BETA2: optimizer.beta2, EPSILON: optimizer.epsilon } : {}),
    INPUT_OFFSET: at('input'),
    TARGET_OFFSET: at('target'),
    LOSS_OFFSET: at('loss'),
    TARGETS_OFFSET: placement.targetsOffset,
    STATE1_OFFSET: state1Offset(model, options),
  };
  spec.layers.forEach((layer, l) => {
    Object.assign(constants, {
      [`UNITS_${l}`]: layer.units,
      [`ACTIVATION_${l}`]: ACTIVATION_CODE[layer.activation],
      [`WEIGHTS_${l}`]: paramEntry(layout, l, 'weights').offset,
      [`BIASES_${l}`]: paramEntry(layout, l, 'biases').offset,
      [`NET_${l}`]: at(`layer${l}.net`),
      [`OUT_${l}`]: at(`layer${l}.out`),
      [`DELTA_${l}`]: at(`layer${l}.delta`),
    });
  });
  return constants;
}

/** Forward values holding only the last layer's, as sampleLosses reads them. */
function outputValues(spec: ModelSpec, net: Float64Array, out: Float64Array): ForwardValues {
  const L = spec.layers.length;
  const values: ForwardValues = { net: new Array(L), out: new Array(L) };
  values.net[L - 1] = net;
  values.out[L - 1] = out;
  return values;
}

/** The Layer struct the layered kernels read: sizes and offsets into the parameter buffer. */
function layerUniform(spec: ModelSpec, layout: ParamLayout, l: number, batch: number): Uint32Array<ArrayBuffer> {
  const L = spec.layers.length;
  return new Uint32Array([
    batch,
    layerInputs(spec, l),
    spec.layers[l].units,
    l < L - 1 ? spec.layers[l + 1].units : 0,
    paramEntry(layout, l, 'weights').offset,
    paramEntry(layout, l, 'biases').offset,
    l < L - 1 ? paramEntry(layout, l + 1, 'weights').offset : 0,
    0,
  ]);
}

/** Refuses, before allocating anything, a network or batch this device cannot hold. */
export function checkDeviceLimits(device: GPUDevice, spec: ModelSpec, layout: ParamLayout, batch: number, maxBinding: number): void {
  const limits = device.limits;
  const check = (what: string, bytes: number) => {
    if (bytes > maxBinding) {
      throw new InputError(
        what,
        `needs ${bytes} bytes in one GPU buffer; this adapter allows ${maxBinding} (maxStorageBufferBindingSize ${limits.maxStorageBufferBindingSize}, maxBufferSize ${limits.maxBufferSize})`,
      );
    }
  };
  check('the parameters', 4 * layout.size);
  spec.layers.forEach((layer, l) => check(`layer ${l}'s activations for a batch of ${batch}`, 4 * batch * Math.max(layer.units, layerInputs(spec, l))));
  check(`the step's buffers for a batch of ${batch}`, 4 * stepBufferLayout(spec, batch).size);
  const tiles = Math.ceil(batch / 16); // the smallest tile
  if (tiles > limits.maxComputeWorkgroupsPerDimension) {
    throw new InputError(`batch size ${batch}`, `needs ${tiles} workgroups in one dimension; this adapter allows ${limits.maxComputeWorkgroupsPerDimension} (maxComputeWorkgroupsPerDimension)`);
  }
}
