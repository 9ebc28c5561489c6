// Dropout's masks, drawn by a counter-based generator: Philox4x32-10 (Salmon, Moraes,
// Dror & Shaw, "Parallel random numbers: as easy as 1, 2, 3", SC11; the generator of
// cuRAND, JAX and TensorFlow), keyed by the training seed and counting (step, sample,
// unit, layer). A mask element is a pure function of those: the float64 reference draws
// it here, and every kernel draws the same one, bit for bit, with its twin in
// shaders/dropout.wgsl. So the cross-checks still compare every buffer.
//
// Inverted dropout: a kept output is scaled by 1/(1 − p), a dropped one is 0. A unit is
// kept where the first word of its draw is at least p·2³² (rounded): it is kept with
// probability 1 − p to within 2⁻³².

const MULTIPLIERS = [0xd2511f53, 0xcd9e8d57];
const WEYL = [0x9e3779b9, 0xbb67ae85]; // the key's increments: the golden ratio, √3 − 1

/** The high 32 bits of a·b for 32-bit a and b, from 16-bit halves (each partial product is exact). */
function mulHigh(a: number, b: number): number {
  const aLow = a & 0xffff;
  const aHigh = a >>> 16;
  const bLow = b & 0xffff;
  const bHigh = b >>> 16;
  const lowLow = aLow * bLow;
  const lowHigh = aLow * bHigh;
  const highLow = aHigh * bLow;
  const carry = (lowLow >>> 16) + (lowHigh & 0xffff) + (highLow & 0xffff);
  return (aHigh * bHigh + (lowHigh >>> 16) + (highLow >>> 16) + (carry >>> 16)) >>> 0;
}

/** Philox4x32-10: four 32-bit words from a 128-bit counter and a 64-bit key. */
export function philox4x32(counter: readonly number[], key: readonly number[]): number[] {
  let c0 = counter[0] >>> 0;
  let c1 = counter[1] >>> 0;
  let c2 = counter[2] >>> 0;
  let c3 = counter[3] >>> 0;
  let k0 = key[0] >>> 0;
  let k1 = key[1] >>> 0;
  for (let round = 0; round < 10; round++) {
    const high0 = mulHigh(MULTIPLIERS[0], c0);
    const low0 = Math.imul(MULTIPLIERS[0], c0) >>> 0;
    const high1 = mulHigh(MULTIPLIERS[1], c2);
    const low1 = Math.imul(MULTIPLIERS[1], c2) >>> 0;
    c0 = (high1 ^ c1 ^ k0) >>> 0;
    c1 = low1;
    c2 = (high0 ^ c3 ^ k1) >>> 0;
    c3 = low0;
    k0 = (k0 + WEYL[0]) >>> 0;
    k1 = (k1 + WEYL[1]) >>> 0;
  }
  return [c0, c1, c2, c3];
}

/** The generator's key for a training seed (a whole number up to 2⁵³): its low and high 32 bits. */
export function dropoutKey(seed: number): [number, number] {
  return [seed % 2 ** 32, Math.floor(seed / 2 ** 32)];
}

/** The draw below which a unit is dropped: p·2³², rounded (p < 1). */
export function dropoutThreshold(p: number): number {
  return Math.min(Math.round(p * 2 ** 32), 2 ** 32 - 1);
}

/** Whether a dropout probability drops anything: p·2³² rounds to more than 0 (so p = 0 is no dropout at all). */
export function drops(p: number | undefined): p is number {
  return p !== undefined && dropoutThreshold(p) > 0;
}

/** The training step a mask is drawn for: the run's seed and the 0-based step count. */
export interface DropoutStep {
  seed: number;
  step: number;
}

/** What dropout multiplies layer `layer`'s outputs by in one step: (B, OUT) of 0 or 1/(1 − p). */
export function dropoutMask(p: number, { seed, step }: DropoutStep, layer: number, batch: number, units: number): Float64Array {
  const mask = new Float64Array(batch * units);
  const key = dropoutKey(seed);
  const threshold = dropoutThreshold(p);
  const kept = 1 / (1 - p);
  for (let b = 0; b < batch; b++) {
    for (let j = 0; j < units; j++) mask[b * units + j] = philox4x32([step, b, j, layer], key)[0] >= threshold ? kept : 0;
  }
  return mask;
}
