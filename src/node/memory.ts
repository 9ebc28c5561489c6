// Whether this machine has the memory to train a network, checked before anything is
// allocated for it: a model file of a hundred bytes can declare 2²⁸ parameters.

import { freemem } from 'node:os';
import { InputError } from '../errors.ts';
import { paramLayout } from '../model/layout.ts';
import type { ModelSpec } from '../model/model.ts';
import { stateSlots, type OptimizerKind, type OptimizerSpec } from '../model/optimizer.ts';
import { optimizerSpec } from '../train/options.ts';

/**
 * Bytes of float64 arrays the size of the parameters that training keeps: the model's
 * parameters, the trainer's copy, the gradients, and the optimizer's state (none for SGD,
 * one array for momentum, two for Adam). The GPU's copies are float32 and smaller.
 */
export function trainingBytes(spec: ModelSpec, optimizerSlots: number): number {
  return 8 * paramLayout(spec).size * (3 + optimizerSlots);
}

/** Memory this process may still take: the system's available memory, or its cgroup's limit if lower. */
export function availableMemory(): number {
  const constrained = process.constrainedMemory?.() ?? 0;
  return Math.min(freemem(), constrained > 0 ? constrained : Infinity);
}

function gigabytes(bytes: number): string {
  return `${(bytes / 1e9).toPrecision(3)} GB`;
}

/** Refuses a network whose training with `optimizer` would not fit in `available` bytes, naming the file. */
export function checkTrainingMemory(spec: ModelSpec, optimizer: OptimizerKind | OptimizerSpec, source: string, available: number = availableMemory()): void {
  const needed = trainingBytes(spec, stateSlots(optimizerSpec(optimizer)));
  if (needed > available) {
    throw new InputError(
      `${source}: layers`,
      `training this network needs about ${gigabytes(needed)} of memory (float64 parameters, gradients and optimizer state); ${gigabytes(available)} is available`,
    );
  }
}
