// A worked example: an article's network, its one training sample, its notation, and
// every number it prints. `traceRows` lays out one training step in the article's own
// symbols (net_h1, out_h1, E_total, ∂E_total/∂w5, w5⁺ …) from any trainer's buffers, so
// the reference and the GPU can be printed side by side and held to the article.

import { layerBuffer } from '../model/buffers.ts';
import { paramEntry, paramView } from '../model/layout.ts';
import { layerInputs, layerParameter, type Activation } from '../model/model.ts';
import { ACTIVATION_OPS } from '../model/ops/activations.ts';
import { derivative } from '../reference/activations.ts';
import type { Model } from '../model/network.ts';
import type { Trainer } from '../model/trainer.ts';
import { modelFromJson, type ModelFile } from '../io/model-file.ts';
import { datasetFromRows, type Dataset } from '../data/dataset.ts';
import type { TrainOptions } from '../model/trainer.ts';
import { errorFormula, errorGradientFormula, hiddenDeltaFormula, netFormula, outFormula, productFormula, slopeFormula, slopeTerms, sumFormula, updateFormula, type Named } from './formulas.ts';
import { InputError } from '../errors.ts';

/** An article's names for the inputs, neurons, weights and biases. */
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

/** A number an article prints, at the precision it prints it, and where it is off, its erratum. */
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

/** One case of an article's example: the network, the sample, the learning rate and every printed value. */
export interface WorkedCase {
  title: string;
  model: ModelFile;
  inputs: number[];
  targets: number[];
  learningRate: number;
  /** A weight decay λ (L2, SGD's weight_decay), where the step shows one: 0 or absent for the articles' plain steps. */
  weightDecay?: number;
  notation: Notation;
  /** How the article shortens its numbers: rounded, or truncated toward zero. */
  rounding: 'round' | 'truncate';
  printed: PrintedValue[];
  /** A long run the article reports on (article 001: 10,000 updates). */
  longRun?: number;
  /** The trace sections this case shows, where the article works through only part of a step. */
  sections?: string[];
}

/** An article and its cases. */
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
    options: { learningRate: example.learningRate, batchSize: 1, shuffle: false, seed: 1, optimizer: { kind: 'sgd', ...(example.weightDecay ? { weightDecay: example.weightDecay } : {}) } },
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

  /** The weight from input i into neuron j of `layer`, before the step (or in `params`). */
  weight(layer: number, j: number, i: number, params: Float64Array = this.before): number {
    const inputs = paramEntry(this.model.layout, layer, 'weights').shape[1];
    return paramView(this.model.layout, params, layer, 'weights')[j * inputs + i];
  }

  /** ∂E/∂w of the weight from input i into neuron j of `layer`, in this step. */
  gradient(layer: number, j: number, i: number): number {
    return this.weight(layer, j, i, this.grads);
  }

  /** Neuron j's bias in `layer`, before the step (or in `params`). */
  bias(layer: number, j: number, params: Float64Array = this.before): number {
    return paramView(this.model.layout, params, layer, 'biases')[j];
  }

  /** ∂out/∂net of a neuron (sigmoid: out(1 − out)); a softmax output's own slope. */
  slope(layer: number, j: number): number {
    const spec = this.model.spec.layers[layer];
    return derivative(spec.activation, this.net[layer][j], this.out[layer][j], layerParameter(spec));
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
  /** How the value is computed, symbols and then numbers, as the articles write it (`net_h1 = w1·i1 + … = 0.3775`). */
  formula?: string;
  /** The bound on |float32 − float64| for this value, where `bounds` were given and one is derived. */
  tolerance?: number;
}

/**
 * For each named buffer of the step, the bound on each element's |float32 − float64|
 * (the `atol` of `float32Tolerances`).
 */
export type BufferBounds = (name: string) => ArrayLike<number>;

function fill(template: string, names: Record<string, string>): string {
  return template.replace(/\{(\w)\}/g, (_, key: string) => names[key]);
}

/**
 * One step laid out in the article's notation, section by section, each value with its
 * formula. Given `bounds` (the reference's float32 tolerances of the step), each value
 * computed in the step gets its own bound, carried through the arithmetic that derives it
 * from the buffers (E_o = ½(t − o)² moves by at most |t − o|·τ + τ²/2 when o moves by τ).
 */
