// The GPU trainer: the reference's training step as WGSL dispatches.
//
// The dataset is uploaded once. A call to `train` encodes its steps in chunks: each
// chunk's batch rows and per-step uniforms are written in one go, and all its steps'
// dispatches go into one command buffer and one submit. Batches are gathered on the
// GPU; each step's mean loss is written into a GPU-side history and read back only when
// `takeLosses` asks for it.
//
// Per step: gather_batch, forward × L (+ softmax), output_delta, hidden_delta × (L − 1),
// weight_update × L.

import { BatchSchedule } from '../data/batches.ts';
import type { Dataset } from '../data/dataset.ts';
import { InputError } from '../errors.ts';
import { bufferShape, type BufferName } from '../model/buffers.ts';
import { paramEntry, type ParamLayout } from '../model/layout.ts';
import { layerInputs, outputActivation, outputSize, type ModelSpec } from '../model/model.ts';
import type { Model } from '../model/network.ts';
import { stateSlots } from '../model/optimizer.ts';
import { adamCorrections } from '../reference/optimizers.ts';
import { mean, sampleLosses, type ForwardValues } from '../reference/backprop.ts';
import type { Trainer, TrainerState, TrainOptions } from '../trainer.ts';
import { createKernels, LAYER_UNIFORM_BYTES, STEP_UNIFORM_BYTES, type Kernel, type MatmulKernel, type ModelKernels } from './kernels.ts';

const GATHER_WORKGROUP = 64;
const SOFTMAX_WORKGROUP = 64;
/** Batch rows uploaded per chunk at most (16 MiB of u32). */
const MAX_CHUNK_ROWS = 1 << 22;
const MAX_CHUNK_STEPS = 1024;

interface LayerBuffers {
  uniform: GPUBuffer; // Layer struct
  net: GPUBuffer; //     (B, OUT)
  out: GPUBuffer; //     (B, OUT)
  delta: GPUBuffer; //   (B, OUT)
}

/** The bind groups of one chunk of steps, built once per trainer. */
interface StepBindGroups {
  gather: GPUBindGroup;
  forward: GPUBindGroup[];
  softmax?: GPUBindGroup;
  outputDelta: GPUBindGroup;
  hiddenDelta: (GPUBindGroup | undefined)[];
  weightUpdate: GPUBindGroup[];
  step: GPUBindGroup;
}

function f32Bytes(count: number): number {
  return Math.max(4 * count, 16); // WebGPU buffers of storage usage are at least 16 bytes here
}

export class GpuTrainer implements Trainer {
  readonly backend = 'webgpu';
  readonly schedule: BatchSchedule;
  step = 0;

  private readonly batch: number;
  private readonly chunkSteps: number;
  private readonly stepStride: number;
  private readonly buffers: {
    datasetInputs: GPUBuffer; //  (N, IN)
    datasetTargets: GPUBuffer; // (N, OUT)
    batchRows: GPUBuffer; //      (CHUNK, B) u32
    steps: GPUBuffer; //          (CHUNK) Step structs, stepStride bytes apart
    lossHistory: GPUBuffer; //    (CHUNK)
    input: GPUBuffer; //          (B, IN)
    target: GPUBuffer; //         (B, OUT)
    loss: GPUBuffer; //           (B)
    params: GPUBuffer; //         (P)
    grads: GPUBuffer; //          (P)
    state: GPUBuffer[]; //        two of (P), or a placeholder where the optimizer keeps none
    layers: LayerBuffers[];
  };
  private readonly bindGroups: StepBindGroups;
  /** Loss histories of submitted chunks, not yet read: staging buffers and their step counts. */
  private pendingLosses: { buffer: GPUBuffer; count: number }[] = [];

