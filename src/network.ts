// Network: the library's front door. A network is created from a model description,
// trained with `fit` (as TensorFlow.js's `model.fit`), asked with `predict` and
// `evaluate`, saved with `toJSON` in the command line's model-file format, and freed with
// `dispose`. Underneath it is a trainer (the float64 reference, or WebGPU) driven by the
// one training loop, runTraining.

import type { Dataset } from './data/dataset.ts';
import { applyInputScaling, type InputScaling } from './data/scaling.ts';
import { flattenRows, toDataset, type Rows } from './data/validate.ts';
import { BackpropError, DisposedError, InputError, WebGpuUnavailableError } from './errors.ts';
import { describeAdapter, DeviceKeeper, type AdapterDescription } from './gpu/device.ts';
import { GpuPredictor } from './gpu/predict.ts';
import type { KernelPath } from './gpu/trainer.ts';
import { modelFromJson, modelToJson, type ModelFile } from './io/model-file.ts';
import { exportOnnx, exportPytorch, exportTfjs, EXPORT_FORMATS, TFJS_WEIGHTS_PATH, type ExportFormat, type PytorchExportOptions } from './interop/index.ts';
import { outputSize, type ModelSpec } from './model/model.ts';
import { createModel, type Model } from './model/network.ts';
import type { OptimizerKind, OptimizerSpec } from './model/optimizer.ts';
import { mean } from './reference/backprop.ts';
import { CpuTrainer } from './reference/trainer.ts';
import { createTrainer } from './train/create.ts';
import { checkFiniteLoss, runTraining } from './train/loop.ts';
import { computeMetrics, METRICS, type Metric } from './train/metrics.ts';
import { positiveInteger, trainOptions } from './train/options.ts';
import type { Trainer, TrainerState, TrainOptions } from './model/trainer.ts';

/** Where a network trains: WebGPU, the float64 reference, or (`auto`) WebGPU where an adapter exists, else the reference. */
export type BackendChoice = 'webgpu' | 'cpu' | 'auto';

/** How `Network.create` opens a network: its backend, its device, its initial weights. */
export interface NetworkOptions {
  /** Default `auto`: WebGPU where there is an adapter, else the float64 reference (`backendReason` says why). */
  backend?: BackendChoice;
  /**
   * A device to run on instead of one the network opens (and reopens if lost) itself: a
   * GPUDevice (its loss ends training with DeviceLostError), or a DeviceKeeper shared with
   * other work (training survives the loss of its device). The network never destroys it.
   */
  device?: GPUDevice | DeviceKeeper;
  /** Told when a lost device has been replaced and training resumes from the last checkpoint. */
  onRecover?: (message: string) => void;
  /** Seeds the initial weights of a description without weights (instead of its `seed`, default 1). */
  seed?: number | string;
  /** Which kernels run a step on WebGPU (default: the fused kernel wherever the network fits it). */
  kernels?: KernelPath;
}

/** The figures of an epoch: its mean batch loss, and the metrics asked for, on the training and validation data. */
export interface EpochLogs {
  loss: number;
  accuracy?: number;
  mae?: number;
  r2?: number;
  val_loss?: number;
  val_accuracy?: number;
  val_mae?: number;
  val_r2?: number;
}

/** A step's figures, for `onBatchEnd`. */
export interface BatchLogs {
  /** The step's batch loss (the mean of its samples' losses). */
  loss: number;
  /** The epoch the step belongs to (from 0, counted within this `fit`). */
  epoch: number;
  /** The step, counted over the network's life. */
  step: number;
}

/**
 * Called as training goes, as TensorFlow.js's callbacks are. Steps run in chunks on the
 * GPU; `onBatchEnd` is called for each step of a chunk once the chunk is done, in order,
 * so no step waits for a read-back.
 */
