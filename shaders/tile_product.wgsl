// The tile product shared by the three matrix products of a step: forward.wgsl
// (out·Wᵀ), hidden_delta.wgsl (δ·W) and weight_update.wgsl (δᵀ·in). The shader loader
// (src/gpu/shaders.ts) puts this file between common.wgsl and those three kernels.
// Its twin is the innermost sum of netInput, hiddenDeltas and layerGradients
// (src/reference/backprop.ts).
//
// C (M, N) = A (M, K) · B (K, N): each workgroup computes one TILE_M × TILE_N block of C,
// summing over K (or over its share of K, where the product is split, see SPLIT_K),
// TILE_K at a time through workgroup memory.
//
// Workgroup memory holds both operands k-major, as vec4s along M and N, in BUFFERS
// copies (a k-tile's own by its parity where double-buffered):
//   a_tile[buffer][k][m / 4], b_tile[buffer][k][n / 4]
// Thread (tx, ty) owns GM × GN blocks of 4 × 4 results: rows 4·(ty + WG_Y·g) + r and
// columns 4·(tx + WG_X·h) + c, g < GM, h < GN, r, c < 4. In each k step it reads GM + GN
// vec4s and does 16·GM·GN multiply-adds: 64 for 8 × 8 results. A CPU adapter prefers
// 8 × 16 (6 vec4s read for 128 multiply-adds); on a GPU, 128 results take so many
// registers that too few threads stay resident (planRegisters in src/gpu/tiles.ts counts
// what `multiply` keeps live). The threads of one row of the workgroup read consecutive
// vec4s of b_tile (every bank once) and the same vec4 of a_tile (a broadcast): no bank
// conflicts.
//
// Double-buffered (BUFFERS = 2), the next k-tile is stored into the other copy of the
// tiles while slower threads still multiply this one: one barrier per k-tile. With one
// copy, every thread must be done reading a tile before it is refilled: two.
//
// Filling a tile is split into jobs of four vec4s each (a Quad), at most two per thread,
// so that the next k-tile can be read into registers while the current one is multiplied:
//   - an operand stored k-contiguous in memory (the forward product's inputs and weights,
//     the layer above's δ in hidden_delta.wgsl) is read 4 rows × 4 k at a time and
//     written transposed: 4 vec4s along M (or N). Eight row blocks run fastest, so the
//     eight threads that share a 128-bit store phase write eight consecutive vec4s.
//   - an operand stored n-contiguous (W in hidden_delta.wgsl, δ and the inputs in
//     weight_update.wgsl) is read 4 k-rows × one vec4 and written as it is: consecutive
//     threads read and write consecutive vec4s.
// One dispatch may run several products of a kernel, with the same plan and shapes of
// their own (weight_update.wgsl runs every layer's): workgroup z is split z % SPLIT_K of
// product z / SPLIT_K, the workgroups past a product's own rows or columns return at
// once, and `finish` runs product group.z's. The other kernels run one product a dispatch.
// The entry points are here, `main` and, for a split product, `finish`; each kernel
// supplies what differs:
//   fn product_shape(index: u32) -> vec3u                (M, N, K) of product `index`
//   fn begin_product(index: u32)                         called first: where a kernel keeps what it reads of product `index`
//   fn load_job(job: u32, k0: u32, k_end: u32) -> Quad   job 0 ..< JOBS's values of k-tile k0 (A's jobs first, then B's)
//   fn store_job(job: u32, quad: Quad)                   into a_tile or b_tile
//   fn finish_result(m: u32, n: u32, sum: f32)           its epilogue: the finished sum of result (m, n)
//   fn finish_quad(m: u32, n: u32, sums: vec4f)          the same for results (m, n … n + 3), n a multiple of 4
//   fn result_columns() -> u32                           columns of the results it finishes: N, or more
//                                                        where workgroups past the product add some
//   fn beyond_columns(thread: u32, k_begin: u32, k_end: u32)   what those workgroups do (weight_update.wgsl's bias sums)
//   fn store_partial(index: u32, sum: f32)               where a split product's partial sums go
//   fn load_partial(index: u32) -> f32                   … and where `finish` reads them

