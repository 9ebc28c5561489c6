// A worked example traced step by step: every row in the article's notation, with the
// article's printed value, the float64 reference and (given a device) the GPU side by
// side. The command line prints it; the browser app steps through it.

import { WORKED_EXAMPLES, findExample } from './articles.ts';
import {
  agreesAtPrintedPrecision,
  caseSetup,
  printedQuantity,
  recordStep,
  traceRows,
  type BufferBounds,
  type StepRecord,
  type TraceRow,
  type WorkedCase,
  type WorkedExample,
} from './worked-example.ts';
import { float32Tolerances } from '../check/tolerance.ts';
import { BackpropError, InputError } from '../errors.ts';
import { GpuTrainer } from '../gpu/trainer.ts';
import { layerBiases, layerWeights } from '../model/network.ts';
import { CpuTrainer } from '../reference/trainer.ts';

/** One value of a trace: its symbol, formula, the article's number, the reference's and the GPU's. */
export interface TraceLine {
  section: string;
  symbol: string;
  /** The digits the article prints, where it prints this quantity. */
  article?: string;
  /** Whether the reference agrees with the article at the printed precision. */
  agrees?: boolean;
  erratum?: string;
  reference: number;
  webgpu?: number;
  difference?: number;
  /** How the value is computed, as the article writes it, with the reference's numbers filled in. */
  formula?: string;
  /** The bound on |reference − webgpu| derived for this value (src/check/tolerance.ts), where one is. */
  tolerance?: number;
  /** Whether the difference is within that bound. */
  withinTolerance?: boolean;
}

/** The trace of one case of an example: its set-up and its lines. */
export interface CaseTrace {
  title: string;
  setup: string[];
  lines: TraceLine[];
}

/** The trace of a worked example: every case, with the article and the adapter. */
export interface ExampleTrace {
  example: string;
  article: string;
  title: string;
  author: string;
  adapter?: string;
  cases: CaseTrace[];
}

function describeSetup(workedCase: WorkedCase, step: StepRecord): string[] {
  const { notation } = workedCase;
  const { spec, layout, params } = step.model;
  const inputs = notation.inputs.map((name, i) => `${name} = ${workedCase.inputs[i]}`).join(', ');
  const lines = [
    `inputs ${inputs}; targets ${workedCase.targets.join(', ')}; learning rate ${workedCase.learningRate}${workedCase.weightDecay ? `; weight decay λ ${workedCase.weightDecay}` : ''}; loss ${spec.loss}; biases ${spec.trainBiases ? 'trained' : 'frozen'}`,
  ];
  spec.layers.forEach((layer, l) => {
    const weights = layerWeights(layout, params, l);
    const biases = layerBiases(layout, params, l);
    const neurons = notation.neurons[l].map((n, j) => {
      const incoming = weights[j].map((w, i) => `${notation.weights[l][j][i]} = ${w}`).join(', ');
      const bias = notation.biases ? `, ${notation.biases[l][j]} = ${biases[j]}` : biases[j] !== 0 ? `, b = ${biases[j]}` : '';
      return `${n} ← (${incoming}${bias})`;
    });
    lines.push(`layer ${l} (${layer.activation}): ${neurons.join('; ')}`);
  });
  return lines;
}

/** Quantities the article prints that are no trace row (pieces of a chain rule). */
function articleOnlyRows(workedCase: WorkedCase, rows: TraceRow[], step: StepRecord): TraceRow[] {
  return workedCase.printed
    .filter((p) => p.value !== undefined)
    .map((p) => ({ section: "The article's intermediate quantities", symbol: p.symbol, value: printedQuantity(p, rows, step) }));
}

/** The float32 bound of every element of every buffer of the reference's step (a batch of one). */
function stepBounds(step: StepRecord, learningRate: number, optimizer: ReturnType<typeof caseSetup>['options']['optimizer']): BufferBounds {
  const { spec, layout } = step.model;
  const buffers = new Map<string, Float64Array>([
    ['input', step.input],
    ['target', step.target],
    ['params', step.after],
    ['grads', step.grads],
    ['loss', Float64Array.of(step.loss)],
  ]);
  spec.layers.forEach((_, l) => {
    buffers.set(`layer${l}.net`, step.net[l]);
    buffers.set(`layer${l}.out`, step.out[l]);
    buffers.set(`layer${l}.delta`, step.delta[l]);
  });
  const tolerances = float32Tolerances({ spec, layout, batch: 1, learningRate, optimizer }, (name) => {
    const buffer = buffers.get(name);
    if (!buffer) throw new BackpropError(`no reference buffer ${name}`);
    return buffer;
  });
  // float32Tolerances gives one bound per element (atol) and no relative part.
  return (name) => tolerances(name).atol as ArrayLike<number>;
}

