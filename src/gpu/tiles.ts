// How each matrix product of a step is cut into workgroups (tile_product.wgsl): the
// tile, its depth, the results per thread and the split of K, chosen per product from
// its shape and the adapter's limits, by a small cost model.

import type { GpuProfile } from './adapters.ts';
import { LimitError } from '../errors.ts';

/** An (M, N) product summing over K. */
export interface MatmulShape {
  m: number;
  n: number;
  k: number;
}

/** tile_product.wgsl's override constants for one product, and what they imply. */
export interface MatmulPlan {
  /** Threads along N. */
  wgX: number;
  /** Threads along M. */
  wgY: number;
  /** 4-row blocks per thread (1 or 2). */
  gm: number;
  /** 4-column blocks per thread (1, 2 or 4). */
  gn: number;
  /** k per pass through workgroup memory. */
  tileK: number;
  /** Workgroups that share K (1: none). */
  splitK: number;
  /** Copies of the workgroup tiles: 2, double-buffered (one barrier per k-tile), or 1 (two). */
  buffers: number;
  /** k per split (a multiple of tileK): ⌈K / (splitK·tileK)⌉·tileK, as tile_product.wgsl's k_split computes it. */
  kSplit: number;
  /** Rows of the result per workgroup: 4 · gm · wgY. */
  tileM: number;
  /** Columns of the result per workgroup: 4 · gn · wgX. */
  tileN: number;
  /** Workgroups along x (N), y (M) and z (splits). */
  groups: [number, number, number];
}

/** A plan in a few words: `128×128×32 ×2, 8×16 a thread, split 1` (×2: double-buffered). */
export function describePlan(plan: MatmulPlan): string {
  return `${plan.tileM}×${plan.tileN}×${plan.tileK}${plan.buffers > 1 ? ` ×${plan.buffers}` : ''}, ${4 * plan.gm}×${4 * plan.gn} a thread, split ${plan.splitK}`;
}

/** Workgroup memory the plan's tiles take: a_tile and b_tile, in `buffers` copies. */
export function planStorageBytes(plan: Pick<MatmulPlan, 'tileM' | 'tileN' | 'tileK' | 'buffers'>): number {
  return 4 * plan.buffers * (plan.tileM + plan.tileN) * plan.tileK;
}

/** Whether the plan's a_tile (its first copy) holds what the kernel keeps there besides the tiles (ChooseOptions.aTileFloats). */
export function holdsATile(plan: Pick<MatmulPlan, 'tileM' | 'tileK' | 'wgX' | 'wgY'>, options: Pick<ChooseOptions, 'aTileFloats'>): boolean {
  return !options.aTileFloats || plan.tileK * plan.tileM >= options.aTileFloats(plan.tileM, plan.wgX * plan.wgY);
}

/** tile_product.wgsl's constants for the plan: none depends on K, whose split the kernel derives as kSplit is. */
export function planConstants(plan: MatmulPlan): Record<string, number> {
  return { WG_X: plan.wgX, WG_Y: plan.wgY, GM: plan.gm, GN: plan.gn, TILE_K: plan.tileK, SPLIT_K: plan.splitK, BUFFERS: plan.buffers };
}

/**
 * Registers one thread of tile_product.wgsl's `multiply` keeps live, as 32-bit registers,
 * counted from the kernel: its results (Block: 16 per 4 × 4 block, 16·GM·GN), the next
 * k-tile's fill jobs prefetched across the multiply (a Quad of four vec4s per job, at most
 * two), the vec4s of A and B one k step reads (4·(GM + GN)), and ADDRESSING_REGISTERS of
 * indices and bounds; rounded up to REGISTER_GRANULE, as NVIDIA allocates them.
 * 128×128×32 with 8 × 8 a thread: 64 + 32 + 16 + 20 = 132, allocated as 136.
 */
export function planRegisters(plan: Pick<MatmulPlan, 'wgX' | 'wgY' | 'gm' | 'gn' | 'tileM' | 'tileN' | 'tileK'>): number {
  const threads = plan.wgX * plan.wgY;
  const jobs = Math.ceil(((plan.tileM + plan.tileN) * plan.tileK) / 16 / threads);
  const live = 16 * plan.gm * plan.gn + 16 * jobs + 4 * (plan.gm + plan.gn) + ADDRESSING_REGISTERS;
  return Math.ceil(live / REGISTER_GRANULE) * REGISTER_GRANULE;
}