override WG_X: u32 = 16u;   // threads along N
override WG_Y: u32 = 16u;   // threads along M
override GM: u32 = 2u;      // 4-row blocks per thread: 1 or 2
override GN: u32 = 2u;      // 4-column blocks per thread: 1, 2 or 4
override TILE_K: u32 = 16u; // k per pass through workgroup memory: a multiple of 4
override TILE_M: u32 = 4u * WG_Y * GM; // derived: leave unset
override TILE_N: u32 = 4u * WG_X * GN; // derived: leave unset
override THREADS: u32 = WG_X * WG_Y; //   derived: leave unset
override A_JOBS: u32 = TILE_M * TILE_K / 16u; //          derived: leave unset
override JOBS: u32 = (TILE_M + TILE_N) * TILE_K / 16u; // derived: leave unset (at most 2·THREADS)
override BUFFERS: u32 = 2u;   // copies of the tiles: 2 (double-buffered) or 1
override A_TILE: u32 = TILE_K * TILE_M / 4u; // derived: vec4s of one copy of a_tile
override B_TILE: u32 = TILE_K * TILE_N / 4u; // derived: vec4s of one copy of b_tile

// Split-K: where the blocks of C alone would leave the GPU's cores idle, workgroup z sums
// k in [z·k_split, (z + 1)·k_split) and writes its partial block; the kernel's `finish`
// entry point adds the SPLIT_K partial blocks and applies the epilogue. k_split follows
// from K, a uniform (the batch, in weight_update.wgsl), so a new batch size compiles nothing.
override SPLIT_K: u32 = 1u;

override FINISH_THREADS: u32 = 256u; // threads of a `finish` workgroup

var<workgroup> a_tile: array<vec4f, BUFFERS * A_TILE>; // (BUFFERS, TILE_K, TILE_M / 4)
var<workgroup> b_tile: array<vec4f, BUFFERS * B_TILE>; // (BUFFERS, TILE_K, TILE_N / 4)

var<private> product: u32;      // the dispatch's product the workgroup works on (group.z / SPLIT_K)
var<private> split: u32;        // its share of K (group.z % SPLIT_K)
var<private> first_row: u32;    // its first row of C, and first column
var<private> first_column: u32;
var<private> fill_buffer: u32;  // the copy of the tiles that store_job writes

/** Four vec4s: what one job moves from storage into workgroup memory. */
struct Quad {
  v0: vec4f,
  v1: vec4f,
  v2: vec4f,
  v3: vec4f,
}

/**
 * Row r of a Quad set to `row`, by select (no local array indexed: a GPU would keep it in
 * memory). The kernels' load_job fills a Quad in a loop over its four rows through this,
 * so each operand's loader is compiled once per call site rather than four times: on a
 * CPU adapter (SwiftShader) those copies took 30–50% of a product kernel's compile time.
 */
fn set_quad_row(quad: ptr<function, Quad>, r: u32, row: vec4f) {
  (*quad).v0 = select((*quad).v0, row, r == 0u);
  (*quad).v1 = select((*quad).v1, row, r == 1u);
  (*quad).v2 = select((*quad).v2, row, r == 2u);
  (*quad).v3 = select((*quad).v3, row, r == 3u);
}

/** A thread's results: block (g, h) row r is c{g}{h}_{r}, its four columns. */
struct Block {
  c00_0: vec4f, c00_1: vec4f, c00_2: vec4f, c00_3: vec4f,
  c01_0: vec4f, c01_1: vec4f, c01_2: vec4f, c01_3: vec4f,
  c02_0: vec4f, c02_1: vec4f, c02_2: vec4f, c02_3: vec4f,
  c03_0: vec4f, c03_1: vec4f, c03_2: vec4f, c03_3: vec4f,
  c10_0: vec4f, c10_1: vec4f, c10_2: vec4f, c10_3: vec4f,
  c11_0: vec4f, c11_1: vec4f, c11_2: vec4f, c11_3: vec4f,
  c12_0: vec4f, c12_1: vec4f, c12_2: vec4f, c12_3: vec4f,
  c13_0: vec4f, c13_1: vec4f, c13_2: vec4f, c13_3: vec4f,
}

