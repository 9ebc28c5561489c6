// Preparing real data for a network: which output its targets ask for, text labels
// one-hot encoded from CSV, inputs standardised with statistics that travel in the model
// file (so prediction applies them), and the confusion matrix of a classifier.

import { describe, expect, it } from 'vitest';
import { applyInputScaling, fitInputScaling } from '../src/data/scaling.ts';
import { outputFor, targetKind } from '../src/train/targets.ts';
import { InputError } from '../src/errors.ts';
import { parseLabelledCsv } from '../src/io/labelled-csv.ts';
import { modelFromJson, modelToJson, parseModelFile } from '../src/io/model-file.ts';
import { Network } from '../src/network.ts';
import { accuracy, confusionMatrix } from '../src/train/metrics.ts';

const FLOAT64_TOLERANCE = 1e-12; // a handful of float64 roundings of numbers near 1

describe('the kind of target', () => {
  it('tells one 0/1 column, one-hot rows, several labels and numbers apart, and pairs each with its output', () => {
    expect(targetKind([0, 1, 1, 0], 1)).toBe('binary');
    expect(targetKind([1, 0, 0, 0, 0, 1], 3)).toBe('one-hot');
    expect(targetKind([1, 1, 0, 0, 0, 1], 3)).toBe('multi-label');
    expect(targetKind([0, 0, 0, 1, 0, 0], 3)).toBe('multi-label'); // a row with no class is no one-hot row
    expect(targetKind([0.5, 1, 0], 1)).toBe('continuous');
    expect(targetKind([3, 7], 1)).toBe('continuous');
    expect(outputFor('binary')).toEqual({ activation: 'sigmoid', loss: 'cross-entropy', metrics: ['accuracy'] });
    expect(outputFor('one-hot')).toEqual({ activation: 'softmax', loss: 'cross-entropy', metrics: ['accuracy'] });
    expect(outputFor('continuous')).toEqual({ activation: 'linear', loss: 'mse', metrics: ['mae', 'r2'] });
  });

  it('refuses softmax over a single output, which is always 1 and learns nothing', () => {
    const file = { inputSize: 2, loss: 'cross-entropy' as const, layers: [{ units: 4, activation: 'relu' as const }, { units: 1, activation: 'softmax' as const }] };
    expect(() => modelFromJson(file, 'one.json')).toThrow(new InputError('one.json: layers[1].activation', 'softmax over one output is always 1 and learns nothing; for one 0/1 target use sigmoid (with cross-entropy)'));
  });
});

describe('CSV with text labels', () => {
  const csv = ['length,width,species', '5.1,3.5,setosa', '7.0,3.2,versicolor', '6.3,3.3,virginica', '4.9,3.0,setosa'].join('\n');

  it('one-hot encodes a text label column over its sorted classes and keeps numbers as they are', () => {
    const data = parseLabelledCsv(csv, 'iris.csv', ['species']);
    expect(data.inputs).toEqual([[5.1, 3.5], [7.0, 3.2], [6.3, 3.3], [4.9, 3.0]]);
    expect(data.targets).toEqual([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0]]);
    expect(data.classes).toEqual({ species: ['setosa', 'versicolor', 'virginica'] });
    expect(data.outputNames).toEqual(['species: setosa', 'species: versicolor', 'species: virginica']);
    expect(data.inputColumns).toEqual(['length', 'width']);
    const numeric = parseLabelledCsv('x,y\n1,2.5\n2,3.5', 'line.csv', ['y']);
    expect(numeric.targets).toEqual([[2.5], [3.5]]);
    expect(numeric.classes).toEqual({});
  });

  it("orders the classes as the command line's --labels does, by code point: \"B\" before \"a\", \"10\" before \"9\"", () => {
    expect(parseLabelledCsv('x,c\n1,a\n2,9\n3,B\n4,10', 'c.csv', ['c']).classes).toEqual({ c: ['10', '9', 'B', 'a'] });
  });

  it('names the line and column of text in an input column, an empty target and an unknown column', () => {
    expect(() => parseLabelledCsv('a,b,label\n1,2,x\n1,oops,y', 'f.csv', ['label'])).toThrow(new InputError('f.csv: line 3, column b', 'expected a finite number (only target columns may hold text labels), got "oops"'));
    expect(() => parseLabelledCsv('a,label\n1,x\n2,', 'f.csv', ['label'])).toThrow(new InputError('f.csv: line 3, column label', 'expected a target value, got an empty cell'));
    expect(() => parseLabelledCsv('a,label\n1,x', 'f.csv', ['class'])).toThrow(new InputError('f.csv: line 1', 'no column named "class" (columns: a, label)'));
    expect(() => parseLabelledCsv('a,label\n1,x', 'f.csv', [])).toThrow(/f\.csv: name at least one target column/);
  });
});