export interface FitCallbacks {
  /** Before the first step. */
  onTrainBegin?: () => void | Promise<void>;
  /** Before an epoch's first step (epochs count from 0). */
  onEpochBegin?: (epoch: number) => void | Promise<void>;
  /** After each step, with its batch loss; `batch` counts the steps of the epoch from 0. */
  onBatchEnd?: (batch: number, logs: BatchLogs) => void | Promise<void>;
  /** After each epoch, with its mean batch loss and the metrics asked for. */
  onEpochEnd?: (epoch: number, logs: EpochLogs) => void | Promise<void>;
  /** After the last step, with the history. */
  onTrainEnd?: (history: History) => void | Promise<void>;
}

/** Stops training once the monitored figure has not improved for `patience` epochs (Keras's EarlyStopping). */
export interface EarlyStopping {
  /** Default `val_loss` where there is validation data, else `loss`. */
  monitor?: keyof EpochLogs;
  /** Epochs without improvement before stopping (default 0: the first). */
  patience?: number;
  /** The least change that counts as an improvement (default 0). */
  minDelta?: number;
  /** At the end, go back to the weights of the best epoch (default false). */
  restoreBestWeights?: boolean;
}

/** `fit`'s options, with Keras's and TensorFlow.js's names and defaults. */
export interface FitOptions {
  /** Passes over the training data (default 1). */
  epochs?: number;
  /** Samples per step (default 32, or the training data if smaller). */
  batchSize?: number;
  /** Default 0.01, or 0.001 with Adam. */
  learningRate?: number;
  /** `sgd` (default), `momentum` (0.9) or `adam` (0.9, 0.999, 1e-8), or a full specification. */
  optimizer?: OptimizerKind | OptimizerSpec;
  /** A new order of the rows each epoch (default true); false takes them in order, wrapping around. */
  shuffle?: boolean;
  /** Seeds the shuffling (default 1). */
  seed?: number;
  /** Holds out this share of the rows, the last ones, as validation data (as Keras does). */
  validationSplit?: number;
  /** Validation data of its own: [inputs, targets]. */
  validationData?: [Rows, Rows];
  /**
   * Figures beside the loss at each epoch's end: `accuracy`, `mae`, `r2`, measured on the
   * whole training (and validation) data with the epoch's final weights.
   */
  metrics?: Metric[];
  callbacks?: FitCallbacks;
  /** `true` for the defaults, or the settings. */
  earlyStopping?: EarlyStopping | boolean;
  /** Stops training at the next chunk of steps; `fit` then resolves with `aborted` set. */
  signal?: AbortSignal;
}

/** What `fit` returns: per-epoch figures, as TensorFlow.js's History. */
export interface History {
  /** The epochs run, from 0. */
  epoch: number[];
  /** Each figure's value per epoch: `loss`, and `accuracy`, `val_loss`, … where measured. */
  history: Partial<Record<keyof EpochLogs, number[]>>;
  /** Steps run. */
  steps: number;
  /** Early stopping ended training before the last epoch. */
  stoppedEarly: boolean;
  /** The signal ended training. */
  aborted: boolean;
}

/** `evaluate`'s options. */
export interface EvaluateOptions {
  /** Figures beside the loss: `accuracy`, `mae`, `r2`. */
  metrics?: Metric[];
}

/** What `evaluate` gives: the mean loss, and each metric asked for. */
export type Evaluation = { loss: number } & Partial<Record<Metric, number>>;

/** Steps between the in-memory checkpoints a lost device resumes from (each a read-back of the parameters). */
const RECOVERY_CHECKPOINT_STEPS = 1000;

/** The trainer of the last `fit`, kept while its data and options stay the same. */
interface Session {
  trainer: Trainer;
  dataset: Dataset;
  options: TrainOptions;
  /** The training loop's chunk size at the end of the last fit: the next fit starts there. */
  chunkSteps?: number;
}

/**
 * A dense network trained by backpropagation, on WebGPU or on the float64 reference:
 * create it, `fit` it, `predict` and `evaluate` with it, save it with `toJSON` or
 * `export`, free it with `dispose`.
 */
