// The WebAssembly trainer: the reference's training step in float32 with SIMD products
// shared among worker threads (src/wasm/assembly/), with the same named buffers as the
// reference and WebGPU, checked against the reference by the same tests. The dataset is
// copied into the module's memory once; `train` runs its steps in chunks, each one call
// into the module that gathers every batch, steps and keeps every loss.
//
//   runtime.ts   the module, its memory, its threads
//   buffers.ts   where each named buffer lives in that memory
//   hooks.ts     the ops without a WebAssembly body, run from their records

import { BatchSchedule } from '../data/batches.ts';
import { checkDatasetValues, type Dataset } from '../data/dataset.ts';
import { checkRowCount } from '../data/validate.ts';
import { DisposedError, InputError } from '../errors.ts';
import { bufferShape, parseLayerBuffer, type BufferName } from '../model/buffers.ts';
import type { ParamLayout } from '../model/layout.ts';
import { checkLayerIndices, checkTargets, type ModelSpec } from '../model/model.ts';
import type { Model } from '../model/network.ts';
import { learningRateAt } from '../model/schedule.ts';
import { StateMarks, type Trainer, type TrainerState, type TrainOptions } from '../model/trainer.ts';
import { adamCorrections } from '../reference/optimizers.ts';
import { Parameters, Rows } from './buffers.ts';
import { hostOps } from './hooks.ts';
import { wasmRuntime, type WasmRuntime } from './runtime.ts';
import { defaultThreads } from './threads.ts';

/** How a WasmTrainer runs (all optional). */
export interface WasmTrainerOptions {
  /**
   * Threads that share each large product and element-wise step (default: the CPU's
   * cores, at most 8, where workers with shared memory can run: always in Node with
   * webgpu-backprop/node, in a browser when the page is cross-origin isolated; else 1).
   */
  threads?: number;
}

/** Batch rows one call into the module takes at most (its steps' row indices). */
const CHUNK_ROWS = 65536;
/** Steps one call takes at most. */
const CHUNK_STEPS = 1024;
/** Rows a prediction runs at a time. */
const PREDICT_ROWS = 256;

/**
 * The training step in WebAssembly, float32, with SIMD and worker threads, with the same
 * named buffers as the reference (CpuTrainer) and WebGPU (GpuTrainer).
 */
export class WasmTrainer implements Trainer {
  readonly backend = 'wasm';
  readonly schedule: BatchSchedule;
  step = 0;
  private readonly parameters: Parameters;
  private readonly rows: Rows;
  private predictor?: Rows;
  private readonly chunk: { steps: number; rows: number; rates: number; losses: number };
  /** Each chunk's step losses, not yet taken. */
  private losses: Float64Array[] = [];
  private written = false;
  /** The last mark, and the one before it. */
  private readonly marks: StateMarks;
  private disposed = false;

  private constructor(
    private readonly runtime: WasmRuntime,
    readonly model: Model,
    readonly dataset: Dataset,
    readonly options: TrainOptions,
  ) {
    const B = options.batchSize;
    this.schedule = new BatchSchedule(dataset.size, B, options.shuffle, options.seed);
    this.parameters = new Parameters(runtime, model, options, dataset);
    const steps = Math.max(1, Math.min(CHUNK_STEPS, Math.floor(CHUNK_ROWS / B)));
    try {
      this.rows = new Rows(this.parameters, B, hostOps, true);
      this.chunk = { steps, rows: runtime.allocate(4 * steps * B), rates: runtime.allocate(12 * steps), losses: runtime.allocate(8 * steps) };
    } catch (error) {
      this.parameters.release();
      throw error;
    }
    this.marks = new StateMarks(this.state());
  }

  /** A trainer of `model` on `dataset`, on the runtime of its thread count (made at first use). */
  static async create(model: Model, dataset: Dataset, options: TrainOptions, wasm: WasmTrainerOptions = {}): Promise<WasmTrainer> {
    checkDatasetValues(dataset);
    checkTargets(model.spec, dataset.targets);
    const threads = wasm.threads ?? defaultThreads();
    if (!Number.isInteger(threads) || threads < 1) throw new InputError('threads', `expected a positive whole number, got ${threads}`);
    return new WasmTrainer(await wasmRuntime(threads), model, dataset, options);
  }

  /** Threads that share each large product (1 where workers cannot run). */
  get threads(): number {
    return this.runtime.threads;
  }

  get spec(): ModelSpec {
    return this.model.spec;
  }

  get layout(): ParamLayout {
    return this.model.layout;
  }

  private alive(): void {
    if (this.disposed) throw new DisposedError('trainer');
  }

  async train(steps: number): Promise<void> {
    this.alive();
    const { runtime, options } = this;
    const B = options.batchSize;
    for (let done = 0; done < steps; ) {
      const count = Math.min(this.chunk.steps, steps - done);
      const rows = runtime.u32(this.chunk.rows, count * B);
      const rates = runtime.f32(this.chunk.rates, 3 * count);
      for (let s = 0; s < count; s++) {
        this.schedule.fill(this.step + s, rows, s * B);
        // In float64 here, as the reference has them: the schedule's rate of step s (0-based), the corrections of step t = s + 1.
        const { correction1, correction2 } = adamCorrections(options.optimizer, this.step + s + 1);
        rates[3 * s] = learningRateAt(options.learningRate, options.schedule, this.step + s);
        rates[3 * s + 1] = correction1;
        rates[3 * s + 2] = correction2;
      }
      runtime.exports.train_steps(this.rows.address, count, this.chunk.rows, this.chunk.rates, this.chunk.losses, this.step);
      this.losses.push(runtime.f64(this.chunk.losses, count).slice());
      this.step += count;
      done += count;
      this.written = true;
    }
  }

