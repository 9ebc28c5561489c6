// Each entry of docs/errata.md, backed by arithmetic: where an article's printed number
// disagrees with exact arithmetic, these tests find the cause and reproduce the number.

import { describe, expect, it } from 'vitest';
import { hmkcode, lamsal, mazur, missinglink } from '../src/examples/articles.ts';
import { agreesAtPrintedPrecision, caseSetup, printedQuantity, recordStep, traceRows } from '../src/examples/worked-example.ts';
import { paramView } from '../src/model/layout.ts';
import type { Model } from '../src/model/network.ts';
import { sigmoid } from '../src/reference/activations.ts';
import { forward, hiddenDeltas, layerGradients, mean, outputDeltas, sampleLosses } from '../src/reference/backprop.ts';
import { sampleLoss } from '../src/reference/losses.ts';
import { CpuTrainer } from '../src/reference/trainer.ts';
import { datasetFromRows } from '../src/data/dataset.ts';
import { createModel } from '../src/model/network.ts';
import { seededRandom } from '../src/data/random.ts';

const FLOAT64_TOLERANCE = 1e-12; // a few hundred float64 roundings of numbers near 1

function roundTo(value: number, decimals: number): number {
  return Number(value.toFixed(decimals));
}

/**
 * One online step of a two-layer network in the order the article's figures imply:
 * the output weights are updated first, and the hidden deltas then computed through
 * the updated output weights (the text says the original weights are used).
 */
function outputFirstStep(model: Model, params: Float64Array, input: Float64Array, target: Float64Array, learningRate: number): void {
  const { spec, layout } = model;
  const values = forward(spec, layout, params, input, 1);
  const outputDelta = outputDeltas(spec, values.net[1], values.out[1], target, 1);
  const gradW = new Float64Array(paramView(layout, params, 1, 'weights').length);
  layerGradients(outputDelta, values.out[0], 1, gradW, new Float64Array(2));
  const outputWeights = paramView(layout, params, 1, 'weights');
  gradW.forEach((g, k) => (outputWeights[k] -= learningRate * g));
  const hiddenDelta = hiddenDeltas(spec.layers[0], outputWeights, outputDelta, values.net[0], values.out[0], 1);
  const gradHidden = new Float64Array(paramView(layout, params, 0, 'weights').length);
  layerGradients(hiddenDelta, input, 1, gradHidden, new Float64Array(2));
  const hiddenWeights = paramView(layout, params, 0, 'weights');
  gradHidden.forEach((g, k) => (hiddenWeights[k] -= learningRate * g));
}

function mazurLoss(model: Model, params: Float64Array, input: Float64Array, target: Float64Array) {
  const values = forward(model.spec, model.layout, params, input, 1);
  return { loss: mean(sampleLosses(model.spec, values, target, 1)), out: values.out[1] };
}

