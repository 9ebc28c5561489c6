// Dropout's masks: the twin of dropoutMask (src/model/dropout.ts) and of
// shaders/dropout.wgsl, the same generator, Philox4x32-10, keyed by the run's seed and
// counting (step, sample, unit, layer), so the mask of every element is the reference's,
// bit for bit. WebAssembly multiplies 64-bit integers: each round's two 32 × 32 products
// are one i64 multiplication each, their high and low words its halves.

/** Philox4x32-10: the four words of (c0, c1, c2, c3) under the key (k0, k1), as lanes 0 to 3. */
@inline
export function philox4x32(c0: u32, c1: u32, c2: u32, c3: u32, k0: u32, k1: u32): v128 {
  for (let round = 0; round < 10; round++) {
    const product0 = <u64>0xd2511f53 * <u64>c0;
    const product1 = <u64>0xcd9e8d57 * <u64>c2;
    const next0 = <u32>(product1 >> 32) ^ c1 ^ k0;
    const next2 = <u32>(product0 >> 32) ^ c3 ^ k1;
    c1 = <u32>product1;
    c3 = <u32>product0;
    c0 = next0;
    c2 = next2;
    // the key's increments: the golden ratio, √3 − 1
    k0 += 0x9e3779b9;
    k1 += 0xbb67ae85;
  }
  let words = i32x4.splat(c0);
  words = i32x4.replace_lane(words, 1, c1);
  words = i32x4.replace_lane(words, 2, c2);
  return i32x4.replace_lane(words, 3, c3);
}

/** The generator's four words for a counter and key, written to `out` (4 × u32): what the host checks against known answers. */
export function dropout_draw(c0: u32, c1: u32, c2: u32, c3: u32, k0: u32, k1: u32, out: usize): void {
  v128.store(out, philox4x32(c0, c1, c2, c3, k0, k1));
}

/**
 * Draws the step's mask of one layer into `mask` (count, units) and multiplies `out`
 * (count, units) by it: 0 where the first word of a unit's draw is below `threshold`,
 * `scale` = 1/(1 − p) where it is kept.
 */
export function dropRows(out: usize, mask: usize, count: i32, units: i32, layer: u32, step: u32, k0: u32, k1: u32, threshold: u32, scale: f32): void {
  for (let b = 0; b < count; b++) {
    for (let j = 0; j < units; j++) {
      const at = (<usize>b * units + j) << 2;
      const draw = <u32>i32x4.extract_lane(philox4x32(step, b, j, layer, k0, k1), 0);
      const keep: f32 = draw >= threshold ? scale : 0;
      store<f32>(mask + at, keep);
      store<f32>(out + at, load<f32>(out + at) * keep);
    }
  }
}
