// A trainer for a backend: the float64 reference, WebAssembly, or WebGPU on a given
// device, on a DeviceKeeper's device (and the one it opens after a loss), or on devices
// the trainer opens itself (and opens again if one is lost).

import type { Dataset } from '../data/dataset.ts';
import { DeviceKeeper, openDevice, requestAdapter } from '../gpu/device.ts';
import type { GpuTrainerOptions, KernelPath } from '../gpu/trainer.ts';
import type { Model } from '../model/network.ts';
import { CpuTrainer } from '../reference/trainer.ts';
import type { Trainer, TrainOptions } from '../model/trainer.ts';
import { WasmTrainer } from '../wasm/trainer.ts';

/** Where `createTrainer`'s trainer runs, and how. */
export interface CreateTrainerOptions {
  backend: 'webgpu' | 'cpu' | 'wasm';
  /** WebAssembly: threads that share each large product (see WasmTrainerOptions.threads). */
  threads?: number;
  /**
   * A device to train on (its loss ends training with DeviceLostError), or a DeviceKeeper
   * (training survives the loss of its device); without either, the trainer opens devices
   * of its own. As NetworkOptions.device.
   */
  device?: GPUDevice | DeviceKeeper | undefined;
  /** Told when a lost device has been replaced and training resumes. */
  onRecover?: ((message: string) => void) | undefined;
  /** Steps between the in-memory checkpoints a lost device resumes from (default 0: at every read of the losses). */
  checkpointEvery?: number | undefined;
  /** Which kernel path runs a step (default `auto`: the fused kernel wherever the network fits it). */
  path?: KernelPath | undefined;
  /**
   * Write every named buffer at every step, for `read` (default true, as GpuTrainer's;
   * false writes only what training needs: see GpuTrainerOptions.capture and Trainer.setCapture).
   */
  capture?: boolean | undefined;
  /** Tile plans by measurement on WebGPU (default `auto`): see GpuTrainerOptions.tune. */
  tune?: GpuTrainerOptions['tune'];
}

/** A trainer of `model` on `dataset`: the float64 reference, WebAssembly, or WebGPU. */
export async function createTrainer(model: Model, dataset: Dataset, options: TrainOptions, how: CreateTrainerOptions): Promise<Trainer> {
  if (how.backend === 'cpu') return new CpuTrainer(model, dataset, options);
  if (how.backend === 'wasm') return WasmTrainer.create(model, dataset, options, { threads: how.threads });
  const { device, path, tune } = how;
  const capture = how.capture ?? true;
  // The WebGPU trainer's code is loaded when one is made: a page that trains on WebAssembly never loads it.
  if (device && !(device instanceof DeviceKeeper)) return (await import('../gpu/trainer.ts')).GpuTrainer.create(device, model, dataset, options, { path, capture, tune });
  const open = device ? () => device.current() : async () => openDevice(await requestAdapter());
  const { ResilientTrainer } = await import('../gpu/resilient.ts');
  return ResilientTrainer.create(open, model, dataset, options, { path, capture, tune, onRecover: how.onRecover, checkpointEvery: how.checkpointEvery, ownsDevices: !device });
}
