// Comparing a buffer against its reference: passes where |actual − expected| ≤ atol +
// rtol·|expected| element by element, and otherwise names the largest difference and
// the first element out of tolerance.

/** How far an element may be from its reference: |actual − expected| ≤ atol + rtol·|expected|. */
export interface Tolerance {
  /** The absolute bound: one for every element, or one per element. */
  atol: number | ArrayLike<number>;
  /** The relative bound, a fraction of |expected|. */
  rtol: number;
}

/** A buffer against its reference: whether every element is within tolerance, and the worst of them. */
export interface Comparison {
  /** Every element within tolerance (NaN never is). */
  ok: boolean;
  /** The largest |actual − expected|, and where. */
  maxDifference: number;
  maxIndex: number;
  /** The first element out of tolerance, or −1. */
  firstBad: number;
  /** One line naming the buffer, the largest difference and, where it failed, the first element out of tolerance. */
  message: string;
}

/**
 * Compares `actual` with `expected` element by element. `name` heads the message and
 * `describeIndex` names an element in it (`[k]` by default). Buffers of different lengths
 * fail outright.
 */
export function compareBuffers(
  name: string,
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tolerance: Tolerance,
  describeIndex: (index: number) => string = (index) => `[${index}]`,
): Comparison {
  if (actual.length !== expected.length) {
    return { ok: false, maxDifference: Infinity, maxIndex: -1, firstBad: 0, message: `${name}: ${actual.length} values, expected ${expected.length}` };
  }
  let maxDifference = 0;
  let maxIndex = -1;
  let firstBad = -1;
  const atol = (k: number) => (typeof tolerance.atol === 'number' ? tolerance.atol : tolerance.atol[k]);
  const allowedAt = (k: number) => atol(k) + tolerance.rtol * Math.abs(expected[k]);
  for (let k = 0; k < expected.length; k++) {
    const difference = Math.abs(actual[k] - expected[k]);
    // NaN compares false everywhere: treat it as out of tolerance explicitly.
    const bad = !(difference <= allowedAt(k));
    if (bad && firstBad < 0) firstBad = k;
    if (difference > maxDifference || (Number.isNaN(difference) && maxIndex < 0)) {
      maxDifference = difference;
      maxIndex = k;
    }
  }
  const ok = firstBad < 0;
  const at = (k: number) => `${describeIndex(k)} (${actual[k]} vs ${expected[k]})`;
  const message = ok
    ? `${name}: ok, largest difference ${maxDifference.toExponential(2)}${maxIndex < 0 ? '' : ` (allowed there ${allowedAt(maxIndex).toExponential(2)})`}`
    : `${name}: largest difference ${maxDifference.toExponential(2)} at ${at(maxIndex)}; first out of tolerance at ${at(firstBad)}, allowed ${allowedAt(firstBad).toExponential(2)}`;
  return { ok, maxDifference, maxIndex, firstBad, message };
}
