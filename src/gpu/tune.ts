// Tile plans by measurement: the cost model (tiles.ts) names a few candidate plans for
// each matrix product, and the device times them on the product's real shape; the
// fastest is taken and kept per adapter (src/measurements.ts: localStorage, or a file in
// Node), so a later run on the same adapter times nothing. The cost model's choice is the
// first candidate and stays unless another is clearly faster, and it is the plan wherever
// nothing is measured (tuning off, a product too small to matter, a failure). The unit
// count of the adapter table only ranks the candidates, which are taken for four times
// and a quarter its units too: an adapter the table does not know, or whose name is
// masked (as Chrome may), gets plans that fit it.

import { GROUP0, layerUniform, STEP_UNIFORM_BYTES, type KernelName } from './abi.ts';
import type { GpuProfile } from './adapters.ts';
import type { TrainingSetting } from './constants.ts';
import { bindGroupLayout, createForwardKernels, FINISH_THREADS, forwardProducts, layerPlans, matmul, stepBindGroupLayout, stepProducts, type ForwardKernels, type LayerPlans, type MatmulKernel, type PlannedProduct } from './kernels.ts';
import { Pacer } from './pacing.ts';
import { shaderSource } from './shaders.ts';
import { candidatePlans, describePlan, planConstants, samePlan, type MatmulPlan, type MatmulShape } from './tiles.ts';
import { keep, readKept } from '../measurements.ts';
import { paramLayout } from '../model/layout.ts';
import type { ModelSpec } from '../model/model.ts';
import { TUNE_DEFAULTS, tunes, type TuneMode, type TuneSettings } from './tune-mode.ts';

/** Bumped when what a kept plan means changes (tile_product.wgsl's own changes are caught by the hash of its source). */
const TUNE_VERSION = 2; // 2: a candidate must win the rounds too (clearlyFaster)
/**
 * How much faster than the cost model's choice a candidate must be timed to replace it, at
 * the median (less is noise), and in how many of the interleaved rounds: all but a quarter
 * (a round runs every candidate once, so the machine's drift from round to round cancels).
 */
const TUNE_MARGIN = 1.03;
const ROUNDS_LOST = 1 / 4;
/** Plans the cost model offers a product that a kept plan may be (candidatePlans' first ones). */
const KEPT_OFFERED = 8;
/** Timed runs of each candidate (after one to warm up), fewer where a run is slow, interleaved across candidates. */
const MAX_RUNS = 7;
const MIN_RUNS = 3;
/** A timed pass lasts about this long at least, in milliseconds, a short product repeated in it up to MAX_REPEATS times. */
const MIN_PASS_MS = 2;
const MAX_REPEATS = 32;
/** About how long the timed runs of one product may take, in milliseconds. */
const TIMING_BUDGET_MS = 2_000;
/** The binding of batch_rows (u32 row indices) in the kernels that gather a batch's rows (abi.ts GROUP0). */
const BATCH_ROWS_BINDING = 2;
const GATHERING: ReadonlySet<KernelName> = new Set(['forward', 'weight_update']);

/** One product's plan, and where it came from. */
export interface TunedProduct {
  label: string;
  shape: MatmulShape;
  /** The cost model's choice. */
  model: MatmulPlan;
  /** The plan taken. */
  plan: MatmulPlan;
  /** `measured` now, or `kept` from an earlier measurement on this adapter. */
  source: 'measured' | 'kept';
  /** Each candidate's median time in milliseconds, the cost model's first. */
  timings: { plan: string; ms: number }[];
}

/** How a trainer's plans are tuned, and the products tuned so far. */
export interface Tuning {
  settings: TuneMode | TuneSettings | undefined;
  products: TunedProduct[];
}

/** A training step's plans (layerPlans), those of the products `settings` tunes measured or kept. */
export async function tunedLayerPlans(device: GPUDevice, spec: ModelSpec, batch: number, profile: GpuProfile, setting: TrainingSetting, settings: TuneMode | TuneSettings | undefined): Promise<{ plans: LayerPlans[]; tuning: Tuning }> {
  const tuned = await tunePlans(device, spec, batch, profile, stepProducts(spec, batch, setting), settings);
  return { plans: layerPlans(spec, batch, profile, device, setting, tuned.plans), tuning: { settings, products: tuned.report } };
}

/** Prediction's forward kernels (createForwardKernels), their plans tuned as `tuning` says; the products tuned are added to it. */
export async function tunedForwardKernels(device: GPUDevice, spec: ModelSpec, batch: number, profile: GpuProfile, capture: boolean, tuning: Tuning): Promise<ForwardKernels> {
  const tuned = await tunePlans(device, spec, batch, profile, forwardProducts(spec, batch, capture), tuning.settings);
  tuning.products.push(...tuned.report);
  return createForwardKernels(device, spec, batch, profile, capture, tuned.plans);
}