export class Network {
  private session?: Session;
  private predictor?: GpuPredictor;
  /** The optimizer state and step count the next trainer starts from, when its optimizer is the same. */
  private carried?: { optimizer: OptimizerSpec; state: TrainerState };
  private disposed = false;
  private training = false;
  private gpuError?: string;

  private constructor(
    private model: Model,
    /** Where the network trains: `webgpu` or `cpu`. */
    readonly backend: 'webgpu' | 'cpu',
    /** Why this backend (with `auto`: why not WebGPU, where it is the reference). */
    readonly backendReason: string,
    private readonly gpu: { keeper?: DeviceKeeper; device?: GPUDevice; owned: boolean } | undefined,
    /** The WebGPU adapter, where the network runs on one. */
    readonly adapter: AdapterDescription | undefined,
    private readonly settings: Pick<NetworkOptions, 'kernels' | 'onRecover'>,
  ) {
    const device = gpu?.device;
    device?.addEventListener('uncapturederror', (event) => (this.gpuError ??= (event as GPUUncapturedErrorEvent).error.message.split('\n')[0]));
  }

  /**
   * A network from a model description: the architecture (`inputSize`, `layers` of
   * `units` and `activation`, `loss`, optionally `trainBiases` and `seed`) or a model file
   * with weights. On WebGPU it opens an adapter and a device (or takes `options.device`).
   */
  static async create(description: ModelFile, options: NetworkOptions = {}): Promise<Network> {
    const described = modelFromJson(description, 'model');
    const seeded = options.seed !== undefined && !description.layers.some((layer) => layer.weights);
    return Network.fromModel(seeded ? { ...createModel(described.spec, { seed: options.seed! }), inputScaling: described.inputScaling } : described, options);
  }

  /** A network with a model's description and parameters (as `loadModelFile` or `parseModelFile` give them). */
  static async fromModel(model: Model, options: NetworkOptions = {}): Promise<Network> {
    const choice = options.backend ?? 'auto';
    if (!['webgpu', 'cpu', 'auto'].includes(choice)) throw new InputError('backend', `expected webgpu, cpu or auto, got ${JSON.stringify(choice)}`);
    const own = createModel(model.spec, { params: model.params.slice() });
    if (model.inputScaling) own.inputScaling = { mean: [...model.inputScaling.mean], std: [...model.inputScaling.std] };
    const settings = { kernels: options.kernels, onRecover: options.onRecover };
    if (choice === 'cpu') return new Network(own, 'cpu', 'asked for the float64 reference', undefined, undefined, settings);
    const given = options.device;
    if (given instanceof DeviceKeeper) {
      return new Network(own, 'webgpu', 'on the device given', { keeper: given, device: await given.current(), owned: false }, describeAdapter(given.adapter), settings);
    }
    if (given) return new Network(own, 'webgpu', 'on the device given', { device: given, owned: false }, undefined, settings);
    try {
      const keeper = await DeviceKeeper.open();
      const reason = choice === 'auto' ? 'a WebGPU adapter was found' : 'asked for WebGPU';
      return new Network(own, 'webgpu', reason, { keeper, device: await keeper.current(), owned: true }, describeAdapter(keeper.adapter), settings);
    } catch (error) {
      if (choice === 'auto' && error instanceof WebGpuUnavailableError) return new Network(own, 'cpu', `WebGPU is unavailable: ${error.message}`, undefined, undefined, settings);
      throw error;
    }
  }

  /** A network from a model file's JSON (text or parsed), as `toJSON` writes it. */
  static fromJSON(json: string | ModelFile, options: NetworkOptions = {}): Promise<Network> {
    let parsed: ModelFile;
    try {
      parsed = typeof json === 'string' ? (JSON.parse(json) as ModelFile) : json;
    } catch (error) {
      throw new InputError('model', `not valid JSON (${(error as Error).message})`);
    }
    return Network.create(parsed, options);
  }

