// The float64 reference as a Trainer: the same interface and buffer names as the GPU
// trainer, so the two can be run side by side and compared buffer by buffer.

import { BatchSchedule } from '../data/batches.ts';
import { checkDatasetValues, gatherBatch, type Dataset } from '../data/dataset.ts';
import { float32Finite } from '../data/values.ts';
import { checkRowCount } from '../data/validate.ts';
import { DisposedError, InputError } from '../errors.ts';
import type { BufferName } from '../model/buffers.ts';
import { checkLayerIndices, checkTargets } from '../model/model.ts';
import type { Model } from '../model/network.ts';
import { stateSlots } from '../model/optimizer.ts';
import { learningRateAt } from '../model/schedule.ts';
import { StateMarks, type Trainer, type TrainerState, type TrainOptions } from '../model/trainer.ts';
import { backward, forward, mean, sampleLosses } from './backprop.ts';
import { clipScale, optimizerStep } from './optimizers.ts';

/** Whether float32 holds every value of `values` as a finite number. */
function allFloat32(values: Float64Array): boolean {
  for (let k = 0; k < values.length; k++) if (!float32Finite(values[k])) return false;
  return true;
}

/** The float64 reference as a Trainer: the specification the GPU trainer is checked against. */
export class CpuTrainer implements Trainer {
  readonly backend = 'cpu';
  readonly schedule: BatchSchedule;
  step = 0;
  private params: Float64Array;
  private optimizerState: Float64Array[];
  private losses: number[] = [];
  private buffers = new Map<BufferName, Float64Array>();
  private readonly marks: StateMarks;
  private disposed = false;

  constructor(
    readonly model: Model,
    readonly dataset: Dataset,
    readonly options: TrainOptions,
  ) {
    checkDatasetValues(dataset);
    checkTargets(model.spec, dataset.targets);
    this.schedule = new BatchSchedule(dataset.size, options.batchSize, options.shuffle, options.seed);
    this.params = model.params.slice();
    this.optimizerState = Array.from({ length: stateSlots(options.optimizer) }, () => new Float64Array(model.layout.size));
    this.marks = new StateMarks(this.state());
  }

  get spec() {
    return this.model.spec;
  }

  get layout() {
    return this.model.layout;
  }

  private alive(): void {
    if (this.disposed) throw new DisposedError('trainer');
  }

  async train(steps: number): Promise<void> {
    this.alive();
    for (let s = 0; s < steps; s++) this.trainStep();
  }

  /**
   * One step: forward, loss, backward, update; keeps every buffer for inspection. A step
   * that leaves a value float32 cannot hold in any buffer reports a NaN loss.
   */
  private trainStep(): void {
    const { spec, layout } = this.model;
    const B = this.options.batchSize;
    const { input, target } = gatherBatch(this.dataset, this.schedule.indices(this.step));
    const values = forward(spec, layout, this.params, input, B, { seed: this.options.seed, step: this.step });
    const loss = sampleLosses(spec, values, target, B);
    const { delta, grads } = backward(spec, layout, this.params, input, target, values, B);
    const rate = learningRateAt(this.options.learningRate, this.options.schedule, this.step);
    const scale = this.options.clipNorm === undefined ? 1 : clipScale(layout, grads, spec.trainBiases, this.options.clipNorm);
    this.step++;
    optimizerStep(this.options.optimizer, layout, this.params, grads, this.optimizerState, rate, this.step, spec.trainBiases, scale);

    // One verdict on every backend: a value float32 cannot hold is Infinity on the GPU, so
    // here too the step has no finite result (and the training loop reports where it was).
    const finite = [...values.net, ...values.out, loss, ...delta, grads, this.params, ...this.optimizerState].every(allFloat32);
    this.losses.push(finite ? mean(loss) : NaN);
    this.buffers = new Map<BufferName, Float64Array>([
      ['input', input],
      ['target', target],
      ['loss', loss],
      ['grads', grads],
    ]);
    spec.layers.forEach((_, l) => {
      this.buffers.set(`layer${l}.net`, values.net[l]);
      this.buffers.set(`layer${l}.out`, values.out[l]);
      this.buffers.set(`layer${l}.delta`, delta[l]);
    });
  }

  async takeLosses(): Promise<Float64Array> {
    this.alive();
    const losses = Float64Array.from(this.losses);
    this.losses = [];
    return losses;
  }

  async read(name: BufferName): Promise<Float64Array> {
    this.alive();
    if (name === 'params') return this.params.slice();
    const buffer = this.buffers.get(name);
    if (!buffer) throw new InputError(`buffer ${name}`, 'is not written yet: run a step first');
    return buffer.slice();
  }

  private state(): TrainerState {
    return { step: this.step, params: this.params.slice(), optimizerState: this.optimizerState.map((s) => s.slice()) };
  }

  /** The step, the parameters and the optimizer's state (copies). */
  async readState(): Promise<TrainerState> {
    this.alive();
    return this.state();
  }

  /** Restores a state; optimizer state it lacks starts from zero. */
  async writeState(state: TrainerState): Promise<void> {
    this.alive();
    this.step = state.step;
    this.params = state.params.slice();
    this.optimizerState = this.optimizerState.map((_, slot) => state.optimizerState[slot]?.slice() ?? new Float64Array(this.model.layout.size));
    this.losses = [];
    this.buffers.clear();
  }

  mark(): void {
    this.alive();
    this.marks.mark(this.state());
  }

  async rewind(to: 'last' | 'previous' = 'last'): Promise<void> {
    await this.writeState(this.marks.at(to));
  }

  async predict(inputs: Float64Array, count: number): Promise<Float64Array> {
    return (await this.layerOutputs(inputs, count, [this.model.spec.layers.length - 1]))[0];
  }

  async layerOutputs(inputs: Float64Array, count: number, layers: readonly number[]): Promise<Float64Array[]> {
    this.alive();
    checkRowCount(inputs, count, this.model.spec.inputSize);
    checkLayerIndices(layers, this.model.spec, 'layers');
    const values = forward(this.model.spec, this.model.layout, this.params, inputs, count);
    return layers.map((l) => values.out[l]);
  }

  async evaluate(dataset: Dataset): Promise<number> {
    this.alive();
    const { spec, layout } = this.model;
    const values = forward(spec, layout, this.params, dataset.inputs, dataset.size);
    return mean(sampleLosses(spec, values, dataset.targets, dataset.size));
  }

  dispose(): void {
    this.disposed = true;
    this.buffers.clear();
  }
}