/** What the store keeps of a product's tuning. */
interface KeptTuning {
  plan: Record<string, number>; // planConstants
  timings: { plan: Record<string, number>; ms: number }[];
}

function isKeptTuning(value: unknown): value is KeptTuning {
  const constants = (plan: unknown) => typeof plan === 'object' && plan !== null && ['WG_X', 'WG_Y', 'GM', 'GN', 'TILE_K', 'SPLIT_K', 'BUFFERS'].every((name) => Number.isInteger((plan as Record<string, unknown>)[name]) && ((plan as Record<string, number>)[name] ?? 0) > 0);
  const kept = value as KeptTuning;
  return typeof value === 'object' && value !== null && constants(kept.plan) && Array.isArray(kept.timings) && kept.timings.every((timing) => constants(timing?.plan) && Number.isFinite(timing.ms) && timing.ms >= 0);
}

function fromConstants(c: Record<string, number>): MatmulPlan {
  return { wgX: c.WG_X, wgY: c.WG_Y, gm: c.GM, gn: c.GN, tileK: c.TILE_K, buffers: c.BUFFERS, splitK: c.SPLIT_K, kSplit: 0, tileM: 4 * c.WG_Y * c.GM, tileN: 4 * c.WG_X * c.GN, groups: [0, 0, 0] };
}

/** FNV-1a of a text, in hex: a kernel's source, so that a changed kernel is tuned again. */
function hash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** The adapter as the store knows it: what it says of itself, and the limits the plans are bounded by. */
export function tuneAdapterKey(device: GPUDevice): string {
  const info = (device as { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  const name = info ? [info.vendor, info.architecture, info.device, info.description].join('/') : 'unknown adapter';
  const l = device.limits;
  return `${name} limits ${[l.maxComputeInvocationsPerWorkgroup, l.maxComputeWorkgroupStorageSize, l.maxComputeWorkgroupsPerDimension, l.maxComputeWorkgroupSizeX, l.maxComputeWorkgroupSizeY].join('/')}`;
}

const sortedConstants = (constants: Record<string, number>) => JSON.stringify(Object.entries(constants).sort(([a], [b]) => a.localeCompare(b)));

async function productKey(device: GPUDevice, product: PlannedProduct, constants: Record<string, number>): Promise<string> {
  const { m, n, k } = product.shape;
  const options = `${product.options.noSplit ? ' no split' : ''}${product.options.extraColumns ? ` +${product.options.extraColumns} columns` : ''}`;
  return `tune v${TUNE_VERSION} ${tuneAdapterKey(device)} ${product.name} ${hash(await shaderSource(product.name))} ${sortedConstants(constants)} ${m}×${n}×${k}${options}`;
}

/**
 * The plan of each product (by label): kept ones read, the rest tuned now where the
 * settings ask (all candidates compiled at once, then timed product by product), and
 * kept. Never throws for a candidate: a plan that fails to compile or run is passed over,
 * and the cost model's stands.
 */
export async function tunePlans(device: GPUDevice, spec: ModelSpec, batch: number, profile: GpuProfile, products: readonly PlannedProduct[], given: TuneSettings | TuneMode = {}): Promise<{ plans: Map<string, MatmulPlan>; report: TunedProduct[] }> {
  const settings = { ...TUNE_DEFAULTS, ...(typeof given === 'string' ? { mode: given } : Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined))) };
  const plans = new Map<string, MatmulPlan>();
  const report: TunedProduct[] = [];
  if (!tunes(settings.mode, profile)) return { plans, report };
  const wanted = products.filter(({ shape }) => 2 * shape.m * shape.n * shape.k >= settings.minFlops);
  const toMeasure: { product: PlannedProduct; constants: Record<string, number>; key: string; candidates: MatmulPlan[]; compiled: Promise<(MatmulKernel | undefined)[]> }[] = [];
  for (const product of wanted) {
    const constants = product.constants();
    // A kept plan stands while the cost model still offers it (among more candidates than are timed: a run that timed more may have kept it).
    const offered = candidatePlans(product.shape, profile, product.options, Math.max(settings.candidates, KEPT_OFFERED));
    const candidates = offered.slice(0, Math.max(1, settings.candidates));
    const key = await productKey(device, product, constants);
    const found = readKept(key, isKeptTuning);
    const plan = found && offered.find((candidate) => samePlan(candidate, fromConstants(found.plan)));
    if (found && plan) {
      plans.set(product.label, plan);
      report.push({ label: product.label, shape: product.shape, model: candidates[0], plan, source: 'kept', timings: found.timings.map((t) => ({ plan: describePlan(fromConstants(t.plan)), ms: t.ms })) });
      continue;
    }
    if (candidates.length < 2) continue;
    // Compiles start now, for every product together; timings wait for them one product at a time.
    const compiled = Promise.all(candidates.map((plan) => matmul(device, product.name, plan, constants, product.label, product.finishes).catch(() => undefined)));
    toMeasure.push({ product, constants, key, candidates, compiled });
  }
  const measured: Record<string, KeptTuning> = {};
  for (const { product, key, candidates, compiled } of toMeasure) {
    const kernels = await compiled;
    const rounds = await timeCandidates(device, spec, batch, product, kernels).catch(() => undefined);
    if (!rounds || rounds[0] === undefined) continue; // the cost model's own plan failed: leave it to report itself
    const ms = rounds.map((runs) => runs && median(runs));
    let best = 0;
    rounds.forEach((runs, c) => {
      if (runs !== undefined && clearlyFaster(runs, rounds[0]!) && ms[c]! < ms[best]!) best = c;
    });
    const timed = candidates.flatMap((plan, c) => (ms[c] === undefined ? [] : [{ plan, ms: ms[c]! }]));
    plans.set(product.label, candidates[best]);
    report.push({ label: product.label, shape: product.shape, model: candidates[0], plan: candidates[best], source: 'measured', timings: timed.map((t) => ({ plan: describePlan(t.plan), ms: t.ms })) });
    measured[key] = { plan: planConstants(candidates[best]), timings: timed.map((t) => ({ plan: planConstants(t.plan), ms: t.ms })) };
  }
  if (Object.keys(measured).length > 0) keep(measured);
  return { plans, report };
}

