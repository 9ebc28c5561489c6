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
  /** The last mark: its step, and the checkpoint it can be rebuilt from on a new device. */
  private marked: { step: number; from: TrainerState };
  /** The recovery in progress, which every call that meets the loss waits for. */
  private recovering?: Promise<void>;
  /** Whether the trainer writes every named buffer (set by setCapture; a rebuilt trainer keeps it). */
  private capture: boolean | undefined;

  private constructor(
    private inner: GpuTrainer,
    private readonly openDevice: () => Promise<GPUDevice>,
    private readonly resilience: ResilienceOptions,
  ) {
    this.checkpoint = { step: 0, params: inner.model.params.slice(), optimizerState: [] };
    this.marked = { step: 0, from: this.checkpoint };
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
    const inner = await GpuTrainer.create(device, model, dataset, options, { ...this.resilience, capture: this.capture ?? this.resilience.capture });
    await inner.writeState(this.checkpoint);
    if (this.resilience.ownsDevices) this.inner.device.destroy();
    this.inner = inner;
    await inner.train(this.target - inner.step);
    // Losses of the steps run again are the caller's: they were never taken from the lost device.
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
      if (trainer.step - this.checkpoint.step >= (this.resilience.checkpointEvery ?? 0)) this.checkpoint = await trainer.readState();
      return losses;
    });
  }
  read(name: BufferName): Promise<Float64Array> {
    return this.withRecovery((trainer) => trainer.read(name));
  }
  /** Sets the capture of the current trainer, and of any it is rebuilt as on a new device. */
  async setCapture(on: boolean): Promise<void> {
    this.capture = on;
    await this.withRecovery((trainer) => trainer.setCapture(on));
  }
  /** The state as of now: the checkpoint itself where nothing has run since it was taken. */
  async readState(): Promise<TrainerState> {
    if (this.checkpoint.step === this.inner.step && this.checkpoint.optimizerState.length === stateSlots(this.inner.options.optimizer)) return this.checkpoint;
    return this.withRecovery((trainer) => trainer.readState());
  }

  async writeState(state: TrainerState): Promise<void> {
    this.target = state.step;
    await this.withRecovery((trainer) => trainer.writeState(state));
    this.checkpoint = state;
  }
  mark(): void {
    this.inner.mark();
    this.marked = { step: this.inner.step, from: this.checkpoint };
  }
  /**
   * Back to the last mark. A recovery loses the mark with the old device; the mark is then
   * rebuilt from the checkpoint before it, by running the steps between them again.
   */
  async rewind(): Promise<void> {
    const devices = this.devices;
    this.target = this.marked.step;
    await this.withRecovery(async (trainer) => {
      if (this.devices === devices) return trainer.rewind();
      await trainer.writeState(this.marked.from);
      await trainer.train(this.marked.step - trainer.step);
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