  private constructor(
    readonly device: GPUDevice,
    readonly model: Model,
    readonly dataset: Dataset,
    readonly options: TrainOptions,
    private readonly kernels: ModelKernels,
  ) {
    const { spec, layout } = model;
    const B = options.batchSize;
    this.batch = B;
    this.schedule = new BatchSchedule(dataset.size, B, options.shuffle, options.seed);
    this.chunkSteps = Math.max(1, Math.min(MAX_CHUNK_STEPS, Math.floor(MAX_CHUNK_ROWS / B)));
    this.stepStride = Math.max(STEP_UNIFORM_BYTES, device.limits.minUniformBufferOffsetAlignment);

    const storage = (label: string, bytes: number, extra = 0) =>
      device.createBuffer({ label, size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST | extra });
    const IN = layerInputs(spec, 0);
    const OUT = outputSize(spec);
    const slots = stateSlots(options.optimizer);
    this.buffers = {
      datasetInputs: storage('dataset inputs', f32Bytes(dataset.inputs.length)),
      datasetTargets: storage('dataset targets', f32Bytes(dataset.targets.length)),
      batchRows: storage('batch rows', 4 * this.chunkSteps * B),
      steps: device.createBuffer({ label: 'steps', size: this.chunkSteps * this.stepStride, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST }),
      lossHistory: storage('loss history', f32Bytes(this.chunkSteps)),
      input: storage('input', f32Bytes(B * IN)),
      target: storage('target', f32Bytes(B * OUT)),
      loss: storage('loss', f32Bytes(B)),
      params: storage('params', f32Bytes(layout.size)),
      grads: storage('grads', f32Bytes(layout.size)),
      // SGD keeps no state, momentum one array and Adam two; unused bindings get a placeholder.
      state: [0, 1].map((s) => storage(`optimizer state ${s}`, s < slots ? f32Bytes(layout.size) : 16)),
      layers: spec.layers.map((layer, l) => ({
        uniform: device.createBuffer({ label: `layer${l} dims`, size: LAYER_UNIFORM_BYTES, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST }),
        net: storage(`layer${l}.net`, f32Bytes(B * layer.units)),
        out: storage(`layer${l}.out`, f32Bytes(B * layer.units)),
        delta: storage(`layer${l}.delta`, f32Bytes(B * layer.units)),
      })),
    };
    const queue = device.queue;
    queue.writeBuffer(this.buffers.datasetInputs, 0, new Float32Array(dataset.inputs));
    queue.writeBuffer(this.buffers.datasetTargets, 0, new Float32Array(dataset.targets));
    queue.writeBuffer(this.buffers.params, 0, new Float32Array(model.params));
    this.buffers.layers.forEach((buffers, l) => queue.writeBuffer(buffers.uniform, 0, layerUniform(spec, layout, l, B)));
    this.bindGroups = this.createBindGroups();
  }

  /** Compiles the kernels for `model` and uploads the dataset. */
  static async create(device: GPUDevice, model: Model, dataset: Dataset, options: TrainOptions): Promise<GpuTrainer> {
    checkDeviceLimits(device, model.spec, model.layout, dataset, options.batchSize);
    const kernels = await createKernels(device, model.spec, options.optimizer, options.batchSize);
    return new GpuTrainer(device, model, dataset, options, kernels);
  }

  get spec(): ModelSpec {
    return this.model.spec;
  }

  get layout(): ParamLayout {
    return this.model.layout;
  }