  /** The model description: input size, layers, loss, whether biases train. */
  get spec(): ModelSpec {
    return this.model.spec;
  }

  /**
   * The standardisation applied to every input before it reaches the first layer (from the
   * model file's `inputScaling`), or undefined where inputs are taken as they are.
   */
  get inputScaling(): InputScaling | undefined {
    const scaling = this.model.inputScaling;
    return scaling && { mean: [...scaling.mean], std: [...scaling.std] };
  }

  /** Inputs (N, IN), flat and already a copy, standardised as the model asks. */
  private scaled<T extends Float64Array | Dataset>(data: T): T {
    const scaling = this.model.inputScaling;
    if (scaling) applyInputScaling(data instanceof Float64Array ? data : data.inputs, scaling);
    return data;
  }

  /** The model file of the current weights (the form the command line reads and writes). */
  toJSON(): ModelFile {
    this.alive();
    return modelToJson(this.model);
  }

  /**
   * The current weights in another engine's format, as files by name: `onnx` gives
   * model.onnx (for ONNX Runtime); `tfjs` gives model.json and weights.bin (for
   * `tf.loadLayersModel`); `pytorch` gives model.json, train.py (which trains on with
   * PyTorch's DistributedDataParallel) and defaults.json (its flags' defaults, from `options`).
   */
  export(format: ExportFormat, options: PytorchExportOptions = {}): Record<string, string | Uint8Array> {
    this.alive();
    if (!(EXPORT_FORMATS as readonly string[]).includes(format)) throw new InputError('format', `expected one of ${EXPORT_FORMATS.join(', ')}, got ${JSON.stringify(format)}`);
    if (format === 'onnx') return { 'model.onnx': exportOnnx(this.model) };
    if (format === 'pytorch') return exportPytorch(this.model, options);
    const { modelJson, weightsBin } = exportTfjs(this.model);
    return { 'model.json': JSON.stringify(modelJson), [TFJS_WEIGHTS_PATH]: weightsBin };
  }

  /** The current parameters, flat, by the parameter layout (a copy). */
  params(): Float64Array {
    this.alive();
    return this.model.params.slice();
  }

  private alive(): void {
    if (this.disposed) throw new DisposedError('network');
    if (this.gpuError) throw new BackpropError(`WebGPU error: ${this.gpuError}`);
  }

  /** The live device: the one given, or the keeper's current one. */
  private device(): Promise<GPUDevice> {
    return this.gpu!.keeper ? this.gpu!.keeper.current() : Promise.resolve(this.gpu!.device!);
  }

  /**
   * Trains on `inputs` (N, IN) and `targets` (N, OUT): rows as arrays, or flat typed
   * arrays (inputs raw: the model's `inputScaling`, if any, is applied). Steps run in
   * chunks, the GPU never waiting on a per-step read-back.
   */
  async fit(inputs: Rows, targets: Rows, options: FitOptions = {}): Promise<History> {
    this.alive();
    // As TensorFlow.js: one fit at a time (predict and evaluate may run meanwhile).
    if (this.training) throw new BackpropError('fit: this network is already training; await the fit in progress (or abort it with its signal) first');
    this.training = true;
    try {
      return await this.train(inputs, targets, options);
    } finally {
      this.training = false;
    }
  }