describe('article 001 (mazur)', () => {
  const workedCase = mazur.cases[0];
  const { model, dataset } = caseSetup(workedCase);
  const input = dataset.inputs;
  const target = dataset.targets;

  it('mazur-update-order: the printed error after one update comes from updating the output weights first', () => {
    const params = model.params.slice();
    outputFirstStep(model, params, input, target, 0.5);
    expect(mazurLoss(model, params, input, target).loss.toFixed(9)).toBe('0.291027924');
  });

  it('mazur-update-order: so do the outputs printed after 10,000 updates', () => {
    const params = model.params.slice();
    for (let s = 0; s < 10000; s++) outputFirstStep(model, params, input, target, 0.5);
    const { out } = mazurLoss(model, params, input, target);
    expect(out[0].toFixed(9)).toBe('0.015912196');
    expect(out[1].toFixed(9)).toBe('0.984065734');
  });

  it('mazur-off-by-one: the printed error after 10,000 updates is the exact algorithm after 9,999', async () => {
    const { options } = caseSetup(workedCase);
    const trainer = new CpuTrainer(model, dataset, options);
    await trainer.train(10001); // the loss of step s is measured before its update: step 9999 follows 9,999 updates
    const losses = await trainer.takeLosses();
    expect(losses[9999].toFixed(10)).toBe('0.0000351085');
    expect(losses[10000].toFixed(10)).toBe('0.0000351019');
    // Nor do the printed outputs and error belong together: the outputs give E = 0.0000350848.
    const [o1, o2] = [0.015912196, 0.984065734];
    expect((0.5 * (0.01 - o1) ** 2 + 0.5 * (0.99 - o2) ** 2).toFixed(10)).toBe('0.0000350848');
  });

  it('mazur-update-order: backpropagating through the original weights, as the text says, gives other digits', async () => {
    const step = await recordStep(new CpuTrainer(model, dataset, caseSetup(workedCase).options), model, 10000);
    expect(step.lossAfter.toFixed(9)).toBe('0.291027774');
    expect(step.longRun!.loss.toFixed(10)).toBe('0.0000351019');
    expect(step.longRun!.out[0].toFixed(9)).toBe('0.015913620');
    expect(step.longRun!.out[1].toFixed(9)).toBe('0.984064274');
  });

  it('mazur-rounded-delta: ∂E_o2/∂out_h1 was computed from δ_o2 rounded to nine decimals', async () => {
    const step = await recordStep(new CpuTrainer(model, dataset, caseSetup(workedCase).options), model);
    const w7 = step.weight(1, 1, 0);
    expect((step.delta[1][1] * w7).toFixed(9)).toBe('-0.019049118');
    expect(roundTo(step.delta[1][1], 9)).toBe(-0.038098237);
    // −0.038098237 · 0.5 = −0.0190491185 exactly; the article rounds the half away from zero.
    expect(roundTo(step.delta[1][1], 9) * w7).toBeCloseTo(-0.0190491185, 15);
  });

  it('mazur-notation: the numbers follow net_h1 = w1·i1 + w2·i2 + b1, not the later w1·i1 + w3·i2 + b1', async () => {
    const [w1, w2, w3] = [0.15, 0.2, 0.25];
    expect(sigmoid(w1 * 0.05 + w2 * 0.1 + 0.35).toFixed(9)).toBe('0.593269992'); // printed out_h1
    expect(sigmoid(w1 * 0.05 + w3 * 0.1 + 0.35).toFixed(9)).not.toBe('0.593269992');
    // w2⁺ = 0.19956143 is w2 − η·δ_h1·i2: w2 is the weight from i2 into h1.
    const step = await recordStep(new CpuTrainer(model, dataset, caseSetup(workedCase).options), model);
    expect((w2 - 0.5 * step.delta[0][0] * input[1]).toFixed(8)).toBe('0.19956143');
    expect((w2 - 0.5 * step.delta[0][1] * input[0]).toFixed(8)).not.toBe('0.19956143');
  });

  it('mazur-biases: trained biases, one per neuron, would bring the error to 0.280471447 after one update', async () => {
    const trained = caseSetup({ ...workedCase, model: { ...workedCase.model, trainBiases: true } });
    const step = await recordStep(new CpuTrainer(trained.model, trained.dataset, trained.options), trained.model);
    expect(step.lossAfter.toFixed(9)).toBe('0.280471447');
  });

  it('mazur-biases: one trained bias per layer, shared as in the article, would give 0.285750887', async () => {
    // A shared bias's gradient is the sum of its neurons' bias gradients.
    const { options } = caseSetup(workedCase);
    const step = await recordStep(new CpuTrainer(model, dataset, options), model);
    const params = step.after.slice();
    for (const layer of [0, 1]) {
      const grads = paramView(model.layout, step.grads, layer, 'biases');
      const shared = paramView(model.layout, params, layer, 'biases');
      const update = 0.5 * (grads[0] + grads[1]);
      shared.forEach((b, j) => (shared[j] = b - update));
    }
    expect(mazurLoss(model, params, input, target).loss.toFixed(9)).toBe('0.285750887');
  });
});

