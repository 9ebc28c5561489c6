// Class labels: one class id per row instead of one-hot targets, through fit, evaluate
// and the metrics, in JSON ("labels") and CSV (--labels) data files, and on the command
// line; training on them is training on their one-hot rows, exactly. Ids outside
// 0 … outputs − 1, or not whole numbers, are refused naming the row.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError, Network, readDataFile, type ModelFile } from '../src/node.ts';
import { computeMetrics } from '../src/train/metrics.ts';
import { parseCsvTable } from '../src/io/data-csv.ts';
import { parseJsonTable } from '../src/io/data-json.ts';
import { checkDataFits } from '../src/io/data-file.ts';
import { cli } from './support/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'webgpu-backprop-labels-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

const MODEL: ModelFile = { inputSize: 2, seed: 4, loss: 'cross-entropy', layers: [{ units: 6, activation: 'tanh' }, { units: 3, activation: 'softmax' }] };
const INPUTS = [[0, 0], [0, 1], [1, 0], [1, 1], [0.5, 0.2], [0.3, 0.9]];
const IDS = [0, 2, 1, 2, 0, 1];
const ONE_HOT = IDS.map((id) => [0, 1, 2].map((k) => (k === id ? 1 : 0)));

describe('class ids through the API', () => {
  it.each([['number[]', IDS], ['Int32Array', Int32Array.from(IDS)]] as const)('fit and evaluate on %s give what one-hot targets give, exactly', async (_, ids) => {
    const options = { epochs: 5, batchSize: 4, learningRate: 0.3, optimizer: 'adam' as const, metrics: ['accuracy' as const] };
    const byIds = await Network.create(MODEL, { backend: 'cpu' });
    const byRows = await Network.create(MODEL, { backend: 'cpu' });
    const a = await byIds.fit(INPUTS, ids, { ...options, validationData: [INPUTS, ids] });
    const b = await byRows.fit(INPUTS, ONE_HOT, { ...options, validationData: [INPUTS, ONE_HOT] });
    expect(a.history).toEqual(b.history);
    expect(byIds.toJSON()).toEqual(byRows.toJSON());
    expect(await byIds.evaluate(INPUTS, ids, { metrics: ['accuracy', 'mae'] })).toEqual(await byRows.evaluate(INPUTS, ONE_HOT, { metrics: ['accuracy', 'mae'] }));
  });

  it('the metrics take class ids as they take one-hot rows', () => {
    const outputs = [0.7, 0.2, 0.1, 0.1, 0.3, 0.6, 0.2, 0.5, 0.3];
    expect(computeMetrics(['accuracy', 'mae', 'r2'], outputs, [0, 2, 0], 3)).toEqual(computeMetrics(['accuracy', 'mae', 'r2'], outputs, [1, 0, 0, 0, 0, 1, 1, 0, 0], 3));
  });

  it.each([
    [[0, 3, 1, 2, 0, 1], /^targets\[1\]: expected a class id, a whole number from 0 to 2 \(one per output unit\), got 3$/],
    [[0, 1, 1.5, 2, 0, 1], /^targets\[2\]: expected a class id, a whole number from 0 to 2 \(one per output unit\), got 1\.5$/],
    [[0, 1, -1, 2, 0, 1], /^targets\[2\]: expected a class id, a whole number from 0 to 2 \(one per output unit\), got -1$/],
  ])('an id outside 0 … outputs − 1, or not a whole number, is refused naming the row: %o', async (ids, message) => {
    const network = await Network.create(MODEL, { backend: 'cpu' });
    await expect(network.fit(INPUTS, ids)).rejects.toThrow(InputError);
    await expect(network.fit(INPUTS, ids)).rejects.toThrow(message);
  });

  it('needs an output layer of two units or more, one per class', async () => {
    const binary = await Network.create({ ...MODEL, layers: [{ units: 4, activation: 'tanh' }, { units: 1, activation: 'sigmoid' }] }, { backend: 'cpu' });
    await expect(binary.fit(INPUTS, IDS.map((id) => id % 2))).rejects.toThrow(/^targets: class ids need an output layer of at least 2 units, one per class; this one has 1: give targets instead$/);
  });
});

