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

/** Checks a schedule's numbers; `where` names it in errors, and `decayWhere` its decay. */
export function checkSchedule(schedule: LearningRateSchedule | undefined, where: string, decayWhere = `${where}.decay`): void {
  if (schedule === undefined || typeof schedule === 'function') return;
  const positive = (value: unknown, at: string, integer: boolean) => {
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
      throw new InputError(at, `expected a positive ${integer ? 'integer' : 'number'}, got ${String(value)}`);
    }
  };
  if (schedule.warmup !== undefined) positive(schedule.warmup, `${where}.warmup`, true);
  const decay = schedule.decay;
  if (!decay) return;
  if (typeof decay !== 'object' || !['step', 'exponential', 'cosine'].includes(decay.kind)) {
    throw new InputError(`${decayWhere}.kind`, `expected step, exponential or cosine, got ${JSON.stringify((decay as { kind?: unknown } | null)?.kind)}`);
  }
  if (decay.kind === 'step') positive(decay.every, `${decayWhere}.every`, true);
  if (decay.kind === 'cosine') positive(decay.steps, `${decayWhere}.steps`, true);
  if (decay.kind === 'step' || decay.kind === 'exponential') positive(decay.gamma, `${decayWhere}.gamma`, false);
}

/** A decay written as the command line writes it: `step:S:G`, `exponential:G` or `cosine:T`. */
export function parseDecay(text: string, where: string): Decay {
  const [kind, ...numbers] = text.split(':');
  const value = (part: string | undefined, integer: boolean) => {
    const number = part !== undefined && /^[0-9]*\.?[0-9]+(e[+-]?[0-9]+)?$/i.test(part) ? Number(part) : NaN;
    return !(number > 0) || !Number.isFinite(number) || (integer && !Number.isInteger(number)) ? undefined : number;
  };
  const decay: Decay | undefined =
    kind === 'step' && numbers.length === 2 && value(numbers[0], true) && value(numbers[1], false)
      ? { kind, every: value(numbers[0], true)!, gamma: value(numbers[1], false)! }
      : kind === 'exponential' && numbers.length === 1 && value(numbers[0], false)
        ? { kind, gamma: value(numbers[0], false)! }
        : kind === 'cosine' && numbers.length === 1 && value(numbers[0], true)
          ? { kind, steps: value(numbers[0], true)! }
          : undefined;
  if (!decay) throw new InputError(where, `expected step:S:G, exponential:G or cosine:T (S and T positive whole numbers, G a positive number), got ${JSON.stringify(text)}`);
  return decay;
}
