// The learning rate of each training step: the initial rate, changed by a schedule and
// raised over a warmup, evaluated once per step on the CPU in float64. s is the 0-based
// count of steps since training began (a resumed run continues it). The GPU kernels read
// the rate from the step's Step struct, so a schedule never recompiles anything.
//
//   step:S:G        η·G^⌊s/S⌋          (PyTorch's StepLR)
//   exponential:G   η·G^s              (ExponentialLR)
//   cosine:T        η·(1 + cos(π·min(s, T)/T))/2   (CosineAnnealingLR to 0, held there after T)
//   warmup W        any of these times min(1, (s + 1)/W)   (LinearLR from 1/W)

import { InputError } from '../errors.ts';

/** How the rate falls: by G every S steps, by G every step, or along a half cosine over T steps. */
export type Decay = { kind: 'step'; every: number; gamma: number } | { kind: 'exponential'; gamma: number } | { kind: 'cosine'; steps: number };

/**
 * A schedule of the learning rate: a decay and a warmup (each optional), or a function that
 * gives the rate of step s itself.
 */
export type LearningRateSchedule = { decay?: Decay; warmup?: number } | ((step: number) => number);

/** The decay's factor at step s. */
function decayFactor(decay: Decay | undefined, s: number): number {
  if (!decay) return 1;
  switch (decay.kind) {
    case 'step':
      return decay.gamma ** Math.floor(s / decay.every);
    case 'exponential':
      return decay.gamma ** s;
    case 'cosine':
      return (1 + Math.cos((Math.PI * Math.min(s, decay.steps)) / decay.steps)) / 2;
  }
}

/** The learning rate of step s (0-based), from the initial rate η and the schedule. */
export function learningRateAt(learningRate: number, schedule: LearningRateSchedule | undefined, s: number): number {
  if (typeof schedule === 'function') {
    const rate = schedule(s);
    if (typeof rate !== 'number' || !Number.isFinite(rate) || rate < 0) throw new InputError('learningRate', `the schedule gave ${rate} for step ${s}; expected a number ≥ 0`);
    return rate;
  }
  const warmup = schedule?.warmup ? Math.min(1, (s + 1) / schedule.warmup) : 1;
  return learningRate * decayFactor(schedule?.decay, s) * warmup;
}

/** Checks a schedule's numbers; `where` names it in errors. */
export function checkSchedule(schedule: LearningRateSchedule | undefined, where: string): void {
  if (schedule === undefined || typeof schedule === 'function') return;
  const positive = (value: unknown, field: string, integer: boolean) => {
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
      throw new InputError(`${where}.${field}`, `expected a positive ${integer ? 'integer' : 'number'}, got ${String(value)}`);
    }
  };
  if (schedule.warmup !== undefined) positive(schedule.warmup, 'warmup', true);
  const decay = schedule.decay;
  if (!decay) return;
  if (decay.kind === 'step') positive(decay.every, 'decay.every', true);
  if (decay.kind === 'cosine') positive(decay.steps, 'decay.steps', true);
  if (decay.kind === 'step' || decay.kind === 'exponential') positive(decay.gamma, 'decay.gamma', false);
  if (!['step', 'exponential', 'cosine'].includes(decay.kind)) throw new InputError(`${where}.decay.kind`, `expected step, exponential or cosine, got ${JSON.stringify((decay as { kind: unknown }).kind)}`);
}
