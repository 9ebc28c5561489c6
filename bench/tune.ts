// `npm run bench:tune`: tile plans by measurement against the cost model's, on the sweep
// shapes, W2 and W3. For each workload: a trainer with the cost model's plans (`tune:
// 'off'`) and one that tunes every product (`tune: 'on'`, no FLOPs threshold), each
// product's two plans and the candidates' timings, and how long the tuning took (its
// compiles included); then both trained per step in one interleaved run (src/bench/
// suite.ts: medians of repetitions, every run checked against the float64 reference).
// Tuning starts from an empty store (a file of its own), as a first run on an adapter
// does; the timed trainers read what it kept. A workload the fused kernel runs has no
// tile plans: it is listed, not timed.

import { Command, Option } from 'commander';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { namesFrom, positiveInteger, positiveNumber } from './flags.ts';
import { nodeGpu } from 'webgpu-backprop/node';
import { adapterName, describeAdapter, describePlan, GpuTrainer, openDevice, requestAdapter, type GpuTrainerOptions, type MatmulPlan } from 'webgpu-backprop/trainers';
import { DEFAULT_SUITE_OPTIONS, measureWorkload, QUICK_SUITE_OPTIONS, STANDARD_WORKLOADS, sweepWorkloads, webgpuBackend, type Measurement, type Workload } from 'webgpu-backprop/bench';

const program = new Command('bench:tune')
  .addOption(new Option('--workloads <names>', "comma-separated: sweep, W2, W3").argParser(namesFrom(['sweep', 'W2', 'W3'])).default(['sweep', 'W2', 'W3'], 'sweep,W2,W3'))
  .option('--candidates <n>', 'plans timed per product', positiveInteger, 3)
  .option('--reps <n>', 'timed repetitions per trainer', positiveInteger, DEFAULT_SUITE_OPTIONS.reps)
  .option('--rep-ms <ms>', 'a repetition runs at least this long', positiveNumber, DEFAULT_SUITE_OPTIONS.repMs)
  .option('--quick', 'three repetitions of a quarter second: a glance, not figures to quote')
  .option('--out-dir <dir>', 'where to write the results', 'bench/results')
  .parse();
const flags = program.opts<{ workloads: string[]; candidates: number; reps: number; repMs: number; quick?: boolean; outDir: string }>();

// A store of its own: tuning measures from scratch, and the user's kept measurements stay as they were.
const storeDir = mkdtempSync(join(tmpdir(), 'bench-tune-'));
process.env.WEBGPU_BACKPROP_CALIBRATION = join(storeDir, 'calibration.json');
// The tile choice reads the CPU's threads from navigator (as in a browser).
Object.defineProperty(globalThis, 'navigator', { value: { gpu: await nodeGpu(), hardwareConcurrency: cpus().length }, configurable: true });
const loadBefore = loadavg();
const adapter = await requestAdapter();
const device = await openDevice(adapter);
const adapterText = adapterName(adapter);
const OFF: GpuTrainerOptions = { tune: 'off' };
const TUNED: GpuTrainerOptions = { tune: { mode: 'on', minFlops: 0, candidates: flags.candidates } };
const suite = { ...(flags.quick ? QUICK_SUITE_OPTIONS : { reps: flags.reps, repMs: flags.repMs }), log: (line: string) => console.error(`  ${line}`) };

const workloads: Workload[] = [
  ...(flags.workloads.includes('sweep') ? sweepWorkloads() : []),
  ...STANDARD_WORKLOADS.filter((workload) => flags.workloads.includes(workload.name)),
];

interface ProductRow {
  label: string;
  shape: string;
  model: string;
  tuned: string;
  /** Each candidate's median ms, the cost model's first. */
  timings: { plan: string; ms: number }[];
}

interface WorkloadResult {
  workload: string;
  title: string;
  path: 'layered' | 'fused';
  /** Milliseconds to create the tuning trainer: its compiles and its timings. */
  tuneMs?: number;
  products: ProductRow[];
  modelPlans?: Measurement;
  tunedPlans?: Measurement;
}

const plansOf = (trainer: GpuTrainer) => new Map(trainer.plan.filter((dispatch) => dispatch.plan).map((dispatch) => [dispatch.label, dispatch.plan as MatmulPlan]));
const fmt = (ms: number | undefined) => (ms === undefined || Number.isNaN(ms) ? '–' : ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));