function median(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
}

/** Whether a candidate's timed runs beat the cost model's plan's, round by round: by TUNE_MARGIN at the median, and in all but ROUNDS_LOST of the rounds. */
export function clearlyFaster(runs: readonly number[], model: readonly number[]): boolean {
  const won = runs.filter((ms, round) => ms < model[round]).length;
  return median(runs) * TUNE_MARGIN < median(model) && won >= runs.length - Math.floor(runs.length * ROUNDS_LOST);
}

/**
 * The times in milliseconds of each compiled candidate's runs, round by round (undefined
 * where it did not compile) on the product's shape, with buffers of its own: zeros, but for the batch's
 * row indices (0 … B − 1) and the Layer uniform of its layer. Runs are interleaved across
 * candidates, so a change in the machine's load falls on all alike; timed by timestamp
 * queries where the device has them, else by the wall clock around each run.
 */
async function timeCandidates(device: GPUDevice, spec: ModelSpec, batch: number, product: PlannedProduct, kernels: (MatmulKernel | undefined)[]): Promise<(number[] | undefined)[]> {
  const { shape } = product;
  const layout = paramLayout(spec);
  const widest = Math.max(spec.inputSize, ...spec.layers.map((layer) => layer.units));
  const maxSplit = Math.max(...kernels.map((kernel) => kernel?.plan.splitK ?? 1));
  // Every storage binding holds the most any of them needs: the parameters, a split product's partial sums, the batch's values.
  const floats = Math.max(layout.size, (maxSplit + 1) * (shape.m + 1) * (shape.n + 1), (maxSplit + 1) * batch * widest);
  const bytes = Math.min(16 * Math.ceil(floats / 4), device.limits.maxStorageBufferBindingSize);
  const owned: GPUBuffer[] = [];
  const buffer = (size: number, usage: number) => {
    const made = device.createBuffer({ label: `tuning ${product.label}`, size, usage });
    owned.push(made);
    return made;
  };
  try {
    const entries = GROUP0[product.name].map((kind, binding): GPUBindGroupEntry => {
      if (kind === 'uniform') {
        const packed = layerUniform(spec, layout, product.l, batch, product.training);
        const uniform = buffer(packed.byteLength, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
        device.queue.writeBuffer(uniform, 0, packed);
        return { binding, resource: { buffer: uniform } };
      }
      const storage = buffer(bytes, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST);
      if (binding === BATCH_ROWS_BINDING && GATHERING.has(product.name)) device.queue.writeBuffer(storage, 0, Uint32Array.from({ length: batch }, (_, row) => row));
      return { binding, resource: { buffer: storage } };
    });
    const group = device.createBindGroup({ label: `tuning ${product.label}`, layout: bindGroupLayout(device, product.name), entries });
    const stepGroup = device.createBindGroup({ label: 'tuning step', layout: stepBindGroupLayout(device), entries: [{ binding: 0, resource: { buffer: buffer(STEP_UNIFORM_BYTES, GPUBufferUsage.UNIFORM), size: STEP_UNIFORM_BYTES } }] });
    const finishGroups = Math.min(device.limits.maxComputeWorkgroupsPerDimension, Math.ceil((shape.m * (shape.n + (product.options.extraColumns ?? 0))) / FINISH_THREADS));
    const record = (pass: GPUComputePassEncoder, kernel: MatmulKernel, repeats: number) => {
      pass.setBindGroup(0, group);
      pass.setBindGroup(1, stepGroup, [0]);
      for (let r = 0; r < repeats; r++) {
        pass.setPipeline(kernel.main.pipeline);
        pass.dispatchWorkgroups(...kernel.plan.groups);
        if (kernel.finish) {
          pass.setPipeline(kernel.finish.pipeline);
          pass.dispatchWorkgroups(finishGroups, 1, 1);
        }
      }
    };
    const live = kernels.flatMap((kernel, c) => (kernel ? [{ kernel, c }] : []));
    // One run of each to warm up, timed together by the wall clock: how many timed runs fit the budget.
    const pacer = new Pacer();
    const started = performance.now();
    const warm = device.createCommandEncoder({ label: `tuning ${product.label}` });
    for (const { kernel } of live) {
      const pass = warm.beginComputePass();
      record(pass, kernel, 1);
      pass.end();
    }
    device.queue.submit([warm.finish()]);
    await pacer.wait(1, started, () => device.queue.onSubmittedWorkDone());
    const warmMs = Math.max(performance.now() - started, 1e-3);
    const runs = Math.max(MIN_RUNS, Math.min(MAX_RUNS, Math.floor(TIMING_BUDGET_MS / warmMs)));
    // A short product is run several times a pass: a pass of under a millisecond is near the resolution of some timers (SwiftShader's: 65 µs).
    const repeats = Math.max(1, Math.min(MAX_REPEATS, Math.round(MIN_PASS_MS / (warmMs / live.length))));
    const times = live.map(() => [] as number[]);
    const pacers = live.map(() => new Pacer()); // each learns its own candidate's time
    if (device.features.has('timestamp-query')) {
      const count = 2 * runs * live.length;
      const querySet = device.createQuerySet({ type: 'timestamp', count });
      try {
        const resolved = buffer(8 * count, GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC); // (runs, candidates, 2) u64
        const readback = buffer(8 * count, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
        const commands = device.createCommandEncoder({ label: `tuning ${product.label}` });
        for (let run = 0, q = 0; run < runs; run++) {
          for (const { kernel } of live) {
            const pass = commands.beginComputePass({ timestampWrites: { querySet, beginningOfPassWriteIndex: q++, endOfPassWriteIndex: q++ } });
            record(pass, kernel, repeats);
            pass.end();
          }
        }
        commands.resolveQuerySet(querySet, 0, count, resolved, 0);
        commands.copyBufferToBuffer(resolved, 0, readback, 0, 8 * count);
        const submitted = performance.now();
        device.queue.submit([commands.finish()]);
        await pacer.wait(runs, submitted, () => readback.mapAsync(GPUMapMode.READ));
        const stamps = new BigUint64Array(readback.getMappedRange());
        for (let run = 0, q = 0; run < runs; run++, q += 2 * live.length) live.forEach((_, i) => times[i].push(Number(stamps[q + 2 * i + 1] - stamps[q + 2 * i]) / 1e6 / repeats));
        readback.unmap();
      } finally {
        querySet.destroy();
      }
    } else {
      for (let run = 0; run < runs; run++) {
        for (const [i, { kernel }] of live.entries()) {
          const commands = device.createCommandEncoder({ label: `tuning ${product.label}` });
          const pass = commands.beginComputePass();
          record(pass, kernel, repeats);
          pass.end();
          const submitted = performance.now();
          device.queue.submit([commands.finish()]);
          await pacers[i].wait(1, submitted, () => device.queue.onSubmittedWorkDone());
          times[i].push((performance.now() - submitted) / repeats);
        }
      }
    }
    const rounds: (number[] | undefined)[] = kernels.map(() => undefined);
    live.forEach(({ c }, i) => (rounds[c] = times[i]));
    return rounds;
  } finally {
    for (const made of owned) made.destroy();
  }
}
