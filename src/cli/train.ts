// `webgpu-backprop train` and `webgpu-backprop predict`.

import cliProgress from 'cli-progress';
import type { Dataset } from '../data/dataset.ts';
import { datasetFromRows } from '../data/dataset.ts';
import { DivergedError, InputError } from '../errors.ts';
import { locateNonFinite } from '../check/diagnose.ts';
import { ResilientTrainer } from '../gpu/resilient.ts';
import { checkpointToJson, parseCheckpoint } from '../io/checkpoint.ts';
import { checkDataFits, DATA_LIMITS, parseDataFile, type DataRows } from '../io/data-file.ts';
import { MODEL_LIMITS, modelToJson, parseModelFile } from '../io/model-file.ts';
import { layerInputs, outputSize } from '../model/model.ts';
import type { Model } from '../model/network.ts';
import { DEFAULT_OPTIMIZERS, type OptimizerKind } from '../model/optimizer.ts';
import { CpuTrainer } from '../reference/trainer.ts';
import type { Trainer, TrainOptions } from '../train/trainer.ts';
import { readText, writeAtomically } from '../node/files.ts';
import { openCliDevice } from './gpu.ts';

export type Backend = 'webgpu' | 'cpu';

export interface TrainFlags {
  model: string;
  data: string;
  targets?: string[];
  backend: Backend;
  lr?: number;
  steps?: number;
  epochs?: number;
  batchSize?: number;
  shuffle: boolean;
  seed: number;
  optimizer: OptimizerKind;
  out?: string;
  /** Write a checkpoint every N steps. */
  checkpointEvery?: number;
  checkpoint?: string;
  /** Continue from the checkpoint. */
  resume?: boolean;
  /** Draw a progress bar (on a terminal). */
  progress: boolean;
}

/** Learning rates a Keras or PyTorch user starts from: 0.01 for SGD, 0.001 for Adam. */
const DEFAULT_LEARNING_RATE: Record<OptimizerKind, number> = { sgd: 0.01, momentum: 0.01, adam: 0.001 };

export function loadModel(path: string): Model {
  return parseModelFile(readText(path, 'model file', MODEL_LIMITS.fileBytes), path);
}

export function loadData(path: string, targets: string[] | undefined): DataRows {
  return parseDataFile(readText(path, 'data file', DATA_LIMITS.fileBytes), path, targets);
}

function trainingDataset(model: Model, data: DataRows, path: string): Dataset {
  checkDataFits(data, path, layerInputs(model.spec, 0), outputSize(model.spec));
  return datasetFromRows(data.inputs, data.targets!);
}

function trainOptions(flags: TrainFlags, dataset: Dataset): TrainOptions {
  const batchSize = flags.batchSize ?? Math.min(32, dataset.size);
  if (batchSize > dataset.size) {
    throw new InputError('--batch-size', `${batchSize} is more than the ${dataset.size} samples in ${flags.data}`);
  }
  return {
    learningRate: flags.lr ?? DEFAULT_LEARNING_RATE[flags.optimizer],
    batchSize,
    shuffle: flags.shuffle,
    seed: flags.seed,
    optimizer: DEFAULT_OPTIMIZERS[flags.optimizer],
  };
}

/** Steps per progress update: often enough to watch, rarely enough not to slow training. */
function progressChunk(steps: number): number {
  return Math.max(1, Math.min(1000, Math.ceil(steps / 100)));
}

export interface TrainResult {
  steps: number;
  lastLoss: number;
  datasetLoss: number;
  adapter?: string;
}

/** The reference, or a GPU trainer that resumes on a new device if its device is lost. */
async function createTrainer(backend: Backend, model: Model, dataset: Dataset, options: TrainOptions): Promise<{ trainer: Trainer; adapter?: string }> {
  if (backend === 'cpu') return { trainer: new CpuTrainer(model, dataset, options) };
  let adapter: string | undefined;
  const open = async () => {
    const opened = await openCliDevice();
    adapter = opened.adapter;
    return opened.device;
  };
  const trainer = await ResilientTrainer.create(open, model, dataset, options, { onRecover: (message) => console.error(`webgpu-backprop: ${message}`) });
  return { trainer, adapter };
}

/** Where the checkpoints go: --checkpoint, or beside --out. */
function checkpointPath(flags: TrainFlags): string | undefined {
  if (flags.checkpoint) return flags.checkpoint;
  if (flags.out) return `${flags.out}.checkpoint.json`;
  if (flags.checkpointEvery !== undefined || flags.resume) {
    throw new InputError('--checkpoint', 'name the checkpoint file (or give --out, and it goes beside it)');
  }
  return undefined;
}