/** k per split: ⌈K / (SPLIT_K·TILE_K)⌉·TILE_K (kSplit in src/gpu/tiles.ts). */
fn k_split(K: u32) -> u32 {
  return (K + SPLIT_K * TILE_K - 1u) / (SPLIT_K * TILE_K) * TILE_K;
}

/** The k range workgroup `split` sums over: all of K, or its share (empty past K). */
fn k_range(split: u32, K: u32) -> vec2u {
  if (SPLIT_K == 1u) {
    return vec2u(0u, K);
  }
  let share = k_split(K);
  let begin = min(K, split * share);
  return vec2u(begin, min(K, begin + share));
}

/**
 * A job of a k-contiguous operand with `rows` rows in its tile: the first of its 4 rows
 * within the tile, and its k-quad within the k-tile.
 */
fn transposed_job(job: u32, rows: u32) -> vec2u {
  let blocks = rows / 4u;
  let run = min(8u, blocks); // row blocks that run fastest
  let quads = TILE_K / 4u;
  let block = (job / (run * quads)) * run + job % run;
  return vec2u(4u * block, (job / run) % quads);
}

/** A job of an n-contiguous operand with `columns` columns in its tile: its first k-row and its column quad. */
fn rows_job(job: u32, columns: u32) -> vec2u {
  let quads = columns / 4u;
  return vec2u(4u * (job / quads), job % quads);
}

/** Four vec4 rows (4 consecutive k each) of 4 consecutive m, written as four vec4s along m. */
fn store_a_transposed(at: vec2u, quad: Quad) {
  let stride = TILE_M / 4u;
  let first = fill_buffer * A_TILE + 4u * at.y * stride + at.x / 4u;
  a_tile[first] = vec4f(quad.v0.x, quad.v1.x, quad.v2.x, quad.v3.x);
  a_tile[first + stride] = vec4f(quad.v0.y, quad.v1.y, quad.v2.y, quad.v3.y);
  a_tile[first + 2u * stride] = vec4f(quad.v0.z, quad.v1.z, quad.v2.z, quad.v3.z);
  a_tile[first + 3u * stride] = vec4f(quad.v0.w, quad.v1.w, quad.v2.w, quad.v3.w);
}

fn store_b_transposed(at: vec2u, quad: Quad) {
  let stride = TILE_N / 4u;
  let first = fill_buffer * B_TILE + 4u * at.y * stride + at.x / 4u;
  b_tile[first] = vec4f(quad.v0.x, quad.v1.x, quad.v2.x, quad.v3.x);
  b_tile[first + stride] = vec4f(quad.v0.y, quad.v1.y, quad.v2.y, quad.v3.y);
  b_tile[first + 2u * stride] = vec4f(quad.v0.z, quad.v1.z, quad.v2.z, quad.v3.z);
  b_tile[first + 3u * stride] = vec4f(quad.v0.w, quad.v1.w, quad.v2.w, quad.v3.w);
}

/** Four k-rows of one column quad, written as they are. */
fn store_a_rows(at: vec2u, quad: Quad) {
  let stride = TILE_M / 4u;
  let first = fill_buffer * A_TILE + at.x * stride + at.y;
  a_tile[first] = quad.v0;
  a_tile[first + stride] = quad.v1;
  a_tile[first + 2u * stride] = quad.v2;
  a_tile[first + 3u * stride] = quad.v3;
}

fn store_b_rows(at: vec2u, quad: Quad) {
  let stride = TILE_N / 4u;
  let first = fill_buffer * B_TILE + at.x * stride + at.y;
  b_tile[first] = quad.v0;
  b_tile[first + stride] = quad.v1;
  b_tile[first + 2u * stride] = quad.v2;
  b_tile[first + 3u * stride] = quad.v3;
}