/** Traces one case: its step on the reference and, given a device, on the GPU, line by line. */
export async function traceCase(workedCase: WorkedCase, device: GPUDevice | undefined): Promise<CaseTrace> {
  const { model, dataset, options } = caseSetup(workedCase);
  const reference = await recordStep(new CpuTrainer(model, dataset, options), model, workedCase.longRun);
  let gpu: StepRecord | undefined;
  if (device) {
    const trainer = await GpuTrainer.create(device, model, dataset, options);
    gpu = await recordStep(trainer, model, workedCase.longRun);
    trainer.dispose();
  }
  const referenceRows = traceRows(workedCase, reference, gpu ? stepBounds(reference, options.learningRate, options.optimizer) : undefined);
  const rows = [...referenceRows, ...articleOnlyRows(workedCase, referenceRows, reference)];
  const gpuRows = gpu ? traceRows(workedCase, gpu) : undefined;
  const gpuAll = gpu && gpuRows ? [...gpuRows, ...articleOnlyRows(workedCase, gpuRows, gpu)] : undefined;
  const lines = rows.map((row, k): TraceLine => {
    const printed = workedCase.printed.find((p) => (p.row ?? p.symbol) === row.symbol || (p.value !== undefined && p.symbol === row.symbol));
    // Where the article names a quantity otherwise than our row does, show both names.
    const symbol = printed && printed.symbol !== row.symbol ? `${row.symbol} (article: ${printed.symbol})` : row.symbol;
    const line: TraceLine = { section: row.section, symbol, reference: row.value };
    if (row.formula) line.formula = row.formula;
    if (printed) {
      line.article = printed.printed;
      line.agrees = agreesAtPrintedPrecision(row.value, printed.printed, workedCase.rounding);
      if (printed.erratum) line.erratum = `docs/errata.md#${printed.erratum}`;
    }
    if (gpuAll) {
      line.webgpu = gpuAll[k].value;
      line.difference = Math.abs(gpuAll[k].value - row.value);
      if (row.tolerance !== undefined) {
        line.tolerance = row.tolerance;
        line.withinTolerance = line.difference <= row.tolerance;
      }
    }
    return line;
  });
  return { title: workedCase.title, setup: describeSetup(workedCase, reference), lines };
}

/** Every case of an example, on the reference and, given a device, on the GPU. */
export async function traceExample(example: WorkedExample, gpu?: { device: GPUDevice; adapter: string }): Promise<ExampleTrace> {
  const cases: CaseTrace[] = [];
  for (const workedCase of example.cases) cases.push(await traceCase(workedCase, gpu?.device));
  return { example: example.name, article: example.article, title: example.title, author: example.author, adapter: gpu?.adapter, cases };
}


function formatValue(value: number | undefined): string {
  return value === undefined ? '' : String(value);
}

/** The trace as a Markdown document: one table per case. */
export function traceToMarkdown(trace: ExampleTrace): string {
  const out = [`# Article ${trace.article}: ${trace.author}, "${trace.title}"`, ''];
  if (trace.adapter) out.push(`WebGPU adapter: ${trace.adapter}`, '');
  for (const c of trace.cases) {
    out.push(`## ${c.title}`, '', ...c.setup.map((line) => `- ${line}`), '');
    out.push('| section | symbol | article | reference (float64) | webgpu (float32) | \\|ref − gpu\\| | erratum |', '|---|---|---|---|---|---|---|');
    for (const l of c.lines) {
      const article = l.article === undefined ? '' : `${l.article} ${l.agrees ? '✓' : '✗'}`;
      out.push(`| ${l.section} | ${l.symbol} | ${article} | ${l.reference} | ${formatValue(l.webgpu)} | ${l.difference === undefined ? '' : l.difference.toExponential(1)} | ${l.erratum ?? ''} |`);
    }
    out.push('');
  }
  return out.join('\n');
}

/** An example by name or article number; an InputError listing the examples otherwise. */
export function resolveExample(name: string): WorkedExample {
  const example = findExample(name);
  if (!example) {
    const names = WORKED_EXAMPLES.map((e) => `${e.name} (${e.aliases.join(', ')})`).join('; ');
    throw new InputError(`example ${JSON.stringify(name)}`, `unknown; expected one of: ${names}`);
  }
  return example;
}