/**
 * `multiply`'s indices and bounds: thread, tx, ty, both jobs' tile coordinates, k0, next,
 * k_end, k, the copy read and the copy filled, first_row, first_column, the tiles' bases
 * and strides, the uniform sizes the loads test against: some 20.
 */
const ADDRESSING_REGISTERS = 20;
/** Registers are allocated per thread in multiples of this (NVIDIA: 256 a warp, 8 a thread). */
const REGISTER_GRANULE = 8;

/**
 * The share of its full rate a unit runs a plan at, by registers: 1 within the profile's
 * register budget; over it, fewer threads stay resident (whole workgroups, as many as the
 * register file holds), and the unit's rate falls with them: those threads are all it has
 * to switch to while some wait at a barrier or on memory. A first-order model: a thread's
 * independent multiply-adds hide some latency by themselves, so it errs towards fewer
 * registers, which measured plans can correct. 0 where not one workgroup fits, or a
 * thread would need more than the most registers a thread may have (it would spill).
 */
export function registerOccupancy(plan: MatmulPlan, profile: GpuProfile): number {
  const registers = planRegisters(plan);
  if (registers <= profile.registerBudget) return 1;
  if (registers > profile.maxRegistersPerThread) return 0;
  const threads = plan.wgX * plan.wgY;
  const resident = Math.floor(profile.registersPerUnit / (registers * threads)) * threads;
  return Math.min(1, resident / (profile.registersPerUnit / profile.registerBudget));
}

export interface ChooseOptions {
  /** Extra workgroups along x (weight_update.wgsl's column of bias workgroups). */
  extraColumns?: number;
  /**
   * Floats the kernel keeps in a_tile in workgroups that do not multiply (weight_update.wgsl's
   * bias sums), as a function of the plan: a plan whose a_tile (TILE_K · TILE_M floats) is
   * smaller is not taken.
   */
  aTileFloats?: (tileM: number, threads: number) => number;
  /** No split of K (a kernel run on its own, as in prediction). */
  noSplit?: boolean;
  /**
   * Plans another pipeline of this product's kernel and constants has (of any shape):
   * those the device has compiled, or another product's (choosePlans), among which
   * cheapestCompiled finds the cheapest for this product.
   */
  compiled?: readonly MatmulPlan[];
  /** Plans to pass over (by their constants): candidatePlans asks for the next best. */
  exclude?: readonly MatmulPlan[];
}

/** How much slower (by dispatchCost) the products planned together (choosePlans) may be, on plans another pipeline has, than on their best ones: a plan is taken over compiling one within it. */
export const REUSE_MARGIN = 1.05;

const SIDES = [4, 8, 16]; // threads along each side of a workgroup
const DEPTHS = [4, 8, 16, 32];
const SPLITS = [1, 2, 4, 8, 16, 32, 64];
/** Units of a thread's time, in multiply-adds: a vec4 read from workgroup memory, a k-tile's fill, and one barrier. */
const VEC4_READ_COST = 2;
const TILE_FILL_COST = 24;
const BARRIER_COST = 12;
/** A split product's finish pass: per partial sum read, and per result. */
const PARTIAL_COST = 4;
/** The least k a split workgroup sums: less, and the partial sums cost more than they spread. */
const MIN_K_PER_SPLIT = 128;

/**
 * The estimated time of one dispatch, in multiply-adds of one thread: its products (one,
 * or several with the same constants, as weight_update.wgsl runs every layer's), their
 * work (padding of ragged tiles included) spread over the threads that can run at once
 * (each unit runs at most `threadsPerUnit`, and a workgroup stays on one unit) at the
 * rate its registers allow (registerOccupancy), plus, for a split, the pass that adds the
 * partial sums up and one more dispatch. A k-tile takes one barrier double-buffered, two
 * with one copy of the tiles. Extra columns of workgroups (weight_update.wgsl's bias
 * sums), and the workgroups of a several-product dispatch that lie past their own product
 * and return at once, are left out: they do a sliver of the work. Infinite for a plan
 * whose registers do not fit.
 */