  private async train(inputs: Rows, targets: Rows, options: FitOptions): Promise<History> {
    const { spec } = this.model;
    const all = this.scaled(toDataset(inputs, targets, spec.inputSize, outputSize(spec)));
    const { training, validation } = this.splitValidation(all, options);
    const epochs = options.epochs === undefined ? 1 : positiveInteger(options.epochs, 'epochs');
    const metrics = checkMetrics(options.metrics, 'metrics');
    const train = trainOptions(options, training.size);
    const early = earlyStopping(options.earlyStopping, validation !== undefined);
    const trainer = await this.trainerFor(training, train);
    const callbacks = options.callbacks ?? {};

    const start = trainer.step;
    const epochEnd = (e: number) => start + Math.ceil(((e + 1) * training.size) / train.batchSize);
    const totalSteps = epochEnd(epochs - 1) - start;
    const losses = new Float64Array(totalSteps);
    const history: History = { epoch: [], history: {}, steps: 0, stoppedEarly: false, aborted: false };
    const perEpoch = Boolean(callbacks.onEpochEnd || callbacks.onEpochBegin || validation || metrics.length > 0 || early);
    const epochOf = (step: number) => {
      let e = Math.floor(((step - start) * train.batchSize) / training.size);
      while (e > 0 && epochEnd(e - 1) > step) e--;
      while (epochEnd(e) <= step) e++;
      return e;
    };
    let best: { value: number; epoch: number; params?: Float64Array } | undefined;

    const epochLogs = async (e: number): Promise<EpochLogs> => {
      const first = e === 0 ? 0 : epochEnd(e - 1) - start;
      const logs: EpochLogs = { loss: mean(losses.subarray(first, epochEnd(e) - start)) };
      if (metrics.length > 0) {
        // The loss stays the mean batch loss of the epoch, as Keras reports it; the metrics are over all the training rows.
        const { loss: _, ...measured } = await this.measure(trainer, training, metrics, false);
        Object.assign(logs, measured);
      }
      if (validation) {
        const measured = await this.measure(trainer, validation, metrics, true);
        logs.val_loss = measured.loss;
        for (const metric of metrics) logs[`val_${metric}`] = measured[metric];
      }
      return logs;
    };
    const record = (e: number, logs: EpochLogs) => {
      history.epoch.push(e);
      for (const [key, value] of Object.entries(logs) as [keyof EpochLogs, number][]) (history.history[key] ??= []).push(value);
    };

    await callbacks.onTrainBegin?.();
    if (perEpoch) await callbacks.onEpochBegin?.(0);
    const session = this.session!;
    const result = await runTraining(trainer, {
      steps: totalSteps,
      chunkSteps: session.chunkSteps,
      nextStop: perEpoch ? (step) => epochEnd(epochOf(step)) : undefined,
      signal: options.signal,
      onChunk: async ({ firstStep, losses: chunk, step }) => {
        losses.set(chunk, firstStep - start);
        if (callbacks.onBatchEnd) {
          for (let k = 0; k < chunk.length; k++) {
            const s = firstStep + k;
            const e = epochOf(s);
            await callbacks.onBatchEnd(s - (e === 0 ? start : epochEnd(e - 1)), { loss: chunk[k], epoch: e, step: s });
          }
        }
        if (!perEpoch) return true;
        const e = epochOf(step - 1);
        if (epochEnd(e) !== step) return true;
        const logs = await epochLogs(e);
        record(e, logs);
        await callbacks.onEpochEnd?.(e, logs);
        if (early) {
          const value = logs[early.monitor];
          if (value === undefined) throw new InputError('earlyStopping.monitor', `${early.monitor} is not measured (add it to metrics, or give validation data)`);
          const sign = early.monitor.endsWith('loss') || early.monitor.endsWith('mae') ? 1 : -1;
          if (!best || sign * (best.value - value) > early.minDelta) {
            best = { value, epoch: e, params: early.restoreBestWeights ? (await trainer.readState()).params : undefined };
          } else if (e - best.epoch > early.patience) {
            history.stoppedEarly = true;
            return false;
          }
        }
        if (e + 1 < epochs) await callbacks.onEpochBegin?.(e + 1);
        return true;
      },
    });
    session.chunkSteps = result.chunkSteps;
    history.steps = result.steps;
    history.aborted = result.stoppedBy === 'signal';
    if (!perEpoch) {
      // Epochs completed, each with its mean batch loss, from the losses of the run.
      for (let e = 0; e < epochs && epochEnd(e) - start <= result.steps; e++) record(e, { loss: mean(losses.subarray(e === 0 ? 0 : epochEnd(e - 1) - start, epochEnd(e) - start)) });
    }
    if (best?.params) {
      const now = await trainer.readState();
      await trainer.writeState({ ...now, params: best.params });
    }
    this.model = { ...this.model, params: await trainer.read('params') };
    await callbacks.onTrainEnd?.(history);
    return history;
  }

