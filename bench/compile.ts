// `npm run bench:compile`: which pipelines a user waits for, and how long each compiles,
// on WebGPU: a first `fit` (784-128-10 relu/softmax, batch 32, SGD), then a `fit` with a
// new batch size (64), then 32 more steps at that batch, timed per step on the wall clock
// and in the process's CPU time (what the plans it took cost a step), then a `fit` with a new optimizer (Adam), then a `predict`; and, in
// a process of its own, a first `predict` on a network never fitted. Every run is a fresh
// process (the device's cache of pipelines starts empty), the runs interleaved across
// the libraries given (`--library dist,../other/dist`: compare two builds side by side).
//
// A pipeline's own time runs from when it was asked for, or from the end of the compile
// before it, to its end (compiles overlap: the sum of own times is the time spent waiting
// for compiles). Printed per call: the pipelines compiled and the median of each one's
// time, the median of their sum, and the median of the call's whole time. Each run's
// result is checked: the losses finite, every predicted row a distribution (softmax).

import { spawnSync } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { CompileTimes } from './compile-times.ts';
import { positiveInteger } from './flags.ts';

type NodeEntry = typeof import('webgpu-backprop/node');

const DESCRIPTION = { inputSize: 784, seed: 1, loss: 'cross-entropy', layers: [{ units: 128, activation: 'relu' }, { units: 10, activation: 'softmax' }] } as const;
const ROWS = 256;
/** Epochs of the timed steps at batch 64 (4 steps each). */
const STEP_EPOCHS = 8;
/** The calls of each scenario, in order; each scenario runs in a process of its own. */
const SCENARIOS = {
  fit: ['first fit (batch 32, sgd)', 'fit, new batch size (64)', 'steps at batch 64, compiled', 'fit, new optimizer (adam)', 'predict after fit'],
  predict: ['first predict'],
} as const;
type Scenario = keyof typeof SCENARIOS;

interface CallResult {
  call: string;
  ms: number;
  compiles: { label: string; ms: number }[];
  /** Steps the call trained, where its time per step is the figure. */
  steps?: number;
  /** The process's CPU time in the call (SwiftShader's threads are the process's): steadier than the wall clock on a loaded machine. */
  cpuMs: number;
}

/** Inputs in [−1, 1) and one-hot targets, from a fixed generator. */
function data(): { x: Float32Array; y: Float32Array } {
  let state = 12345;
  const random = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  const x = Float32Array.from({ length: ROWS * 784 }, random);
  const y = new Float32Array(ROWS * 10);
  for (let r = 0; r < ROWS; r++) y[r * 10 + (Math.floor((random() + 1) * 1e6) % 10)] = 1;
  return { x, y };
}

