// A worked example: an article's network, its one training sample, its notation, and
// every number it prints. `traceRows` lays out one training step in the article's own
// symbols (net_h1, out_h1, E_total, ∂E_total/∂w5, w5⁺ …) from any trainer's buffers, so
// the reference and the GPU can be printed side by side and held to the article.

import { layerBuffer } from '../model/buffers.ts';
import { paramEntry, paramView } from '../model/layout.ts';
import { derivativeFromOut } from '../reference/activations.ts';
import type { Model } from '../model/network.ts';
import type { Trainer } from '../train/trainer.ts';
import { modelFromJson, type ModelFile } from '../io/model-file.ts';
import { datasetFromRows, type Dataset } from '../data/dataset.ts';
import type { TrainOptions } from '../train/trainer.ts';

export interface Notation {
  inputs: string[]; //      ['i1', 'i2']
  neurons: string[][]; //   per layer: [['h1', 'h2'], ['o1', 'o2']]
  /** weights[l][j][i]: the article's name for the weight from input i into neuron j of layer l. */
  weights: string[][][];
  /** biases[l][j]; articles that share one bias per layer repeat its name. */
  biases?: string[][];
  /** Templates: {n} is a neuron's name, {k} an output's 1-based number, {w} a weight's name. */
  symbols: { net: string; out: string; error: string; gradient: string; updated: string };
}

export interface PrintedValue {
  /** The symbol as the article writes it. */
  symbol: string;
  /** The digits exactly as the article prints them. */
  printed: string;
  /** The trace row holding this quantity, where its symbol differs from the article's. */
  row?: string;
  /** For quantities that are no trace row (a piece of a chain rule): how to compute it. */
  value?: (step: StepRecord) => number;
  /** Set where exact arithmetic disagrees with the printed digits: the anchor of the entry in docs/errata.md. */
  erratum?: string;
}

export interface WorkedCase {
  title: string;
  model: ModelFile;
  inputs: number[];
  targets: number[];
  learningRate: number;
  notation: Notation;
  /** How the article shortens its numbers: rounded, or truncated toward zero. */
  rounding: 'round' | 'truncate';
  printed: PrintedValue[];
  /** A long run the article reports on (article 001: 10,000 updates). */
  longRun?: number;
  /** The trace sections this case shows, where the article works through only part of a step. */
  sections?: string[];
}

export interface WorkedExample {
  name: string; // short name for the command line: mazur, hmkcode, lamsal, missinglink
  article: string; // its file number among the seed articles, e.g. '001'
  aliases: string[];
  title: string;
  author: string;
  cases: WorkedCase[];
}

/** The model, its one-sample dataset and the options of a worked case: online SGD, data order. */
export function caseSetup(example: WorkedCase): { model: Model; dataset: Dataset; options: TrainOptions } {
  return {
    model: modelFromJson(example.model, example.title),
    dataset: datasetFromRows([example.inputs], [example.targets]),
    options: { learningRate: example.learningRate, batchSize: 1, shuffle: false, seed: 1, optimizer: { kind: 'sgd' } },
  };
}

/** The buffers of one training step on a single sample, and what came after it. */
export class StepRecord {
  constructor(
    readonly model: Model,
    readonly input: Float64Array, //  (IN)
    readonly target: Float64Array, // (OUT)
    readonly net: Float64Array[], //   per layer (UNITS)
    readonly out: Float64Array[], //   per layer (UNITS)
    readonly delta: Float64Array[], // per layer (UNITS)
    readonly loss: number,
    readonly grads: Float64Array, //  (P)
    readonly before: Float64Array, // (P) parameters the step started from
    readonly after: Float64Array, //  (P) parameters after its update
    readonly lossAfter: number, //     E_total of the next forward pass
    readonly outAfter: Float64Array, // (OUT) outputs of the next forward pass
    readonly longRun?: { steps: number; loss: number; out: Float64Array },
  ) {}

  weight(layer: number, j: number, i: number, params: Float64Array = this.before): number {
    const inputs = paramEntry(this.model.layout, layer, 'weights').shape[1];
    return paramView(this.model.layout, params, layer, 'weights')[j * inputs + i];
  }

  gradient(layer: number, j: number, i: number): number {
    return this.weight(layer, j, i, this.grads);
  }

  bias(layer: number, j: number, params: Float64Array = this.before): number {
    return paramView(this.model.layout, params, layer, 'biases')[j];
  }

  /** ∂out/∂net of a neuron, from its output (sigmoid: out(1 − out)); a softmax output's own slope. */
  slope(layer: number, j: number): number {
    const out = this.out[layer][j];
    const activation = this.model.spec.layers[layer].activation;
    return activation === 'softmax' ? out * (1 - out) : derivativeFromOut(activation, out);
  }
}

