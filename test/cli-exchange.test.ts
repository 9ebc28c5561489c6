// `webgpu-backprop export` and `import` as a user runs them: a model out to ONNX,
// TensorFlow.js and PyTorch, and back, the weights exact as float32; bad files refused
// with one line and exit status 2.

import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from './support/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'webgpu-backprop-exchange-'));
const model = join(dir, 'model.json');
writeFileSync(
  model,
  JSON.stringify({
    loss: 'half-sse',
    trainBiases: false,
    layers: [
      { activation: 'tanh', weights: [[0.15, -0.2], [0.25, 0.3], [0.1, 0.7]], biases: [0.35, -0.1, 0.05] },
      { activation: 'sigmoid', weights: [[0.4, 0.45, -0.5]], biases: [0.6] },
    ],
  }),
);
const original = JSON.parse(readFileSync(model, 'utf8'));
const asFloat32 = (layers: { weights: number[][]; biases: number[] }[]) => layers.map((layer) => ({ weights: layer.weights.map((row) => row.map(Math.fround)), biases: layer.biases.map(Math.fround) }));

describe('export and import on the command line', () => {
  it.each([
    ['onnx', 'model.onnx', 'model.onnx'],
    ['tfjs', 'web', 'web/model.json'],
  ])('%s: out and back in, the weights as float32 exactly, the loss and trainBiases kept', (format, out, from) => {
    const exported = cli('export', '--model', model, '--format', format, '--out', join(dir, out));
    expect(exported.stderr).toBe('');
    expect(exported.code).toBe(0);
    const back = join(dir, `${format}-back.json`);
    const imported = cli('import', '--from', join(dir, from), '--out', back);
    expect(imported.stderr).toBe('');
    expect(imported.stdout).toBe(`wrote ${back}: 2-3 tanh, 1 sigmoid, half-sse\n`);
    const file = JSON.parse(readFileSync(back, 'utf8'));
    expect(file.loss).toBe('half-sse');
    expect(file.trainBiases).toBe(false);
    expect(asFloat32(file.layers)).toEqual(asFloat32(original.layers));
    expect(file.layers.map((layer: { activation: string }) => layer.activation)).toEqual(['tanh', 'sigmoid']);
  });

  it('pytorch: a folder with the model file and train.py', () => {
    const result = cli('export', '--model', model, '--format', 'pytorch', '--out', join(dir, 'run'));
    expect(result.code).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'run', 'model.json'), 'utf8'))).toEqual(original);
    expect(readFileSync(join(dir, 'run', 'train.py'), 'utf8')).toMatch(/nn\.Sequential\(/);
  });

  it('refuses what it cannot read or write with one line and exit status 2, writing nothing', () => {
    const torchFile = join(dir, 'net.pt');
    writeFileSync(torchFile, Uint8Array.from([0x50, 0x4b, 0x03, 0x04, 0, 0]));
    // A TF.js folder whose weights file is a link to a file outside it.
    cli('export', '--model', model, '--format', 'tfjs', '--out', join(dir, 'escaping'));
    const escaping = join(dir, 'escaping');
    writeFileSync(join(dir, 'secret.bin'), readFileSync(join(escaping, 'weights.bin')));
    rmSync(join(escaping, 'weights.bin'));
    symlinkSync(join(dir, 'secret.bin'), join(escaping, 'weights.bin'));
    const notAModel = join(dir, 'notes.txt');
    writeFileSync(notAModel, 'these are notes');
    const cases = [
      { args: ['import', '--from', notAModel, '--out', join(dir, 'a.json')], message: /notes\.txt: not an ONNX model/ },
      { args: ['import', '--from', join(dir, 'missing.onnx'), '--out', join(dir, 'b.json')], message: /missing\.onnx: no such model to import$/ },
      { args: ['import', '--from', torchFile, '--out', join(dir, 'd.json')], message: /net\.pt: is a PyTorch file \(torch\.save\), .* export it to ONNX with torch\.onnx\.export\(/ },
      { args: ['import', '--from', join(escaping, 'model.json'), '--out', join(dir, 'e.json')], message: /weights\.bin: is not inside .*escaping of model\.json \(a link leads out of it\): a weights file must be$/ },
      { args: ['export', '--model', model, '--format', 'keras', '--out', join(dir, 'c')], message: /argument 'keras' is invalid/ },
      { args: ['export', '--model', model, '--format', 'onnx', '--out', dir], message: /is a folder; ONNX export writes one file/ },
    ];
    for (const { args, message } of cases) {
      const result = cli(...args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(result.stderr.trim()).toMatch(message);
    }
    expect(['a.json', 'b.json', 'c', 'd.json', 'e.json'].filter((name) => existsSync(join(dir, name)))).toEqual([]);
  });

  it('warns, in a line of its own, where an imported file records no loss, and says which it took', () => {
    // A TF.js model.json as TensorFlow.js writes it: no metadata of ours, no training config.
    cli('export', '--model', model, '--format', 'tfjs', '--out', join(dir, 'plain'));
    const json = JSON.parse(readFileSync(join(dir, 'plain', 'model.json'), 'utf8'));
    delete json.userDefinedMetadata;
    writeFileSync(join(dir, 'plain', 'model.json'), JSON.stringify(json));
    const imported = cli('import', '--from', join(dir, 'plain', 'model.json'), '--out', join(dir, 'plain.json'));
    expect(imported.code).toBe(0);
    expect(imported.stderr).toMatch(/^webgpu-backprop: warning: .*plain\/model\.json: records no loss; taking cross-entropy, as its sigmoid output suggests \(give the loss to choose another\)\n$/);
    expect(JSON.parse(readFileSync(join(dir, 'plain.json'), 'utf8')).loss).toBe('cross-entropy');
    expect(cli('import', '--from', join(dir, 'plain', 'model.json'), '--out', join(dir, 'plain.json'), '--loss', 'mse').stderr).toBe('');
  });
});