  private createBindGroups(): StepBindGroups {
    const { device, buffers } = this;
    const L = this.spec.layers.length;
    const group = (kernel: Kernel, resources: GPUBuffer[], label: string) =>
      device.createBindGroup({
        label,
        layout: kernel.layout,
        entries: resources.map((buffer, binding) => ({ binding, resource: { buffer } })),
      });
    const layerInput = (l: number) => (l === 0 ? buffers.input : buffers.layers[l - 1].out);
    const last = buffers.layers[L - 1];
    const gatherDims = device.createBuffer({ label: 'gather dims', size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(gatherDims, 0, new Uint32Array([this.batch, this.dataset.inputSize, this.dataset.outputSize, 0]));
    return {
      gather: group(
        this.kernels.gather,
        [gatherDims, buffers.datasetInputs, buffers.datasetTargets, buffers.batchRows, buffers.input, buffers.target],
        'gather',
      ),
      forward: buffers.layers.map((layer, l) =>
        group(this.kernels.forward[l], [layer.uniform, layerInput(l), buffers.params, layer.net, layer.out], `forward layer${l}`),
      ),
      softmax: outputActivation(this.spec) === 'softmax' ? group(this.kernels.softmax, [last.uniform, last.net, last.out], 'softmax') : undefined,
      outputDelta: group(
        this.kernels.outputDelta,
        [last.uniform, last.net, last.out, buffers.target, last.delta, buffers.loss, buffers.lossHistory],
        'output delta',
      ),
      hiddenDelta: buffers.layers.map((layer, l) =>
        l < L - 1
          ? group(this.kernels.hiddenDelta[l]!, [layer.uniform, buffers.layers[l + 1].delta, buffers.params, layer.out, layer.delta], `hidden delta layer${l}`)
          : undefined,
      ),
      weightUpdate: buffers.layers.map((layer, l) =>
        group(
          this.kernels.weightUpdate[l],
          [layer.uniform, layerInput(l), layer.delta, buffers.params, buffers.grads, buffers.state[0], buffers.state[1]],
          `weight update layer${l}`,
        ),
      ),
      step: device.createBindGroup({
        label: 'step',
        layout: this.kernels.stepLayout,
        entries: [{ binding: 0, resource: { buffer: buffers.steps, size: STEP_UNIFORM_BYTES } }],
      }),
    };
  }

  async train(steps: number): Promise<void> {
    for (let done = 0; done < steps; ) {
      const count = Math.min(this.chunkSteps, steps - done);
      this.submitChunk(count);
      done += count;
    }
    await this.device.queue.onSubmittedWorkDone();
  }

  /** Encodes `count` steps (at most one chunk) into one command buffer and submits it. */
  private submitChunk(count: number): void {
    const { device, buffers, bindGroups } = this;
    const B = this.batch;
    const rows = new Uint32Array(count * B);
    const stepData = new ArrayBuffer(count * this.stepStride);
    for (let k = 0; k < count; k++) {
      const step = this.step + k;
      this.schedule.fill(step, rows, k * B);
      const { correction1, correction2 } = adamCorrections(this.options.optimizer, step + 1);
      const u32 = new Uint32Array(stepData, k * this.stepStride, 2);
      const f32 = new Float32Array(stepData, k * this.stepStride + 8, 3);
      u32.set([k * B, k]); // rows_offset, loss_slot
      f32.set([this.options.learningRate, correction1, correction2]);
    }
    device.queue.writeBuffer(buffers.batchRows, 0, rows);
    device.queue.writeBuffer(buffers.steps, 0, stepData);

    const encoder = device.createCommandEncoder({ label: `steps ${this.step}…${this.step + count - 1}` });
    const pass = encoder.beginComputePass();
    for (let k = 0; k < count; k++) this.encodeStep(pass, bindGroups, k * this.stepStride);
    pass.end();
    const staging = device.createBuffer({ label: 'loss readback', size: f32Bytes(count), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    encoder.copyBufferToBuffer(buffers.lossHistory, 0, staging, 0, 4 * count);
    device.queue.submit([encoder.finish()]);
    this.pendingLosses.push({ buffer: staging, count });
    this.step += count;
  }

  private encodeStep(pass: GPUComputePassEncoder, groups: StepBindGroups, stepOffset: number): void {
    const { spec } = this;
    const B = this.batch;
    const L = spec.layers.length;
    const run = (kernel: Kernel, group: GPUBindGroup, x: number, y = 1, usesStep = false) => {
      pass.setPipeline(kernel.pipeline);
      pass.setBindGroup(0, group);
      if (usesStep) pass.setBindGroup(1, groups.step, [stepOffset]);
      pass.dispatchWorkgroups(x, y);
    };
    // A product of M × N in tiles of tile.m × tile.n: workgroups along N (x) and M (y).
    const matmul = (kernel: MatmulKernel, group: GPUBindGroup, m: number, n: number, usesStep = false) =>
      run(kernel, group, Math.ceil(n / kernel.tile.n), Math.ceil(m / kernel.tile.m), usesStep);
    const maxGroups = this.device.limits.maxComputeWorkgroupsPerDimension;
    const gatherGroups = Math.min(maxGroups, Math.ceil((B * (this.dataset.inputSize + this.dataset.outputSize)) / GATHER_WORKGROUP));

    run(this.kernels.gather, groups.gather, gatherGroups, 1, true);
    spec.layers.forEach((layer, l) => matmul(this.kernels.forward[l], groups.forward[l], B, layer.units));
    if (groups.softmax) run(this.kernels.softmax, groups.softmax, Math.min(maxGroups, Math.ceil(B / SOFTMAX_WORKGROUP)));
    run(this.kernels.outputDelta, groups.outputDelta, 1, 1, true);
    for (let l = L - 2; l >= 0; l--) matmul(this.kernels.hiddenDelta[l]!, groups.hiddenDelta[l]!, B, spec.layers[l].units);
    spec.layers.forEach((layer, l) => matmul(this.kernels.weightUpdate[l], groups.weightUpdate[l], layer.units, layerInputs(spec, l), true));
  }

  async takeLosses(): Promise<Float64Array> {
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

  private gpuBuffer(name: BufferName): GPUBuffer {
    const b = this.buffers;
    switch (name) {
      case 'input':
        return b.input;
      case 'target':
        return b.target;
      case 'loss':
        return b.loss;
      case 'params':
        return b.params;
      case 'grads':
        return b.grads;
    }
    const match = /^layer(\d+)\.(net|out|delta)$/.exec(name);
    const layer = match ? b.layers[Number(match[1])] : undefined;
    if (!match || !layer) throw new Error(`unknown buffer ${name}`);
    return layer[match[2] as 'net' | 'out' | 'delta'];
  }

  async read(name: BufferName): Promise<Float64Array> {
    const length = bufferShape(this.spec, this.batch, this.layout.size, name).reduce((a, b) => a * b, 1);
    return this.readBuffer(this.gpuBuffer(name), length);
  }

  private async readBuffer(buffer: GPUBuffer, length: number): Promise<Float64Array> {
    const staging = this.device.createBuffer({ size: f32Bytes(length), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const encoder = this.device.createCommandEncoder();
    encoder.copyBufferToBuffer(buffer, 0, staging, 0, 4 * length);
    this.device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const values = Float64Array.from(new Float32Array(staging.getMappedRange(), 0, length));
    staging.destroy();
    return values;
  }

  async readState(): Promise<TrainerState> {
    const size = this.layout.size;
    const slots = stateSlots(this.options.optimizer);
    const [params, ...optimizerState] = await Promise.all([
      this.readBuffer(this.buffers.params, size),
      ...this.buffers.state.slice(0, slots).map((buffer) => this.readBuffer(buffer, size)),
    ]);
    return { step: this.step, params, optimizerState };
  }

  async writeState(state: TrainerState): Promise<void> {
    const queue = this.device.queue;
    queue.writeBuffer(this.buffers.params, 0, new Float32Array(state.params));
    state.optimizerState.forEach((values, s) => queue.writeBuffer(this.buffers.state[s], 0, new Float32Array(values)));
    this.step = state.step;
    await this.takeLosses(); // drop losses of the abandoned run
    await queue.onSubmittedWorkDone();
  }

  async predict(inputs: Float64Array, count: number): Promise<Float64Array> {
    return (await this.forwardOnly(inputs, count, false)).out;
  }

  async evaluate(dataset: Dataset): Promise<number> {
    const { net, out } = await this.forwardOnly(dataset.inputs, dataset.size, true);
    // The mean over the dataset in float64, from the GPU's net inputs and outputs.
    return mean(sampleLosses(this.spec, outputValues(this.spec, net, out), dataset.targets, dataset.size));
  }

  /** The forward pass on `count` rows with their own buffers; returns the last layer's out (and net). */
  private async forwardOnly(inputs: Float64Array, count: number, withNet: boolean): Promise<{ net: Float64Array; out: Float64Array }> {
    const { device, spec, layout } = this;
    const storage = (bytes: number) => device.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
    const temporary: GPUBuffer[] = [];
    const track = <T extends GPUBuffer>(buffer: T) => (temporary.push(buffer), buffer);
    const input = track(storage(f32Bytes(inputs.length)));
    device.queue.writeBuffer(input, 0, new Float32Array(inputs));
    const encoder = device.createCommandEncoder({ label: 'forward only' });
    const pass = encoder.beginComputePass();
    const bind = (kernel: Kernel, buffers: GPUBuffer[]) =>
      device.createBindGroup({ layout: kernel.layout, entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })) });
    let layerInput = input;
    let last = { net: input, out: input };
    spec.layers.forEach((layer, l) => {
      const uniform = track(device.createBuffer({ size: LAYER_UNIFORM_BYTES, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST }));
      device.queue.writeBuffer(uniform, 0, layerUniform(spec, layout, l, count));
      const net = track(storage(f32Bytes(count * layer.units)));
      const out = track(storage(f32Bytes(count * layer.units)));
      const kernel = this.kernels.forward[l];
      pass.setPipeline(kernel.pipeline);
      pass.setBindGroup(0, bind(kernel, [uniform, layerInput, this.buffers.params, net, out]));
      pass.dispatchWorkgroups(Math.ceil(layer.units / kernel.tile.n), Math.ceil(count / kernel.tile.m));
      if (layer.activation === 'softmax') {
        pass.setPipeline(this.kernels.softmax.pipeline);
        pass.setBindGroup(0, bind(this.kernels.softmax, [uniform, net, out]));
        pass.dispatchWorkgroups(Math.min(device.limits.maxComputeWorkgroupsPerDimension, Math.ceil(count / SOFTMAX_WORKGROUP)));
      }
      layerInput = out;
      last = { net, out };
    });
    pass.end();
    device.queue.submit([encoder.finish()]);
    const length = count * outputSize(spec);
    const [out, net] = await Promise.all([this.readBuffer(last.out, length), withNet ? this.readBuffer(last.net, length) : Promise.resolve(new Float64Array(0))]);
    for (const buffer of temporary) buffer.destroy();
    return { net, out };
  }

  destroy(): void {
    const b = this.buffers;
    for (const buffer of [b.datasetInputs, b.datasetTargets, b.batchRows, b.steps, b.lossHistory, b.input, b.target, b.loss, b.params, b.grads, ...b.state]) {
      buffer.destroy();
    }
    for (const layer of b.layers) for (const buffer of [layer.uniform, layer.net, layer.out, layer.delta]) buffer.destroy();
    for (const { buffer } of this.pendingLosses) buffer.destroy();
  }
}

/** Forward values holding only the last layer's, as sampleLosses reads them. */
function outputValues(spec: ModelSpec, net: Float64Array, out: Float64Array): ForwardValues {
  const L = spec.layers.length;
  const values: ForwardValues = { net: new Array(L), out: new Array(L) };
  values.net[L - 1] = net;
  values.out[L - 1] = out;
  return values;
}

/** The Layer struct the kernels read: sizes and offsets into the parameter buffer. */
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
export function checkDeviceLimits(device: GPUDevice, spec: ModelSpec, layout: ParamLayout, dataset: Dataset, batch: number): void {
  const limits = device.limits;
  const maxBinding = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  const check = (what: string, bytes: number) => {
    if (bytes > maxBinding) {
      throw new InputError(
        what,
        `needs ${bytes} bytes in one GPU buffer; this adapter allows ${maxBinding} (maxStorageBufferBindingSize ${limits.maxStorageBufferBindingSize}, maxBufferSize ${limits.maxBufferSize})`,
      );
    }
  };
  check('the dataset inputs', 4 * dataset.inputs.length);
  check('the dataset targets', 4 * dataset.targets.length);
  check('the parameters', 4 * layout.size);
  spec.layers.forEach((layer, l) => check(`layer ${l}'s activations for a batch of ${batch}`, 4 * batch * Math.max(layer.units, layerInputs(spec, l))));
  const tiles = Math.ceil(batch / 16); // the smallest tile
  if (tiles > limits.maxComputeWorkgroupsPerDimension) {
    throw new InputError(`batch size ${batch}`, `needs ${tiles} workgroups in one dimension; this adapter allows ${limits.maxComputeWorkgroupsPerDimension} (maxComputeWorkgroupsPerDimension)`);
  }
}