/** One scenario in this process: each call's time and the compiles it waited for. */
async function runScenario(scenario: Scenario, library: string): Promise<CallResult[]> {
  const compiles = new CompileTimes();
  compiles.timePipelines();
  const { Network } = (await import(library)) as NodeEntry;
  const { x, y } = data();
  const results: CallResult[] = [];
  const timed = async <T>(call: string, work: () => Promise<T>): Promise<T> => {
    compiles.clear();
    const start = performance.now();
    const cpu = process.cpuUsage();
    const value = await work();
    const ms = performance.now() - start;
    const used = process.cpuUsage(cpu);
    await compiles.settled();
    results.push({ call, ms, cpuMs: (used.user + used.system) / 1000, compiles: compiles.ownTimes(start) });
    return value;
  };
  const checkRows = (rows: number[][]) => {
    for (const row of rows) if (!(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-4)) throw new Error(`a predicted row sums to ${row.reduce((a, b) => a + b, 0)}, not 1`);
  };
  const checkLoss = (history: { history: { loss?: number[] } }) => {
    if (!history.history.loss?.length || !history.history.loss.every(Number.isFinite)) throw new Error('a loss is not finite');
  };
  const net = await Network.create(DESCRIPTION, { backend: 'webgpu' });
  const rows = Array.from({ length: 16 }, (_, r) => Array.from(x.subarray(r * 784, (r + 1) * 784)));
  const [first, newBatch, steps, newOptimizer, predictAfter] = SCENARIOS.fit;
  if (scenario === 'predict') {
    checkRows(await timed(SCENARIOS.predict[0], () => net.predict(rows)));
  } else {
    checkLoss(await timed(first, () => net.fit(x, y, { epochs: 1, batchSize: 32, optimizer: 'sgd', learningRate: 0.05 })));
    checkLoss(await timed(newBatch, () => net.fit(x, y, { epochs: 1, batchSize: 64, optimizer: 'sgd', learningRate: 0.05 })));
    // The same trainer again (same data and options): its steps alone, on the plans the new batch size took.
    const history = await timed(steps, () => net.fit(x, y, { epochs: STEP_EPOCHS, batchSize: 64, optimizer: 'sgd', learningRate: 0.05 }));
    checkLoss(history);
    results.at(-1)!.steps = history.steps;
    checkLoss(await timed(newOptimizer, () => net.fit(x, y, { epochs: 1, batchSize: 64, optimizer: 'adam', learningRate: 0.001 })));
    checkRows(await timed(predictAfter, () => net.predict(rows)));
  }
  net.dispose();
  return results;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

const childAt = process.argv.indexOf('--child');
if (childAt >= 0) {
  console.log(JSON.stringify(await runScenario(process.argv[childAt + 1] as Scenario, process.argv[childAt + 2])));
  process.exit(0);
}

const program = new Command('bench:compile')
  .option('--reps <n>', 'runs of each scenario per library, each in a fresh process', positiveInteger, 3)
  .option('--library <dirs>', "built libraries to compare, comma-separated: each a dist/ folder ('package': the installed name)", 'package')
  .option('--out-dir <dir>', 'where to write the results', 'bench/results')
  .parse();
const flags = program.opts<{ reps: number; library: string; outDir: string }>();
const libraries = flags.library.split(',').map((dir) => (dir === 'package' ? { name: 'package', url: 'webgpu-backprop/node' } : { name: dir, url: pathToFileURL(resolve(dir, 'node.js')).href }));

const loadBefore = loadavg();
const runs = new Map<string, CallResult[][]>(); // by library and scenario
for (let rep = 0; rep < flags.reps; rep++) {
  for (const scenario of Object.keys(SCENARIOS) as Scenario[]) {
    // Interleaved, the order alternating, so drift in the machine's load hits every library alike.
    for (const library of rep % 2 === 0 ? libraries : [...libraries].reverse()) {
      const run = spawnSync(process.execPath, [...process.execArgv, process.argv[1], '--child', scenario, library.url], { encoding: 'utf8', maxBuffer: 1 << 26 });
      if (run.status !== 0) {
        console.error(`bench:compile: the ${scenario} run of ${library.name} failed:\n${run.stderr.trim()}`);
        process.exit(1);
      }
      const key = `${library.name} ${scenario}`;
      runs.set(key, [...(runs.get(key) ?? []), JSON.parse(run.stdout.trim().split('\n').at(-1)!) as CallResult[]]);
      process.stderr.write('.');
    }
  }
}
process.stderr.write('\n');

const lines = [
  `# Pipelines compiled per call: ${DESCRIPTION.inputSize}-128-10 relu/softmax, ${ROWS} rows, one epoch per fit`,
  '',
  `Median of ${flags.reps} fresh processes per library, runs interleaved; load average (1 min) before ${loadBefore[0].toFixed(2)}, after ${loadavg()[0].toFixed(2)}; ${cpus()[0]?.model ?? 'unknown'} × ${cpus().length}; ${new Date().toISOString()}.`,
];
const summary: string[] = ['', '| call | ' + libraries.map((l) => `${l.name}: pipelines, compiling ms, call ms`).join(' | ') + ' |', '|---|' + libraries.map(() => '---|').join('')];
for (const scenario of Object.keys(SCENARIOS) as Scenario[]) {
  SCENARIOS[scenario].forEach((call, c) => {
    const cells: string[] = [];
    for (const library of libraries) {
      const results = runs.get(`${library.name} ${scenario}`)!.map((run) => run[c]);
      const labels = [...new Set(results.flatMap((r) => r.compiles.map((compile) => compile.label)))].sort();
      const total = median(results.map((r) => r.compiles.reduce((sum, compile) => sum + compile.ms, 0)));
      const count = median(results.map((r) => r.compiles.length));
      const callMs = median(results.map((r) => r.ms));
      const perStep = results[0].steps ? `; ${median(results.map((r) => r.ms / r.steps!)).toFixed(1)} ms a step (${median(results.map((r) => r.cpuMs / r.steps!)).toFixed(1)} ms of CPU)` : '';
      cells.push(`${count}, ${total.toFixed(0)}, ${callMs.toFixed(0)}${perStep}`);
      lines.push('', `## ${call} — ${library.name}`, '', `${count} pipelines, compiling ${total.toFixed(0)} ms (median of the sums), the call ${callMs.toFixed(0)} ms${perStep}`);
      for (const label of labels) {
        const times = results.map((r) => r.compiles.filter((compile) => compile.label === label).reduce((sum, compile) => sum + compile.ms, 0));
        lines.push(`- ${label}: ${median(times).toFixed(0)} ms`);
      }
    }
    summary.push(`| ${call} | ${cells.join(' | ')} |`);
  });
}
const text = [...lines.slice(0, 3), ...summary, ...lines.slice(3)].join('\n');
console.log(text);
mkdirSync(flags.outDir, { recursive: true });
const stem = join(flags.outDir, `${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}-compile`);
for (const [path, content] of [
  [`${stem}.json`, JSON.stringify({ libraries, reps: flags.reps, runs: Object.fromEntries(runs) }, null, 2)],
  [`${stem}.md`, `${text}\n`],
] as const) {
  writeFileSync(`${path}.tmp`, content);
  renameSync(`${path}.tmp`, path);
}
