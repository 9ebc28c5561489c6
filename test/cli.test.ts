// The command line, run as a user runs it.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ExampleTrace } from '../src/examples/trace.ts';
import { modelToJson, type ModelFile } from '../src/io/model-file.ts';
import type { Activation, Loss } from '../src/model/model.ts';
import { splitRows } from '../src/data/dataset.ts';
import { randomDataset, randomModel, type RandomNetwork } from './support/crosscheck.ts';
import { trainIndependently, type IndependentLayer } from './support/independent.ts';
import { cli } from './support/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'webgpu-backprop-cli-'));

describe('trace', () => {
  it('trace mazur prints the forward and backward pass with the article beside the reference and WebGPU', () => {
    const { code, stdout } = cli('trace', 'mazur');
    expect(code).toBe(0);
    expect(stdout).toMatch(/WebGPU adapter: /);
    expect(stdout).toMatch(/net_h1\s+0\.3775 ✓\s+0\.377500000000\s+0\.377\d+\s+\d\.\de-\d+/);
    expect(stdout).toMatch(/∂E_total\/∂w5\s+0\.082167041 ✓\s+0\.082167040564/);
    expect(stdout).toMatch(/w5⁺\s+0\.35891648 ✓/);
    expect(stdout).toMatch(/E_total \(after 1 update\)\s+0\.291027924 ✗\s+0\.291027773694.*erratum: docs\/errata\.md#mazur-update-order/);
  });

  it('--json gives every row with the article, the reference, WebGPU and their difference', () => {
    const { code, stdout } = cli('trace', '001', '--json');
    expect(code).toBe(0);
    const trace = JSON.parse(stdout) as ExampleTrace;
    const lines = trace.cases[0].lines;
    const net = lines.find((l) => l.symbol === 'net_h1')!;
    expect(net).toMatchObject({ section: 'Forward pass', article: '0.3775', agrees: true });
    expect(net.reference).toBeCloseTo(0.3775, 15);
    expect(Math.abs(net.webgpu! - 0.3775)).toBeLessThan(1e-6);
    expect(net.difference).toBe(Math.abs(net.webgpu! - net.reference));
    const after = lines.find((l) => l.symbol === 'E_total (after 1 update)')!;
    expect(after).toMatchObject({ article: '0.291027924', agrees: false, erratum: 'docs/errata.md#mazur-update-order' });
  });

  it.each(['hmkcode', 'lamsal', 'missinglink'])('trace %s on the reference alone agrees with every value the article prints', (name) => {
    const { code, stdout } = cli('trace', name, '--json', '--backend', 'cpu');
    expect(code).toBe(0);
    const trace = JSON.parse(stdout) as ExampleTrace;
    const printed = trace.cases.flatMap((c) => c.lines.filter((l) => l.article !== undefined));
    expect(printed.length).toBeGreaterThan(0);
    for (const line of printed) expect(line.agrees, line.symbol).toBe(true);
  });
});

const NETWORKS: (RandomNetwork & { name: string })[] = [
  { name: 'tanh-relu-sigmoid, half-sse', sizes: [3, 5, 4, 2], activations: ['tanh', 'relu', 'sigmoid'], loss: 'half-sse' },
  { name: 'sigmoid-softmax, cross-entropy', sizes: [4, 8, 3], activations: ['sigmoid', 'softmax'], loss: 'cross-entropy' },
  { name: 'relu-sigmoid, binary cross-entropy', sizes: [2, 6, 1], activations: ['relu', 'sigmoid'], loss: 'cross-entropy' },
  { name: 'tanh-linear, mse', sizes: [3, 7, 2], activations: ['tanh', 'linear'], loss: 'mse' },
  { name: 'linear, sse', sizes: [2, 3], activations: ['linear'] as Activation[], loss: 'sse' as Loss },
];

function writeJson(name: string, value: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(value));
  return path;
}

describe('train agrees with an independent float64 implementation', () => {
  const steps = 25;
  const batch = 4;
  const learningRate = 0.2;
  NETWORKS.forEach((network, k) => {
    const model = randomModel(network, 40 + k);
    const data = randomDataset(network, 10, 40 + k);
    const file = modelToJson(model);
    const modelPath = writeJson(`model-${k}.json`, file);
    const inputs = splitRows(data.inputs, data.inputSize);
    const targets = splitRows(data.targets, data.outputSize);
    const dataPath = writeJson(`data-${k}.json`, { inputs, targets });
    const expected = trainIndependently(file.layers as IndependentLayer[], network.loss, true, inputs, targets, learningRate, batch, steps);

    for (const [backend, tolerance] of [
      ['cpu', 1e-9],
      ['webgpu', 1e-4],
    ] as const) {
      it(`${network.name} on ${backend}: weights within ${tolerance} relative`, () => {
        const out = join(dir, `trained-${k}-${backend}.json`);
        const run = cli('train', '--model', modelPath, '--data', dataPath, '--backend', backend, '--lr', String(learningRate), '--steps', String(steps), '--batch-size', String(batch), '--no-shuffle', '--out', out);
        expect(run.stderr).toBe('');
        expect(run.code).toBe(0);
        expect(run.stdout).toMatch(/final loss \d/);
        const trained = JSON.parse(readFileSync(out, 'utf8')) as ModelFile;
        trained.layers.forEach((layer, l) => {
          const values = [...layer.weights!.flat(), ...layer.biases!];
          const reference = [...expected[l].weights.flat(), ...expected[l].biases];
          values.forEach((v, e) => expect(Math.abs(v - reference[e])).toBeLessThanOrEqual(tolerance * Math.max(1, Math.abs(reference[e]))));
        });
      });
    }
  });
});