describe('class ids in data files', () => {
  it('JSON: "labels", one id per row, instead of "targets"', () => {
    const table = parseJsonTable(JSON.stringify({ inputs: INPUTS, labels: IDS }), 'ids.json');
    expect(Array.from(table.labels!)).toEqual(IDS);
    expect(table.targets).toBeUndefined();
  });

  it('CSV: the column --labels names', () => {
    const text = ['a,class,b', ...INPUTS.map((row, r) => `${row[0]},${IDS[r]},${row[1]}`)].join('\n');
    const table = parseCsvTable(text, 'ids.csv', [], 'class');
    expect(Array.from(table.labels!)).toEqual(IDS);
    expect(Array.from(table.inputs)).toEqual(INPUTS.flat());
  });

  it.each([
    ['JSON, an id that is not a whole number', () => parseJsonTable('{"inputs": [[1], [2]], "labels": [0, 1.5]}', 'd.json'), 'd.json: labels[1]: expected a class id, a whole number ≥ 0, got 1.5'],
    ['JSON, a negative id', () => parseJsonTable('{"inputs": [[1], [2]], "labels": [-1, 0]}', 'd.json'), 'd.json: labels[0]: expected a class id, a whole number ≥ 0, got -1'],
    ['JSON, one id short', () => parseJsonTable('{"inputs": [[1], [2]], "labels": [0]}', 'd.json'), 'd.json: labels: expected 2 class ids (one per row of inputs), got 1'],
    ['JSON, targets and labels', () => parseJsonTable('{"inputs": [[1], [2]], "targets": [[1], [0]], "labels": [0, 1]}', 'd.json'), 'd.json: labels: give targets or labels (class ids), not both'],
    ['CSV, an id that is not a whole number', () => parseCsvTable('x,y\n1,0\n2,2.5\n', 'd.csv', [], 'y'), 'd.csv: line 3, column y: expected a class id, a whole number ≥ 0, got 2.5'],
    ['CSV, no such column', () => parseCsvTable('x,y\n1,0\n', 'd.csv', [], 'class'), 'd.csv: line 1: no column named "class" (columns: x, y)'],
    ['an id past the model\'s outputs', () => checkDataFits(parseJsonTable('{"inputs": [[1, 2], [3, 4]], "labels": [0, 3]}', 'd.json'), 'd.json', 2, 3), 'd.json: labels[1]: expected a class id, a whole number from 0 to 2 (one per output unit), got 3'],
  ])('%s is refused naming the file and the row', (_, parse, message) => {
    expect(parse).toThrow(InputError);
    expect(parse).toThrow(message);
  });

  it('--labels names a CSV column: refused for a JSON file, and beside --targets', async () => {
    const json = file('ids.json', JSON.stringify({ inputs: INPUTS, labels: IDS }));
    await expect(readDataFile(json, { labelColumn: 'class' })).rejects.toThrow(/^--labels: names a CSV column; a JSON data file gives its labels itself/);
    const csv = file('both.csv', 'a,b,c\n1,2,0\n');
    await expect(readDataFile(csv, { labelColumn: 'c', targetColumns: ['b'] })).rejects.toThrow(/^--targets, --labels: give target columns or a column of class ids, not both$/);
  });
});

describe('class ids on the command line', () => {
  it.each(['cpu', 'webgpu'])('train --labels on %s gives the model that one-hot target columns give', (backend) => {
    const model = file('model.json', JSON.stringify(MODEL));
    const ids = file('ids.csv', ['a,b,class', ...INPUTS.map((row, r) => `${row.join(',')},${IDS[r]}`)].join('\n'));
    const rows = file('rows.csv', ['a,b,c0,c1,c2', ...INPUTS.map((row, r) => `${row.join(',')},${ONE_HOT[r].join(',')}`)].join('\n'));
    const flags = ['--backend', backend, '--steps', '7', '--batch-size', '4', '--optimizer', 'adam', '--lr', '0.1'];
    const a = cli('train', '--model', model, '--data', ids, '--labels', 'class', ...flags, '--out', join(dir, `ids-${backend}.json`));
    const b = cli('train', '--model', model, '--data', rows, '--targets', 'c0,c1,c2', ...flags, '--out', join(dir, `rows-${backend}.json`));
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(readFileSync(join(dir, `ids-${backend}.json`), 'utf8')).toBe(readFileSync(join(dir, `rows-${backend}.json`), 'utf8'));
  });
});