describe('article 003 (lamsal)', () => {
  const workedCase = lamsal.cases[0];

  it('lamsal-truncation: every printed value is truncated to five decimals; rounding would change these', async () => {
    const { model, dataset, options } = caseSetup(workedCase);
    const step = await recordStep(new CpuTrainer(model, dataset, options), model);
    const rows = traceRows(workedCase, step);
    const roundingDisagrees = workedCase.printed
      .filter((p) => !agreesAtPrintedPrecision(printedQuantity(p, rows, step), p.printed, 'round'))
      .map((p) => p.symbol);
    expect(roundingDisagrees).toEqual([
      'output_h1', 'output_o1', 'sum_o2', 'E_2', 'E_total', '∂E_total/∂output_o1', '∂output_o1/∂sum_o1',
      'new_w5', '∂E_total/∂output_o2', '∂output_o2/∂sum_o2', '∂E_total/∂w7', '∂E_total/∂w8', 'new_w8',
      '∂E_1/∂w1', '∂E_total/∂w1', 'new_w1', 'new_w2', 'new_w3', 'new_w4',
    ]);
    const truncationDisagrees = workedCase.printed.filter((p) => !agreesAtPrintedPrecision(printedQuantity(p, rows, step), p.printed, 'truncate'));
    expect(truncationDisagrees).toEqual([]);
  });

  it('lamsal-truncation: the products were taken at full precision, then truncated', () => {
    // From the printed factors 0.68492 · 0.19480 · 0.60108 the product truncates to 0.08019, not the printed 0.08020.
    expect(Math.trunc(0.68492 * 0.1948 * 0.60108 * 1e5) / 1e5).toBe(0.08019);
  });

  it('lamsal-notation: hidden weights are numbered down the columns (w2 runs from i1 into h2)', () => {
    // Printed sum_h1 = 0.41 = i1·w1 + i2·w3 + b1; the row-by-row reading i1·w1 + i2·w2 + b1 gives 0.36.
    expect(roundTo(0.1 * 0.1 + 0.5 * 0.3 + 0.25, 5)).toBe(0.41);
    expect(roundTo(0.1 * 0.1 + 0.5 * 0.2 + 0.25, 5)).toBe(0.36);
    // … while the output weights go along the rows: sum_o1 = out_h1·w5 + out_h2·w6 + b2 = 1.01977.
    expect(Math.trunc((0.6010878788 * 0.5 + 0.6153837564 * 0.6 + 0.35) * 1e5) / 1e5).toBe(1.01977);
  });
});

describe('articles 000 and 002 (hmkcode)', () => {
  it('hmkcode-notation: w1 and w2 both feed h1; the other reading predicts 0.180, not 0.191', () => {
    const [w1, w2, w3, w4, w5, w6] = [0.11, 0.21, 0.12, 0.08, 0.14, 0.15];
    const rowWise = (2 * w1 + 3 * w2) * w5 + (2 * w3 + 3 * w4) * w6;
    const columnWise = (2 * w1 + 3 * w3) * w5 + (2 * w2 + 3 * w4) * w6;
    expect(rowWise.toFixed(3)).toBe('0.191');
    expect(columnWise.toFixed(3)).toBe('0.180');
  });

  it('the prediction after one update is 0.2557…, printed as 0.26', async () => {
    const { model, dataset, options } = caseSetup(hmkcode.cases[0]);
    const step = await recordStep(new CpuTrainer(model, dataset, options), model);
    expect(step.outAfter[0].toFixed(4)).toBe('0.2557');
  });
});