/** One k-tile, from copy `buffer` of the tiles, into the thread's results. */
fn multiply_tile(acc: ptr<function, Block>, tx: u32, ty: u32, buffer: u32) {
  let a_stride = TILE_M / 4u;
  let b_stride = TILE_N / 4u;
  let a_first = buffer * A_TILE + ty;
  let b_first = buffer * B_TILE + tx;
  for (var k = 0u; k < TILE_K; k++) {
    // Only the blocks the thread owns: the others would lie past the tiles at the last k.
    let a0 = a_tile[a_first + k * a_stride];
    var a1 = vec4f();
    if (GM == 2u) {
      a1 = a_tile[a_first + k * a_stride + WG_Y];
    }
    let b0 = b_tile[b_first + k * b_stride];
    var b1 = vec4f();
    var b2 = vec4f();
    var b3 = vec4f();
    if (GN >= 2u) {
      b1 = b_tile[b_first + k * b_stride + WG_X];
    }
    if (GN == 4u) {
      b2 = b_tile[b_first + k * b_stride + 2u * WG_X];
      b3 = b_tile[b_first + k * b_stride + 3u * WG_X];
    }
    (*acc).c00_0 = fma(vec4f(a0.x), b0, (*acc).c00_0);
    (*acc).c00_1 = fma(vec4f(a0.y), b0, (*acc).c00_1);
    (*acc).c00_2 = fma(vec4f(a0.z), b0, (*acc).c00_2);
    (*acc).c00_3 = fma(vec4f(a0.w), b0, (*acc).c00_3);
    if (GN >= 2u) {
      (*acc).c01_0 = fma(vec4f(a0.x), b1, (*acc).c01_0);
      (*acc).c01_1 = fma(vec4f(a0.y), b1, (*acc).c01_1);
      (*acc).c01_2 = fma(vec4f(a0.z), b1, (*acc).c01_2);
      (*acc).c01_3 = fma(vec4f(a0.w), b1, (*acc).c01_3);
    }
    if (GN == 4u) {
      (*acc).c02_0 = fma(vec4f(a0.x), b2, (*acc).c02_0);
      (*acc).c02_1 = fma(vec4f(a0.y), b2, (*acc).c02_1);
      (*acc).c02_2 = fma(vec4f(a0.z), b2, (*acc).c02_2);
      (*acc).c02_3 = fma(vec4f(a0.w), b2, (*acc).c02_3);
      (*acc).c03_0 = fma(vec4f(a0.x), b3, (*acc).c03_0);
      (*acc).c03_1 = fma(vec4f(a0.y), b3, (*acc).c03_1);
      (*acc).c03_2 = fma(vec4f(a0.z), b3, (*acc).c03_2);
      (*acc).c03_3 = fma(vec4f(a0.w), b3, (*acc).c03_3);
    }
    if (GM == 2u) {
      (*acc).c10_0 = fma(vec4f(a1.x), b0, (*acc).c10_0);
      (*acc).c10_1 = fma(vec4f(a1.y), b0, (*acc).c10_1);
      (*acc).c10_2 = fma(vec4f(a1.z), b0, (*acc).c10_2);
      (*acc).c10_3 = fma(vec4f(a1.w), b0, (*acc).c10_3);
      if (GN >= 2u) {
        (*acc).c11_0 = fma(vec4f(a1.x), b1, (*acc).c11_0);
        (*acc).c11_1 = fma(vec4f(a1.y), b1, (*acc).c11_1);
        (*acc).c11_2 = fma(vec4f(a1.z), b1, (*acc).c11_2);
        (*acc).c11_3 = fma(vec4f(a1.w), b1, (*acc).c11_3);
      }
      if (GN == 4u) {
        (*acc).c12_0 = fma(vec4f(a1.x), b2, (*acc).c12_0);
        (*acc).c12_1 = fma(vec4f(a1.y), b2, (*acc).c12_1);
        (*acc).c12_2 = fma(vec4f(a1.z), b2, (*acc).c12_2);
        (*acc).c12_3 = fma(vec4f(a1.w), b2, (*acc).c12_3);
        (*acc).c13_0 = fma(vec4f(a1.x), b3, (*acc).c13_0);
        (*acc).c13_1 = fma(vec4f(a1.y), b3, (*acc).c13_1);
        (*acc).c13_2 = fma(vec4f(a1.z), b3, (*acc).c13_2);
        (*acc).c13_3 = fma(vec4f(a1.w), b3, (*acc).c13_3);
      }
    }
  }
}

