// The worked examples' formulas and their float32 bounds: every formula, evaluated with
// the numbers it shows, gives the value beside it; a bound holds when each buffer of the
// step moves by its own bound, and is exceeded when the buffers move by twice as much;
// and WebGPU's step stays within every bound.

import { describe, expect, it } from 'vitest';
import { WORKED_EXAMPLES, mazur } from '../src/examples/articles.ts';
import { traceCase } from '../src/examples/trace.ts';
import { caseSetup, recordStep, StepRecord, traceRows, type BufferBounds } from '../src/examples/worked-example.ts';
import { float32Tolerances } from '../src/check/tolerance.ts';
import { CpuTrainer } from '../src/reference/trainer.ts';
import { testDevice } from './support/gpu.ts';

const articleCases = WORKED_EXAMPLES.flatMap((example) => example.cases.map((workedCase) => ({ name: `${example.name}: ${workedCase.title}`, workedCase })));
// Each example's first case again with a weight decay (L2): the update shows λ·w, and the article's numbers no longer apply.
const decayedCases = WORKED_EXAMPLES.map((example) => ({ name: `${example.name}: ${example.cases[0].title}, weight decay 0.1`, workedCase: { ...example.cases[0], weightDecay: 0.1, printed: [] } }));
const cases = [...articleCases, ...decayedCases];