  /** Held-out rows: `validationData`, or the last `validationSplit` of the rows (as Keras takes them). */
  private splitValidation(all: Dataset, options: FitOptions): { training: Dataset; validation?: Dataset } {
    const { spec } = this.model;
    if (options.validationData !== undefined) {
      if (options.validationSplit !== undefined) throw new InputError('validationSplit', 'give validationSplit or validationData, not both');
      const data = options.validationData;
      if (!Array.isArray(data) || data.length !== 2) throw new InputError('validationData', 'expected [inputs, targets]');
      return { training: all, validation: this.scaled(toDataset(data[0], data[1], spec.inputSize, outputSize(spec), { inputs: 'validationData[0]', targets: 'validationData[1]' })) };
    }
    const split = options.validationSplit;
    if (split === undefined) return { training: all };
    if (typeof split !== 'number' || !(split > 0 && split < 1)) throw new InputError('validationSplit', `expected a number between 0 and 1, got ${String(split)}`);
    const held = Math.floor(all.size * split);
    if (held < 1 || held >= all.size) throw new InputError('validationSplit', `${split} of ${all.size} rows leaves ${held} for validation and ${all.size - held} for training; each needs at least one`);
    const rows = (from: number, to: number): Dataset => ({
      inputs: all.inputs.slice(from * all.inputSize, to * all.inputSize),
      targets: all.targets.slice(from * all.outputSize, to * all.outputSize),
      size: to - from,
      inputSize: all.inputSize,
      outputSize: all.outputSize,
    });
    return { training: rows(0, all.size - held), validation: rows(all.size - held, all.size) };
  }

  /**
   * The trainer for this data and these options: the last one, if both are the same (so a
   * loop of small `fit` calls compiles and uploads nothing again), else a new one that
   * starts from the current weights (and the optimizer's state, if the optimizer is the same).
   */
  private async trainerFor(dataset: Dataset, options: TrainOptions): Promise<Trainer> {
    const session = this.session;
    if (session && sameOptions(session.options, options) && sameData(session.dataset, dataset)) return session.trainer;
    if (session) {
      this.carried = { optimizer: session.options.optimizer, state: await session.trainer.readState() };
      this.model = { ...this.model, params: this.carried.state.params };
      session.trainer.dispose();
      this.session = undefined;
    }
    this.predictor?.dispose();
    this.predictor = undefined;
    const trainer =
      this.backend === 'cpu'
        ? new CpuTrainer(this.model, dataset, options)
        : await createTrainer(this.model, dataset, options, {
            backend: 'webgpu',
            device: this.gpu!.keeper ? () => this.device() : this.gpu!.device,
            kernels: this.settings.kernels,
            onRecover: this.settings.onRecover,
            checkpointEvery: RECOVERY_CHECKPOINT_STEPS,
          });
    const carried = this.carried;
    if (carried && JSON.stringify(carried.optimizer) === JSON.stringify(options.optimizer)) {
      await trainer.writeState({ ...carried.state, params: this.model.params });
      trainer.mark();
    }
    this.session = { trainer, dataset, options };
    return trainer;
  }

  /** The loss, and the metrics asked for, over a dataset with the current weights. */
  private async measure(trainer: Trainer | GpuPredictor, data: Dataset, metrics: readonly Metric[], finite: boolean): Promise<Evaluation> {
    const loss = await trainer.evaluate(data);
    if (finite) checkFiniteLoss(loss, 'the validation data');
    if (metrics.length === 0) return { loss };
    const outputs = await trainer.predict(data.inputs, data.size);
    return { loss, ...computeMetrics(metrics, outputs, data.targets, data.outputSize) };
  }

