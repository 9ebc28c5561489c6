// The training toolkit through the command line, on both backends, against PyTorch itself
// (float64 nn and optim, support/torch_train.py): every new op in networks that combine
// them — layers of more than 256 units (the tiled kernels) with class labels from a CSV
// column, small networks (the fused kernel) with dropout, batches wrapping around the data,
// a schedule with warmup, clipping that clips, weight decay with each optimizer. The
// reference's weights agree to 1e-9 of their size, WebGPU's within the derived float32
// tolerance (and the reference's own distance from PyTorch).

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReferenceTrajectory } from '../src/check/crosscheck.ts';
import type { Dataset } from '../src/data/dataset.ts';
import { gatherBatch } from '../src/data/dataset.ts';
import { parseModelFile } from '../src/io/model-file.ts';
import { modelToJson } from '../src/io/model-format.ts';
import type { Model } from '../src/model/network.ts';
import { DEFAULT_OPTIMIZERS, type OptimizerKind } from '../src/model/optimizer.ts';
import type { Decay } from '../src/model/schedule.ts';
import type { TrainOptions } from '../src/model/trainer.ts';
import { backward, forward } from '../src/reference/backprop.ts';
import { clipScale } from '../src/reference/optimizers.ts';
import { BatchSchedule } from '../src/data/batches.ts';
import { cli } from './support/cli.ts';
import { randomDataset, randomModel, type RandomNetwork } from './support/crosscheck.ts';
import { relativeDifference, trainInTorch, type TorchResult } from './support/torch.ts';

const REFERENCE_AGREEMENT = 1e-9;
const dir = mkdtempSync(join(tmpdir(), 'webgpu-backprop-cli-torch-'));

interface Case {
  name: string;
  network: RandomNetwork;
  rows: number;
  batch: number;
  steps: number;
  shuffle: boolean;
  optimizer: OptimizerKind;
  learningRate: number;
  weightDecay: number;
  clipNorm?: number;
  /** --lr-schedule, and the decay it means. */
  schedule?: [string, Decay];
  warmup?: number;
  /** The targets as a CSV column of class ids (--labels), rather than JSON rows. */
  labels?: boolean;
}

const CASES: Case[] = [
  {
    name: 'layers of 300 and 260 units, class ids from a CSV column, AdamW with weight decay 0.05, clipping to 0.5, step:2:0.5 after a warmup of 2, batches wrapping around the data',
    network: { sizes: [20, 300, 260, 5], activations: ['leaky-relu', 'leaky-relu', 'softmax'], loss: 'cross-entropy', hidden: { negativeSlope: 0.1 } },
    rows: 40, batch: 16, steps: 4, shuffle: false, optimizer: 'adamw', learningRate: 0.01, weightDecay: 0.05, clipNorm: 0.5, schedule: ['step:2:0.5', { kind: 'step', every: 2, gamma: 0.5 }], warmup: 2, labels: true,
  },
  {
    name: 'a small network (the fused kernel): silu, elu with dropout 0.5, huber, RMSprop with weight decay 0.01, clipping to 0.2, cosine:6 after a warmup of 2',
    network: { sizes: [3, 8, 6, 2], activations: ['silu', 'elu', 'linear'], loss: 'huber', hidden: { dropout: 0.5 } },
    rows: 12, batch: 5, steps: 6, shuffle: true, optimizer: 'rmsprop', learningRate: 0.01, weightDecay: 0.01, clipNorm: 0.2, schedule: ['cosine:6', { kind: 'cosine', steps: 6 }], warmup: 2,
  },
  {
    name: 'softplus and binary cross-entropy after sigmoid outputs, momentum with weight decay 0.02, exponential:0.9',
    network: { sizes: [4, 10, 3], activations: ['softplus', 'sigmoid'], loss: 'cross-entropy' },
    rows: 14, batch: 4, steps: 5, shuffle: true, optimizer: 'momentum', learningRate: 0.1, weightDecay: 0.02, schedule: ['exponential:0.9', { kind: 'exponential', gamma: 0.9 }],
  },
  {
    name: 'gelu, mse, Adam with weight decay 0.1',
    network: { sizes: [3, 7, 2], activations: ['gelu', 'linear'], loss: 'mse' },
    rows: 10, batch: 4, steps: 5, shuffle: true, optimizer: 'adam', learningRate: 0.02, weightDecay: 0.1,
  },
];

interface Setup {
  model: Model;
  dataset: Dataset;
  options: TrainOptions;
  files: string[];
}

const setups = new Map<string, Setup>();
/** ‖ours − PyTorch‖∞ / ‖PyTorch‖∞ of each run's parameters: the figures the suite prints. */
const figures: string[] = [];
afterAll(() => console.log(`The command line's parameters against PyTorch's (‖ours − torch‖∞ / ‖torch‖∞):\n${figures.join('\n')}`));
const torch = new Map<string, TorchResult>();