describe('standardised inputs', () => {
  it('are (x − mean) / std with population statistics; a constant column gets std 1', () => {
    const scaling = fitInputScaling([[1, 5], [3, 5], [5, 5]], 2);
    expect(scaling.mean).toEqual([3, 5]);
    expect(scaling.std[0]).toBeCloseTo(Math.sqrt(8 / 3), 14);
    expect(scaling.std[1]).toBe(1);
    const scaled = applyInputScaling(Float64Array.of(1, 5, 5, 5), scaling);
    expect(scaled[0]).toBeCloseTo(-2 / Math.sqrt(8 / 3), 14);
    expect(scaled[1]).toBe(0);
  });

  it('travel in the model file, and are refused there when they do not fit the inputs', () => {
    const file = { inputSize: 2, seed: 3, loss: 'mse' as const, layers: [{ units: 3, activation: 'tanh' as const }, { units: 1, activation: 'linear' as const }], inputScaling: { mean: [1, 2], std: [0.5, 4] } };
    const model = modelFromJson(file, 'scaled.json');
    expect(model.inputScaling).toEqual({ mean: [1, 2], std: [0.5, 4] });
    const written = modelToJson(model);
    expect(written.inputScaling).toEqual({ mean: [1, 2], std: [0.5, 4] });
    expect(parseModelFile(JSON.stringify(written), 'again.json').inputScaling).toEqual(model.inputScaling);
    expect(modelToJson(modelFromJson({ ...file, inputScaling: undefined }, 'plain.json'))).not.toHaveProperty('inputScaling');
    expect(() => modelFromJson({ ...file, inputScaling: { mean: [1], std: [1, 1] } }, 'bad.json')).toThrow(new InputError('bad.json: inputScaling.mean', 'expected 2 values (one per input), got 1'));
    expect(() => modelFromJson({ ...file, inputScaling: { mean: [1, 2], std: [1, 0] } }, 'bad.json')).toThrow(new InputError('bad.json: inputScaling.std[1]', 'expected a positive number, got 0'));
  });

  it('are applied by a network to whatever it is given: predict, evaluate and fit see scaled inputs', async () => {
    const layers = [{ activation: 'linear' as const, weights: [[2, -1]], biases: [0.5] }];
    const scaling = { mean: [10, -4], std: [2, 0.5] };
    const scaled = await Network.create({ loss: 'mse', layers, inputScaling: scaling }, { backend: 'cpu' });
    const plain = await Network.create({ loss: 'mse', layers }, { backend: 'cpu' });
    const raw = [[12, -3], [7, -5]];
    const byHand = raw.map((row) => row.map((x, c) => (x - scaling.mean[c]) / scaling.std[c]));
    const [predicted, expected] = [await scaled.predict(raw), await plain.predict(byHand)];
    predicted.flat().forEach((value, k) => expect(Math.abs(value - expected.flat()[k])).toBeLessThan(FLOAT64_TOLERANCE));
    const targets = [[1], [0]];
    expect((await scaled.evaluate(raw, targets)).loss).toBeCloseTo((await plain.evaluate(byHand, targets)).loss, 12);
    await scaled.fit(raw, targets, { epochs: 3, batchSize: 2, learningRate: 0.1, shuffle: false });
    await plain.fit(byHand, targets, { epochs: 3, batchSize: 2, learningRate: 0.1, shuffle: false });
    scaled.params().forEach((value, k) => expect(Math.abs(value - plain.params()[k])).toBeLessThan(FLOAT64_TOLERANCE));
    expect(scaled.toJSON().inputScaling).toEqual(scaling);
    expect((await Network.fromJSON(JSON.stringify(scaled.toJSON()), { backend: 'cpu' })).inputScaling).toEqual(scaling);
    scaled.dispose();
    plain.dispose();
  });
});

describe('the confusion matrix', () => {
  it('counts each actual class (row) by predicted class (column); one output splits at 0.5', () => {
    const outputs = [0.7, 0.2, 0.1, 0.1, 0.8, 0.1, 0.6, 0.3, 0.1, 0.2, 0.2, 0.6];
    const targets = [1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1];
    expect(confusionMatrix(outputs, targets, 3)).toEqual([
      [1, 0, 0],
      [1, 1, 0],
      [0, 0, 1],
    ]);
    expect(accuracy(outputs, targets, 3)).toBe(0.75);
    expect(confusionMatrix([0.9, 0.4, 0.6], [1, 1, 0], 1)).toEqual([
      [0, 1],
      [1, 1],
    ]);
  });
});
