// Parsers for the command line's numeric flags: each refuses a bad value with a
// one-line error naming the flag and what it expects. Numbers are read in decimal or
// exponent form only (0x10, 1_000 and Infinity are refused), and only within the range
// where the value is used as given.

import { InvalidArgumentError } from 'commander';
import { FLOAT32_MAX, FLOAT32_MIN_NORMAL, InputError, MAX_SEED, parseDecimal } from 'webgpu-backprop/node';
import { parseDecay, type Decay } from 'webgpu-backprop/trainers';

/** Whole numbers from `min` to `max`; `what` names them in the error. */
function integerFlag(min: number, max: number, what: string): (text: string) => number {
  return (text) => {
    const value = parseDecimal(text);
    if (!Number.isInteger(value) || value < min) throw new InvalidArgumentError(`expected ${what}, got ${JSON.stringify(text)}`);
    if (value > max) throw new InvalidArgumentError(`expected ${what} up to ${max}, got ${JSON.stringify(text)}`);
    return value;
  };
}

/** Steps, epochs, batch size, checkpoint interval: past 2⁵³ − 1 a number is no longer exactly the integer typed. */
export const positiveInteger = integerFlag(1, Number.MAX_SAFE_INTEGER, 'a positive integer');

/** The seed: a whole number a checkpoint can hold and give back (0 … MAX_SEED, as the checkpoint's schema). */
export const nonNegativeInteger = integerFlag(0, MAX_SEED, 'a whole number ≥ 0');

/**
 * The learning rate: positive, and a float32 on the GPU, so within float32's range and a
 * normal float32 (a subnormal may be flushed to 0 on the GPU), as the library checks it.
 */
export function positiveNumber(text: string): number {
  const value = parseDecimal(text);
  if (!(value > 0)) throw new InvalidArgumentError(`expected a positive number, got ${JSON.stringify(text)}`);
  if (value > FLOAT32_MAX || value < FLOAT32_MIN_NORMAL) {
    throw new InvalidArgumentError(`expected a positive number float32 can hold (${FLOAT32_MIN_NORMAL} to ${FLOAT32_MAX}), got ${JSON.stringify(text)}`);
  }
  return value;
}

export function columnList(text: string): string[] {
  const names = text.split(',').map((name) => name.trim());
  if (names.some((name) => name === '')) throw new InvalidArgumentError(`expected comma-separated column names, got ${JSON.stringify(text)}`);
  return names;
}

/** A weight decay: a number ≥ 0 float32 can hold. */
export function nonNegativeNumber(text: string): number {
  const value = parseDecimal(text);
  if (!(value >= 0) || value > FLOAT32_MAX) throw new InvalidArgumentError(`expected a number ≥ 0, got ${JSON.stringify(text)}`);
  return value;
}

/** A learning-rate schedule: step:S:G, exponential:G or cosine:T. */
export function decayFlag(text: string): Decay {
  try {
    return parseDecay(text, '--lr-schedule');
  } catch (error) {
    throw error instanceof InputError ? new InvalidArgumentError(error.problem) : error;
  }
}
