// Network: the library's front door. A network is made by one of three factories
// (`create` from a description, `fromJSON` from a model file, `import` from another
// engine's file), trained with `fit` (as TensorFlow.js's `model.fit`; the fit engine is
// train/fit.ts), asked with `predict` and `evaluate`, saved with `toJSON` or `export`, and
// freed with `dispose`. Underneath it is a trainer: the float64 reference, WebAssembly,
// or WebGPU (`auto` picks between the last two by speeds measured on this machine,
// train/auto.ts).
//
// What reads files (the schema library) and what speaks other engines' formats (ONNX's
// protobuf codec, the PyTorch template) is loaded when a file is read or a format
// written, so a page that only creates and trains networks does not carry them: a
// description given to `create` is checked without the schema (io/model-declaration.ts).

import type { Dataset } from './data/dataset.ts';
import { applyInputScaling, type InputScaling } from './data/scaling.ts';
import { flattenRows, toDataset, type Rows } from './data/validate.ts';
import type { Labels } from './data/labels.ts';
import { BackpropError, DisposedError, InputError, LimitError, quoted } from './errors.ts';
import { describeAdapter, DeviceKeeper, sharedDevice, type AdapterDescription } from './gpu/device.ts';
import { GpuPredictor } from './gpu/predict.ts';
import { EXPORT_FORMATS, IMPORT_FORMATS, importFormat, isPytorchFile, PYTORCH_FILE_ADVICE, type ExportFormat, type ImportFormat } from './interop/formats.ts';
import type { PytorchExportOptions } from './interop/pytorch.ts';
import { declareDescription, type ModelDeclaration } from './io/model-declaration.ts';
import { MODEL_LIMITS, modelToJson, type ModelDescription, type ModelFile } from './io/model-format.ts';
import type { ModelSpec } from './model/model.ts';
import { checkTargets, outputSize } from './model/model.ts';
import type { Model } from './model/network.ts';
import type { OptimizerSpec } from './model/optimizer.ts';
import type { Trainer, TrainerState, TrainOptions } from './model/trainer.ts';
import { BACKEND_CHOICES, EVALUATE_OPTION_KEYS, IMPORT_OPTION_KEYS, NETWORK_OPTION_KEYS, predictedLayers, weightFile, type BackendName, type EvaluateOptions, type ImportOptions, type NetworkOptions, type PredictOptions } from './network-options.ts';
import { CpuTrainer } from './reference/trainer.ts';
import { autoBackend } from './train/auto-backend.ts';
import { createTrainer } from './train/create.ts';
import { fit, type FitSubject } from './train/fit.ts';
import { checkMetrics, type FitOptions, type History } from './train/fit-options.ts';
import { measure, type Evaluation } from './train/metrics.ts';
import { DEFAULT_BATCH_SIZE, trainOptions } from './train/options.ts';
import { checkKeys } from './option-keys.ts';
import { defaultThreads } from './wasm/threads.ts';
import { WasmTrainer } from './wasm/trainer.ts';

/** Steps between the in-memory checkpoints a lost device resumes from (each a read-back of the parameters). */
const RECOVERY_CHECKPOINT_STEPS = 1000;

interface Session {
  trainer: Trainer;
  dataset: Dataset;
  options: TrainOptions;
}

function isDeclaration(description: ModelDescription | ModelDeclaration): description is ModelDeclaration {
  return typeof (description as ModelDeclaration).create === 'function';
}

/** A deep copy that cannot be changed: what the network hands out of itself. */
function frozen<T>(value: T): T {
  return JSON.parse(JSON.stringify(value), (_, v) => Object.freeze(v)) as T;
}

/**
 * A dense network trained by backpropagation, on WebGPU or on the float64 reference:
 * make it (`create`, `fromJSON`, `import`), `fit` it, `predict` and `evaluate` with it,
 * save it (`toJSON`, `export`), free it (`dispose`). What is fixed when it is made is a
 * property (`spec`, `inputScaling`, `classes`, `backend`); what training changes is read by a method
 * (`params()`, `toJSON()`).
 */
