// A trainer for a backend: the float64 reference, or WebGPU on a given device, or on a
// device the trainer opens itself (and opens again if it is lost).

import type { Dataset } from '../data/dataset.ts';
import { openDevice, requestAdapter } from '../gpu/device.ts';
import { ResilientTrainer } from '../gpu/resilient.ts';
import { GpuTrainer, type KernelPath } from '../gpu/trainer.ts';
import type { Model } from '../model/network.ts';
import { CpuTrainer } from '../reference/trainer.ts';
import type { Trainer, TrainOptions } from '../model/trainer.ts';

/** Where `createTrainer`'s trainer runs. */
export interface CreateTrainerOptions {
  backend: 'webgpu' | 'cpu';
  /**
   * A device to train on (its loss ends training with DeviceLostError); or a function
   * giving the live device (a DeviceKeeper's `current`), on which training survives the
   * loss of a device; without either, the trainer opens devices of its own.
   */
  device?: GPUDevice | (() => Promise<GPUDevice>);
  /** Told when a lost device has been replaced and training resumes. */
  onRecover?: (message: string) => void;
  /** Steps between the in-memory checkpoints a lost device resumes from (default 0: at every read of the losses). */
  checkpointEvery?: number;
  /** Which kernels run a step (default: the fused kernel wherever the network fits it). */
  kernels?: KernelPath;
  /**
   * Write every named buffer at every step, for `read` (default false: training writes
   * only what it needs; see GpuTrainerOptions.capture and Trainer.setCapture).
   */
  capture?: boolean;
}

/** A trainer of `model` on `dataset`: the float64 reference, or WebGPU. */
export async function createTrainer(model: Model, dataset: Dataset, options: TrainOptions, how: CreateTrainerOptions): Promise<Trainer> {
  if (how.backend === 'cpu') return new CpuTrainer(model, dataset, options);
  const device = how.device;
  const capture = how.capture ?? false;
  if (device && typeof device !== 'function') return GpuTrainer.create(device, model, dataset, options, { path: how.kernels, capture });
  return ResilientTrainer.create(device ?? (async () => openDevice(await requestAdapter())), model, dataset, options, {
    path: how.kernels,
    capture,
    onRecover: how.onRecover,
    checkpointEvery: how.checkpointEvery,
    ownsDevices: !device,
  });
}