export function traceRows(example: WorkedCase, step: StepRecord, bounds?: BufferBounds): TraceRow[] {
  const { notation } = example;
  const { spec, layout } = step.model;
  const L = spec.layers.length;
  const rows: TraceRow[] = [];
  const add = (section: string, symbol: string, value: number, formula?: string, tolerance?: () => number) =>
    rows.push({ section, symbol, value, formula, tolerance: bounds && tolerance ? tolerance() : undefined });
  const bound = (name: string, index: number) => bounds!(name)[index];
  const sym = notation.symbols;
  const outputs = notation.neurons[L - 1];
  const halfSse = spec.loss === 'half-sse';
  const activation = (l: number) => spec.layers[l].activation;
  const netOf = (l: number, j: number): Named => ({ symbol: fill(sym.net, { n: notation.neurons[l][j] }), value: step.net[l][j] });
  const outOf = (l: number, j: number): Named => ({ symbol: fill(sym.out, { n: notation.neurons[l][j] }), value: step.out[l][j] });
  const inputOf = (l: number, i: number): Named => (l === 0 ? { symbol: notation.inputs[i], value: step.input[i] } : outOf(l - 1, i));
  const weightOf = (l: number, j: number, i: number): Named => ({ symbol: notation.weights[l][j][i], value: step.weight(l, j, i) });
  const deltaOf = (l: number, j: number): Named => ({ symbol: `δ_${notation.neurons[l][j]}`, value: step.delta[l][j] });
  const targetOf = (k: number): Named => ({ symbol: `target_${outputs[k]}`, value: step.target[k] });
  const biasOf = (l: number, j: number): Named | undefined => {
    const name = notation.biases?.[l][j] ?? (step.bias(l, j) !== 0 ? `b_${notation.neurons[l][j]}` : undefined);
    return name === undefined ? undefined : { symbol: name, value: step.bias(l, j) };
  };
  const paramIndex = (l: number, kind: 'weights' | 'biases', k: number) => paramEntry(layout, l, kind).offset + k;

  spec.layers.forEach((_, l) =>
    notation.neurons[l].forEach((_, j) => {
      const terms = Array.from({ length: layerInputs(spec, l) }, (_, i) => ({ weight: weightOf(l, j, i), input: inputOf(l, i) }));
      const net = netOf(l, j);
      add('Forward pass', net.symbol, net.value, netFormula(net.symbol, terms, biasOf(l, j), net.value), () => bound(`layer${l}.net`, j));
      const out = outOf(l, j);
      const layerNets = notation.neurons[l].map((_, k) => netOf(l, k));
      add('Forward pass', out.symbol, out.value, outFormula(out.symbol, activation(l), net, layerNets, out.value, layerParameter(spec.layers[l])), () => bound(`layer${l}.out`, j));
    }),
  );

  // The errors, their gradients and the output slopes are computed here from the outputs:
  // each moves with its output by the bound of `layer{L-1}.out`.
  const outBound = (k: number) => bound(`layer${L - 1}.out`, k);
  const errors: Named[] = [];
  if (halfSse) {
    outputs.forEach((n, k) => {
      const out = outOf(L - 1, k);
      const error: Named = { symbol: fill(sym.error, { n, k: String(k + 1) }), value: 0.5 * (step.target[k] - out.value) ** 2 };
      errors.push(error);
      add('Error', error.symbol, error.value, errorFormula(error.symbol, targetOf(k), out, error.value), () => Math.abs(step.target[k] - out.value) * outBound(k) + outBound(k) ** 2 / 2);
    });
  }
  add('Error', 'E_total', step.loss, halfSse ? sumFormula('E_total', errors, step.loss) : undefined, () => bound('loss', 0));

  const outputActivation = activation(L - 1);
  outputs.forEach((_, k) => {
    const out = outOf(L - 1, k);
    const net = netOf(L - 1, k);
    const gradient: Named = { symbol: `∂E_total/∂${out.symbol}`, value: out.value - step.target[k] };
    if (halfSse) add('Backward pass', gradient.symbol, gradient.value, errorGradientFormula(gradient.symbol, targetOf(k), out, gradient.value), () => outBound(k));
    const slope: Named = { symbol: `∂${out.symbol}/∂${net.symbol}`, value: step.slope(L - 1, k) };
    add('Backward pass', slope.symbol, slope.value, slopeFormula(slope.symbol, outputActivation, out, net, slope.value, layerParameter(spec.layers[L - 1])), () => slopeBound(outputActivation, out.value, outBound(k)));
    const delta = deltaOf(L - 1, k);
    const deltaFormula = halfSse && outputActivation !== 'softmax' ? productFormula(delta.symbol, [gradient, slope], delta.value) : undefined;
    add('Backward pass', delta.symbol, delta.value, deltaFormula, () => bound(`layer${L - 1}.delta`, k));
  });
  for (let l = L - 2; l >= 0; l--) {
    notation.neurons[l].forEach((_, j) => {
      const delta = deltaOf(l, j);
      const terms = notation.neurons[l + 1].map((_, o) => ({ delta: deltaOf(l + 1, o), weight: weightOf(l + 1, o, j) }));
      const formula = hiddenDeltaFormula(delta.symbol, terms, slopeTerms(activation(l), outOf(l, j), netOf(l, j), layerParameter(spec.layers[l])), delta.value);
      add('Backward pass', delta.symbol, delta.value, formula, () => bound(`layer${l}.delta`, j));
    });
  }

  const weightNames: { name: string; l: number; j: number; i: number }[] = [];
  for (let l = L - 1; l >= 0; l--) {
    notation.weights[l].forEach((row, j) => row.forEach((name, i) => weightNames.push({ name, l, j, i })));
  }
  weightNames.sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
  const gradientOf = (w: { name: string; l: number; j: number; i: number }): Named => ({ symbol: fill(sym.gradient, { w: w.name }), value: step.gradient(w.l, w.j, w.i) });
  const weightIndex = (w: { l: number; j: number; i: number }) => paramIndex(w.l, 'weights', w.j * layerInputs(spec, w.l) + w.i);
  for (const w of weightNames) {
    const gradient = gradientOf(w);
    add('Backward pass', gradient.symbol, gradient.value, productFormula(gradient.symbol, [deltaOf(w.l, w.j), inputOf(w.l, w.i)], gradient.value), () => bound('grads', weightIndex(w)));
  }
  for (const w of weightNames) {
    const symbol = fill(sym.updated, { w: w.name });
    const value = step.weight(w.l, w.j, w.i, step.after);
    add('Update', symbol, value, updateFormula(symbol, weightOf(w.l, w.j, w.i), example.learningRate, gradientOf(w), value, example.weightDecay), () => bound('params', weightIndex(w)));
  }
  if (spec.trainBiases && notation.biases) {
    notation.biases.forEach((names, l) =>
      names.forEach((name, j) => {
        const symbol = `${name}⁺ (${notation.neurons[l][j]})`;
        const value = step.bias(l, j, step.after);
        const formula = updateFormula(symbol, { symbol: name, value: step.bias(l, j) }, example.learningRate, deltaOf(l, j), value, example.weightDecay);
        add('Update', symbol, value, formula, () => bound('params', paramIndex(l, 'biases', j)));
      }),
    );
  }

  // After further steps, float32's error depends on the whole run: no bound is derived.
  add('After the update', 'E_total (after 1 update)', step.lossAfter);
  outputs.forEach((n, k) => add('After the update', `${fill(sym.out, { n })} (after 1 update)`, step.outAfter[k]));
  if (step.longRun) {
    const steps = step.longRun.steps;
    add(`After ${steps} updates`, `E_total (after ${steps} updates)`, step.longRun.loss);
    outputs.forEach((n, k) => add(`After ${steps} updates`, `${fill(sym.out, { n })} (after ${steps} updates)`, step.longRun!.out[k]));
  }
  return example.sections ? rows.filter((row) => example.sections!.includes(row.section)) : rows;
}

