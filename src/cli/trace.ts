// `webgpu-backprop trace <example>`: a worked example step by step in the article's
// notation, the article's printed value, the float64 reference and the GPU side by side.

import { WORKED_EXAMPLES, findExample } from '../examples/articles.ts';
import {
  agreesAtPrintedPrecision,
  caseSetup,
  printedQuantity,
  recordStep,
  traceRows,
  type StepRecord,
  type TraceRow,
  type WorkedCase,
  type WorkedExample,
} from '../examples/worked-example.ts';
import { InputError } from '../errors.ts';
import { GpuTrainer } from '../gpu/trainer.ts';
import { layerBiases, layerWeights } from '../model/network.ts';
import { CpuTrainer } from '../reference/trainer.ts';
import { openCliDevice } from './gpu.ts';

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
}

export interface CaseTrace {
  title: string;
  setup: string[];
  lines: TraceLine[];
}

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
    `inputs ${inputs}; targets ${workedCase.targets.join(', ')}; learning rate ${workedCase.learningRate}; loss ${spec.loss}; biases ${spec.trainBiases ? 'trained' : 'frozen'}`,
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

async function traceCase(workedCase: WorkedCase, device: GPUDevice | undefined): Promise<CaseTrace> {
  const { model, dataset, options } = caseSetup(workedCase);
  const reference = await recordStep(new CpuTrainer(model, dataset, options), model, workedCase.longRun);
  let gpu: StepRecord | undefined;
  if (device) {
    const trainer = await GpuTrainer.create(device, model, dataset, options);
    gpu = await recordStep(trainer, model, workedCase.longRun);
    trainer.destroy();
  }
  const referenceRows = traceRows(workedCase, reference);
  const rows = [...referenceRows, ...articleOnlyRows(workedCase, referenceRows, reference)];
  const gpuRows = gpu ? traceRows(workedCase, gpu) : undefined;
  const gpuAll = gpu && gpuRows ? [...gpuRows, ...articleOnlyRows(workedCase, gpuRows, gpu)] : undefined;
  const lines = rows.map((row, k): TraceLine => {
    const printed = workedCase.printed.find((p) => (p.row ?? p.symbol) === row.symbol || (p.value !== undefined && p.symbol === row.symbol));
    // Where the article names a quantity otherwise than our row does, show both names.
    const symbol = printed && printed.symbol !== row.symbol ? `${row.symbol} (article: ${printed.symbol})` : row.symbol;
    const line: TraceLine = { section: row.section, symbol, reference: row.value };
    if (printed) {
      line.article = printed.printed;
      line.agrees = agreesAtPrintedPrecision(row.value, printed.printed, workedCase.rounding);
      if (printed.erratum) line.erratum = `docs/errata.md#${printed.erratum}`;
    }
    if (gpuAll) {
      line.webgpu = gpuAll[k].value;
      line.difference = Math.abs(gpuAll[k].value - row.value);
    }
    return line;
  });
  return { title: workedCase.title, setup: describeSetup(workedCase, reference), lines };
}

export async function traceExample(example: WorkedExample, withGpu: boolean): Promise<ExampleTrace> {
  const gpu = withGpu ? await openCliDevice() : undefined;
  const cases: CaseTrace[] = [];
  for (const workedCase of example.cases) cases.push(await traceCase(workedCase, gpu?.device));
  gpu?.device.destroy();
  return { example: example.name, article: example.article, title: example.title, author: example.author, adapter: gpu?.adapter, cases };
}

function pad(text: string, width: number): string {
  return text.length >= width ? `${text} ` : text + ' '.repeat(width - text.length);
}

function formatNumber(value: number): string {
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  return magnitude < 1e-4 || magnitude >= 1e6 ? value.toExponential(9) : value.toFixed(12);
}

export function formatTrace(trace: ExampleTrace): string {
  const out: string[] = [];
  out.push(`Article ${trace.article}: ${trace.author}, "${trace.title}"`);
  if (trace.adapter) out.push(`WebGPU adapter: ${trace.adapter}`);
  for (const c of trace.cases) {
    out.push('', c.title);
    for (const line of c.setup) out.push(`  ${line}`);
    const symbolWidth = Math.max(...c.lines.map((l) => l.symbol.length)) + 2;
    const articleWidth = Math.max(9, ...c.lines.map((l) => (l.article?.length ?? 0) + 2)) + 1;
    const hasGpu = c.lines.some((l) => l.webgpu !== undefined);
    let section = '';
    for (const line of c.lines) {
      if (line.section !== section) {
        section = line.section;
        const header = `  ${pad(section, symbolWidth + 2)}${pad('article', articleWidth)}${pad('reference (float64)', 22)}${hasGpu ? `${pad('webgpu (float32)', 22)}|ref − gpu|` : ''}`;
        out.push('', header);
      }
      const mark = line.article === undefined ? '' : line.agrees ? ' ✓' : ' ✗';
      let text = `    ${pad(line.symbol, symbolWidth)}${pad((line.article ?? '') + mark, articleWidth)}${pad(formatNumber(line.reference), 22)}`;
      if (hasGpu && line.webgpu !== undefined) text += `${pad(formatNumber(line.webgpu), 22)}${line.difference!.toExponential(1)}`;
      if (line.erratum) text += `   erratum: ${line.erratum}`;
      out.push(text.trimEnd());
    }
  }
  out.push('', '✓ the reference agrees with the article at the precision printed; ✗ it does not (see the erratum).');
  return out.join('\n');
}

export function resolveExample(name: string): WorkedExample {
  const example = findExample(name);
  if (!example) {
    const names = WORKED_EXAMPLES.map((e) => `${e.name} (${e.aliases.join(', ')})`).join('; ');
    throw new InputError(`example ${JSON.stringify(name)}`, `unknown; expected one of: ${names}`);
  }
  return example;
}
