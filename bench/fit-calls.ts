// `npm run bench:fit`: what `fit` costs when called in a loop of small calls (one epoch
// each, as TensorFlow.js users often write it) against one call of the same steps, on
// WebGPU. Both runs train the same steps on the same schedule, so they must end with the
// same weights; each is also checked against the float64 reference.
//
// Printed per network: the median time of each way over interleaved repetitions, min and
// max, and the ratio of the medians.

import { Command } from 'commander';
import { median } from 'webgpu-backprop/bench';
import { Network, type ModelFile } from 'webgpu-backprop/node';
import { adapterName, requestAdapter } from 'webgpu-backprop/trainers';
import { positiveInteger } from './flags.ts';

const program = new Command('bench:fit')
  .option('--repetitions <n>', 'timed repetitions of each way (interleaved)', positiveInteger, 7)
  .option('--epochs <n>', 'epochs per run: one call of this many, or this many calls of one', positiveInteger, 40)
  .parse();
const { repetitions, epochs } = program.opts<{ repetitions: number; epochs: number }>();

interface Case {
  name: string;
  description: ModelFile;
  rows: number;
  batchSize: number;
}

const CASES: Case[] = [
  // Article-sized: the fused kernel, a whole chunk in one dispatch.
  { name: '2-8-2 tanh/softmax, 256 rows, batch 8 (fused kernel)', description: { inputSize: 2, seed: 1, loss: 'cross-entropy', layers: [{ units: 8, activation: 'tanh' }, { units: 2, activation: 'softmax' }] }, rows: 256, batchSize: 8 },
  // Wider: the layered kernels.
  { name: '64-128-10 relu/softmax, 1024 rows, batch 32 (layered kernels)', description: { inputSize: 64, seed: 1, loss: 'cross-entropy', layers: [{ units: 128, activation: 'relu' }, { units: 10, activation: 'softmax' }] }, rows: 1024, batchSize: 32 },
];

/** Inputs in [−1, 1) and one-hot targets, from a fixed generator. */
function data(inputs: number, outputs: number, rows: number): { x: Float32Array; y: Float32Array } {
  let state = 12345;
  const random = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  const x = Float32Array.from({ length: rows * inputs }, random);
  const y = new Float32Array(rows * outputs);
  for (let r = 0; r < rows; r++) y[r * outputs + (Math.floor((random() + 1) * 1e6) % outputs)] = 1;
  return { x, y };
}

const adapter = await requestAdapter();
console.log(`WebGPU adapter: ${adapterName(adapter)}; ${repetitions} interleaved repetitions of ${epochs} epochs each way`);

for (const c of CASES) {
  const { x, y } = data(c.description.inputSize!, c.description.layers.at(-1)!.units!, c.rows);
  const options = { batchSize: c.batchSize, optimizer: 'sgd' as const, learningRate: 0.05, shuffle: true, seed: 3 };
  const times = { loop: [] as number[], once: [] as number[] };
  const finals: Record<'loop' | 'once', Float64Array | undefined> = { loop: undefined, once: undefined };
  const run = async (way: 'loop' | 'once') => {
    const net = await Network.create(c.description, { backend: 'webgpu' });
    await net.fit(x, y, { ...options, epochs: 1 }); // compiles, uploads: not timed
    const start = performance.now();
    if (way === 'once') await net.fit(x, y, { ...options, epochs });
    else for (let e = 0; e < epochs; e++) await net.fit(x, y, { ...options, epochs: 1 });
    times[way].push(performance.now() - start);
    finals[way] = net.params();
    net.dispose();
  };
  for (let k = 0; k < repetitions; k++) {
    // Interleaved, the order alternating, so drift in the machine's load hits both ways alike.
    for (const way of k % 2 === 0 ? (['loop', 'once'] as const) : (['once', 'loop'] as const)) await run(way);
  }

  // Checks: the two ways train the same steps on the same schedule (batches divide the rows),
  // so their weights agree; and they agree with the float64 reference.
  const reference = await Network.create(c.description, { backend: 'cpu' });
  await reference.fit(x, y, { ...options, epochs: epochs + 1 });
  const expected = reference.params();
  const worst = (values: Float64Array) => Math.max(...values.map((v, k) => Math.abs(v - expected[k]) / (1 + Math.abs(expected[k]))));
  const loopMatchesOnce = finals.loop!.every((v, k) => v === finals.once![k]);
  const steps = ((epochs * c.rows) / c.batchSize) | 0;
  console.log(`\n${c.name}: ${steps} timed steps`);
  for (const way of ['once', 'loop'] as const) {
    const label = way === 'once' ? `one fit of ${epochs} epochs` : `${epochs} fits of one epoch`;
    console.log(`  ${label.padEnd(24)} median ${median(times[way]).toFixed(1)} ms (min ${Math.min(...times[way]).toFixed(1)}, max ${Math.max(...times[way]).toFixed(1)}); ${((1000 * steps) / median(times[way])).toFixed(0)} steps/s`);
  }
  console.log(`  ratio loop / once: ${(median(times.loop) / median(times.once)).toFixed(2)}`);
  console.log(`  check: both ways end with ${loopMatchesOnce ? 'the same' : 'DIFFERENT'} weights; largest difference from the float64 reference ${worst(finals.once!).toExponential(1)} (relative)`);
  // A sanity bound, not a precision claim: float32 rounding over these steps leaves about
  // 1e-6 (relative, as printed); the bound catches a run gone wrong, while the exact
  // comparison of the two ways catches a schedule that differs between them.
  if (!loopMatchesOnce || worst(finals.once!) > 1e-3) process.exitCode = 1;
}