describe('article 004 (missinglink)', () => {
  it('missinglink-notation: the formula writes i2·w2 for the weight the text calls w3 (0.57)', () => {
    expect(roundTo(0.1 * 0.27 + 0.2 * 0.57 + 0.4, 3)).toBe(0.541);
  });

  it('missinglink-sigmoid: "f(x) = 1 / 1 + exp(-x)" as written is 1 + e^−x, which gives 1.582, not 0.632', () => {
    expect(roundTo(sigmoid(0.541), 3)).toBe(0.632);
    expect(roundTo(1 / 1 + Math.exp(-0.541), 3)).toBe(1.582);
  });

  it('missinglink-mse: "MSE(o1) = ½(−0.235)²" is the half squared error; the total is half-sse, which equals the MSE only for two outputs', () => {
    const out = [0.735, 0.455];
    const target = [0.5, 0.5];
    expect(0.5 * 0.235 ** 2).toBeCloseTo(0.0276125, 15);
    expect(0.235 ** 2).toBeCloseTo(0.055225, 15); // the squared error of o1: its own mean
    const halfSse = sampleLoss('half-sse', 'linear', out, out, target);
    const mse = sampleLoss('mse', 'linear', out, out, target);
    expect(halfSse).toBeCloseTo(0.028625, 15);
    expect(mse).toBeCloseTo(halfSse, 15);
    const three = [0.735, 0.455, 0.9];
    expect(sampleLoss('mse', 'linear', three, three, [0.5, 0.5, 0.5])).not.toBeCloseTo(sampleLoss('half-sse', 'linear', three, three, [0.5, 0.5, 0.5]), 3);
  });

  it('missinglink-tf-loop: the TensorFlow loop sums its loss over the batch, so it is our sse with the learning rate times N', async () => {
    // The loop's network: x0 (N, 2) · m1 (2, 3) + b1 → sigmoid → · m2 (3, 1) + b2 → sigmoid,
    // loss = reduce_sum(square(y0 − y_out)), GradientDescentOptimizer(1.0), 500 steps.
    // The article never gives x0 and y_; XOR stands in. Written here in TensorFlow's
    // matrix form (in × out weights, explicit transposes) independently of the reference.
    const x0 = [[0, 0], [0, 1], [1, 0], [1, 1]];
    const y0 = [[0], [1], [1], [0]];
    const random = seededRandom('tf-loop');
    const uniform = () => 0.1 + 0.8 * random(); // tf.random_uniform(minval=0.1, maxval=0.9)
    const m1 = [0, 1].map(() => [0, 1, 2].map(uniform));
    const b1 = [0, 1, 2].map(uniform);
    const m2 = [0, 1, 2].map(() => [uniform()]);
    const b2 = [uniform()];

    const model = createModel(
      { inputSize: 2, layers: [{ units: 3, activation: 'sigmoid' }, { units: 1, activation: 'sigmoid' }], loss: 'sse', trainBiases: true },
      { seed: 0 },
    );
    const transpose = (m: number[][]) => m[0].map((_, c) => m.map((row) => row[c]));
    paramView(model.layout, model.params, 0, 'weights').set(transpose(m1).flat()); // ours is out × in: m1ᵀ
    paramView(model.layout, model.params, 0, 'biases').set(b1);
    paramView(model.layout, model.params, 1, 'weights').set(transpose(m2).flat());
    paramView(model.layout, model.params, 1, 'biases').set(b2);

    const matmul = (a: number[][], b: number[][]) => a.map((row) => b[0].map((_, c) => row.reduce((s, v, k) => s + v * b[k][c], 0)));
    const sigmoidRows = (m: number[][], bias: number[]) => m.map((row) => row.map((v, c) => sigmoid(v + bias[c])));
    const columnSums = (m: number[][]) => m[0].map((_, c) => m.reduce((s, row) => s + row[c], 0));
    for (let step = 0; step < 500; step++) {
      const h1 = sigmoidRows(matmul(x0, m1), b1);
      const yOut = sigmoidRows(matmul(h1, m2), b2);
      const dz2 = yOut.map((row, r) => row.map((y, c) => -2 * (y0[r][c] - y) * y * (1 - y)));
      const dz1 = matmul(dz2, transpose(m2)).map((row, r) => row.map((g, c) => g * h1[r][c] * (1 - h1[r][c])));
      const dm2 = matmul(transpose(h1), dz2);
      const dm1 = matmul(transpose(x0), dz1);
      const [db1, db2] = [columnSums(dz1), columnSums(dz2)];
      m1.forEach((row, r) => row.forEach((_, c) => (row[c] -= 1.0 * dm1[r][c])));
      m2.forEach((row, r) => row.forEach((_, c) => (row[c] -= 1.0 * dm2[r][c])));
      db1.forEach((g, c) => (b1[c] -= 1.0 * g));
      db2.forEach((g, c) => (b2[c] -= 1.0 * g));
    }

    const trainer = new CpuTrainer(model, datasetFromRows(x0, y0), {
      learningRate: 1.0 * x0.length,
      batchSize: x0.length,
      shuffle: false,
      seed: 1,
      optimizer: { kind: 'sgd' },
    });
    await trainer.train(500);
    const params = await trainer.read('params');
    const expected = [...transpose(m1).flat(), ...b1, ...transpose(m2).flat(), ...b2];
    const ours = [
      ...paramView(model.layout, params, 0, 'weights'),
      ...paramView(model.layout, params, 0, 'biases'),
      ...paramView(model.layout, params, 1, 'weights'),
      ...paramView(model.layout, params, 1, 'biases'),
    ];
    ours.forEach((value, k) => expect(Math.abs(value - expected[k])).toBeLessThanOrEqual(FLOAT64_TOLERANCE * Math.max(1, Math.abs(expected[k]))));
  });

  it('its printed values agree at the precision printed', async () => {
    for (const workedCase of missinglink.cases) {
      const { model, dataset, options } = caseSetup(workedCase);
      const step = await recordStep(new CpuTrainer(model, dataset, options), model);
      const rows = traceRows(workedCase, step);
      for (const p of workedCase.printed) expect(agreesAtPrintedPrecision(printedQuantity(p, rows, step), p.printed, 'round')).toBe(true);
    }
  });
});
