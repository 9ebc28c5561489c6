// Bad input on the command line, on both backends: one line naming the file, field or
// flag and what was expected; a non-zero exit; no stack trace; an existing --out file
// left as it was.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ACTIVATIONS, LOSSES } from '../src/model/model.ts';
import { cli } from './support/cli.ts';

/** zod's message for a value outside `choices`, as a pattern. */
const expectedOneOf = (choices: readonly string[]) => choices.map((choice) => `"${choice}"`).join('|').replace(/[|.*+?^${}()[\]\\-]/g, '\\$&');

const dir = mkdtempSync(join(tmpdir(), 'webgpu-backprop-errors-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

const model = file('model.json', JSON.stringify({ loss: 'half-sse', layers: [{ activation: 'sigmoid', weights: [[0.1, 0.2], [0.3, 0.4]], biases: [0, 0] }, { activation: 'sigmoid', weights: [[0.5, 0.6]] }] }));
const data = file('data.json', JSON.stringify({ inputs: [[0, 0], [0, 1], [1, 0], [1, 1]], targets: [[0], [1], [1], [0]] }));

interface BadInput {
  name: string;
  args: string[];
  message: RegExp;
}

const CASES: BadInput[] = [
  { name: 'a missing model file', args: ['--model', join(dir, 'nope.json'), '--data', data], message: /nope\.json: no such model file$/ },
  { name: 'a missing data file', args: ['--model', model, '--data', join(dir, 'nope.csv')], message: /nope\.csv: no such data file$/ },
  {
    name: 'a model file that is not JSON',
    args: ['--model', file('syntax.json', '{"loss": "sse",\n "layers": [}'), '--data', data],
    message: /syntax\.json: line 2, column 13: not valid JSON/,
  },
  {
    name: 'an unknown activation',
    args: ['--model', file('act.json', '{"loss": "sse", "layers": [{"activation": "swish", "weights": [[1, 2]]}]}'), '--data', data],
    message: new RegExp(`act\\.json: layers\\[0\\]\\.activation: Invalid option: expected one of ${expectedOneOf(ACTIVATIONS)}$`),
  },
  {
    name: 'an unknown loss',
    args: ['--model', file('loss.json', '{"loss": "hinge", "layers": [{"activation": "linear", "weights": [[1, 2]]}]}'), '--data', data],
    message: new RegExp(`loss\\.json: loss: Invalid option: expected one of ${expectedOneOf(LOSSES)}$`),
  },
  {
    name: 'a ragged weight row',
    args: ['--model', file('ragged.json', '{"loss": "sse", "layers": [{"activation": "linear", "weights": [[1, 2], [3]]}]}'), '--data', data],
    message: /ragged\.json: layers\[0\]\.weights\[1\]: expected 2 weights \(one per input from the model\), got 1$/,
  },
  {
    name: 'layers whose shapes do not chain',
    args: ['--model', file('chain.json', '{"loss": "sse", "layers": [{"activation": "linear", "weights": [[1, 2]]}, {"activation": "linear", "weights": [[1, 2]]}]}'), '--data', data],
    message: /chain\.json: layers\[1\]\.weights\[0\]: expected 1 weights \(one per input from layers\[0\]\), got 2$/,
  },
  {
    name: 'softmax on a hidden layer',
    args: ['--model', file('softmax.json', '{"inputSize": 2, "loss": "cross-entropy", "layers": [{"units": 3, "activation": "softmax"}, {"units": 2, "activation": "softmax"}]}'), '--data', data],
    message: /softmax\.json: layers\[0\]\.activation: softmax is allowed on the output layer only$/,
  },
  {
    name: 'data of the wrong width',
    args: ['--model', model, '--data', file('wide.json', '{"inputs": [[1, 2, 3]], "targets": [[1]]}')],
    message: /wide\.json: inputs: expected 2 values per row \(the model's inputs\), got 3$/,
  },
  {
    name: 'NaN in a JSON data file',
    args: ['--model', model, '--data', file('nan.json', '{"inputs": [[1, NaN]], "targets": [[1]]}')],
    message: /nan\.json: line 1, column 17: NaN is not a number in JSON: expected a finite number$/,
  },
  {
    name: 'an infinite value in a CSV data file',
    args: ['--model', model, '--data', file('inf.csv', 'a,b,y\n0,1,1\n1,Infinity,0\n'), '--targets', 'y'],
    message: /inf\.csv: line 3, column b: expected a number in decimal or exponent form \(such as 0\.5, -2 or 1e-3\), got "Infinity"$/,
  },
  {
    name: 'a value float32 cannot hold in a CSV data file',
    args: ['--model', model, '--data', file('f32.csv', 'a,b,y\n0,1,1\n1,1e39,0\n'), '--targets', 'y'],
    message: /f32\.csv: line 3, column b: expected a number float32 can hold \(\|x\| ≤ 3\.4028234663852886e\+38\), got 1e39$/,
  },
  {
    name: 'a value float32 cannot hold in a JSON data file',
    args: ['--model', model, '--data', file('f32.json', '{"inputs": [[0, 0], [1, -4e38]], "targets": [[1], [0]]}')],
    message: /f32\.json: inputs\[1\]\[1\]: expected a number float32 can hold \(\|x\| ≤ 3\.4028234663852886e\+38\), got -4e38$/,
  },
  {
    name: 'a hexadecimal number in a CSV data file',
    args: ['--model', model, '--data', file('hex.csv', 'a,b,y\n0,0x10,1\n'), '--targets', 'y'],
    message: /hex\.csv: line 2, column b: expected a number in decimal or exponent form \(such as 0\.5, -2 or 1e-3\), got "0x10"$/,
  },
  {
    name: 'a weight float32 cannot hold',
    args: ['--model', file('f32-model.json', '{"loss": "sse", "layers": [{"activation": "linear", "weights": [[1, 1e39]]}]}'), '--data', data],
    message: /f32-model\.json: layers\[0\]\.weights\[0\]\[1\]: expected a number float32 can hold \(\|x\| ≤ 3\.4028234663852886e\+38\)$/,
  },
  { name: 'a learning rate float32 cannot hold', args: ['--model', model, '--data', data, '--lr', '1e39'], message: /'--lr <rate>' argument '1e39' is invalid\. expected a positive number float32 can hold \(1\.1754943508222875e-38 to 3\.4028234663852886e\+38\), got "1e39"$/ },
  {
    name: 'a seed past 2^53 − 1 (a checkpoint could not give it back)',
    args: ['--model', model, '--data', data, '--seed', '9007199254740993'],
    message: /'--seed <n>' argument '9007199254740993' is invalid\. expected a whole number ≥ 0 up to 9007199254740991, got "9007199254740993"$/,
  },
  { name: 'steps past 2^53 − 1', args: ['--model', model, '--data', data, '--steps', '1e300'], message: /'--steps <n>' argument '1e300' is invalid\. expected a positive integer up to 9007199254740991, got "1e300"$/ },
  { name: 'steps in hexadecimal', args: ['--model', model, '--data', data, '--steps', '0x10'], message: /'--steps <n>' argument '0x10' is invalid\. expected a positive integer, got "0x10"$/ },
  { name: 'a fractional batch size', args: ['--model', model, '--data', data, '--batch-size', '2.5'], message: /'--batch-size <n>' argument '2\.5' is invalid\. expected a positive integer, got "2\.5"$/ },
  {
    name: 'a checkpoint interval past 2^53 − 1',
    args: ['--model', model, '--data', data, '--checkpoint-every', '9007199254740992'],
    message: /'--checkpoint-every <n>' argument '9007199254740992' is invalid\. expected a positive integer up to 9007199254740991, got "9007199254740992"$/,
  },
  { name: 'a learning rate of zero', args: ['--model', model, '--data', data, '--lr', '0'], message: /'--lr <rate>' argument '0' is invalid\. expected a positive number, got "0"$/ },
  { name: 'a negative batch size', args: ['--model', model, '--data', data, '--batch-size', '-4'], message: /'--batch-size <n>' argument '-4' is invalid\. expected a positive integer, got "-4"$/ },
  { name: 'steps of zero', args: ['--model', model, '--data', data, '--steps', '0'], message: /'--steps <n>' argument '0' is invalid\. expected a positive integer, got "0"$/ },
  { name: 'an unknown flag', args: ['--model', model, '--data', data, '--learning-rate', '1'], message: /unknown option '--learning-rate'/ },
  { name: '--resume without a checkpoint', args: ['--model', model, '--data', data, '--resume', '--checkpoint', join(dir, 'none.json')], message: /none\.json: no such checkpoint$/ },
];

describe.each(['cpu', 'wasm', 'webgpu'])('train --backend %s refuses bad input', (backend) => {
  it.each(CASES)('$name', ({ args, message }) => {
    const out = file(`out-${backend}.json`, 'the previous model\n');
    const steps = args.includes('--steps') ? [] : ['--steps', '3'];
    const run = cli('train', ...args, ...steps, '--backend', backend, '--out', out);
    expect(run.code).not.toBe(0);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(readFileSync(out, 'utf8')).toBe('the previous model\n');
  });
});

describe('training that diverges', () => {
  const linear = file('linear.json', JSON.stringify({ loss: 'sse', layers: [{ activation: 'linear', weights: [[0.5, -0.3], [0.2, 0.8]], biases: [0, 0] }] }));
  const points = file('points.json', JSON.stringify({ inputs: [[1, 2], [3, -1], [0.5, 4], [2, 2]], targets: [[1, 0], [0, 1], [2, 2], [1, 1]] }));

  it.each(['cpu', 'wasm', 'webgpu'])('stops on %s and says at which step, in which buffer and element, the first non-finite value appeared', (backend) => {
    const out = file(`diverged-${backend}.json`, 'the previous model\n');
    const run = cli('train', '--model', linear, '--data', points, '--backend', backend, '--lr', '10', '--steps', '400', '--batch-size', '2', '--no-shuffle', '--out', out);
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toMatch(/^webgpu-backprop: training diverged: the first (non-finite value|value beyond float32's range) was (loss\[sample \d\]|the batch loss \(the mean of finite sample losses\)|\S+\[sample \d, unit \d\]|params: layer0\.\S+) = (-?Infinity|NaN|\d\.\d+e\+\d+) at step \d+; the network is back at its last finite weights, those before step \d+ \(try a smaller --lr\)$/);
    expect(readFileSync(out, 'utf8')).toBe('the previous model\n');
  });
});

describe('the largest seed', () => {
  it.each(['cpu', 'wasm', 'webgpu'])('a run on %s with seed 2^53 − 1 writes a checkpoint it can resume from', (backend) => {
    const checkpoint = join(dir, `largest-seed-${backend}.checkpoint.json`);
    const flags = ['--model', model, '--data', data, '--backend', backend, '--batch-size', '2', '--seed', '9007199254740991', '--checkpoint', checkpoint];
    const first = cli('train', ...flags, '--steps', '4', '--checkpoint-every', '2');
    expect(first.stderr).toContain('checkpoint at step 4');
    expect(first.code).toBe(0);
    const resumed = cli('train', ...flags, '--steps', '6', '--resume');
    expect(resumed.stderr.trim()).toBe(`webgpu-backprop: resuming from step 4 (${checkpoint})`);
    expect(resumed.code).toBe(0);
  });
});

describe('a refusal only the GPU makes', () => {
  // 16 × 65,535 samples fill the adapter's workgroups along one dimension (its smallest
  // tile is 16 samples): one more sample needs a 65,536th. The reference has no such limit.
  const rows = 16 * 65_535 + 1;
  const wide = file('one-input.json', JSON.stringify({ loss: 'mse', layers: [{ activation: 'linear', weights: [[0.5]], biases: [0] }] }));
  const many = file('many-rows.csv', `x,y\n${'0.5,1\n'.repeat(rows)}`);
  const args = ['train', '--model', wide, '--data', many, '--targets', 'y', '--batch-size', String(rows), '--steps', '1', '--lr', '0.1'];

  it('a batch larger than the adapter can dispatch is refused on webgpu before training, naming the limit', () => {
    const out = file('gpu-only-out.json', 'the previous model\n');
    const run = cli(...args, '--backend', 'webgpu', '--out', out);
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe(`webgpu-backprop: batch size ${rows}: needs 65536 workgroups in one dimension; this adapter allows 65535 (maxComputeWorkgroupsPerDimension)`);
    expect(readFileSync(out, 'utf8')).toBe('the previous model\n');
  });

  it('the same run trains on the reference', () => {
    const run = cli(...args, '--backend', 'cpu');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('trained 1 steps');
  });
});