/**
 * The thread's results of the product summed over k in [k_begin, k_end). The next
 * k-tile's jobs are read into registers before the current tile is multiplied, so their
 * latency hides behind the arithmetic, and stored after it: into the other copy of the
 * tiles (k-tile t is in copy t mod 2), or, with one copy, once every thread is done with it.
 */
fn multiply(k_begin: u32, k_end: u32, thread: u32, tx: u32, ty: u32) -> Block {
  var acc: Block;
  if (k_begin >= k_end) {
    return acc; // a split that K leaves empty
  }
  let job0 = thread;
  let job1 = thread + THREADS;
  var quad0: Quad;
  var quad1: Quad;
  if (job0 < JOBS) {
    quad0 = load_job(job0, k_begin, k_end);
  }
  if (job1 < JOBS) {
    quad1 = load_job(job1, k_begin, k_end);
  }
  fill_buffer = 0u;
  if (job0 < JOBS) {
    store_job(job0, quad0);
  }
  if (job1 < JOBS) {
    store_job(job1, quad1);
  }
  workgroupBarrier();
  var buffer = 0u;
  for (var k0 = k_begin; k0 < k_end; k0 += TILE_K) {
    let next = k0 + TILE_K;
    if (next < k_end) {
      if (job0 < JOBS) {
        quad0 = load_job(job0, next, k_end);
      }
      if (job1 < JOBS) {
        quad1 = load_job(job1, next, k_end);
      }
    }
    multiply_tile(&acc, tx, ty, buffer);
    if (next < k_end) {
      if (BUFFERS == 1u) {
        workgroupBarrier(); // the one copy is refilled only once every thread has read it
      }
      buffer = (buffer + 1u) % BUFFERS;
      fill_buffer = buffer;
      if (job0 < JOBS) {
        store_job(job0, quad0);
      }
      if (job1 < JOBS) {
        store_job(job1, quad1);
      }
      workgroupBarrier();
    }
  }
  return acc;
}

/** x_j of four, by select (no local array indexed). */
fn pick(j: u32, x0: vec4f, x1: vec4f, x2: vec4f, x3: vec4f) -> vec4f {
  return select(select(x0, x1, j == 1u), select(x2, x3, j == 3u), j >= 2u);
}

/**
 * Hands a 4 × 4 block inside the `rows` × `columns` product to the kernel's epilogue: a
 * row's four results at once (finish_quad) where all four columns are inside, else one
 * by one (ragged edges, and a split product's partial sums).
 */
fn finish_4x4(m: u32, n: u32, r0: vec4f, r1: vec4f, r2: vec4f, r3: vec4f, rows: u32, columns: u32) {
  // Loops, not spelt out: the epilogue is inlined once here rather than 16 times (on a
  // CPU adapter that much code no longer fits its caches); rows are picked by select, so
  // no local array is indexed (which a GPU would keep in memory).
  for (var r = 0u; r < 4u; r++) {
    let row = pick(r, r0, r1, r2, r3);
    if (m + r < rows && n + 3u < columns && SPLIT_K == 1u) {
      finish_quad(m + r, n, row);
      continue;
    }
    for (var c = 0u; c < 4u; c++) {
      if (m + r < rows && n + c < columns) {
        finish_element(m + r, n + c, row[c]);
      }
    }
  }
}

/**
 * Hands the thread's results (block origin m0, n0 of the workgroup) to the epilogue, a
 * 4 × 4 block at a time: its row block i and column block j picked by select in a loop,
 * so finish_4x4 and the kernel's epilogue are compiled once rather than GM·GN times (on a
 * CPU adapter, up to 8 copies of them took much of a kernel's compile time). On a GPU the
 * loop's bounds are constants: it unrolls, and the selects fold away.
 */
