// Command-line cases beyond the everyday: data files larger than a string can hold, read
// in chunks; a model declared too large for its data, refused before it is allocated;
// a loss over the data file that is not finite after training, a divergence.

import { spawnSync } from 'node:child_process';
import { closeSync, ftruncateSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from './support/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'webgpu-backprop-pending-'));
const file = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

describe('large inputs', () => {
  it('a 600 MB data file is read in chunks: its first bad byte is reported, not ERR_STRING_TOO_LONG', () => {
    const data = join(dir, 'zeros.json');
    const fd = openSync(data, 'w');
    ftruncateSync(fd, 600e6); // sparse: 600 MB of zero bytes that take no disk
    closeSync(fd);
    const model = file('small.json', JSON.stringify({ loss: 'mse', layers: [{ activation: 'linear', weights: [[1]] }] }));
    const run = cli('train', '--model', model, '--data', data, '--backend', 'cpu', '--steps', '1');
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe(`webgpu-backprop: ${data}: line 1, column 1: not valid JSON (unexpected "\\u0000")`);
  });

  it.each(['cpu', 'webgpu'])('on %s, a 100-byte model file declaring 16000 × 16000 is checked against the data before 2 GB are allocated', (backend) => {
    const model = file('declares-16000.json', JSON.stringify({ inputSize: 16000, seed: 1, loss: 'mse', layers: [{ units: 16000, activation: 'linear' }] }));
    const data = file('two-wide.json', JSON.stringify({ inputs: [[0, 1]], targets: [[1]] }));
    const peak = join(dir, `peak-${backend}.txt`);
    const run = spawnSync(process.execPath, ['--import', './test/support/report-peak-memory.mjs', 'bin/webgpu-backprop.js', 'train', '--model', model, '--data', data, '--backend', backend], {
      encoding: 'utf8',
      env: { ...process.env, PEAK_MEMORY_FILE: peak },
    });
    expect(run.stderr.trim()).toBe(`webgpu-backprop: ${data}: inputs: expected 16000 values per row (the model's inputs), got 2`);
    expect(run.status).toBe(2);
    // Its weights alone would be 2 GB of float64, all touched by their initialisation.
    expect(Number(readFileSync(peak, 'utf8')) * 1024).toBeLessThan(2 ** 30);
  });
});

describe('a non-finite loss over the data file after training', () => {
  // One step whose net input overflows float32: 3e38·3e38 is Infinity on the GPU, and 9e76
  // on the float64 reference, which refuses it as the GPU does (one verdict on both).
  const model = file('overflow.json', JSON.stringify({ loss: 'sse', layers: [{ activation: 'linear', weights: [[3e38]], biases: [0] }] }));
  const data = file('overflow-data.json', JSON.stringify({ inputs: [[3e38]], targets: [[0]] }));

  it.each(['cpu', 'webgpu'])('on %s is a divergence: exit 1, one line, --out untouched', (backend) => {
    const out = file(`overflow-out-${backend}.json`, 'the previous model\n');
    const run = cli('train', '--model', model, '--data', data, '--backend', backend, '--lr', '3e38', '--steps', '1', '--out', out);
    expect(run.code).toBe(1);
    // One verdict on both backends: the same step and value, Infinity in float32, beyond float32's range in float64.
    expect(run.stderr.trim()).toMatch(/^webgpu-backprop: training diverged: the first (non-finite value|value beyond float32's range) was layer0\.net\[sample 0, unit 0\] = (Infinity|9\.0+\d*e\+76) at step 0; the network is back at its last finite weights, those before step 0 \(try a smaller --lr\)$/);
    expect(readFileSync(out, 'utf8')).toBe('the previous model\n');
  });

  it('on webgpu, a row never in a training batch whose net input overflows float32 is a divergence too', () => {
    const linear = file('double.json', JSON.stringify({ loss: 'mse', layers: [{ activation: 'linear', weights: [[2]], biases: [0] }] }));
    // Rows 0 and 1 train; row 2's net input is about 2·3e38, past float32 (finite in the float64 reference).
    const rows = file('far-row.json', JSON.stringify({ inputs: [[0.5], [0.25], [3e38]], targets: [[1], [1], [0]] }));
    const out = file('far-row-out.json', 'the previous model\n');
    const run = cli('train', '--model', linear, '--data', rows, '--backend', 'webgpu', '--batch-size', '2', '--no-shuffle', '--steps', '1', '--lr', '0.1', '--out', out);
    expect(run.stderr.trim()).toMatch(/^webgpu-backprop: training diverged: the loss over the data file .*far-row\.json is Infinity after step 1 \(try a smaller --lr\)$/);
    expect(run.code).toBe(1);
    expect(readFileSync(out, 'utf8')).toBe('the previous model\n');
  });
});

describe('run lengths', () => {
  const model = file('xor-model.json', JSON.stringify({ inputSize: 2, seed: 1, loss: 'mse', layers: [{ units: 1, activation: 'sigmoid' }] }));
  const data = file('xor.json', JSON.stringify({ inputs: [[0, 0], [0, 1], [1, 0], [1, 1]], targets: [[0], [1], [1], [0]] }));

  it('a checkpoint interval longer than the run is refused: no checkpoint would be written', () => {
    const run = cli('train', '--model', model, '--data', data, '--backend', 'cpu', '--steps', '10', '--checkpoint-every', '50', '--checkpoint', join(dir, 'never.json'));
    expect(run.stderr.trim()).toBe('webgpu-backprop: --checkpoint-every: 50 is more than the 10 steps of this run: no checkpoint would be written');
    expect(run.code).toBe(2);
  });

  it('steps whose rows the schedule cannot count exactly (steps × batch size past 2^53) are refused', () => {
    const run = cli('train', '--model', model, '--data', data, '--backend', 'cpu', '--batch-size', '4', '--steps', '9007199254740991');
    expect(run.stderr.trim()).toBe('webgpu-backprop: --steps: expected a whole number up to 2251799813685248 (steps × batch size 4 must stay within 2^53), got 9007199254740991');
    expect(run.code).toBe(2);
  });
});
