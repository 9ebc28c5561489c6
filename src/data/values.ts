// What a data value may be: a finite number that float32, the GPU's number format, can
// hold. A value beyond float32's range is finite in the float64 reference but Infinity on
// the GPU, so it is refused on every backend alike, before training.

import { asText } from '../errors.ts';

/** The largest finite float32, (2 − 2⁻²³)·2¹²⁷. */
export const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * Why `value` cannot be a data value, or undefined where it can. `text` is how a file
 * wrote it: 1e400 reads as Infinity, but is a number too large rather than no number.
 */
export function valueProblem(value: number, text?: string): string | undefined {
  if (Math.abs(value) <= FLOAT32_MAX) return undefined; // the usual case first: no text is made for it (NaN fails the test)
  const shown = text ?? String(value);
  if (Number.isNaN(value) || (!Number.isFinite(value) && !/\d/.test(shown))) return `expected a finite number, got ${shown}`;
  return `expected a number float32 can hold (|x| ≤ ${FLOAT32_MAX}), got ${shown}`;
}

/**
 * The smallest positive normal float32, 2⁻¹²⁶. Below it a float32 is subnormal, and a GPU
 * may flush it to 0 where the reference keeps it: an option that small would train on
 * one backend and not on the other.
 */
export const FLOAT32_MIN_NORMAL = 2 ** -126;

/**
 * Why `value` cannot be a positive option the GPU holds as a float32 (a learning rate,
 * Adam's ε, a standard deviation), or undefined where it can: finite, and from
 * FLOAT32_MIN_NORMAL to FLOAT32_MAX, so that float32 rounds it to neither 0 nor Infinity.
 */
export function positiveFloat32Problem(value: unknown): string | undefined {
  if (typeof value === 'number' && value >= FLOAT32_MIN_NORMAL && value <= FLOAT32_MAX) return undefined;
  const shown = typeof value === 'string' ? JSON.stringify(value) : asText(value);
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) return `expected a positive number, got ${shown}`;
  return `expected a positive number float32 can hold (${FLOAT32_MIN_NORMAL} to ${FLOAT32_MAX}), got ${shown}`;
}

/** Whether float32 holds `value` as a finite number: the test every buffer of a training step passes, on every backend. */
export function float32Finite(value: number): boolean {
  return Math.abs(value) <= FLOAT32_MAX;
}