export class Network {
  /** The model description: input size, layers, loss, whether biases train. */
  readonly spec: ModelSpec;
  /**
   * The standardisation applied to every input before it reaches the first layer (from the
   * model file's `inputScaling`), or undefined where inputs are taken as they are.
   */
  readonly inputScaling: InputScaling | undefined;
  /** The class each output unit stands for (the model file's `classes`), or undefined where the file names none. */
  readonly classes: readonly string[] | undefined;
  private session?: Session;
  private predictor?: GpuPredictor;
  /** The WebAssembly trainer that predicts before any fit (on the current weights). */
  private wasmPredictor?: WasmTrainer;
  /** The optimizer state and step count the next trainer starts from, when its optimizer is the same. */
  private carried?: { optimizer: OptimizerSpec; state: TrainerState };
  /** The training loop's chunk size at the end of the last fit. */
  private chunkSteps?: number;
  private disposed = false;
  private training = false;
  /** Stops the fit in progress, on dispose(). */
  private stopFit?: AbortController;
  /** A fit stopped during a chunk of steps: the trainer's return to the chunk's start, which every later use waits for. */
  private settling?: Promise<void>;
  private gpuError?: string;
  /** Notes the first WebGPU validation error of the device, which every later call reports. */
  private readonly onGpuError = (event: Event) => (this.gpuError ??= (event as GPUUncapturedErrorEvent).error.message.split('\n')[0]);

  private constructor(
    private model: Model,
    /** Where the network trains: `webgpu`, `wasm` or `cpu`. */
    readonly backend: BackendName,
    /** Why this backend (with `auto`: the figures it chose by). */
    readonly backendReason: string,
    private readonly gpu: { keeper?: DeviceKeeper; device?: GPUDevice; owned: boolean } | undefined,
    /** The WebGPU adapter, where the network runs on one. */
    readonly adapter: AdapterDescription | undefined,
    private readonly settings: Pick<NetworkOptions, 'path' | 'onRecover' | 'threads' | 'tune'>,
  ) {
    this.spec = frozen(model.spec);
    this.inputScaling = model.inputScaling && frozen(model.inputScaling);
    this.classes = model.classes && frozen(model.classes);
    gpu?.device?.addEventListener('uncapturederror', this.onGpuError);
  }

  /**
   * A network from a model description: the architecture (`inputSize`, `layers` of
   * `units` and `activation`, `loss`, optionally `trainBiases` and `seed`), a model file
   * with weights, or a model file's declaration (`parseModelDeclaration`). On WebGPU it
   * opens an adapter and a device (or takes `options.device`).
   */
  static async create(description: ModelDescription | ModelDeclaration, options: NetworkOptions = {}): Promise<Network> {
    checkKeys(options, NETWORK_OPTION_KEYS, 'Network.create');
    const declared = isDeclaration(description) ? description : declareDescription(description, options.source ?? 'model');
    return Network.open(declared.create(options.seed), options);
  }

  /** A network from a model file's JSON, as `toJSON` writes it: its text, or the parsed object. */
  static async fromJSON(json: string | ModelDescription, options: NetworkOptions = {}): Promise<Network> {
    checkKeys(options, NETWORK_OPTION_KEYS, 'Network.fromJSON');
    if (typeof json !== 'string') return Network.create(json, options);
    const { parseModelDeclaration } = await import('./io/model-file.ts');
    return Network.create(parseModelDeclaration(json, options.source ?? 'model'), options);
  }