  /** What runs the forward pass: the last trainer (whose weights are current), or a predictor of its own. */
  private async forwardRunner(): Promise<Trainer | GpuPredictor> {
    if (this.session) return this.session.trainer;
    if (this.backend === 'cpu') {
      const model = this.model;
      const dataset: Dataset = { inputs: new Float64Array(model.spec.inputSize), targets: new Float64Array(outputSize(model.spec)), size: 1, inputSize: model.spec.inputSize, outputSize: outputSize(model.spec) };
      return new CpuTrainer(model, dataset, trainOptions({}, 1));
    }
    this.predictor ??= await GpuPredictor.create(await this.device(), this.model);
    return this.predictor;
  }

  /** Outputs (N, OUT) for raw inputs (N, IN): rows as arrays, or a flat typed array. */
  async predict(inputs: Rows): Promise<number[][]> {
    this.alive();
    const { spec } = this.model;
    const flat = this.scaled(flattenRows(inputs, spec.inputSize, 'inputs'));
    const count = flat.length / spec.inputSize;
    const outputs = await (await this.forwardRunner()).predict(flat, count);
    const K = outputSize(spec);
    return Array.from({ length: count }, (_, r) => Array.from(outputs.subarray(r * K, (r + 1) * K)));
  }

  /** The mean loss over `inputs` and `targets`, and the metrics asked for. */
  async evaluate(inputs: Rows, targets: Rows, options: EvaluateOptions = {}): Promise<Evaluation> {
    this.alive();
    const { spec } = this.model;
    const data = this.scaled(toDataset(inputs, targets, spec.inputSize, outputSize(spec)));
    return this.measure(await this.forwardRunner(), data, checkMetrics(options.metrics, 'metrics'), false);
  }

  /** Frees the GPU memory and the device the network holds; any later call throws DisposedError. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.session?.trainer.dispose();
    this.predictor?.dispose();
    if (this.gpu?.owned) this.gpu.keeper?.destroy();
  }
}

function checkMetrics(metrics: unknown, where: string): Metric[] {
  if (metrics === undefined) return [];
  if (!Array.isArray(metrics)) throw new InputError(where, `expected an array of ${METRICS.join(', ')}`);
  metrics.forEach((metric, k) => {
    if (!(METRICS as readonly unknown[]).includes(metric)) throw new InputError(`${where}[${k}]`, `expected one of ${METRICS.join(', ')}, got ${JSON.stringify(metric)}`);
  });
  return metrics as Metric[];
}

function earlyStopping(value: EarlyStopping | boolean | undefined, validation: boolean): Required<Omit<EarlyStopping, 'restoreBestWeights'>> & { restoreBestWeights: boolean } | undefined {
  if (value === undefined || value === false) return undefined;
  const settings = value === true ? {} : value;
  const patience = settings.patience ?? 0;
  if (!Number.isSafeInteger(patience) || patience < 0) throw new InputError('earlyStopping.patience', `expected a whole number ≥ 0, got ${String(patience)}`);
  const minDelta = settings.minDelta ?? 0;
  if (typeof minDelta !== 'number' || !(minDelta >= 0)) throw new InputError('earlyStopping.minDelta', `expected a number ≥ 0, got ${String(minDelta)}`);
  return { monitor: settings.monitor ?? (validation ? 'val_loss' : 'loss'), patience, minDelta, restoreBestWeights: settings.restoreBestWeights ?? false };
}

function sameOptions(a: TrainOptions, b: TrainOptions): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function sameData(a: Dataset, b: Dataset): boolean {
  if (a.size !== b.size || a.inputSize !== b.inputSize || a.outputSize !== b.outputSize) return false;
  for (let k = 0; k < a.inputs.length; k++) if (a.inputs[k] !== b.inputs[k]) return false;
  for (let k = 0; k < a.targets.length; k++) if (a.targets[k] !== b.targets[k]) return false;
  return true;
}