/** The numbers of a formula (`0.15·0.05 + 0.2·0.1 + 0.35`) as JavaScript, to evaluate. */
function asJavaScript(numeric: string): string {
  return numeric
    .replace(/e\^\(/g, 'Math.exp(')
    .replace(/e\^(\(?-?[\d.]+\)?)/g, 'Math.exp($1)')
    .replace(/tanh\(/g, 'Math.tanh(')
    .replace(/max\(/g, 'Math.max(')
    .replace(/\[([^\]]+) > 0\]/g, '($1 > 0 ? 1 : 0)')
    .replace(/·/g, '*')
    .replace(/−/g, '-')
    .replace(/½/g, '0.5*')
    .replace(/²/g, '**2');
}

async function referenceStep(workedCase: (typeof cases)[number]['workedCase']): Promise<StepRecord> {
  const { model, dataset, options } = caseSetup(workedCase);
  return recordStep(new CpuTrainer(model, dataset, options), model);
}

describe('formulas', () => {
  it("write net_h1 of article 001 as the article does, with its numbers: 0.3775", async () => {
    const rows = traceRows(mazur.cases[0], await referenceStep(mazur.cases[0]));
    expect(rows.find((row) => row.symbol === 'net_h1')?.formula).toBe('net_h1 = w1·i1 + w2·i2 + b1·1 = 0.15·0.05 + 0.2·0.1 + 0.35 = 0.3775');
    expect(rows.find((row) => row.symbol === 'w5⁺')?.formula).toBe('w5⁺ = w5 − η·∂E_total/∂w5 = 0.4 − 0.5·0.082167041 = 0.35891648');
    expect(rows.find((row) => row.symbol === 'δ_h1')?.formula).toBe(
      'δ_h1 = (δ_o1·w5 + δ_o2·w7)·out_h1(1 − out_h1) = (0.138498562·0.4 + (-0.038098237)·0.5)·0.593269992·(1 − 0.593269992) = 0.008771355',
    );
  });

  it('write the weight-decay term of the update, λ·w, where the step has one: w5⁺ = 0.4 − 0.5·(0.082167041 + 0.1·0.4)', async () => {
    const decayed = { ...mazur.cases[0], weightDecay: 0.1, printed: [] };
    const rows = traceRows(decayed, await referenceStep(decayed));
    expect(rows.find((row) => row.symbol === 'w5⁺')?.formula).toBe('w5⁺ = w5 − η·(∂E_total/∂w5 + λ·w5) = 0.4 − 0.5·(0.082167041 + 0.1·0.4) = 0.33891648');
  });

  it.each(cases)('evaluated with the numbers they show, give their values: $name', async ({ workedCase }) => {
    const rows = traceRows(workedCase, await referenceStep(workedCase));
    const withFormula = rows.filter((row) => row.formula);
    expect(withFormula.length).toBeGreaterThan(0);
    for (const row of withFormula) {
      const parts = row.formula!.split(' = ');
      expect(parts[0]).toBe(row.symbol.replace(/ \(article: .*\)$/, ''));
      expect(Number(parts[parts.length - 1])).toBeCloseTo(row.value, 8);
      if (parts.length < 4) continue; // out = net, a slope of 1: nothing to evaluate
      const evaluated = Function(`return ${asJavaScript(parts[2])};`)() as number;
      // The operands are shown to nine decimals: the result moves by a few 1e-9 at most.
      expect(Math.abs(evaluated - row.value), `${row.formula} evaluates to ${evaluated}`).toBeLessThan(1e-8 * Math.max(1, Math.abs(row.value)));
    }
  });
});

describe('float32 bounds of the trace', () => {
  /** The reference's step with every buffer moved by `scale` times its bound, each value away from its target where that matters. */
  function moved(step: StepRecord, bounds: BufferBounds, scale: number): StepRecord {
    const shift = (values: Float64Array, name: string, sign: (k: number) => number = () => 1) => values.map((v, k) => v + sign(k) * scale * bounds(name)[k]);
    const L = step.model.spec.layers.length;
    const away = (k: number) => (step.out[L - 1][k] >= step.target[k] ? 1 : -1);
    return new StepRecord(
      step.model,
      step.input,
      step.target,
      step.net.map((values, l) => shift(values, `layer${l}.net`)),
      // Outputs move away from their targets and from ½, where the errors and the sigmoid's slope move most.
      step.out.map((values, l) => shift(values, `layer${l}.out`, l === L - 1 ? away : (k) => (values[k] >= 0.5 ? 1 : -1))),
      step.delta.map((values, l) => shift(values, `layer${l}.delta`)),
      step.loss + scale * bounds('loss')[0],
      shift(step.grads, 'grads'),
      step.before,
      shift(step.after, 'params'),
      step.lossAfter,
      step.outAfter,
    );
  }

  function stepBounds(step: StepRecord, workedCase: (typeof cases)[number]['workedCase']): BufferBounds {
    const buffers = new Map<string, Float64Array>([['input', step.input], ['target', step.target], ['params', step.after], ['grads', step.grads], ['loss', Float64Array.of(step.loss)]]);
    step.net.forEach((_, l) => ['net', 'out', 'delta'].forEach((kind) => buffers.set(`layer${l}.${kind}`, step[kind as 'net' | 'out' | 'delta'][l])));
    const { spec, layout } = step.model;
    const { learningRate, optimizer } = caseSetup(workedCase).options;
    const tolerances = float32Tolerances({ spec, layout, batch: 1, learningRate, optimizer }, (name) => buffers.get(name)!);
    return (name) => tolerances(name).atol as ArrayLike<number>;
  }

  it.each(cases)('hold when every buffer moves by its bound, and are exceeded when it moves by twice that: $name', async ({ workedCase }) => {
    const step = await referenceStep(workedCase);
    const bounds = stepBounds(step, workedCase);
    const reference = traceRows(workedCase, step, bounds);
    const within = traceRows(workedCase, moved(step, bounds, 1));
    const beyond = traceRows(workedCase, moved(step, bounds, 2));
    const bounded = reference.filter((row) => row.tolerance !== undefined);
    expect(bounded.length).toBeGreaterThan(0);
    reference.forEach((row, k) => {
      if (row.tolerance === undefined) return;
      expect(Math.abs(within[k].value - row.value), `${row.symbol} moved by its bound`).toBeLessThanOrEqual(row.tolerance * (1 + 1e-9));
      if (row.tolerance > 0) expect(Math.abs(beyond[k].value - row.value), `${row.symbol} moved by twice its bound`).toBeGreaterThan(row.tolerance);
    });
  });

  it.each(cases)('every value WebGPU computes in the step is within its bound: $name', async ({ workedCase }) => {
    const trace = await traceCase(workedCase, await testDevice());
    for (const line of trace.lines.filter((l) => l.tolerance !== undefined)) {
      expect(line.withinTolerance, `${line.symbol}: |ref − gpu| = ${line.difference} against ${line.tolerance}`).toBe(true);
    }
    const stepRows = trace.lines.filter((line) => ['Forward pass', 'Error', 'Backward pass', 'Update'].includes(line.section));
    expect(stepRows.every((line) => line.tolerance !== undefined)).toBe(true);
  });
});
