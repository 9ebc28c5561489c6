// Dropout's masks: the twin of dropoutMask (src/model/dropout.ts) and of
// shaders/dropout.wgsl, the same generator, Philox4x32-10, keyed by the run's seed and
// counting (step, sample, unit, layer), so the mask of every element is the reference's,
// bit for bit. Four units are drawn at once, one per lane: each round's 32 × 32 products
// are 64-bit lanes (extmul), their high and low words gathered back into four lanes.

const MULTIPLIER0 = i32x4.splat(0xd2511f53);
const MULTIPLIER1 = i32x4.splat(0xcd9e8d57);

/**
 * Philox4x32-10 of four counters at once, lane by lane, under the key (k0, k1): returns
 * each lane's first word, and where `words` is not 0 writes all four (4 × v128: word w of
 * every lane at words + 16·w).
 */
@inline
function philox4x32(c0: v128, c1: v128, c2: v128, c3: v128, k0: u32, k1: u32, words: usize): v128 {
  for (let round = 0; round < 10; round++) {
    const product0Low = v128.extmul_low<u32>(c0, MULTIPLIER0); //  lanes 0, 1 as u64
    const product0High = v128.extmul_high<u32>(c0, MULTIPLIER0); // lanes 2, 3
    const product1Low = v128.extmul_low<u32>(c2, MULTIPLIER1);
    const product1High = v128.extmul_high<u32>(c2, MULTIPLIER1);
    const high0 = v128.shuffle<i32>(product0Low, product0High, 1, 3, 5, 7);
    const high1 = v128.shuffle<i32>(product1Low, product1High, 1, 3, 5, 7);
    const next0 = v128.xor(v128.xor(high1, c1), i32x4.splat(k0));
    const next2 = v128.xor(v128.xor(high0, c3), i32x4.splat(k1));
    c1 = v128.shuffle<i32>(product1Low, product1High, 0, 2, 4, 6);
    c3 = v128.shuffle<i32>(product0Low, product0High, 0, 2, 4, 6);
    c0 = next0;
    c2 = next2;
    // the key's increments: the golden ratio, √3 − 1
    k0 += 0x9e3779b9;
    k1 += 0xbb67ae85;
  }
  if (words) {
    v128.store(words, c0);
    v128.store(words, c1, 16);
    v128.store(words, c2, 32);
    v128.store(words, c3, 48);
  }
  return c0;
}

/** The generator's four words for one counter and key, written to `out` (4 × u32): what the host checks against known answers. */
export function dropout_draw(c0: u32, c1: u32, c2: u32, c3: u32, k0: u32, k1: u32, out: usize): void {
  const scratch = memory.data(64, 16);
  philox4x32(i32x4.splat(c0), i32x4.splat(c1), i32x4.splat(c2), i32x4.splat(c3), k0, k1, scratch);
  for (let w = 0; w < 4; w++) store<u32>(out + (<usize>w << 2), load<u32>(scratch + (<usize>w << 4)));
}

/**
 * Draws the step's mask of one layer into `mask` (count, units) and multiplies `out`
 * (count, units) by it: 0 where the first word of a unit's draw is below `threshold`,
 * `scale` = 1/(1 − p) where it is kept. Units j … j + 3 are one draw of four lanes; past
 * the row's last unit, lanes are drawn and left unused.
 */
export function dropRows(out: usize, mask: usize, count: i32, units: i32, layer: u32, step: u32, k0: u32, k1: u32, threshold: u32, scale: f32): void {
  const kept = f32x4.splat(scale);
  const bound = i32x4.splat(threshold);
  const lanes = i32x4(0, 1, 2, 3);
  for (let b = 0; b < count; b++) {
    for (let j = 0; j < units; j += 4) {
      const draws = philox4x32(i32x4.splat(step), i32x4.splat(b), i32x4.add(i32x4.splat(j), lanes), i32x4.splat(layer), k0, k1, 0);
      const keep = v128.and(kept, i32x4.ge_u(draws, bound));
      const at = (<usize>b * units + j) << 2;
      if (j + 4 <= units) {
        v128.store(mask + at, keep);
        v128.store(out + at, f32x4.mul(v128.load(out + at), keep));
        continue;
      }
      for (let lane = 0; lane < units - j; lane++) {
        const value = lane == 0 ? f32x4.extract_lane(keep, 0) : lane == 1 ? f32x4.extract_lane(keep, 1) : f32x4.extract_lane(keep, 2);
        const element = at + (<usize>lane << 2);
        store<f32>(mask + element, value);
        store<f32>(out + element, load<f32>(out + element) * value);
      }
    }
  }
}