  async takeLosses(): Promise<Float64Array> {
    this.alive();
    const losses = new Float64Array(this.losses.reduce((sum, chunk) => sum + chunk.length, 0));
    let at = 0;
    for (const chunk of this.losses.splice(0)) {
      losses.set(chunk, at);
      at += chunk.length;
    }
    return losses;
  }

  async read(name: BufferName): Promise<Float64Array> {
    this.alive();
    const length = bufferShape(this.spec, this.options.batchSize, this.layout.size, name).reduce((a, b) => a * b, 1);
    if (name === 'params') return Float64Array.from(this.parameters.view(this.parameters.params));
    if (!this.written) throw new InputError(`buffer ${name}`, 'is not written yet: run a step first');
    if (name === 'grads') return Float64Array.from(this.parameters.view(this.parameters.grads));
    const layer = parseLayerBuffer(name);
    const at = layer ? this.rows.layers[layer.layer][layer.kind] : { input: this.rows.input, target: this.rows.target, loss: this.rows.losses }[name as 'input' | 'target' | 'loss'];
    return Float64Array.from(this.runtime.f32(at, length));
  }

  private state(): TrainerState {
    const { parameters } = this;
    return { step: this.step, params: Float64Array.from(parameters.view(parameters.params)), optimizerState: parameters.state.map((at) => Float64Array.from(parameters.view(at))) };
  }

  async readState(): Promise<TrainerState> {
    this.alive();
    return this.state();
  }

  /** Restores a state; optimizer state it lacks starts from zero. Losses not yet taken are dropped. */
  async writeState(state: TrainerState): Promise<void> {
    this.alive();
    const { parameters } = this;
    parameters.view(parameters.params).set(state.params);
    parameters.state.forEach((at, slot) => {
      const values = state.optimizerState[slot];
      if (values) parameters.view(at).set(values);
      else parameters.view(at).fill(0);
    });
    this.step = state.step;
    this.losses = [];
    this.written = false;
  }

  mark(): void {
    this.alive();
    this.marks.mark(this.state());
  }

  async rewind(to: 'last' | 'previous' = 'last'): Promise<void> {
    await this.writeState(this.marks.at(to));
  }

  /** Rows for prediction and evaluation, made at first use. */
  private predictionRows(): Rows {
    this.predictor ??= new Rows(this.parameters, PREDICT_ROWS, hostOps, false);
    return this.predictor;
  }

  async predict(inputs: Float64Array, count: number): Promise<Float64Array> {
    return (await this.layerOutputs(inputs, count, [this.spec.layers.length - 1]))[0];
  }

  /** The out (N, units_l) of each layer in `layers` for inputs (N, IN), from one forward pass per block of rows. */
  async layerOutputs(inputs: Float64Array, count: number, layers: readonly number[]): Promise<Float64Array[]> {
    this.alive();
    checkRowCount(inputs, count, this.spec.inputSize);
    checkLayerIndices(layers, this.spec, 'layers');
    const rows = this.predictionRows();
    const IN = this.spec.inputSize;
    const units = layers.map((l) => this.spec.layers[l].units);
    const outputs = units.map((width) => new Float64Array(count * width));
    for (let first = 0; first < count; first += PREDICT_ROWS) {
      const n = Math.min(PREDICT_ROWS, count - first);
      this.runtime.f32(rows.input, n * IN).set(inputs.subarray(first * IN, (first + n) * IN));
      this.runtime.exports.forward_rows(rows.address, rows.input, n);
      layers.forEach((l, k) => outputs[k].set(this.runtime.f32(rows.layers[l].out, n * units[k]), first * units[k]));
    }
    return outputs;
  }

  async evaluate(dataset: Dataset): Promise<number> {
    this.alive();
    const rows = this.predictionRows();
    const { inputSize: IN, outputSize: K } = dataset;
    let sum = 0;
    for (let first = 0; first < dataset.size; first += PREDICT_ROWS) {
      const n = Math.min(PREDICT_ROWS, dataset.size - first);
      this.runtime.f32(rows.input, n * IN).set(dataset.inputs.subarray(first * IN, (first + n) * IN));
      this.runtime.f32(rows.target, n * K).set(dataset.targets.subarray(first * K, (first + n) * K));
      this.runtime.exports.forward_rows(rows.address, rows.input, n);
      sum += this.runtime.exports.output_rows(rows.address, rows.target, n);
    }
    return sum / dataset.size;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.predictor?.release();
    this.rows.release();
    this.runtime.release(this.chunk.rows, 4 * this.chunk.steps * this.options.batchSize);
    this.runtime.release(this.chunk.rates, 12 * this.chunk.steps);
    this.runtime.release(this.chunk.losses, 8 * this.chunk.steps);
    this.parameters.release();
  }
}