function dispatchCost(shapes: readonly MatmulShape[], plans: readonly MatmulPlan[], profile: GpuProfile, extraColumns = 0): number {
  const { wgX, wgY, gm, gn, tileK, splitK, buffers } = plans[0];
  const threads = wgX * wgY;
  const perK = 16 * gm * gn + VEC4_READ_COST * (gm + gn);
  const perTile = TILE_FILL_COST + (buffers > 1 ? 1 : 2) * BARRIER_COST;
  const groups = plans.map((plan) => (plan.groups[0] - extraColumns) * plan.groups[1] * plan.groups[2]);
  const workgroups = groups.reduce((a, b) => a + b, 0);
  const work = plans.reduce((sum, plan, s) => sum + groups[s] * (plan.kSplit * perK + Math.ceil(plan.kSplit / tileK) * perTile), 0);
  const busyUnits = Math.min(profile.units, workgroups);
  const perUnit = Math.min(profile.threadsPerUnit, threads * Math.ceil(workgroups / busyUnits));
  let cost = (work * threads) / (busyUnits * perUnit) / registerOccupancy(plans[0], profile);
  if (splitK > 1) {
    const elements = shapes.reduce((sum, shape) => sum + shape.m * shape.n, 0);
    cost += ((splitK + 1) * elements * PARTIAL_COST) / (profile.units * profile.threadsPerUnit) + profile.dispatchCost;
  }
  return cost;
}

/** k per split: ⌈K / (splits·tileK)⌉·tileK, as tile_product.wgsl's k_split computes it from the uniform K. */
export function kSplitOf(k: number, splits: number, tileK: number): number {
  return splits === 1 ? k : Math.ceil(k / (splits * tileK)) * tileK;
}

function plan(shape: MatmulShape, wgX: number, wgY: number, gm: number, gn: number, tileK: number, buffers: number, splitK: number, extraColumns: number): MatmulPlan {
  const tileM = 4 * wgY * gm;
  const tileN = 4 * wgX * gn;
  // Fewer splits where the last ones would be empty, until every split has some k.
  let splits = splitK;
  while (splits > 1 && Math.ceil(shape.k / kSplitOf(shape.k, splits, tileK)) < splits) splits = Math.ceil(shape.k / kSplitOf(shape.k, splits, tileK));
  const kSplit = kSplitOf(shape.k, splits, tileK);
  return {
    wgX,
    wgY,
    gm,
    gn,
    tileK,
    splitK: splits,
    buffers,
    kSplit,
    tileM,
    tileN,
    groups: [Math.ceil(shape.n / tileN) + extraColumns, Math.ceil(shape.m / tileM), splits],
  };
}

/**
 * A plan's tiles and split (what its kernel is compiled with) for another shape of the
 * product: its workgroups, and k per split; a split that a smaller K leaves empty sums nothing.
 */
export function replan(shape: MatmulShape, compiled: MatmulPlan, extraColumns = 0): MatmulPlan {
  const { tileM, tileN, splitK, tileK } = compiled;
  return { ...compiled, kSplit: kSplitOf(shape.k, splitK, tileK), groups: [Math.ceil(shape.n / tileN) + extraColumns, Math.ceil(shape.m / tileM), splitK] };
}

/**
 * The cheapest of the compiled plans (ChooseOptions.compiled) for one dispatch of these
 * products (one, or several sharing the plan's constants): each product's plan, and
 * their estimated cost.
 */
export function cheapestCompiled(shapes: readonly MatmulShape[], profile: GpuProfile, options: ChooseOptions): { plans: MatmulPlan[]; cost: number } | undefined {
  const extraColumns = options.extraColumns ?? 0;
  let chosen: { plans: MatmulPlan[]; cost: number } | undefined;
  for (const compiled of options.compiled ?? []) {
    if (options.noSplit && compiled.splitK > 1) continue;
    if (!holdsATile(compiled, options)) continue;
    const candidates = shapes.map((shape) => replan(shape, compiled, extraColumns));
    if (candidates.some((candidate) => candidate.groups.some((count) => count > profile.maxWorkgroupsPerDimension))) continue;
    const cost = dispatchCost(shapes, candidates, profile, extraColumns);
    if (cost === Infinity) continue;
    if (!chosen || cost < chosen.cost) chosen = { plans: candidates, cost };
  }
  return chosen;
}

