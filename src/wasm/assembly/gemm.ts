// The matrix products of a step in float32 with 128-bit SIMD: the twin of the innermost
// sums of netInput, hiddenDeltas and layerGradients (src/reference/backprop.ts).
//
//   C (M, N) = alpha · A (M, K) · B (K, N)
//
// A and B are read through strides, so one routine serves all three products: element
// (i, k) of A is at a + 4·(i·rsA + k·csA), element (k, j) of B at b + 4·(k·rsB + j·csB),
// and C is row-major with rows rsC floats apart (the forward product reads W through
// its transpose, the gradient reads δ through its transpose).
//
// As BLIS does it: K is cut into blocks of KC, each block of B is packed into panels of
// NR columns (KC × NR, k-major) and each block of A into panels of MR rows (KC × MR), so
// the micro-kernel reads both contiguously whatever the strides; it keeps an MR × NR
// block of C in 8 registers of four floats and, per k, reads one vec4 of A (broadcast
// lane by lane) and two of B for 32 multiply-adds. Ragged edges are packed with zeros and
// written back element by element. A product too small to repay the packing is summed
// directly.

export const MR = 4; // rows of C per micro-kernel
export const NR = 8; // columns of C per micro-kernel
export const KC = 256; // k per packed block
export const MC = 64; // rows of A per packed block (a multiple of MR)
export const NC = 512; // columns of B per packed block (a multiple of NR)

/** Floats of packing space one thread needs: a block of A, a block of B, and a ragged row. */
export const PACK_FLOATS = MC * KC + KC * NC + NR;

/** Below this many multiply-adds, the direct sum (no packing). */
const DIRECT_MACS = 4096;

/** A product's operands, strides and scale: what a thread needs to compute its share. */
@unmanaged
export class Product {
  m: i32;
  n: i32;
  k: i32;
  a: usize;
  rsA: i32;
  csA: i32;
  b: usize;
  rsB: i32;
  csB: i32;
  c: usize;
  rsC: i32;
  alpha: f32;
}

/** A (i0 … i0 + mc, k0 … k0 + kc) into panels of MR rows, k-major, zero past row m. */
function packA(p: Product, i0: i32, mc: i32, k0: i32, kc: i32, dst: usize): void {
  const rsA = p.rsA;
  const csA = p.csA;
  for (let i = 0; i < mc; i += MR) {
    const rows = min(MR, mc - i);
    let base = p.a + (<usize>(i0 + i) * rsA + <usize>k0 * csA) * 4;
    if (rows == MR && rsA == 1) {
      // Four consecutive rows are four consecutive floats: one vec4 per k (the gradient's δᵀ).
      for (let k = 0; k < kc; k++) {
        v128.store(dst, v128.load(base));
        base += <usize>csA * 4;
        dst += 16;
      }
      continue;
    }
    for (let k = 0; k < kc; k++) {
      let src = base;
      for (let r = 0; r < MR; r++) {
        store<f32>(dst + r * 4, r < rows ? load<f32>(src) : 0);
        src += <usize>rsA * 4;
      }
      base += <usize>csA * 4;
      dst += MR * 4;
    }
  }
}

/** B (k0 … k0 + kc, j0 … j0 + nc) into panels of NR columns, k-major, zero past column n. */
function packB(p: Product, k0: i32, kc: i32, j0: i32, nc: i32, dst: usize): void {
  const rsB = p.rsB;
  const csB = p.csB;
  for (let j = 0; j < nc; j += NR) {
    const columns = min(NR, nc - j);
    let base = p.b + (<usize>k0 * rsB + <usize>(j0 + j) * csB) * 4;
    if (columns == NR && csB == 1) {
      // A row of the panel is eight consecutive floats (W in the δ product, the inputs in the gradient).
      for (let k = 0; k < kc; k++) {
        v128.store(dst, v128.load(base));
        v128.store(dst, v128.load(base, 16), 16);
        base += <usize>rsB * 4;
        dst += NR * 4;
      }
      continue;
    }
    if (columns == NR && rsB == 1) {
      // k-contiguous columns (Wᵀ in the forward product): read each column along k, write it strided.
      for (let c = 0; c < NR; c++) {
        let src = base + <usize>c * csB * 4;
        let out = dst + c * 4;
        for (let k = 0; k < kc; k++) {
          store<f32>(out, load<f32>(src));
          src += 4;
          out += NR * 4;
        }
      }
      dst += <usize>kc * NR * 4;
      continue;
    }
    for (let k = 0; k < kc; k++) {
      let src = base;
      for (let c = 0; c < NR; c++) {
        store<f32>(dst + c * 4, c < columns ? load<f32>(src) : 0);
        src += <usize>csB * 4;
      }
      base += <usize>rsB * 4;
      dst += NR * 4;
    }
  }
}

/**
 * Writes (or adds) alpha times one row of an MR × NR block into C, the `columns` of it
 * that exist; a ragged row goes through `edge` (8 floats of the thread's own).
 */
