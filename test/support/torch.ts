// Training in PyTorch itself: the same network, data, batches and settings, run through
// Debian's python3-torch in float64 (torch_train.py, one process for many runs), for the
// tests that compare this library's training with PyTorch's.

import { spawnSync } from 'node:child_process';
import { BatchSchedule } from '../../src/data/batches.ts';
import type { Dataset } from '../../src/data/dataset.ts';
import { paramView } from '../../src/model/layout.ts';
import type { Model } from '../../src/model/network.ts';
import type { TrainOptions } from '../../src/model/trainer.ts';
import { layerBiases, layerWeights } from '../../src/model/network.ts';
import { splitRows } from '../../src/data/dataset.ts';
import { dropoutMask, drops } from '../../src/model/dropout.ts';

/** Debian's interpreter, which has torch (the first python3 on PATH may not). */
const PYTHON = '/usr/bin/python3';

export interface TorchRun {
  model: Model;
  dataset: Dataset;
  options: TrainOptions;
  steps: number;
}

export interface TorchResult {
  params: Float64Array; // (P) by the model's layout
  losses: Float64Array; // (steps)
}

/** The schedule as torch_train.py takes it: PyTorch's own schedulers stand for a decay and a warmup. */
function scheduleOf(options: TrainOptions) {
  const { schedule } = options;
  if (typeof schedule === 'function') throw new Error('a schedule given as a function has no PyTorch scheduler');
  return { schedule: schedule?.decay ?? null, warmup: schedule?.warmup ?? 0 };
}

function describe(run: TorchRun) {
  const { model, dataset, options, steps } = run;
  const schedule = new BatchSchedule(dataset.size, options.batchSize, options.shuffle, options.seed);
  return {
    layers: model.spec.layers.map((layer, l) => ({ ...layer, weights: layerWeights(model.layout, model.params, l), biases: layerBiases(model.layout, model.params, l) })),
    loss: model.spec.loss,
    trainBiases: model.spec.trainBiases,
    inputs: splitRows(dataset.inputs, dataset.inputSize),
    targets: splitRows(dataset.targets, dataset.outputSize),
    batches: Array.from({ length: steps }, (_, s) => Array.from(schedule.indices(s))),
    optimizer: options.optimizer,
    learningRate: options.learningRate,
    ...scheduleOf(options),
    clipNorm: options.clipNorm ?? null,
    // Dropout's masks: the library's, drawn by its generator (PyTorch's would draw others).
    masks: model.spec.layers.some((layer) => drops(layer.dropout))
      ? Array.from({ length: steps }, (_, step) =>
          model.spec.layers.map((layer, l) => (drops(layer.dropout) ? splitRows(dropoutMask(layer.dropout, { seed: options.seed, step }, l, options.batchSize, layer.units), layer.units) : null)),
        )
      : null,
  };
}

/** Each run trained in PyTorch: its parameters in the model's layout, and each step's loss. */
export function trainInTorch(runs: TorchRun[]): TorchResult[] {
  const result = spawnSync(PYTHON, ['test/support/torch_train.py'], { input: JSON.stringify({ runs: runs.map(describe) }), encoding: 'utf8', maxBuffer: 1 << 28, timeout: 600_000 });
  if (result.status !== 0) throw new Error(`torch_train.py failed: ${result.stderr || result.error?.message}`);
  const output = JSON.parse(result.stdout) as { runs: { layers: { weights: number[][]; biases: number[] }[]; losses: number[] }[] };
  return output.runs.map((trained, k) => {
    const { layout } = runs[k].model;
    const params = new Float64Array(layout.size);
    trained.layers.forEach((layer, l) => {
      paramView(layout, params, l, 'weights').set(layer.weights.flat());
      paramView(layout, params, l, 'biases').set(layer.biases);
    });
    return { params, losses: Float64Array.from(trained.losses) };
  });
}

/** ‖a − b‖∞ / ‖b‖∞: how far a set of parameters is from PyTorch's, relative to their size. */
export function relativeDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let difference = 0;
  let size = 0;
  for (let k = 0; k < b.length; k++) {
    difference = Math.max(difference, Math.abs(a[k] - b[k]));
    size = Math.max(size, Math.abs(b[k]));
  }
  return difference / size;
}