/** Runs one step (and the article's long run, if any) on a fresh trainer and records it. */
export async function recordStep(trainer: Trainer, model: Model, longRun?: number): Promise<StepRecord> {
  const L = model.spec.layers.length;
  const before = await trainer.read('params');
  await trainer.train(1);
  const read = (l: number, kind: 'net' | 'out' | 'delta') => trainer.read(layerBuffer(l, kind));
  const net = await Promise.all(model.spec.layers.map((_, l) => read(l, 'net')));
  const out = await Promise.all(model.spec.layers.map((_, l) => read(l, 'out')));
  const delta = await Promise.all(model.spec.layers.map((_, l) => read(l, 'delta')));
  const [input, target, grads, after] = await Promise.all(['input', 'target', 'grads', 'params'].map((n) => trainer.read(n as 'input')));
  await trainer.train(1); // the next forward pass shows the effect of the update
  const outAfter = await read(L - 1, 'out');
  let run: StepRecord['longRun'];
  if (longRun !== undefined) {
    await trainer.train(longRun - 2); // `longRun` updates in all …
    await trainer.train(1); // … then the forward pass that measures them
    run = { steps: longRun, loss: 0, out: await read(L - 1, 'out') };
  }
  const losses = await trainer.takeLosses();
  if (run) run.loss = losses[losses.length - 1];
  return new StepRecord(model, input, target, net, out, delta, losses[0], grads, before, after, losses[1], outAfter, run);
}

export interface TraceRow {
  section: string;
  symbol: string;
  value: number;
}

function fill(template: string, names: Record<string, string>): string {
  return template.replace(/\{(\w)\}/g, (_, key: string) => names[key]);
}

/** One step laid out in the article's notation, section by section. */
export function traceRows(example: WorkedCase, step: StepRecord): TraceRow[] {
  const { notation } = example;
  const { spec } = step.model;
  const L = spec.layers.length;
  const rows: TraceRow[] = [];
  const add = (section: string, symbol: string, value: number) => rows.push({ section, symbol, value });
  const sym = notation.symbols;
  const outputs = notation.neurons[L - 1];

  spec.layers.forEach((_, l) =>
    notation.neurons[l].forEach((n, j) => {
      add('Forward pass', fill(sym.net, { n }), step.net[l][j]);
      add('Forward pass', fill(sym.out, { n }), step.out[l][j]);
    }),
  );

  if (spec.loss === 'half-sse') {
    outputs.forEach((n, k) => add('Error', fill(sym.error, { n, k: String(k + 1) }), 0.5 * (step.target[k] - step.out[L - 1][k]) ** 2));
  }
  add('Error', 'E_total', step.loss);

  outputs.forEach((n, k) => {
    const out = fill(sym.out, { n });
    const net = fill(sym.net, { n });
    if (spec.loss === 'half-sse') add('Backward pass', `∂E_total/∂${out}`, step.out[L - 1][k] - step.target[k]);
    add('Backward pass', `∂${out}/∂${net}`, step.slope(L - 1, k));
    add('Backward pass', `δ_${n}`, step.delta[L - 1][k]);
  });
  for (let l = L - 2; l >= 0; l--) notation.neurons[l].forEach((n, j) => add('Backward pass', `δ_${n}`, step.delta[l][j]));

  const weightNames: { name: string; l: number; j: number; i: number }[] = [];
  for (let l = L - 1; l >= 0; l--) {
    notation.weights[l].forEach((row, j) => row.forEach((name, i) => weightNames.push({ name, l, j, i })));
  }
  weightNames.sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
  for (const { name, l, j, i } of weightNames) add('Backward pass', fill(sym.gradient, { w: name }), step.gradient(l, j, i));
  for (const { name, l, j, i } of weightNames) add('Update', fill(sym.updated, { w: name }), step.weight(l, j, i, step.after));
  if (spec.trainBiases && notation.biases) {
    notation.biases.forEach((names, l) => names.forEach((name, j) => add('Update', `${name}⁺ (${notation.neurons[l][j]})`, step.bias(l, j, step.after))));
  }

  add('After the update', 'E_total (after 1 update)', step.lossAfter);
  outputs.forEach((n, k) => add('After the update', `${fill(sym.out, { n })} (after 1 update)`, step.outAfter[k]));
  if (step.longRun) {
    const steps = step.longRun.steps;
    add(`After ${steps} updates`, `E_total (after ${steps} updates)`, step.longRun.loss);
    outputs.forEach((n, k) => add(`After ${steps} updates`, `${fill(sym.out, { n })} (after ${steps} updates)`, step.longRun!.out[k]));
  }
  return example.sections ? rows.filter((row) => example.sections!.includes(row.section)) : rows;
}

/** The value of a printed quantity: its trace row, or the article's own formula. */
export function printedQuantity(printed: PrintedValue, rows: TraceRow[], step: StepRecord): number {
  if (printed.value) return printed.value(step);
  const symbol = printed.row ?? printed.symbol;
  const row = rows.find((r) => r.symbol === symbol);
  if (!row) throw new Error(`no trace row named ${symbol}`);
  return row.value;
}

/** Decimal places of a printed number: '0.00110' → 5. */
export function decimals(printed: string): number {
  const dot = printed.indexOf('.');
  return dot < 0 ? 0 : printed.length - dot - 1;
}

/**
 * Whether `value`, shortened as the article shortens (rounded or truncated toward zero)
 * to the printed number of decimals, gives the printed digits.
 */
export function agreesAtPrintedPrecision(value: number, printed: string, rounding: 'round' | 'truncate'): boolean {
  const scale = 10 ** decimals(printed);
  // Snap away float64 noise below the printed precision (0.41 is 0.40999999999999998).
  const scaled = Number((value * scale).toPrecision(12));
  const shortened = rounding === 'round' ? Math.round(scaled) : Math.trunc(scaled);
  return shortened === Math.round(Number(printed) * scale);
}