@inline
function writeRow(c: usize, lo: v128, hi: v128, columns: i32, alpha: v128, first: bool, edge: usize): void {
  const x = f32x4.mul(lo, alpha);
  const y = f32x4.mul(hi, alpha);
  if (columns == NR) {
    v128.store(c, first ? x : f32x4.add(v128.load(c), x));
    v128.store(c, first ? y : f32x4.add(v128.load(c, 16), y), 16);
    return;
  }
  v128.store(edge, x);
  v128.store(edge, y, 16);
  for (let j = 0; j < columns; j++) {
    const value = load<f32>(edge + j * 4);
    store<f32>(c + j * 4, first ? value : load<f32>(c + j * 4) + value);
  }
}

/**
 * The micro-kernel: an MR × NR block of C from a panel of A and one of B, kc deep; `rows`
 * and `columns` of the block exist. `first`: the first block of K sets C, the others add.
 */
function micro(kc: i32, ap: usize, bp: usize, c: usize, rsC: i32, rows: i32, columns: i32, alpha: f32, first: bool, edge: usize): void {
  let c00 = f32x4.splat(0);
  let c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0);
  let c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0);
  let c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0);
  let c31 = f32x4.splat(0);
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(bp);
    const b1 = v128.load(bp, 16);
    const a = v128.load(ap);
    const a0 = v128.shuffle<f32>(a, a, 0, 0, 0, 0);
    c00 = f32x4.add(c00, f32x4.mul(a0, b0));
    c01 = f32x4.add(c01, f32x4.mul(a0, b1));
    const a1 = v128.shuffle<f32>(a, a, 1, 1, 1, 1);
    c10 = f32x4.add(c10, f32x4.mul(a1, b0));
    c11 = f32x4.add(c11, f32x4.mul(a1, b1));
    const a2 = v128.shuffle<f32>(a, a, 2, 2, 2, 2);
    c20 = f32x4.add(c20, f32x4.mul(a2, b0));
    c21 = f32x4.add(c21, f32x4.mul(a2, b1));
    const a3 = v128.shuffle<f32>(a, a, 3, 3, 3, 3);
    c30 = f32x4.add(c30, f32x4.mul(a3, b0));
    c31 = f32x4.add(c31, f32x4.mul(a3, b1));
    ap += MR * 4;
    bp += NR * 4;
  }
  const scale = f32x4.splat(alpha);
  const row = <usize>rsC * 4;
  writeRow(c, c00, c01, columns, scale, first, edge);
  if (rows > 1) writeRow(c + row, c10, c11, columns, scale, first, edge);
  if (rows > 2) writeRow(c + 2 * row, c20, c21, columns, scale, first, edge);
  if (rows > 3) writeRow(c + 3 * row, c30, c31, columns, scale, first, edge);
}

/** C's columns j0 … j1 of the product, through packed blocks; `pack` holds PACK_FLOATS floats. */
function packed(p: Product, j0: i32, j1: i32, pack: usize): void {
  const packedA = pack;
  const packedB = pack + MC * KC * 4;
  const edge = packedB + KC * NC * 4;
  for (let jc = j0; jc < j1; jc += NC) {
    const nc = min(NC, j1 - jc);
    for (let pc = 0; pc < p.k; pc += KC) {
      const kc = min(KC, p.k - pc);
      packB(p, pc, kc, jc, nc, packedB);
      for (let ic = 0; ic < p.m; ic += MC) {
        const mc = min(MC, p.m - ic);
        packA(p, ic, mc, pc, kc, packedA);
        for (let j = 0; j < nc; j += NR) {
          const bp = packedB + <usize>j * kc * 4;
          for (let i = 0; i < mc; i += MR) {
            const c = p.c + (<usize>(ic + i) * p.rsC + <usize>(jc + j)) * 4;
            micro(kc, packedA + <usize>i * kc * 4, bp, c, p.rsC, min(MR, mc - i), min(NR, nc - j), p.alpha, pc == 0, edge);
          }
        }
      }
    }
  }
}

/** C's columns j0 … j1 summed directly: for products too small to repay the packing. */
function direct(p: Product, j0: i32, j1: i32): void {
  for (let i = 0; i < p.m; i++) {
    for (let j = j0; j < j1; j++) {
      let a = p.a + <usize>i * p.rsA * 4;
      let b = p.b + <usize>j * p.csB * 4;
      let sum: f32 = 0;
      for (let k = 0; k < p.k; k++) {
        sum += load<f32>(a) * load<f32>(b);
        a += <usize>p.csA * 4;
        b += <usize>p.rsB * 4;
      }
      store<f32>(p.c + (<usize>i * p.rsC + j) * 4, p.alpha * sum);
    }
  }
}

/** Whether the product is worth sharing between threads. */
export function shareable(p: Product): bool {
  return <i64>p.m * p.n * p.k >= 1 << 18 && p.n >= 2 * NR;
}

/** Share `part` of `parts` of the product: a range of C's columns, whole panels each. */
export function productPart(p: Product, part: i32, parts: i32, pack: usize): void {
  if (<i64>p.m * p.n * p.k < DIRECT_MACS) {
    if (part == 0) direct(p, 0, p.n);
    return;
  }
  const panels = (p.n + NR - 1) / NR;
  const j0 = min(p.n, ((panels * part) / parts) * NR);
  const j1 = min(p.n, ((panels * (part + 1)) / parts) * NR);
  if (j1 > j0) packed(p, j0, j1, pack);
}
