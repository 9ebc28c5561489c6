// Class names: a CSV's label column (--labels) may hold names (setosa, versicolor, …) in
// place of class ids. They become ids as scikit-learn's LabelEncoder makes them, by their
// sorted order, or by the model file's own `classes` where it has them; `train --out`
// keeps them there, and `predict` names each row's class. Training on names is training
// on their ids, exactly; a column of numbers is ids, as it always was.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError, Network, readDataFile, type Checkpoint, type ModelFile } from '../src/node.ts';
import { sortClassNames } from '../src/data/labels.ts';
import { parseCsvTable } from '../src/io/data-csv.ts';
import { MODEL_LIMITS } from '../src/io/model-format.ts';
import { cli } from './support/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'webgpu-backprop-class-names-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

const MODEL: ModelFile = { inputSize: 2, seed: 4, loss: 'cross-entropy', layers: [{ units: 6, activation: 'tanh' }, { units: 3, activation: 'softmax' }] };
const INPUTS = [[0, 0], [0, 1], [1, 0], [1, 1], [0.5, 0.2], [0.3, 0.9], [0.8, 0.4], [0.1, 0.6]];
const NAMES = ['virginica', 'setosa', 'versicolor', 'setosa', 'virginica', 'versicolor', 'setosa', 'virginica'];
const SORTED = ['setosa', 'versicolor', 'virginica'];
/** The message exactly, and nothing more. */
const exactly = (message: string) => new RegExp(`^${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
const csv = (labels: readonly (string | number)[]) => ['a,species,b', ...INPUTS.map((row, r) => `${row[0]},${labels[r]},${row[1]}`)].join('\n');

describe('a label column of names', () => {
  it('gives each name its place among the names sorted, and the names', () => {
    const table = parseCsvTable(csv(NAMES), 'iris.csv', [], 'species');
    expect(table.classes).toEqual(SORTED);
    expect(Array.from(table.labels!)).toEqual(NAMES.map((name) => SORTED.indexOf(name)));
    expect(Array.from(table.inputs)).toEqual(INPUTS.flat());
  });

  it('sorts by code point, as LabelEncoder does: "B" before "a", "10" before "9", U+FF01 before U+1F600', () => {
    expect(sortClassNames(['b', 'a', 'B', '9', '10', '\u{1F600}', '\uFF01'])).toEqual(['10', '9', 'B', 'a', 'b', '\uFF01', '\u{1F600}']);
  });

  it('is names if any cell is not a number: then every cell is a name, numbers too, trimmed', () => {
    const table = parseCsvTable('x,y\n1,3\n2, cat \n3,10\n4,3.0\n5,cat\n', 'd.csv', [], 'y');
    expect(table.classes).toEqual(['10', '3', '3.0', 'cat']);
    expect(Array.from(table.labels!)).toEqual([1, 3, 0, 2, 3]);
    // A number no class id could be is a name too, once the column is names.
    expect(parseCsvTable('x,y\n1,2.5\n2,cat\n', 'd.csv', [], 'y').classes).toEqual(['2.5', 'cat']);
  });

  it('is class ids, as before, where every cell is a number: no names', () => {
    const table = parseCsvTable('x,y\n1,2\n2,0\n3,1e0\n', 'd.csv', [], 'y');
    expect(Array.from(table.labels!)).toEqual([2, 0, 1]);
    expect(table.classes).toBeUndefined();
  });

  it("maps names by the model's classes where it gives them, in their order", () => {
    const model = ['virginica', 'setosa', 'versicolor'];
    const table = parseCsvTable(csv(NAMES), 'iris.csv', [], 'species', model);
    expect(table.classes).toEqual(model);
    expect(Array.from(table.labels!)).toEqual(NAMES.map((name) => model.indexOf(name)));
  });

  it.each([
    ['a name the model does not have, at its first line', () => parseCsvTable('x,s\n1,a\n2,rose\n3,rose\n', 'd.csv', [], 's', ['a', 'b']), 'd.csv: line 3, column s: "rose" is not one of the model\'s classes ("a", "b")'],
    ['an empty cell', () => parseCsvTable('x,s\n1,a\n2,  \n', 'd.csv', [], 's'), 'd.csv: line 3, column s: expected a class label (a name, or a class id), got an empty cell'],
    ['an empty cell among ids', () => parseCsvTable('x,s\n1,0\n2,1\n3,\n', 'd.csv', [], 's'), 'd.csv: line 4, column s: expected a class label (a name, or a class id), got an empty cell'],
    // Ids are refused at the line of the first bad one, before any later error, as when every id was checked as it came.
    ['an id that is not a whole number, before a later bad input', () => parseCsvTable('x,s\n1,2.5\noops,1\n', 'd.csv', [], 's'), 'd.csv: line 2, column s: expected a class id, a whole number ≥ 0, got 2.5'],
    ['a bad input, before a later bad id', () => parseCsvTable('x,s\noops,1\n1,2.5\n', 'd.csv', [], 's'), 'd.csv: line 2, column x: expected a number in decimal or exponent form (such as 0.5, -2 or 1e-3), got "oops"'],
  ])('refuses %s, naming the file, line and column', (_, parse, message) => {
    expect(parse).toThrow(InputError);
    expect(parse).toThrow(exactly(message));
  });

  it('refuses more distinct labels than an output layer may have units', () => {
    const rows = Array.from({ length: MODEL_LIMITS.units + 1 }, (_, k) => `${k % 7},id${k}`);
    expect(() => parseCsvTable(['x,s', ...rows].join('\n'), 'd.csv', [], 's')).toThrow(
      exactly(`d.csv: line ${MODEL_LIMITS.units + 2}, column s: more than ${MODEL_LIMITS.units} distinct labels, more classes than an output layer may have units (is it an identifier?)`),
    );
  });

  it('reads the same from disk, chunk by chunk', async () => {
    const path = file('chunks.csv', csv(NAMES));
    const table = await readDataFile(path, { labelColumn: 'species', chunkBytes: 7 });
    expect(table.classes).toEqual(SORTED);
    expect(Array.from(table.labels!)).toEqual(NAMES.map((name) => SORTED.indexOf(name)));
  });
});

describe("the model file's classes", () => {
  const WEIGHTS: ModelFile = {
    loss: 'cross-entropy',
    layers: [
      { activation: 'tanh', weights: [[0.1, -0.2], [0.3, 0.4]], biases: [0, 0.1] },
      { activation: 'softmax', weights: [[0.5, -0.6], [0.7, 0.8], [-0.9, 0.2]], biases: [0.1, 0, -0.1] },
    ],
  };

  it('round-trip through Network.fromJSON and toJSON; a file without them is written back byte for byte', async () => {
    const plain = `${JSON.stringify((await Network.fromJSON(JSON.stringify(WEIGHTS), { backend: 'cpu' })).toJSON(), null, 2)}\n`;
    const again = await Network.fromJSON(plain, { backend: 'cpu' });
    expect(`${JSON.stringify(again.toJSON(), null, 2)}\n`).toBe(plain);
    expect(plain).not.toContain('classes');
    expect(again.classes).toBeUndefined();

    const named = await Network.fromJSON(JSON.stringify({ ...WEIGHTS, classes: ['cat', 'dog', 'emu'] }), { backend: 'cpu' });
    expect(named.classes).toEqual(['cat', 'dog', 'emu']);
    expect(named.toJSON().classes).toEqual(['cat', 'dog', 'emu']);
    expect((await Network.fromJSON(named.toJSON(), { backend: 'cpu' })).toJSON()).toEqual(named.toJSON());
  });

  it("go into a checkpoint's model, and come back from it", async () => {
    const network = await Network.create({ ...MODEL, classes: SORTED }, { backend: 'cpu' });
    const saved: Checkpoint[] = [];
    await network.fit(INPUTS, NAMES.map((name) => SORTED.indexOf(name)), { steps: 2, batchSize: 4, checkpoint: { every: 2, save: (checkpoint) => void saved.push(checkpoint) } });
    expect(saved[0].model.classes).toEqual(SORTED);
  });

  it.each([
    ['one name short', ['cat', 'dog'], 'm.json: classes: expected 3 class names (one per unit of the output layer), got 2: "cat", "dog"'],
    ['a name twice', ['cat', 'dog', 'cat'], 'm.json: classes[2]: "cat" is also classes[0]: each class needs a name of its own'],
    ['an empty name', ['cat', '', 'dog'], 'm.json: classes[1]: expected a class name, text without spaces around it, got ""'],
  ])('refuses %s, naming the field, from a file and from a description alike', async (_, classes, message) => {
    const expected = exactly(message);
    await expect(Network.fromJSON(JSON.stringify({ ...WEIGHTS, classes }), { backend: 'cpu', source: 'm.json' })).rejects.toThrow(expected);
    await expect(Network.create({ ...WEIGHTS, classes }, { backend: 'cpu', source: 'm.json' })).rejects.toThrow(expected);
  });

  it('refuses names that are not text: a file by its schema, a description by its checks', async () => {
    const classes = ['cat', 'dog', 7];
    await expect(Network.fromJSON(JSON.stringify({ ...WEIGHTS, classes }), { backend: 'cpu', source: 'm.json' })).rejects.toThrow(exactly('m.json: classes[2]: Invalid input: expected string, received number'));
    await expect(Network.create({ ...WEIGHTS, classes } as unknown as ModelFile, { backend: 'cpu', source: 'm.json' })).rejects.toThrow(exactly('m.json: classes[2]: expected a class name, text without spaces around it, got 7'));
  });
});

describe('class names on the command line', () => {
  const FLAGS = ['--backend', 'cpu', '--steps', '9', '--batch-size', '3', '--optimizer', 'adam', '--lr', '0.1'];

  it('train on names gives exactly the weights that training on their ids in sorted-name order gives, and writes the names as classes', () => {
    const model = file('model.json', JSON.stringify(MODEL));
    const names = file('names.csv', csv(NAMES));
    const ids = file('ids.csv', csv(NAMES.map((name) => SORTED.indexOf(name))));
    const a = cli('train', '--model', model, '--data', names, '--labels', 'species', ...FLAGS, '--out', join(dir, 'by-names.json'));
    const b = cli('train', '--model', model, '--data', ids, '--labels', 'species', ...FLAGS, '--out', join(dir, 'by-ids.json'));
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(a.stdout).toBe(b.stdout.replace('by-ids.json', 'by-names.json'));
    const byNames = JSON.parse(readFileSync(join(dir, 'by-names.json'), 'utf8')) as ModelFile;
    const byIds = JSON.parse(readFileSync(join(dir, 'by-ids.json'), 'utf8')) as ModelFile;
    expect(byIds.classes).toBeUndefined();
    expect(byNames).toEqual({ ...byIds, classes: SORTED });
  });

  it("trains on from a model with classes by its names, in its order, and keeps them", () => {
    const order = ['virginica', 'setosa', 'versicolor'];
    const model = file('ordered.json', JSON.stringify({ ...MODEL, classes: order }));
    const plain = file('plain.json', JSON.stringify(MODEL));
    const a = cli('train', '--model', model, '--data', file('names2.csv', csv(NAMES)), '--labels', 'species', ...FLAGS, '--out', join(dir, 'ordered-out.json'));
    const b = cli('train', '--model', plain, '--data', file('ids2.csv', csv(NAMES.map((name) => order.indexOf(name)))), '--labels', 'species', ...FLAGS, '--out', join(dir, 'plain-out.json'));
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const ordered = JSON.parse(readFileSync(join(dir, 'ordered-out.json'), 'utf8')) as ModelFile;
    expect(ordered).toEqual({ ...(JSON.parse(readFileSync(join(dir, 'plain-out.json'), 'utf8')) as ModelFile), classes: order });
  });

  it("predict gives each row's class by name beside the outputs; without classes, the outputs alone as before", () => {
    const model = file('predict-model.json', JSON.stringify(MODEL));
    const data = file('predict.csv', csv(NAMES));
    const trained = join(dir, 'predict-trained.json');
    expect(cli('train', '--model', model, '--data', data, '--labels', 'species', ...FLAGS, '--out', trained).code).toBe(0);
    const named = cli('predict', '--model', trained, '--data', data, '--labels', 'species', '--backend', 'cpu');
    expect(named.code, named.stderr).toBe(0);
    const printed = JSON.parse(named.stdout) as { outputs: number[][]; predicted: string[] };
    expect(Object.keys(printed)).toEqual(['outputs', 'predicted']);
    expect(printed.outputs).toHaveLength(INPUTS.length);
    expect(printed.predicted).toEqual(printed.outputs.map((row) => SORTED[row.indexOf(Math.max(...row))]));
    // The classes are not all the same one: the check above has something to tell apart.
    expect(new Set(printed.predicted).size).toBeGreaterThan(1);

    const { classes: _classes, ...unnamed } = JSON.parse(readFileSync(trained, 'utf8')) as ModelFile;
    const plain = cli('predict', '--model', file('unnamed.json', JSON.stringify(unnamed)), '--data', data, '--labels', 'species', '--backend', 'cpu');
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toBe(`${JSON.stringify({ outputs: printed.outputs })}\n`);
  });

  it.each([
    ['a name the model does not have', { ...MODEL, classes: ['setosa', 'versicolor', 'rose'] }, NAMES, 'line 2, column species: "virginica" is not one of the model\'s classes ("setosa", "versicolor", "rose")'],
    ['more names than output units', { ...MODEL, layers: [MODEL.layers[0], { units: 2, activation: 'softmax' }] }, NAMES, 'column species: expected 2 class names (one per unit of the output layer), got 3: "setosa", "versicolor", "virginica"'],
    ['an empty cell', MODEL, NAMES.map((name, r) => (r === 5 ? '' : name)), 'line 7, column species: expected a class label (a name, or a class id), got an empty cell'],
  ])('train refuses %s in one line naming the data file, exit 2, --out untouched', (_, model, labels, message) => {
    const data = file('bad.csv', csv(labels));
    const out = join(dir, 'untouched.json');
    const result = cli('train', '--model', file('bad-model.json', JSON.stringify(model)), '--data', data, '--labels', 'species', '--backend', 'cpu', '--out', out);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`webgpu-backprop: ${data}: ${message}\n`);
    expect(() => readFileSync(out)).toThrow();
  });

  it('train refuses a model file whose classes name one twice, in one line', () => {
    const model = file('twice.json', JSON.stringify({ ...MODEL, classes: ['setosa', 'setosa', 'virginica'] }));
    const result = cli('train', '--model', model, '--data', file('twice.csv', csv(NAMES)), '--labels', 'species', '--backend', 'cpu');
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`webgpu-backprop: ${model}: classes[1]: "setosa" is also classes[0]: each class needs a name of its own\n`);
  });
});