const results: WorkloadResult[] = [];
for (const workload of workloads) {
  console.error(`${workload.name} (${workload.title})`);
  const { model, dataset, options } = workload.build();
  const untuned = await GpuTrainer.create(device, model, dataset, options, { capture: false, ...OFF });
  const path = untuned.path;
  if (path === 'fused') {
    untuned.dispose();
    results.push({ workload: workload.name, title: workload.title, path, products: [] });
    continue;
  }
  const started = performance.now();
  const tuning = await GpuTrainer.create(device, model, dataset, options, { capture: false, ...TUNED });
  const tuneMs = performance.now() - started;
  const before = plansOf(untuned);
  const after = plansOf(tuning);
  const products = tuning.tuning.products.map((product) => ({
    label: product.label,
    shape: `${product.shape.m}×${product.shape.n}×${product.shape.k}`,
    model: describePlan(before.get(product.label)!),
    tuned: describePlan(after.get(product.label)!),
    timings: product.timings,
  }));
  untuned.dispose();
  tuning.dispose();
  const backends = [
    { ...webgpuBackend(device, adapterText, OFF), name: 'cost model plans' },
    { ...webgpuBackend(device, adapterText, TUNED), name: 'tuned plans' },
  ];
  const [modelPlans, tunedPlans] = await measureWorkload(workload, backends, suite);
  results.push({ workload: workload.name, title: workload.title, path, tuneMs, products, modelPlans, tunedPlans });
}
rmSync(storeDir, { recursive: true, force: true });

const stepRow = (r: WorkloadResult) => {
  if (r.path === 'fused') return `| ${r.workload} | ${r.title} | fused kernel: no tile plans | | | | |`;
  const changed = r.products.filter((p) => p.model !== p.tuned).length;
  const m = r.modelPlans!;
  const t = r.tunedPlans!;
  const check = m.check === 'passed' && t.check === 'passed' ? 'passed' : `cost model ${m.check}, tuned ${t.check}`;
  return `| ${r.workload} | ${r.title} | ${changed} of ${r.products.length} | ${fmt(m.msPerStep)} (${fmt(m.minMsPerStep)}–${fmt(m.maxMsPerStep)}) | ${fmt(t.msPerStep)} (${fmt(t.minMsPerStep)}–${fmt(t.maxMsPerStep)}) | ${(m.msPerStep / t.msPerStep).toFixed(2)}× | ${check} |`;
};
const productRows = results.flatMap((r) =>
  r.products.map((p) => `| ${r.workload} | ${p.label} | ${p.shape} | ${p.model} | ${p.model === p.tuned ? 'same' : p.tuned} | ${p.timings.map((t) => fmt(t.ms)).join(' / ')} |`),
);
const loadAfter = loadavg();
const markdown = [
  `# Tile plans: the cost model's and tuned, on ${adapterText}`,
  '',
  `${new Date().toISOString()}; ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}), load ${loadBefore.map((l) => l.toFixed(2)).join(' ')} before, ${loadAfter.map((l) => l.toFixed(2)).join(' ')} after.`,
  `Tuned: \`tune: { mode: 'on', minFlops: 0, candidates: ${flags.candidates} }\`, from an empty store. Per step: median of ${suite.reps} interleaved repetitions of at least ${suite.repMs} ms (min–max), every run checked against the float64 reference.`,
  describeAdapter(adapter).isFallbackAdapter ? 'A software adapter (SwiftShader): a CPU. These figures say nothing about a GPU.' : '',
  '',
  '## Per step',
  '',
  '| workload | network | plans changed | cost model ms/step | tuned ms/step | speed-up | check |',
  '|---|---|---|---|---|---|---|',
  ...results.map(stepRow),
  '',
  '## Per product',
  '',
  "Each candidate's median time in ms, the cost model's choice first; the tuned plan is the fastest of those that beat the cost model's by over 3% at the median and in all but a quarter of the interleaved rounds.",
  '',
  '| workload | product | M×N×K | cost model plan | tuned plan | candidates, ms |',
  '|---|---|---|---|---|---|',
  ...productRows,
  '',
  '## Tuning time',
  '',
  'Creating the tuning trainer, from an empty store: its candidate pipelines compiled, and timed.',
  '',
  '| workload | ms |',
  '|---|---|',
  ...results.filter((r) => r.tuneMs !== undefined).map((r) => `| ${r.workload} | ${fmt(r.tuneMs)} |`),
  '',
].join('\n');
console.log(markdown);

mkdirSync(flags.outDir, { recursive: true });
const stamp = new Date().toISOString().replace(/[:T]/g, '-').replace(/\..*$/, '');
const kind = describeAdapter(adapter).isFallbackAdapter ? 'swiftshader' : 'webgpu';
const base = join(flags.outDir, `${stamp}-tune-${kind}`);
for (const [path, content] of [[`${base}.md`, markdown], [`${base}.json`, `${JSON.stringify({ adapter: describeAdapter(adapter), cpus: cpus().length, loadBefore, loadAfter, candidates: flags.candidates, suite: { reps: suite.reps, repMs: suite.repMs }, results }, null, 2)}\n`]]) {
  writeFileSync(`${path}.tmp`, content);
  renameSync(`${path}.tmp`, path);
}
console.error(`bench:tune: wrote ${base}.md and .json`);
const failed = results.filter((r) => r.path === 'layered' && (r.modelPlans?.check !== 'passed' || r.tunedPlans?.check !== 'passed'));
device.destroy();
process.exit(failed.length > 0 ? 1 : 0);
