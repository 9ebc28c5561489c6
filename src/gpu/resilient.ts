// A GPU trainer that survives losing its device: it keeps an in-memory checkpoint, and
// when the device is lost it opens a new one, rebuilds the trainer there, restores the
// checkpoint and runs the steps since again. Losses not yet taken are recomputed, so a
// caller sees every step's loss exactly once.

import type { Dataset } from '../data/dataset.ts';
import { DeviceLostError } from '../errors.ts';
import type { BufferName } from '../model/buffers.ts';
import type { Model } from '../model/network.ts';
import { stateSlots } from '../model/optimizer.ts';
import type { Trainer, TrainerState, TrainOptions } from '../model/trainer.ts';
import { GpuTrainer, type GpuTrainerOptions } from './trainer.ts';

/** A ResilientTrainer's options: the GpuTrainer's, and how it checkpoints and recovers. */
export interface ResilienceOptions extends GpuTrainerOptions {
  /** Told each time the device is lost and training resumes. */
  onRecover?: (message: string) => void;
  /**
   * Steps between in-memory checkpoints, taken when losses are taken (each is a read-back
   * of the parameters); 0 takes one at every `takeLosses`. A lost device costs at most
   * this many steps (and the steps since the last `takeLosses`) again.
   */
  checkpointEvery?: number;
  /** Devices to open at most over the trainer's life (the first one included). */
  maxDevices?: number;
  /** The devices `openDevice` gives are this trainer's own: destroyed when it is disposed or moves on. */
  ownsDevices?: boolean;
}

/** A mark: its step, the checkpoint it can be rebuilt from, and the device (by its count) it was made on. */
interface Mark {
  step: number;
  from: TrainerState;
  device: number;
}

/**
 * A GpuTrainer that moves to a new device when its device is lost: it restores its last
 * in-memory checkpoint there and runs the steps since again, so a caller sees each
 * step's loss exactly once. It gives up, throwing the DeviceLostError, once it has used
 * `maxDevices` devices (default 5).
 */
export class ResilientTrainer implements Trainer {
  readonly backend = 'webgpu';
  private checkpoint: TrainerState;
  private devices = 1;
  /** The step the caller has asked for: a recovered trainer catches up to it. */
  private target = 0;
  /** The step up to which the caller has taken the losses: a recovered trainer does not hand those out again. */
  private taken = 0;
  /**
   * The last mark and the one before it: each its step, the checkpoint it can be rebuilt
   * from on a new device, and the device it was made on (by its count).
   */
  private marked: Mark;
  private previous: Mark;
  /** The recovery in progress, which every call that meets the loss waits for. */
  private recovering?: Promise<void>;
  /** Whether the trainer writes every named buffer (set by setCapture; a rebuilt trainer keeps it). */
  private captureAsked: boolean | undefined;

  private constructor(
    private inner: GpuTrainer,
    private readonly openDevice: () => Promise<GPUDevice>,
    private readonly resilience: ResilienceOptions,
  ) {
    this.checkpoint = { step: 0, params: inner.model.params.slice(), optimizerState: [] };
    this.marked = { step: 0, from: this.checkpoint, device: 1 };
    this.previous = this.marked;
  }

  /**
   * Builds the trainer on a device from `openDevice`, which is called again for each new
   * device after a loss (e.g. `() => keeper.current()` with a DeviceKeeper).
   */
  static async create(openDevice: () => Promise<GPUDevice>, model: Model, dataset: Dataset, options: TrainOptions, resilience: ResilienceOptions = {}): Promise<ResilientTrainer> {
    const inner = await GpuTrainer.create(await openDevice(), model, dataset, options, resilience);
    return new ResilientTrainer(inner, openDevice, resilience);
  }

  get spec() {
    return this.inner.spec;
  }
  get layout() {
    return this.inner.layout;
  }
  get options() {
    return this.inner.options;
  }
  get schedule() {
    return this.inner.schedule;
  }
  get step() {
    return this.inner.step;
  }
  get capture() {
    return this.inner.capture;
  }
  /** The trainer on the current device. */
  get current(): GpuTrainer {
    return this.inner;
  }

