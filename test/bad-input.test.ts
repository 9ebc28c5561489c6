// Bad input that used to get through, or to cost more than a line: rows nested deeper
// than a row (a stack overflow, or a message of megabytes), values of any size in a
// message, a CSV naming two columns alike. Each is now refused at once, with one line of
// bounded length naming the place.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError, Network, readDataFile, type FitOptions, type ModelFile } from '../src/node.ts';
import { parseLabelledCsv } from '../src/trainers.ts';
import { cli } from './support/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'webgpu-backprop-bad-input-'));
const MODEL: ModelFile = { inputSize: 2, seed: 1, loss: 'mse', layers: [{ units: 1, activation: 'linear' }] };

/** The InputError a call ends with (the test fails on anything else). */
async function refusal(call: () => Promise<unknown>): Promise<InputError> {
  const error = await call().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InputError);
  return error as InputError;
}

describe('values of any size or depth, in one bounded line', () => {
  let deep: unknown = 1;
  for (let k = 0; k < 200_000; k++) deep = [deep];
  const huge = new Array(5_000_000).fill(7);
  const long = 'x'.repeat(10_000_000);

  it.each<[string, (net: Network) => Promise<unknown>, RegExp]>([
    ['a value nested 200,000 deep in a row', (net) => net.fit([[1, deep as number]], [[1]]), /^inputs\[0\]\[1\]: expected a finite number, got an array of 1$/],
    ['a row nested deeper than a row, in predict', (net) => net.predict([[deep as number, 1]]), /^inputs\[0\]\[0\]: expected a finite number, got an array of 1$/],
    ['an array of five million values as one value', (net) => net.fit([[1, 2]], [[huge as unknown as number]]), /^targets\[0\]\[0\]: expected a finite number, got an array of 5000000$/],
    ['ten million characters as one value', (net) => net.evaluate([[1, long as unknown as number]], [[1]]), /^inputs\[0\]\[1\]: expected a finite number, got x{80}… \(10000000 characters\)$/],
    ['a learning rate nested deep', (net) => net.fit([[1, 2]], [[1]], { learningRate: deep } as FitOptions), /^learningRate: expected a positive number, got an array of 1$/],
    ['a metric of ten million characters', (net) => net.fit([[1, 2]], [[1]], { metrics: [long] } as unknown as FitOptions), /^metrics\[0\]: expected one of accuracy, mae, r2, got "x{80}… \(10000000 characters\)"$/],
    ['an option key of ten million characters', (net) => net.fit([[1, 2]], [[1]], { [long]: 1 } as FitOptions), /^x{40}…: is not an option of fit; its options are /],
    ['a backend of any kind', () => Network.create(MODEL, { backend: deep } as never), /^backend: expected webgpu, wasm, cpu, auto, got an array of 1$/],
    ['a layer of a deep activation', () => Network.create({ ...MODEL, layers: [{ units: 1, activation: deep as 'linear' }] }, { backend: 'cpu' }), /^model: layers\[0\]\.activation: expected one of .*, got an array of 1$/],
    ['a checkpoint whose options nest deep', (net) => net.fit([[1, 2]], [[1]], { steps: 2, resume: { format: 'webgpu-backprop checkpoint 1', step: 1, data: 'x', model: MODEL, optimizerState: [], options: { learningRate: 0.1, batchSize: 1, shuffle: true, seed: 1, optimizer: { kind: 'sgd' }, extra: deep } } as never }), /^resume: /],
  ])('%s', async (_, call, message) => {
    const net = await Network.create(MODEL, { backend: 'cpu' });
    const error = await refusal(() => call(net));
    expect(error.message).toMatch(message);
    expect(error.message.length).toBeLessThanOrEqual(2001);
    expect(error.message).not.toContain('\n');
  });

  it('a data file nesting deeper than a row is refused at its first value, naming it', async () => {
    const path = join(dir, 'deep.json');
    writeFileSync(path, `{"inputs": ${'['.repeat(100_000)}${']'.repeat(100_000)}, "targets": [[1]]}`);
    await expect(readDataFile(path)).rejects.toThrow(/deep\.json: inputs\[0\]\[0\]: expected a number, got an array$/);
  });
});

describe('a CSV header naming two columns alike', () => {
  const text = 'x,y,x,label\n1,2,3,a\n4,5,6,b\n';

  it('is refused by both CSV readers, naming both columns', async () => {
    const path = join(dir, 'twice.csv');
    writeFileSync(path, text);
    await expect(readDataFile(path, { targetColumns: ['y'] })).rejects.toThrow(new InputError(`${path}: line 1`, 'columns 1 and 3 are both named "x": each column needs a name of its own'));
    expect(() => parseLabelledCsv(text, 'twice.csv', ['label'])).toThrow(/^twice\.csv: line 1: columns 1 and 3 are both named "x": each column needs a name of its own$/);
  });

  it('and on the command line, with one line and exit status 2', () => {
    const path = join(dir, 'numbers-twice.csv');
    writeFileSync(path, 'a,b,a\n1,2,3\n4,5,6\n');
    const model = join(dir, 'model.json');
    writeFileSync(model, JSON.stringify(MODEL));
    const run = cli('train', '--model', model, '--data', path, '--targets', 'b', '--backend', 'cpu');
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`webgpu-backprop: ${path}: line 1: columns 1 and 3 are both named "a": each column needs a name of its own\n`);
  });
});