export async function train(flags: TrainFlags): Promise<TrainResult> {
  if (flags.steps !== undefined && flags.epochs !== undefined) throw new InputError('--steps, --epochs', 'give one or the other, not both');
  const model = loadModel(flags.model);
  const dataset = trainingDataset(model, loadData(flags.data, flags.targets), flags.data);
  const options = trainOptions(flags, dataset);
  const checkpointFile = checkpointPath(flags);
  const resumeFrom = flags.resume ? parseCheckpoint(readText(checkpointFile!, 'checkpoint', 3 * MODEL_LIMITS.fileBytes), checkpointFile!, model, options, dataset) : undefined;
  const { trainer, adapter } = await createTrainer(flags.backend, model, dataset, options);
  const totalSteps = flags.steps ?? trainer.schedule.stepsForEpochs(flags.epochs ?? 1);
  if (resumeFrom) {
    if (resumeFrom.step > totalSteps) throw new InputError(checkpointFile!, `is at step ${resumeFrom.step}, past the ${totalSteps} steps of this run`);
    await trainer.writeState(resumeFrom);
    console.error(`webgpu-backprop: resuming from step ${resumeFrom.step} (${checkpointFile})`);
  }

  const bar = flags.progress
    ? new cliProgress.SingleBar({ format: 'training |{bar}| {value}/{total} steps | loss {loss}', hideCursor: true }, cliProgress.Presets.shades_classic)
    : undefined;
  bar?.start(totalSteps, trainer.step, { loss: '…' });
  const chunk = progressChunk(totalSteps);
  let lastLoss = NaN;
  try {
    while (trainer.step < totalSteps) {
      // Chunks end at every checkpoint step, so a checkpoint lands exactly every N steps.
      const every = flags.checkpointEvery;
      const nextCheckpoint = every ? (Math.floor(trainer.step / every) + 1) * every : Infinity;
      const count = Math.min(chunk, nextCheckpoint - trainer.step, totalSteps - trainer.step);
      const before = await trainer.readState();
      await trainer.train(count);
      const losses = await trainer.takeLosses();
      if (losses.some((loss) => !Number.isFinite(loss))) {
        const found = await locateNonFinite(trainer, before, before.step + count);
        const where = found ? `: the first non-finite value was ${found.where} = ${found.value} at step ${found.step}` : '';
        throw new DivergedError(`training diverged${where} (try a smaller --lr)`);
      }
      lastLoss = losses[losses.length - 1];
      if (every && trainer.step % every === 0 && checkpointFile) {
        writeAtomically(checkpointFile, `${JSON.stringify(checkpointToJson(model, options, await trainer.readState(), dataset))}\n`);
        if (!bar) console.error(`webgpu-backprop: checkpoint at step ${trainer.step} (${checkpointFile})`);
      }
      bar?.update(trainer.step, { loss: lastLoss.toPrecision(6) });
    }
  } finally {
    bar?.stop();
  }

  const datasetLoss = await trainer.evaluate(dataset);
  if (flags.out) {
    const params = await trainer.read('params');
    writeAtomically(flags.out, `${JSON.stringify(modelToJson(model, params), null, 2)}\n`);
  }
  trainer.destroy();
  return { steps: totalSteps, lastLoss, datasetLoss, adapter };
}

export interface PredictFlags {
  model: string;
  data: string;
  targets?: string[];
  backend: Backend;
  out?: string;
}

export async function predict(flags: PredictFlags): Promise<string> {
  const model = loadModel(flags.model);
  const data = loadData(flags.data, flags.targets);
  checkDataFits(data, flags.data, layerInputs(model.spec, 0), undefined);
  const inputs = Float64Array.from(data.inputs.flat());
  // Prediction needs no targets; the trainer is given the inputs as a dataset of their own.
  const dataset = datasetFromRows(data.inputs, data.inputs.map(() => new Array(outputSize(model.spec)).fill(0)));
  const options: TrainOptions = { learningRate: 0, batchSize: 1, shuffle: false, seed: 1, optimizer: DEFAULT_OPTIMIZERS.sgd };
  const { trainer } = await createTrainer(flags.backend, model, dataset, options);
  const outputs = await trainer.predict(inputs, data.inputs.length);
  trainer.destroy();
  const K = outputSize(model.spec);
  const rows = data.inputs.map((_, r) => Array.from(outputs.subarray(r * K, (r + 1) * K)));
  const text = `${JSON.stringify({ outputs: rows })}\n`;
  if (flags.out) writeAtomically(flags.out, text);
  return text;
}