fn finish_block(acc: Block, m0: u32, n0: u32, tx: u32, ty: u32, rows: u32, columns: u32) {
  for (var b = 0u; b < GM * GN; b++) {
    let i = b / GN;
    let j = b % GN;
    let near = i == 0u;
    let r0 = select(pick(j, acc.c10_0, acc.c11_0, acc.c12_0, acc.c13_0), pick(j, acc.c00_0, acc.c01_0, acc.c02_0, acc.c03_0), near);
    let r1 = select(pick(j, acc.c10_1, acc.c11_1, acc.c12_1, acc.c13_1), pick(j, acc.c00_1, acc.c01_1, acc.c02_1, acc.c03_1), near);
    let r2 = select(pick(j, acc.c10_2, acc.c11_2, acc.c12_2, acc.c13_2), pick(j, acc.c00_2, acc.c01_2, acc.c02_2, acc.c03_2), near);
    let r3 = select(pick(j, acc.c10_3, acc.c11_3, acc.c12_3, acc.c13_3), pick(j, acc.c00_3, acc.c01_3, acc.c02_3, acc.c03_3), near);
    finish_4x4(m0 + 4u * (ty + i * WG_Y), n0 + 4u * (tx + j * WG_X), r0, r1, r2, r3, rows, columns);
  }
}

/** Where a split product keeps the partial sum of split z for result (m, n): (SPLIT_K, M, result columns). */
fn partial_index(z: u32, m: u32, n: u32) -> u32 {
  return (z * product_shape(product).x + m) * result_columns() + n;
}

/** A result of the workgroup's tiles: its partial sum where the product is split, else finished. */
fn finish_element(m: u32, n: u32, sum: f32) {
  if (SPLIT_K > 1u) {
    store_partial(partial_index(split, m, n), sum);
  } else {
    finish_result(m, n, sum);
  }
}

@compute @workgroup_size(WG_X, WG_Y)
fn main(
  @builtin(workgroup_id) group: vec3u,
  @builtin(local_invocation_id) local: vec3u,
  @builtin(local_invocation_index) thread: u32,
) {
  // The shape and k range from group.z itself, not the private copies: they decide
  // control flow that reaches barriers, which must be uniform.
  product = group.z / SPLIT_K;
  begin_product(group.z / SPLIT_K);
  let shape = product_shape(group.z / SPLIT_K);
  first_row = group.y * TILE_M;
  first_column = group.x * TILE_N;
  split = group.z % SPLIT_K;
  if (group.y * TILE_M >= shape.x) {
    return; // past this product's rows, in a dispatch sized for a larger one
  }
  let k = k_range(group.z % SPLIT_K, shape.z);
  if (group.x * TILE_N >= shape.y) {
    // The first column of workgroups past the product does the kernel's extra work; any later one is past this product.
    if (group.x == (shape.y + TILE_N - 1u) / TILE_N) {
      beyond_columns(thread, k.x, k.y);
    }
    return;
  }
  let acc = multiply(k.x, k.y, thread, local.x, local.y);
  finish_block(acc, first_row, first_column, local.x, local.y, shape.x, shape.y);
}

/** A split product's partial sums added up, then the epilogue: one thread per result; product group.z's. */
@compute @workgroup_size(FINISH_THREADS)
fn finish(@builtin(global_invocation_id) id: vec3u, @builtin(workgroup_id) group: vec3u, @builtin(num_workgroups) groups: vec3u) {
  product = group.z;
  begin_product(group.z);
  let columns = result_columns();
  let count = product_shape(group.z).x * columns;
  for (var e = id.x; e < count; e += groups.x * FINISH_THREADS) {
    var sum = 0.0;
    for (var z = 0u; z < SPLIT_K; z++) {
      sum += load_partial(z * count + e);
    }
    finish_result(e / columns, e % columns, sum);
  }
}