/** The data: class ids in a CSV column (one-hot rows for PyTorch), or a JSON file of rows. */
function dataFile(c: Case, k: number, dataset: Dataset): { dataset: Dataset; files: string[] } {
  if (!c.labels) {
    const path = join(dir, `data${k}.json`);
    const rows = (flat: Float64Array, width: number) => Array.from({ length: dataset.size }, (_, r) => Array.from(flat.subarray(r * width, (r + 1) * width)));
    writeFileSync(path, JSON.stringify({ inputs: rows(dataset.inputs, dataset.inputSize), targets: rows(dataset.targets, dataset.outputSize) }));
    return { dataset, files: ['--data', path] };
  }
  const K = dataset.outputSize;
  const ids = Array.from({ length: dataset.size }, (_, r) => (r * 7 + 3) % K);
  const targets = new Float64Array(dataset.size * K);
  ids.forEach((id, r) => (targets[r * K + id] = 1));
  const header = [...Array.from({ length: dataset.inputSize }, (_, i) => `x${i}`), 'class'].join(',');
  const lines = ids.map((id, r) => [...dataset.inputs.subarray(r * dataset.inputSize, (r + 1) * dataset.inputSize), id].join(','));
  const path = join(dir, `data${k}.csv`);
  writeFileSync(path, [header, ...lines].join('\n'));
  return { dataset: { ...dataset, targets }, files: ['--data', path, '--labels', 'class'] };
}

beforeAll(() => {
  CASES.forEach((c, k) => {
    const model = randomModel(c.network, 400 + k);
    const { dataset, files } = dataFile(c, k, randomDataset(c.network, c.rows, 400 + k));
    const modelPath = join(dir, `model${k}.json`);
    writeFileSync(modelPath, JSON.stringify(modelToJson(model)));
    const options: TrainOptions = {
      learningRate: c.learningRate,
      batchSize: c.batch,
      shuffle: c.shuffle,
      seed: 10 + k,
      optimizer: { ...DEFAULT_OPTIMIZERS[c.optimizer], weightDecay: c.weightDecay },
      ...(c.schedule || c.warmup ? { schedule: { decay: c.schedule?.[1], warmup: c.warmup } } : {}),
      ...(c.clipNorm !== undefined ? { clipNorm: c.clipNorm } : {}),
    };
    const flags = [
      '--model', modelPath, ...files, '--steps', String(c.steps), '--batch-size', String(c.batch), ...(c.shuffle ? [] : ['--no-shuffle']), '--seed', String(options.seed),
      '--optimizer', c.optimizer, '--lr', String(c.learningRate), '--weight-decay', String(c.weightDecay),
      ...(c.clipNorm !== undefined ? ['--clip-norm', String(c.clipNorm)] : []), ...(c.schedule ? ['--lr-schedule', c.schedule[0]] : []), ...(c.warmup ? ['--lr-warmup', String(c.warmup)] : []),
    ];
    setups.set(c.name, { model, dataset, options, files: flags });
  });
  const results = trainInTorch(CASES.map((c) => ({ ...setups.get(c.name)!, steps: c.steps })));
  CASES.forEach((c, k) => torch.set(c.name, results[k]));
});

describe('the command line against PyTorch', () => {
  for (const [k, c] of CASES.entries()) {
    it(`${c.name}: clipping clips`, async () => {
      if (c.clipNorm === undefined) return;
      // The gradient of the first step is larger than the norm clipped to.
      const { model, dataset, options } = setups.get(c.name)!;
      const { input, target } = gatherBatch(dataset, new BatchSchedule(dataset.size, c.batch, c.shuffle, options.seed).indices(0));
      const values = forward(model.spec, model.layout, model.params, input, c.batch, { seed: options.seed, step: 0 });
      const { grads } = backward(model.spec, model.layout, model.params, input, target, values, c.batch);
      expect(clipScale(model.layout, grads, model.spec.trainBiases, c.clipNorm)).toBeLessThan(1);
    });

    it.each(['cpu', 'webgpu'])(`${c.name}, --backend %s`, async (backend) => {
      const { model, dataset, options, files } = setups.get(c.name)!;
      const out = join(dir, `trained${k}-${backend}.json`);
      const run = cli('train', ...files, '--backend', backend, '--out', out);
      expect(run.code, run.stderr).toBe(0);
      const params = parseModelFile(readFileSync(out, 'utf8'), out).params;
      const expected = torch.get(c.name)!.params;
      figures.push(`  ${c.name}, ${backend}: ${relativeDifference(params, expected).toExponential(2)}`);
      if (backend === 'cpu') {
        expect(relativeDifference(params, expected)).toBeLessThanOrEqual(REFERENCE_AGREEMENT);
        return;
      }
      const trajectory = new ReferenceTrajectory(model, dataset, options);
      await trajectory.advanceTo(c.steps);
      const reference = trajectory.buffer('params');
      const tolerance = trajectory.tolerance('params').atol as ArrayLike<number>;
      params.forEach((p, i) => expect(Math.abs(p - expected[i]), `params[${i}]`).toBeLessThanOrEqual(tolerance[i] + Math.abs(reference[i] - expected[i])));
    });
  }
});
