// `webgpu-backprop train` and `webgpu-backprop predict`, on the library's public API: the
// checks, the training loop, checkpoints and divergence reports are the library's; this
// file turns flags into calls and results into lines.

import cliProgress from 'cli-progress';
import {
  applyInputScaling,
  checkDataFits,
  checkFiniteLoss,
  checkpointToJson,
  checkTrainingMemory,
  createTrainer,
  InputError,
  layerInputs,
  loadModelFile,
  MODEL_LIMITS,
  modelToJson,
  Network,
  optimizerSpec,
  outputSize,
  parseCheckpoint,
  parseModelDeclaration,
  readDataFile,
  readTextFile,
  runTraining,
  stateSlots,
  tableDataset,
  trainOptions,
  writeFileAtomically,
  type OptimizerKind,
  type TrainOptionsInput,
} from 'webgpu-backprop/node';
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

/** The flag behind each training option, for the library's messages. */
const FLAG_NAMES: Record<keyof TrainOptionsInput, string> = {
  learningRate: '--lr',
  batchSize: '--batch-size',
  shuffle: '--no-shuffle',
  seed: '--seed',
  optimizer: '--optimizer',
};

export interface TrainResult {
  steps: number;
  lastLoss: number;
  datasetLoss: number;
  adapter?: string;
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
  // The model is declared, checked against the data and the memory at hand, and only then allocated.
  const declared = parseModelDeclaration(readTextFile(flags.model, 'model file', MODEL_LIMITS.fileBytes), flags.model);
  const table = await readDataFile(flags.data, { targetColumns: flags.targets });
  checkDataFits(table, flags.data, declared.spec.inputSize, outputSize(declared.spec));
  checkTrainingMemory(declared.spec, stateSlots(optimizerSpec(flags.optimizer, '--optimizer')), flags.model);
  const model = declared.create();
  const read = tableDataset(table, flags.data);
  // A model file with input scaling was trained on scaled inputs: its data is scaled alike (in a copy).
  const dataset = model.inputScaling ? { ...read, inputs: applyInputScaling(read.inputs.slice(), model.inputScaling) } : read;
  const options = trainOptions({ learningRate: flags.lr, batchSize: flags.batchSize, shuffle: flags.shuffle, seed: flags.seed, optimizer: flags.optimizer }, dataset.size, FLAG_NAMES, flags.data);
  const checkpointFile = checkpointPath(flags);
  const resumeFrom = flags.resume ? parseCheckpoint(readTextFile(checkpointFile!, 'checkpoint', 3 * MODEL_LIMITS.fileBytes), checkpointFile!, model, options, dataset) : undefined;

  const gpu = flags.backend === 'webgpu' ? await openCliDevice() : undefined;
  const trainer = await createTrainer(model, dataset, options, {
    backend: flags.backend,
    device: gpu && (() => gpu.keeper.current()),
    onRecover: (message) => console.error(`webgpu-backprop: ${message}`),
  });
  try {
    const totalSteps = flags.steps ?? trainer.schedule.stepsForEpochs(flags.epochs ?? 1);
    try {
      trainer.schedule.checkSteps(totalSteps);
    } catch (error) {
      throw error instanceof InputError ? new InputError(flags.steps !== undefined ? '--steps' : '--epochs', error.problem) : error;
    }
    if (flags.checkpointEvery !== undefined && flags.checkpointEvery > totalSteps) {
      throw new InputError('--checkpoint-every', `${flags.checkpointEvery} is more than the ${totalSteps} steps of this run: no checkpoint would be written`);
    }
    if (resumeFrom) {
      if (resumeFrom.step > totalSteps) throw new InputError(checkpointFile!, `is at step ${resumeFrom.step}, past the ${totalSteps} steps of this run`);
      await trainer.writeState(resumeFrom);
      console.error(`webgpu-backprop: resuming from step ${resumeFrom.step} (${checkpointFile})`);
    }
    const bar = flags.progress
      ? new cliProgress.SingleBar({ format: 'training |{bar}| {value}/{total} steps | loss {loss}', hideCursor: true }, cliProgress.Presets.shades_classic)
      : undefined;
    bar?.start(totalSteps, trainer.step, { loss: '…' });
    let result;
    try {
      result = await runTraining(trainer, {
        steps: totalSteps - trainer.step,
        checkpointEvery: checkpointFile ? flags.checkpointEvery : undefined,
        onCheckpoint: (state) => {
          writeFileAtomically(checkpointFile!, `${JSON.stringify(checkpointToJson(model, options, state, dataset))}\n`);
          if (!bar) console.error(`webgpu-backprop: checkpoint at step ${state.step} (${checkpointFile})`);
        },
        onChunk: ({ step, losses }) => bar?.update(step, { loss: losses[losses.length - 1].toPrecision(6) }),
      });
    } finally {
      bar?.stop();
    }
    const datasetLoss = checkFiniteLoss(await trainer.evaluate(dataset), `the data file ${flags.data}`, trainer.step);
    if (flags.out) writeFileAtomically(flags.out, `${JSON.stringify(modelToJson(model, await trainer.read('params')), null, 2)}\n`);
    return { steps: totalSteps, lastLoss: result.lastLoss, datasetLoss, adapter: gpu?.adapter };
  } finally {
    trainer.dispose();
    gpu?.keeper.destroy();
  }
}

export interface PredictFlags {
  model: string;
  data: string;
  targets?: string[];
  backend: Backend;
  out?: string;
}

export async function predict(flags: PredictFlags): Promise<string> {
  const model = loadModelFile(flags.model);
  const table = await readDataFile(flags.data, { targetColumns: flags.targets });
  checkDataFits(table, flags.data, layerInputs(model.spec, 0), undefined);
  const network = await Network.fromModel(model, { backend: flags.backend });
  try {
    const outputs = await network.predict(table.inputs);
    const text = `${JSON.stringify({ outputs })}\n`;
    if (flags.out) writeFileAtomically(flags.out, text);
    return text;
  } finally {
    network.dispose();
  }
}