  /** Opens a new device, rebuilds the trainer on it, restores the last checkpoint and catches up. */
  private async recover(error: DeviceLostError): Promise<void> {
    if (this.devices >= (this.resilience.maxDevices ?? 5)) throw error;
    this.devices++;
    this.resilience.onRecover?.(`${error.message}: resuming from step ${this.checkpoint.step} on a new device`);
    const { model, dataset, options } = this.inner;
    const device = await this.openDevice();
    const inner = await GpuTrainer.create(device, model, dataset, options, { ...this.resilience, capture: this.captureAsked ?? this.resilience.capture });
    await inner.writeState(this.checkpoint);
    if (this.resilience.ownsDevices) this.inner.device.destroy();
    this.inner = inner;
    // The steps since the checkpoint run again: those whose losses the caller has taken
    // already (the checkpoint can be many reads old), then the rest, whose losses were
    // never taken from the lost device and are the caller's.
    if (this.taken > inner.step) {
      await inner.train(this.taken - inner.step);
      await inner.takeLosses();
    }
    await inner.train(this.target - inner.step);
  }

  /**
   * Runs `work` on the current trainer, recovering and retrying while the device is lost.
   * Calls that overlap (a prediction while steps run) share one recovery: the first to see
   * the loss recovers, the others wait for it, and one that ran on a trainer already
   * replaced just runs again.
   */
  private async withRecovery<T>(work: (trainer: GpuTrainer) => Promise<T>): Promise<T> {
    for (;;) {
      const trainer = this.inner;
      try {
        return await work(trainer);
      } catch (error) {
        if (!(error instanceof DeviceLostError)) throw error;
        if (trainer === this.inner) this.recovering ??= this.recover(error).finally(() => (this.recovering = undefined));
        await this.recovering;
      }
    }
  }

  async train(steps: number): Promise<void> {
    this.target = this.inner.step + steps;
    await this.withRecovery((trainer) => trainer.train(this.target - trainer.step));
  }

  /** The losses; then, every `checkpointEvery` steps, a checkpoint (no loss is left untaken to lose with it). */
  takeLosses(): Promise<Float64Array> {
    return this.withRecovery(async (trainer) => {
      const losses = await trainer.takeLosses();
      this.taken = trainer.step;
      if (trainer.step - this.checkpoint.step >= (this.resilience.checkpointEvery ?? 0)) this.checkpoint = await trainer.readState();
      return losses;
    });
  }
  read(name: BufferName): Promise<Float64Array> {
    return this.withRecovery((trainer) => trainer.read(name));
  }
  /** Sets the capture of the current trainer, and of any it is rebuilt as on a new device. */
  async setCapture(on: boolean): Promise<void> {
    this.captureAsked = on;
    await this.withRecovery((trainer) => trainer.setCapture(on));
  }
  /** The state as of now: the checkpoint itself where nothing has run since it was taken. */
  async readState(): Promise<TrainerState> {
    if (this.checkpoint.step === this.inner.step && this.checkpoint.optimizerState.length === stateSlots(this.inner.options.optimizer)) return this.checkpoint;
    return this.withRecovery((trainer) => trainer.readState());
  }

  async writeState(state: TrainerState): Promise<void> {
    this.target = state.step;
    this.taken = state.step;
    await this.withRecovery((trainer) => trainer.writeState(state));
    this.checkpoint = state;
  }
  mark(): void {
    this.inner.mark();
    this.previous = this.marked;
    this.marked = { step: this.inner.step, from: this.checkpoint, device: this.devices };
  }
  /**
   * Back to the last mark (or the one before it). A recovery loses the marks with the old
   * device; a mark is then rebuilt from the checkpoint before it, by running the steps
   * between them again.
   */
  async rewind(to: 'last' | 'previous' = 'last'): Promise<void> {
    const mark = to === 'last' ? this.marked : this.previous;
    this.target = mark.step;
    this.taken = Math.min(this.taken, mark.step);
    await this.withRecovery(async (trainer) => {
      // The trainer on the device the mark was made on holds it (and, for the previous one, the last one was made there too).
      if (mark.device === this.devices) return trainer.rewind(to);
      await trainer.writeState(mark.from);
      await trainer.train(mark.step - trainer.step);
      await trainer.takeLosses();
    });
  }
  predict(inputs: Float64Array, count: number): Promise<Float64Array> {
    return this.withRecovery((trainer) => trainer.predict(inputs, count));
  }
  layerOutputs(inputs: Float64Array, count: number, layers: readonly number[]): Promise<Float64Array[]> {
    return this.withRecovery((trainer) => trainer.layerOutputs(inputs, count, layers));
  }
  evaluate(dataset: Dataset): Promise<number> {
    return this.withRecovery((trainer) => trainer.evaluate(dataset));
  }
  dispose(): void {
    this.inner.dispose();
    if (this.resilience.ownsDevices) this.inner.device.destroy();
  }
}