  /**
   * A network from a file of another engine, or of ours: an ONNX model, a TensorFlow.js
   * model.json (its weight files in `options.weights`), or a model file. `format` `auto`
   * tells them apart by `options.source` (a `.onnx` or `.json` name) and the contents.
   */
  static async import(bytes: Uint8Array | string, format: ImportFormat | 'auto' = 'auto', options: ImportOptions = {}): Promise<Network> {
    checkKeys(options, IMPORT_OPTION_KEYS, 'Network.import');
    const source = options.source ?? 'model';
    const data = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes;
    if (!(data instanceof Uint8Array)) throw new InputError(source, 'expected the file\'s bytes (a Uint8Array) or text');
    if (data.length > MODEL_LIMITS.fileBytes) throw new LimitError(source, `the file is ${data.length} bytes; a model file may be at most ${MODEL_LIMITS.fileBytes}`, 'MODEL_LIMITS.fileBytes');
    if (format !== 'auto' && !(IMPORT_FORMATS as readonly string[]).includes(format)) throw new InputError('format', `expected auto or one of ${IMPORT_FORMATS.join(', ')}, got ${quoted(format)}`);
    if (isPytorchFile(source, data)) throw new InputError(source, PYTORCH_FILE_ADVICE);
    const kind = format === 'auto' ? importFormat(source, data) : format;
    const described = { loss: options.loss, trainBiases: options.trainBiases, warn: options.onWarning ?? ((message: string) => console.warn(`webgpu-backprop: ${message}`)) };
    if (kind === 'model-file') {
      // A model file records its loss and trainBiases itself: the import's own options do not apply.
      const { weights: _weights, loss: _loss, trainBiases: _trainBiases, onWarning: _onWarning, ...networkOptions } = options;
      return Network.fromJSON(new TextDecoder().decode(data), networkOptions);
    }
    if (kind === 'onnx') return Network.open((await import('./interop/onnx-import.ts')).importOnnx(data, source, described), options);
    const { importTfjs, tfjsWeightPaths } = await import('./interop/tfjs.ts');
    const modelJson = new TextDecoder().decode(data);
    const weights = await Promise.all(tfjsWeightPaths(modelJson, source).map((path) => weightFile(path, options.weights, source)));
    return Network.open(importTfjs(modelJson, weights, source, described), options);
  }