/** The estimated time (dispatchCost) of one dispatch of these products with these plans, in multiply-adds of one thread. */
export function estimatedCost(shapes: readonly MatmulShape[], plans: readonly MatmulPlan[], profile: GpuProfile, options: ChooseOptions = {}): number {
  return dispatchCost(shapes, plans, profile, options.extraColumns ?? 0);
}

/**
 * The cheapest plan for one dispatch of these products on this adapter (one product, or
 * several that share the plan's constants, as weight_update.wgsl runs every layer's), by
 * dispatchCost, among those its limits allow: at most maxComputeInvocationsPerWorkgroup
 * threads, tiles (in the copies the profile's tileBuffers allows, or one) in
 * maxComputeWorkgroupStorageSize, at most two fill jobs per thread (tile_product.wgsl),
 * registers a thread can have, and workgroup counts within
 * maxComputeWorkgroupsPerDimension (compiled plans close enough to it: choosePlans).
 * Each product's plan, in order.
 */
export function chooseMatmuls(shapes: readonly MatmulShape[], profile: GpuProfile, options: ChooseOptions = {}): MatmulPlan[] {
  let best: { plans: MatmulPlan[]; cost: number } | undefined;
  const extraColumns = options.extraColumns ?? 0;
  const k = Math.min(...shapes.map((shape) => shape.k));
  for (const wgX of SIDES) {
    for (const wgY of SIDES) {
      const threads = wgX * wgY;
      if (threads > profile.maxInvocations || threads < Math.min(profile.minThreads, profile.maxInvocations)) continue;
      for (const gm of [1, 2]) {
        for (const gn of [1, 2, 4].filter((blocks) => blocks <= profile.maxColumnBlocks)) {
          for (const tileK of DEPTHS) {
            const tileM = 4 * wgY * gm;
            const tileN = 4 * wgX * gn;
            if (((tileM + tileN) * tileK) / 16 > 2 * threads) continue; // tile_product.wgsl: at most two jobs a thread
            if (!holdsATile({ tileM, tileK, wgX, wgY }, options)) continue;
            for (const buffers of profile.tileBuffers > 1 ? [profile.tileBuffers, 1] : [1]) {
              if (planStorageBytes({ tileM, tileN, tileK, buffers }) > profile.maxWorkgroupStorage) continue;
              for (const splitK of options.noSplit ? [1] : SPLITS) {
                if (splitK > 1 && k < splitK * Math.max(MIN_K_PER_SPLIT, 2 * tileK)) break;
                // The first product's split, fewer where its last would be empty; every product shares it.
                const first = plan(shapes[0], wgX, wgY, gm, gn, tileK, buffers, splitK, extraColumns);
                const candidates = shapes.map((shape) => replan(shape, first, extraColumns));
                if (candidates.some((candidate) => candidate.groups.some((count) => count > profile.maxWorkgroupsPerDimension))) continue;
                if (options.exclude?.some((other) => samePlan(other, first))) continue;
                const cost = dispatchCost(shapes, candidates, profile, extraColumns);
                if (cost === Infinity) continue;
                if (!best || cost < best.cost * 0.999) best = { plans: candidates, cost };
              }
            }
          }
        }
      }
    }
  }
  if (!best) {
    const shape = shapes[0];
    throw new LimitError(`a ${shape.m} × ${shape.n} × ${shape.k} product`, 'no tile fits it within this adapter\'s workgroup limits', 'maxComputeWorkgroupStorageSize, maxComputeWorkgroupsPerDimension');
  }
  return best.plans;
}

/** Products to plan together (choosePlans): one dispatch's shapes, and what it may take. */
export interface PlanRequest {
  shapes: MatmulShape[];
  options: ChooseOptions;
  /** Its kernel and constants but the plan's: the requests of one family can run one pipeline. */
  family: string;
  /** A plan measured fastest for it on this adapter (tune.ts): it stays. */
  measured?: MatmulPlan;
  /** Plans the device has compiled for its family (of any shape). */
  compiled: readonly MatmulPlan[];
}

