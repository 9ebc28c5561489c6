// `webgpu-backprop train` and `webgpu-backprop predict`, on the library's public API:
// flags become a Network and its fit options (the checks, the training loop, input
// scaling, checkpoints, resuming and divergence reports are the library's), results
// become lines.

import cliProgress from 'cli-progress';
import {
  checkDataFits,
  checkTrainingMemory,
  DivergedError,
  InputError,
  MODEL_LIMITS,
  Network,
  parseModelDeclaration,
  readDataFile,
  readTextFile,
  writeFileAtomically,
  type FitOptions,
  type OptimizerKind,
} from 'webgpu-backprop/node';
import { predictedClasses, type Decay } from 'webgpu-backprop/trainers';
import { readNetwork } from './exchange.ts';
import { openCliDevice } from './gpu.ts';

export type Backend = 'webgpu' | 'wasm' | 'cpu';

export interface TrainFlags {
  model: string;
  data: string;
  targets?: string[];
  /** CSV: the column of class labels, ids or names. */
  labels?: string;
  backend: Backend;
  lr?: number;
  steps?: number;
  epochs?: number;
  batchSize?: number;
  /** Unset unless --shuffle or --no-shuffle is given (shuffled by default). */
  shuffle?: boolean;
  seed: number;
  optimizer: OptimizerKind;
  lrSchedule?: Decay;
  lrWarmup?: number;
  weightDecay?: number;
  clipNorm?: number;
  out?: string;
  /** Write a checkpoint every N steps. */
  checkpointEvery?: number;
  checkpoint?: string;
  /** Continue from the checkpoint. */
  resume?: boolean;
  /** Draw a progress bar (on a terminal). */
  progress: boolean;
}

/** The flag behind each fit option, for the library's messages. */
const FLAG_NAMES: NonNullable<NonNullable<FitOptions['names']>['options']> = {
  learningRate: '--lr',
  weightDecay: '--weight-decay',
  clipNorm: '--clip-norm',
  batchSize: '--batch-size',
  shuffle: '--no-shuffle',
  seed: '--seed',
  optimizer: '--optimizer',
  steps: '--steps',
  epochs: '--epochs',
  'checkpoint.every': '--checkpoint-every',
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
  const file = parseModelDeclaration(readTextFile(flags.model, 'model file', MODEL_LIMITS.fileBytes), flags.model);
  const table = await readDataFile(flags.data, { targetColumns: flags.targets, labelColumn: flags.labels, classes: file.classes });
  // Class names in the label column become the model's classes, unless it names its own (which they were mapped by).
  const declared = table.classes && !file.classes ? file.withClasses(table.classes, `${flags.data}: column ${flags.labels}`) : file;
  checkDataFits(table, flags.data, declared.spec.inputSize, declared.spec.layers[declared.spec.layers.length - 1].units);
  // Target rows, or class ids (trained as their one-hot rows).
  const targets = table.targets ?? table.labels!;
  checkTrainingMemory(declared.spec, flags.optimizer, flags.model);
  const checkpointFile = checkpointPath(flags);
  const resume = flags.resume ? readTextFile(checkpointFile!, 'checkpoint', 3 * MODEL_LIMITS.fileBytes) : undefined;

  const gpu = flags.backend === 'webgpu' ? await openCliDevice() : undefined;
  const network = await Network.create(declared, {
    backend: flags.backend,
    device: gpu?.keeper,
    onRecover: (message) => console.error(`webgpu-backprop: ${message}`),
  });
  const bar = flags.progress
    ? new cliProgress.SingleBar({ format: 'training |{bar}| {value}/{total} steps | loss {loss}', hideCursor: true }, cliProgress.Presets.shades_classic)
    : undefined;
  let lastLoss = NaN;
  let steps = 0;
  try {
    await network.fit(table.inputs, targets, {
      learningRate: flags.lrSchedule || flags.lrWarmup ? { initial: flags.lr, schedule: flags.lrSchedule, warmup: flags.lrWarmup } : flags.lr,
      weightDecay: flags.weightDecay,
      clipNorm: flags.clipNorm,
      batchSize: flags.batchSize,
      shuffle: flags.shuffle ?? true,
      seed: flags.seed,
      optimizer: flags.optimizer,
      steps: flags.steps,
      epochs: flags.epochs,
      resume,
      checkpoint:
        checkpointFile && flags.checkpointEvery !== undefined
          ? {
              every: flags.checkpointEvery,
              save: (checkpoint) => {
                writeFileAtomically(checkpointFile, `${JSON.stringify(checkpoint)}\n`);
                if (!bar) console.error(`webgpu-backprop: checkpoint at step ${checkpoint.step} (${checkpointFile})`);
              },
            }
          : undefined,
      names: { options: { ...FLAG_NAMES, resume: checkpointFile }, data: flags.data },
      callbacks: {
        onTrainBegin: (run) => {
          steps = run.steps;
          if (resume !== undefined) console.error(`webgpu-backprop: resuming from step ${run.step} (${checkpointFile})`);
          bar?.start(run.steps, run.done, { loss: '…' });
        },
        onBatchEnd: (_, { loss, step }) => {
          lastLoss = loss;
          bar?.update(step + 1, { loss: loss.toPrecision(6) });
        },
      },
    });
    bar?.stop();
    const { loss: datasetLoss } = await network.evaluate(table.inputs, targets);
    if (!Number.isFinite(datasetLoss)) throw new DivergedError(`training diverged: the loss over the data file ${flags.data} is ${datasetLoss} after step ${steps}`, steps);
    if (flags.out) writeFileAtomically(flags.out, `${JSON.stringify(network.toJSON(), null, 2)}\n`);
    return { steps, lastLoss, datasetLoss, adapter: gpu?.adapter };
  } finally {
    bar?.stop();
    network.dispose();
    gpu?.keeper.destroy();
  }
}

export interface PredictFlags {
  model: string;
  data: string;
  targets?: string[];
  /** CSV: a column of class labels, left out of the inputs. */
  labels?: string;
  backend: Backend;
  out?: string;
}

export async function predict(flags: PredictFlags): Promise<string> {
  const network = await readNetwork(flags.model, 'model file', { backend: flags.backend });
  try {
    const table = await readDataFile(flags.data, { targetColumns: flags.targets, labelColumn: flags.labels, classes: network.classes });
    checkDataFits(table, flags.data, network.spec.inputSize, undefined);
    const outputs = await network.predict(table.inputs);
    // A model with named classes also gives each row's class, by name: its highest-scoring output unit.
    const classes = network.classes;
    const predicted = classes && Array.from(predictedClasses(outputs.flat(), classes.length), (id) => classes[id]);
    const text = `${JSON.stringify(predicted ? { outputs, predicted } : { outputs })}\n`;
    if (flags.out) writeFileAtomically(flags.out, text);
    return text;
  } finally {
    network.dispose();
  }
}