  /** A network of `model` (which it takes over) on the backend the options choose. */
  private static async open(model: Model, options: NetworkOptions): Promise<Network> {
    const choice = options.backend ?? 'auto';
    if (!BACKEND_CHOICES.includes(choice)) throw new InputError('backend', `expected ${BACKEND_CHOICES.join(', ')}, got ${quoted(choice)}`);
    if (options.threads !== undefined && !(Number.isInteger(options.threads) && options.threads >= 1)) throw new InputError('threads', `expected a positive whole number, got ${quoted(options.threads)}`);
    const settings = { path: options.path, onRecover: options.onRecover, threads: options.threads, tune: options.tune };
    const network = (backend: BackendName, reason: string, gpu?: { keeper?: DeviceKeeper; device?: GPUDevice; owned: boolean }, adapter?: AdapterDescription) => new Network(model, backend, reason, gpu, adapter, settings);
    if (choice === 'cpu') return network('cpu', 'asked for the float64 reference');
    if (choice === 'wasm') return network('wasm', 'asked for WebAssembly');
    const given = options.device;
    if (given instanceof DeviceKeeper) return network('webgpu', 'on the device given', { keeper: given, device: await given.current(), owned: false }, describeAdapter(given.adapter));
    if (given) return network('webgpu', 'on the device given', { device: given, owned: false });
    if (choice === 'webgpu') {
      const keeper = await sharedDevice();
      return network('webgpu', 'asked for WebGPU', { keeper, device: await keeper.current(), owned: false }, describeAdapter(keeper.adapter));
    }
    const chosen = await autoBackend(model.spec, options.threads ?? defaultThreads());
    if (chosen.backend === 'wasm') return network('wasm', chosen.reason);
    return network('webgpu', chosen.reason, { keeper: chosen.keeper, device: await chosen.keeper.current(), owned: false }, describeAdapter(chosen.keeper.adapter));
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
  async export(format: ExportFormat, options: PytorchExportOptions = {}): Promise<Record<string, string | Uint8Array>> {
    this.alive();
    if (!(EXPORT_FORMATS as readonly string[]).includes(format)) throw new InputError('format', `expected one of ${EXPORT_FORMATS.join(', ')}, got ${quoted(format)}`);
    const model = this.model;
    if (format === 'onnx') return { 'model.onnx': (await import('./interop/onnx.ts')).exportOnnx(model) };
    if (format === 'pytorch') return (await import('./interop/pytorch.ts')).exportPytorch(model, options);
    const { exportTfjs, TFJS_WEIGHTS_PATH } = await import('./interop/tfjs.ts');
    const { modelJson, weightsBin } = exportTfjs(model);
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
   * arrays (inputs raw: the model's `inputScaling`, if any, is applied); or, for a
   * classifier, class ids (N), a number[] or Int32Array, trained as their one-hot rows. Steps run in
   * chunks, the GPU never waiting on a per-step read-back. See FitOptions for epochs or
   * steps, validation, callbacks, early stopping, and checkpoints to resume from.
   */
  async fit(inputs: Rows, targets: Rows | Labels, options: FitOptions = {}): Promise<History> {
    this.alive();
    // As TensorFlow.js: one fit at a time (predict and evaluate may run meanwhile).
    if (this.training) throw new BackpropError('fit: this network is already training; await the fit in progress (or abort it with its signal) first');
    this.training = true;
    await this.settled();
    // dispose() stops the fit at its next chunk of steps, as the caller's signal does.
    this.stopFit = new AbortController();
    const signal = options.signal instanceof AbortSignal ? AbortSignal.any([options.signal, this.stopFit.signal]) : this.stopFit.signal;
    const network = this;
    const subject: FitSubject = {
      get model() {
        return network.model;
      },
      trainer: (dataset, train) => this.trainerFor(dataset, train),
      chunkSteps: this.chunkSteps,
      sync: async (trainer) => {
        this.model = { ...this.model, params: await trainer.read('params') };
      },
    };
    try {
      const history = await fit(subject, inputs, targets, { ...options, ...(options.signal === undefined || options.signal instanceof AbortSignal ? { signal } : {}) });
      if (this.disposed) throw new DisposedError('network');
      return history;
    } catch (error) {
      // Whatever the trainer said as it was freed under the fit (a lost device, say), the cause is dispose().
      throw this.disposed ? new DisposedError('network') : error;
    } finally {
      this.chunkSteps = subject.chunkSteps;
      this.settling = subject.settling;
      this.training = false;
      this.stopFit = undefined;
    }
  }

  /** Waits for a stopped chunk's undoing, if one is under way. */
  private async settled(): Promise<void> {
    const settling = this.settling;
    if (!settling) return;
    await settling;
    if (this.settling === settling) this.settling = undefined;
  }

  /**
   * The trainer for this data and these options: the last one, if both are the same (so a
   * loop of small `fit` calls compiles and uploads nothing again), else a new one that
   * starts from the current weights (and the optimizer's state, if the optimizer is the same).
   */
  private async trainerFor(dataset: Dataset, options: TrainOptions): Promise<Trainer> {
    await this.settled();
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
    this.wasmPredictor?.dispose();
    this.wasmPredictor = undefined;
    const trainer = await createTrainer(this.model, dataset, options, {
      backend: this.backend,
      threads: this.settings.threads,
      device: this.gpu?.keeper ?? this.gpu?.device,
      path: this.settings.path,
      tune: this.settings.tune,
      // Training writes only what the next kernel reads; `read` of the rest is for the lower-level trainers.
      capture: false,
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

  /** What runs the forward pass: the last trainer (whose weights are current), or a predictor of its own. */
  private async forwardRunner(): Promise<Trainer | GpuPredictor> {
    await this.settled();
    if (this.session) return this.session.trainer;
    if (this.backend !== 'webgpu') {
      const model = this.model;
      const dataset: Dataset = { inputs: new Float64Array(model.spec.inputSize), targets: new Float64Array(outputSize(model.spec)), size: 1, inputSize: model.spec.inputSize, outputSize: outputSize(model.spec) };
      if (this.backend === 'cpu') return new CpuTrainer(model, dataset, trainOptions({}, 1));
      this.wasmPredictor?.dispose();
      this.wasmPredictor = await WasmTrainer.create(model, dataset, trainOptions({}, 1), { threads: this.settings.threads });
      return this.wasmPredictor;
    }
    this.predictor ??= await GpuPredictor.create(await this.device(), this.model, DEFAULT_BATCH_SIZE, this.settings.tune);
    return this.predictor;
  }

  /**
   * Outputs (N, OUT) for raw inputs (N, IN): rows as arrays, or a flat typed array. With
   * `layer`, a hidden layer's outputs (N, units) instead, or (an array of layers) each one's.
   */
  async predict(inputs: Rows, options?: PredictOptions & { layer?: number }): Promise<number[][]>;
  async predict(inputs: Rows, options: PredictOptions & { layer: readonly number[] }): Promise<number[][][]>;
  async predict(inputs: Rows, options: PredictOptions = {}): Promise<number[][] | number[][][]> {
    this.alive();
    const { spec } = this.model;
    const layers = predictedLayers(options, spec.layers.length);
    const flat = this.scaled(flattenRows(inputs, spec.inputSize, 'inputs'));
    const count = flat.length / spec.inputSize;
    const outputs = await (await this.forwardRunner()).layerOutputs(flat, count, layers);
    const rows = (values: Float64Array, l: number) => {
      const width = spec.layers[l].units;
      return Array.from({ length: count }, (_, r) => Array.from(values.subarray(r * width, (r + 1) * width)));
    };
    const each = outputs.map((values, k) => rows(values, layers[k]));
    return Array.isArray(options.layer) ? each : each[0];
  }

  /** The mean loss over `inputs` and `targets` (rows, or class ids), and the metrics asked for. */
  async evaluate(inputs: Rows, targets: Rows | Labels, options: EvaluateOptions = {}): Promise<Evaluation> {
    this.alive();
    checkKeys(options, EVALUATE_OPTION_KEYS, 'evaluate');
    const { spec } = this.model;
    const data = this.scaled(toDataset(inputs, targets, spec.inputSize, outputSize(spec)));
    checkTargets(spec, data.targets);
    return measure(await this.forwardRunner(), data, checkMetrics(options.metrics), false);
  }

  /** Frees the GPU memory and the device the network holds; any later call throws DisposedError. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.stopFit?.abort();
    this.session?.trainer.dispose();
    this.predictor?.dispose();
    this.wasmPredictor?.dispose();
    this.gpu?.device?.removeEventListener('uncapturederror', this.onGpuError);
    if (this.gpu?.owned) this.gpu.keeper?.destroy();
  }
}

/** The same options: a schedule that is a function the same function (JSON drops functions). */
function sameOptions(a: TrainOptions, b: TrainOptions): boolean {
  const functions = typeof a.schedule === 'function' || typeof b.schedule === 'function';
  return JSON.stringify(a) === JSON.stringify(b) && (!functions || a.schedule === b.schedule);
}

function sameData(a: Dataset, b: Dataset): boolean {
  if (a.size !== b.size || a.inputSize !== b.inputSize || a.outputSize !== b.outputSize) return false;
  for (let k = 0; k < a.inputs.length; k++) if (a.inputs[k] !== b.inputs[k]) return false;
  for (let k = 0; k < a.targets.length; k++) if (a.targets[k] !== b.targets[k]) return false;
  return true;
}
