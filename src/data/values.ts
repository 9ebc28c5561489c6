// What a data value may be: a finite number that float32, the GPU's number format, can
// hold. A value beyond float32's range is finite in the float64 reference but Infinity on
// the GPU, so it is refused on every backend alike, before training.

/** The largest finite float32, (2 − 2⁻²³)·2¹²⁷. */
export const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * Why `value` cannot be a data value, or undefined where it can. `text` is how a file
 * wrote it: 1e400 reads as Infinity, but is a number too large rather than no number.
 */
export function valueProblem(value: number, text: string = String(value)): string | undefined {
  if (Number.isNaN(value) || (!Number.isFinite(value) && !/\d/.test(text))) return `expected a finite number, got ${text}`;
  if (Math.abs(value) > FLOAT32_MAX) return `expected a number float32 can hold (|x| ≤ ${FLOAT32_MAX}), got ${text}`;
  return undefined;
}