/**
 * How far a slope computed from an output can move when the output moves by τ: by its
 * curvature (sigmoid's o(1 − o) by |1 − 2o|·τ, tanh's 1 − o² by 2|o|·τ) and τ² more,
 * their second order; across a kink (relu's, at 0) by the jump, where the output is
 * within τ of it.
 */
function slopeBound(activation: Activation, out: number, tau: number): number {
  const op = ACTIVATION_OPS[activation];
  if (op.derivativeNeedsNet) throw new InputError('activation', `the slope of ${activation} is not a function of its output`);
  if (op.kind === 'row') return Math.abs(1 - 2 * out) * tau + tau ** 2; // softmax's diagonal, out(1 − out), as the sigmoid's
  const curvature = op.tolerance.curvature(NaN, out, 0).out;
  if (curvature > 0) return curvature * tau + tau ** 2;
  return op.tolerance.kink && Math.abs(out) <= tau ? op.tolerance.kink(0) : 0;
}

/** The value of a printed quantity: its trace row, or the article's own formula. */
export function printedQuantity(printed: PrintedValue, rows: TraceRow[], step: StepRecord): number {
  if (printed.value) return printed.value(step);
  const symbol = printed.row ?? printed.symbol;
  const row = rows.find((r) => r.symbol === symbol);
  if (!row) throw new InputError(symbol, 'is no row of this trace');
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