/**
 * The tile plans of products planned together (a training step's, or prediction's): a
 * measured plan, else the best by the cost model; or, to compile fewer pipelines, a plan
 * another pipeline of the same family has: one the device has compiled (for another batch
 * size, say), or the plan of the family's costliest product planned here (the layers'
 * forward products). The costliest keeps its own best plan, as the one that matters most;
 * the others take a plan offered to them, the cheapest extra first, while the products
 * together stay within REUSE_MARGIN of their best estimated time, each dispatch's fixed
 * cost counted. Each request's plans, in order.
 */
export function choosePlans(requests: readonly PlanRequest[], profile: GpuProfile): MatmulPlan[][] {
  const chosen = requests.map((request) => (request.measured ? [request.measured] : chooseMatmuls(request.shapes, profile, request.options)));
  const costs = requests.map((request, r) => estimatedCost(request.shapes, chosen[r], profile, request.options));
  // Each family's costliest one-shape product, whose plan its other products are offered.
  const costliest = new Map<string, number>();
  requests.forEach((request, r) => {
    const first = costliest.get(request.family);
    if (request.shapes.length === 1 && (first === undefined || costs[r] > costs[first])) costliest.set(request.family, r);
  });
  /** A request's plans from a plan offered to it, and what they cost beyond its best. */
  const offers: { r: number; plans: MatmulPlan[]; extra: number }[] = [];
  requests.forEach((request, r) => {
    if (request.measured) return;
    const anchor = costliest.get(request.family);
    const offered = [...request.compiled, ...(anchor !== undefined && anchor !== r ? chosen[anchor] : [])];
    const reused = offered.length ? cheapestCompiled(request.shapes, profile, { ...request.options, compiled: offered }) : undefined;
    if (reused) offers.push({ r, plans: reused.plans, extra: reused.cost - costs[r] });
  });
  let room = (REUSE_MARGIN - 1) * costs.reduce((sum, cost) => sum + cost + profile.dispatchCost, 0);
  for (const offer of offers.sort((a, b) => a.extra - b.extra)) {
    const extra = Math.max(0, offer.extra);
    if (extra > room) break;
    room -= extra;
    chosen[offer.r] = offer.plans;
  }
  return chosen;
}

/** The cheapest plan for one product (chooseMatmuls). */
export function chooseMatmul(shape: MatmulShape, profile: GpuProfile, options: ChooseOptions = {}): MatmulPlan {
  return chooseMatmuls([shape], profile, options)[0];
}

/** Whether two plans compile to the same kernel (the same override constants). */
export function samePlan(a: MatmulPlan, b: MatmulPlan): boolean {
  return a.wgX === b.wgX && a.wgY === b.wgY && a.gm === b.gm && a.gn === b.gn && a.tileK === b.tileK && a.buffers === b.buffers && a.splitK === b.splitK;
}

/**
 * Up to `count` distinct plans worth timing for a product (tune.ts), best first: the cost
 * model's choice (chooseMatmul's), then its choices were the
 * adapter to have four times or a quarter its units (the unit count may come from a
 * fallback), then the next best for this profile; all within the adapter's limits.
 */
export function candidatePlans(shape: MatmulShape, profile: GpuProfile, options: ChooseOptions, count: number): MatmulPlan[] {
  const plans = [chooseMatmul(shape, profile, options)];
  const add = (units: number, exclude: boolean) => {
    if (plans.length >= count) return false;
    try {
      const next = chooseMatmul(shape, { ...profile, units }, { ...options, exclude: exclude ? plans : undefined });
      if (plans.some((known) => samePlan(known, next))) return true;
      plans.push(next);
      return true;
    } catch (error) {
      if (error instanceof LimitError) return false; // no plan left
      throw error;
    }
  };
  add(4 * profile.units, false);
  add(Math.max(1, Math.round(profile.units / 4)), false);
  while (plans.length < count && add(profile.units, true));
  return plans;
}
