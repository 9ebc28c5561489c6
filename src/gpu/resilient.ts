// A GPU trainer that survives losing its device: it keeps the state of the last
// completed `train` call (a checkpoint in memory), and when the device is lost it opens
// a new one, rebuilds the trainer there, restores the checkpoint and carries on. The
// steps since that checkpoint are run again; nothing else is lost.

import type { Dataset } from '../data/dataset.ts';
import { DeviceLostError } from '../errors.ts';
import type { BufferName } from '../model/buffers.ts';
import type { Model } from '../model/network.ts';
import { stateSlots } from '../model/optimizer.ts';
import type { Trainer, TrainerState, TrainOptions } from '../train/trainer.ts';
import { GpuTrainer, type GpuTrainerOptions } from './trainer.ts';

export interface ResilienceOptions extends GpuTrainerOptions {
  /** Told each time the device is lost and training resumes. */
  onRecover?: (message: string) => void;
  /**
   * Steps between in-memory checkpoints (each is a read-back of the parameters); 0 takes
   * one after every `train` call. A lost device costs at most this many steps again.
   */
  checkpointEvery?: number;
  /** Devices to open at most over the trainer's life (the first one included). */
  maxDevices?: number;
}

export class ResilientTrainer implements Trainer {
  readonly backend = 'webgpu';
  private checkpoint: TrainerState;
  private devices = 1;

  private constructor(
    private inner: GpuTrainer,
    private readonly openDevice: () => Promise<GPUDevice>,
    private readonly resilience: ResilienceOptions,
  ) {
    this.checkpoint = { step: 0, params: inner.model.params.slice(), optimizerState: [] };
  }

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

  /** Opens a new device, rebuilds the trainer on it and restores the last checkpoint. */
  private async recover(error: DeviceLostError): Promise<void> {
    if (this.devices >= (this.resilience.maxDevices ?? 5)) throw error;
    this.devices++;
    this.resilience.onRecover?.(`${error.message}: resuming from step ${this.checkpoint.step} on a new device`);
    const { model, dataset, options } = this.inner;
    const device = await this.openDevice();
    const inner = await GpuTrainer.create(device, model, dataset, options, this.resilience);
    await inner.writeState(this.checkpoint);
    this.inner = inner;
  }

  /** Runs `work` on the current trainer, recovering and retrying while the device is lost. */
  private async withRecovery<T>(work: (trainer: GpuTrainer) => Promise<T>): Promise<T> {
    for (;;) {
      try {
        return await work(this.inner);
      } catch (error) {
        if (!(error instanceof DeviceLostError)) throw error;
        await this.recover(error);
      }
    }
  }

  async train(steps: number): Promise<void> {
    const target = this.inner.step + steps;
    await this.withRecovery(async (trainer) => {
      // After a recovery the trainer is back at the checkpoint: run everything since.
      await trainer.train(target - trainer.step);
      if (trainer.step - this.checkpoint.step >= (this.resilience.checkpointEvery ?? 0)) this.checkpoint = await trainer.readState();
    });
  }

  takeLosses(): Promise<Float64Array> {
    return this.withRecovery((trainer) => trainer.takeLosses());
  }
  read(name: BufferName): Promise<Float64Array> {
    return this.withRecovery((trainer) => trainer.read(name));
  }
  /** The state as of now: the checkpoint itself where nothing has run since it was taken. */
  async readState(): Promise<TrainerState> {
    if (this.checkpoint.step === this.inner.step && this.checkpoint.optimizerState.length === stateSlots(this.inner.options.optimizer)) return this.checkpoint;
    return this.withRecovery((trainer) => trainer.readState());
  }

  async writeState(state: TrainerState): Promise<void> {
    await this.withRecovery((trainer) => trainer.writeState(state));
    this.checkpoint = state;
  }
  predict(inputs: Float64Array, count: number): Promise<Float64Array> {
    return this.withRecovery((trainer) => trainer.predict(inputs, count));
  }
  evaluate(dataset: Dataset): Promise<number> {
    return this.withRecovery((trainer) => trainer.evaluate(dataset));
  }
  destroy(): void {
    this.inner.destroy();
  }
}