describe('predict', () => {
  it('prints the outputs of a trained model, the same on both backends', () => {
    const data = writeJson('xor.json', { inputs: [[0, 0], [0, 1], [1, 0], [1, 1]], targets: [[0], [1], [1], [0]] });
    const model = writeJson('xor-model.json', { inputSize: 2, seed: 3, loss: 'half-sse', layers: [{ units: 4, activation: 'tanh' }, { units: 1, activation: 'sigmoid' }] });
    const out = join(dir, 'xor-trained.json');
    expect(cli('train', '--model', model, '--data', data, '--backend', 'cpu', '--lr', '1', '--steps', '1500', '--batch-size', '4', '--out', out).code).toBe(0);
    const cpu = JSON.parse(cli('predict', '--model', out, '--data', data, '--backend', 'cpu').stdout).outputs as number[][];
    const gpu = JSON.parse(cli('predict', '--model', out, '--data', data).stdout).outputs as number[][];
    expect(cpu.map((row) => Math.round(row[0]))).toEqual([0, 1, 1, 0]);
    gpu.forEach((row, r) => expect(Math.abs(row[0] - cpu[r][0])).toBeLessThan(1e-6));
  });

  it('reads CSV, leaving out the named target columns', () => {
    const csv = join(dir, 'points.csv');
    writeFileSync(csv, 'x1,x2,label\n0.5,-1,1\n2,0.25,0\n');
    const model = writeJson('linear.json', { loss: 'mse', layers: [{ activation: 'linear', weights: [[2, 3]], biases: [1] }] });
    const run = cli('predict', '--model', model, '--data', csv, '--targets', 'label', '--backend', 'cpu');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ outputs: [[-1], [5.75]] });
  });
});

describe('what the command line says of itself', () => {
  it('--version prints the version alone; npx in the checkout prints it first, with no npm warning before it', () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8'));
    const direct = cli('--version');
    expect(direct).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: '' });
    const npx = spawnSync('npx', ['--no-install', 'webgpu-backprop', '--version'], { encoding: 'utf8', timeout: 60_000 });
    expect(npx.stdout.split('\n')[0]).toBe(version);
    expect(npx.stderr).not.toMatch(/npm warn/i);
    expect(npx.status).toBe(0);
  });

  it('each command says what it does, and --backend what it is for there', () => {
    expect(cli('train', '--help').stdout).toMatch(/train a model file on a data file[\s\S]*--backend <backend>\s+where to train/);
    expect(cli('predict', '--help').stdout).toMatch(/print a model's outputs for the inputs of a data file[\s\S]*--backend <backend>\s+where to predict/);
    for (const command of ['examples', 'trace', 'export', 'import']) expect(cli(command, '--help').stdout, command).toMatch(new RegExp(`^Usage: webgpu-backprop ${command} .*\\n\\n\\S`));
  });

  it('--shuffle is the default said aloud: the same run as without it, and not the run --no-shuffle makes', () => {
    const model = join(dir, 'shuffle-model.json');
    const data = join(dir, 'shuffle-data.json');
    writeFileSync(model, JSON.stringify({ inputSize: 2, seed: 2, loss: 'mse', layers: [{ units: 3, activation: 'tanh' }, { units: 1, activation: 'linear' }] }));
    writeFileSync(data, JSON.stringify({ inputs: [[0, 1], [1, 0], [1, 1], [0, 0], [0.5, 0.2], [0.3, 0.9]], targets: [[1], [1], [0], [0], [0.7], [0.4]] }));
    const trained = (...flags: string[]) => {
      const out = join(dir, `shuffle${flags.join('')}.json`);
      expect(cli('train', '--model', model, '--data', data, '--backend', 'cpu', '--steps', '9', '--batch-size', '2', '--lr', '0.1', '--out', out, ...flags).code).toBe(0);
      return readFileSync(out, 'utf8');
    };
    expect(trained('--shuffle')).toBe(trained());
    expect(trained('--no-shuffle')).not.toBe(trained());
  });
});
