// The page's side of training in a worker: NetworkWorker starts (or connects to) a worker
// that serves networks (host.ts), and WorkerNetwork is a network there with Network's API:
// create, fromJSON, import, fit, predict, evaluate, toJSON, params, export, dispose. The
// page's thread only sends and receives messages, so it never waits on training.
//
// Rows can be uploaded to the worker once (`upload`), as TensorFlow.js keeps tensors on
// its backend, and then named in any number of `fit`, `predict` and `evaluate` calls
// without being copied again.

import type { InputScaling } from '../data/scaling.ts';
import type { Labels } from '../data/labels.ts';
import type { Rows } from '../data/validate.ts';
import { BackpropError, DisposedError, InputError } from '../errors.ts';
import type { AdapterDescription } from '../gpu/device.ts';
import type { ExportFormat, ImportFormat } from '../interop/formats.ts';
import type { PytorchExportOptions } from '../interop/pytorch.ts';
import { modelToJson, type ModelFile } from '../io/model-format.ts';
import type { ModelSpec } from '../model/model.ts';
import { createModel, type Model } from '../model/network.ts';
import type { EvaluateOptions, ImportOptions, NetworkOptions, PredictOptions } from '../network-options.ts';
import type { FitCallbacks, FitOptions, History } from '../train/fit-options.ts';
import type { Evaluation } from '../train/metrics.ts';
import { rowsRef, WorkerRows, type WorkerRowsInput } from './rows.ts';
import { buffersOf, errorData, errorFrom, type CallbackName, type FitEvent, type Fitted, type NetworkSettings, type Opened, type Predicted, type Reply, type Request, type WorkerEndpoint } from './protocol.ts';

/** How a network in a worker is made: Network's options but the device (each thread opens its own), and the worker to use. */
export interface WorkerNetworkOptions extends Omit<NetworkOptions, 'device'> {
  /** The worker to make the network in (default: a worker of its own, ended by `dispose`). */
  worker?: NetworkWorker;
}

/** `Network.import`'s options for a network in a worker. */
export interface WorkerImportOptions extends WorkerNetworkOptions, Pick<ImportOptions, 'weights' | 'loss' | 'trainBiases'> {}

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void };

/**
 * A worker that trains networks for this page: `NetworkWorker.start()` starts the worker
 * script the library ships (WebGPU works there as on the page); `connect` takes any
 * endpoint whose other side runs `serveNetworks` (a worker of your own, a MessagePort).
 */
export class NetworkWorker {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly fitEvents = new Map<number, (event: number, data: FitEvent) => void>();
  private readonly recoveries = new Map<number, (message: string) => void>();
  private failure?: Error;

  private constructor(
    private readonly endpoint: WorkerEndpoint,
    private readonly worker?: Worker,
  ) {
    endpoint.addEventListener('message', (event: MessageEvent) => this.receive(event.data as Reply));
    worker?.addEventListener('error', (event) => this.fail(new BackpropError(`the worker failed: ${event.message || 'it could not be started'}`)));
    endpoint.start?.();
  }

  /** Starts the library's worker script in a module worker (or uses `worker`, one running it or `serveNetworks`). */
  static start(worker?: Worker): NetworkWorker {
    if (worker) return new NetworkWorker(worker as unknown as WorkerEndpoint, worker);
    if (typeof Worker === 'undefined') throw new BackpropError('this environment has no Worker: connect a NetworkWorker to an endpoint that runs serveNetworks');
    const started = new Worker(new URL('./script.ts', import.meta.url), { type: 'module', name: 'webgpu-backprop' });
    return new NetworkWorker(started as unknown as WorkerEndpoint, started);
  }

  /** A NetworkWorker over `endpoint`, whose other side runs `serveNetworks` (a MessagePort, say). */
  static connect(endpoint: WorkerEndpoint): NetworkWorker {
    return new NetworkWorker(endpoint);
  }

  private receive(message: Reply): void {
    if (message.kind === 'reply') {
      const waiting = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.ok) waiting?.resolve(message.value);
      else waiting?.reject(errorFrom(message.error));
    } else if (message.kind === 'event') {
      this.fitEvents.get(message.fit)?.(message.event, message.data);
    } else {
      this.recoveries.get(message.network)?.(message.message);
    }
  }

  private fail(error: Error): void {
    this.failure = error;
    for (const waiting of this.pending.values()) waiting.reject(error);
    this.pending.clear();
  }

  /** @internal Sends a request; resolves with its reply. */
  async send<T = unknown>(request: Request, transfer: Transferable[] = [], id = this.newId()): Promise<T> {
    if (this.failure) throw this.failure;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.endpoint.postMessage({ ...request, id }, transfer);
    });
  }

  /** @internal */
  newId(): number {
    return this.nextId++;
  }

  /** @internal Sends a message that gets no reply. */
  notify(message: unknown): void {
    this.endpoint.postMessage(message);
  }

  /** @internal */
  onFitEvent(fit: number, handler?: (event: number, data: FitEvent) => void): void {
    if (handler) this.fitEvents.set(fit, handler);
    else this.fitEvents.delete(fit);
  }

  /** @internal */
  onRecover(network: number, handler?: (message: string) => void): void {
    if (handler) this.recoveries.set(network, handler);
    else this.recoveries.delete(network);
  }

  /**
   * Hands rows to the worker to keep, for any number of calls without copying them again.
   * `transfer`: a typed array's buffer moves to the worker instead of being copied (it is
   * then empty here).
   */
  async upload(rows: Rows, options: { transfer?: boolean } = {}): Promise<WorkerRows> {
    const id = this.newId();
    const typed = rows instanceof Float32Array || rows instanceof Float64Array;
    await this.send({ kind: 'upload', rows: id, values: rows }, typed && options.transfer ? buffersOf(rows) : []);
    return new WorkerRows(this, id, () => void this.send({ kind: 'release', rows: id }).catch(() => {}));
  }

  /** A network in this worker from a description (see Network.create). */
  async create(description: ModelFile, options: Omit<WorkerNetworkOptions, 'worker'> = {}): Promise<WorkerNetwork> {
    return this.open({ kind: 'create', description }, options);
  }

  /** A network in this worker from a model file's JSON (see Network.fromJSON). */
  async fromJSON(json: string | ModelFile, options: Omit<WorkerNetworkOptions, 'worker'> = {}): Promise<WorkerNetwork> {
    return this.open({ kind: 'fromJSON', json }, options);
  }

  /** A network in this worker from another engine's file (see Network.import). */
  async import(bytes: Uint8Array | string, format: ImportFormat | 'auto' = 'auto', options: Omit<WorkerImportOptions, 'worker'> = {}): Promise<WorkerNetwork> {
    const { weights, ...rest } = options;
    let files = weights as Record<string, Uint8Array> | undefined;
    if (typeof weights === 'function') {
      // The weight files are read here, where the function is: the worker says which.
      const paths = await this.send<string[]>({ kind: 'weightPaths', bytes, source: options.source ?? 'model' });
      files = Object.fromEntries(await Promise.all(paths.map(async (path) => [path, await weights(path)] as const)));
    }
    return this.open({ kind: 'import', bytes, format }, { ...rest, weights: files } as Omit<WorkerNetworkOptions, 'worker'>);
  }

  private async open(request: { kind: 'create'; description: ModelFile } | { kind: 'fromJSON'; json: string | ModelFile } | { kind: 'import'; bytes: Uint8Array | string; format: ImportFormat | 'auto' }, options: Omit<WorkerNetworkOptions, 'worker'> & { weights?: Record<string, Uint8Array> }): Promise<WorkerNetwork> {
    const { onRecover, ...settings } = options;
    if ('device' in settings) throw new InputError('device', 'a network in a worker opens its own device: leave device out');
    const network = this.newId();
    if (onRecover) this.onRecover(network, onRecover);
    try {
      const opened = await this.send<Opened>({ ...request, network, options: settings as NetworkSettings } as Request);
      return new WorkerNetwork(this, network, opened);
    } catch (error) {
      this.onRecover(network);
      throw error;
    }
  }

  /** Ends the worker (one this class started, or was given): its networks go with it. */
  terminate(): void {
    this.worker?.terminate();
    this.fail(new DisposedError('worker'));
  }
}

/**
 * A network that lives in a worker, with Network's API: `fit` (its callbacks called here,
 * as messages arrive: the batch losses of a chunk of steps in one message), `predict`,
 * `evaluate`, `toJSON`, `params`, `export`, `dispose`. Rows may be arrays, typed arrays,
 * or WorkerRows.
 */
export class WorkerNetwork {
  /** The model description: input size, layers, loss, whether biases train. */
  readonly spec: ModelSpec;
  /** The inputs' standardisation, as Network's. */
  readonly inputScaling: InputScaling | undefined;
  /** The class each output unit stands for, as Network's. */
  readonly classes: readonly string[] | undefined;
  /** Where the network trains, in the worker (`webgpu`, `cpu`). */
  readonly backend: string;
  /** Why this backend. */
  readonly backendReason: string;
  /** The worker's WebGPU adapter, where the network runs on one. */
  readonly adapter: AdapterDescription | undefined;
  private model: Model;
  private disposed = false;
  private training = false;
  /** Whether dispose ends the worker: one the network started for itself. */
  private ownsWorker = false;

  /** @internal */
  constructor(
    /** The worker the network lives in. */
    readonly worker: NetworkWorker,
    private readonly id: number,
    opened: Opened,
  ) {
    this.spec = opened.spec;
    this.inputScaling = opened.inputScaling;
    this.classes = opened.classes;
    this.backend = opened.backend;
    this.backendReason = opened.backendReason;
    this.adapter = opened.adapter;
    this.model = { ...createModel(opened.spec, { params: opened.params }), inputScaling: opened.inputScaling, ...(opened.classes ? { classes: [...opened.classes] } : {}) };
  }

  private static async own(worker: NetworkWorker | undefined, make: (worker: NetworkWorker) => Promise<WorkerNetwork>): Promise<WorkerNetwork> {
    const started = worker ?? NetworkWorker.start();
    try {
      const network = await make(started);
      network.ownsWorker = !worker;
      return network;
    } catch (error) {
      if (!worker) started.terminate();
      throw error;
    }
  }

  /** A network in a worker from a description (see Network.create); in a worker of its own unless `options.worker`. */
  static async create(description: ModelFile, options: WorkerNetworkOptions = {}): Promise<WorkerNetwork> {
    const { worker, ...rest } = options;
    return WorkerNetwork.own(worker, (w) => w.create(description, rest));
  }

  /** A network in a worker from a model file's JSON (see Network.fromJSON). */
  static async fromJSON(json: string | ModelFile, options: WorkerNetworkOptions = {}): Promise<WorkerNetwork> {
    const { worker, ...rest } = options;
    return WorkerNetwork.own(worker, (w) => w.fromJSON(json, rest));
  }

  /** A network in a worker from another engine's file (see Network.import). */
  static async import(bytes: Uint8Array | string, format: ImportFormat | 'auto' = 'auto', options: WorkerImportOptions = {}): Promise<WorkerNetwork> {
    const { worker, ...rest } = options;
    return WorkerNetwork.own(worker, (w) => w.import(bytes, format, rest));
  }

  private alive(): void {
    if (this.disposed) throw new DisposedError('network');
  }

  /**
   * Trains in the worker (see Network.fit). The callbacks run here as the worker's messages
   * arrive; onBatchEnd gets every step, a chunk's steps at a time, with training at most one
   * chunk ahead; the others are waited for, as on Network. Resolves once training has ended
   * and the new weights are here (toJSON, params).
   */
  async fit(inputs: WorkerRowsInput, targets: WorkerRowsInput | Labels, options: FitOptions = {}): Promise<History> {
    this.alive();
    if (this.training) throw new BackpropError('fit: this network is already training; await the fit in progress (or abort it with its signal) first');
    // Options cross to the worker as data: a function cannot.
    if (typeof options.learningRate === 'function') throw new InputError('learningRate', 'a function of the step cannot cross to the worker; give { initial, schedule, warmup } instead');
    this.training = true;
    const { callbacks = {}, signal, checkpoint, validationData, ...settings } = options;
    const fit = this.worker.newId();
    const names = (Object.keys(callbacks) as (keyof FitCallbacks)[]).filter((name) => typeof callbacks[name] === 'function') as CallbackName[];
    if (checkpoint) names.push('checkpoint');
    // Callbacks run one after another, in the order of the events; an error in one stops training and is fit's.
    let queue = Promise.resolve();
    let failed: { error: unknown } | undefined;
    const run = async (data: FitEvent): Promise<void> => {
      switch (data.type) {
        case 'onTrainBegin':
          return callbacks.onTrainBegin?.(data.logs);
        case 'onEpochBegin':
          return callbacks.onEpochBegin?.(data.epoch);
        case 'onEpochEnd':
          return callbacks.onEpochEnd?.(data.epoch, data.logs);
        case 'onTrainEnd':
          return callbacks.onTrainEnd?.(data.history);
        case 'checkpoint':
          return checkpoint?.save(data.checkpoint as Parameters<NonNullable<FitOptions['checkpoint']>['save']>[0]);
        case 'onBatchEnd': {
          const { batch, loss, epoch, step } = data.batches;
          for (let k = 0; k < loss.length; k++) {
            const pending = callbacks.onBatchEnd?.(batch[k], { loss: loss[k], epoch: epoch[k], step: step[k] });
            if (pending) await pending;
          }
        }
      }
    };
    this.worker.onFitEvent(fit, (event, data) => {
      queue = queue.then(async () => {
        if (failed) return this.worker.notify({ kind: 'ack', fit, event, error: errorData(failed.error) });
        try {
          await run(data);
          this.worker.notify({ kind: 'ack', fit, event });
        } catch (error) {
          failed = { error };
          this.worker.notify({ kind: 'abort', fit });
          this.worker.notify({ kind: 'ack', fit, event, error: errorData(error) });
        }
      });
    });
    const stop = () => this.worker.notify({ kind: 'abort', fit });
    signal?.addEventListener('abort', stop);
    try {
      const request: Request = {
        kind: 'fit',
        network: this.id,
        inputs: rowsRef(inputs, this.worker),
        targets: rowsRef(targets, this.worker),
        options: { ...settings, checkpointEvery: checkpoint?.every, validationData: validationData && [rowsRef(validationData[0], this.worker), rowsRef(validationData[1], this.worker)] },
        callbacks: names,
        aborted: signal?.aborted ?? false,
      };
      if (checkpoint && typeof checkpoint.save !== 'function') throw new InputError('checkpoint.save', 'expected a function that writes the checkpoint out');
      let fitted: Fitted;
      try {
        fitted = await this.worker.send<Fitted>(request, [], fit);
      } finally {
        await queue;
      }
      if (failed) throw failed.error;
      this.model = { ...this.model, params: fitted.params };
      return fitted.history;
    } catch (error) {
      if (failed) throw failed.error;
      throw error;
    } finally {
      signal?.removeEventListener('abort', stop);
      this.worker.onFitEvent(fit);
      this.training = false;
    }
  }

  /** Outputs, or a layer's (see Network.predict), computed in the worker. */
  async predict(inputs: WorkerRowsInput, options?: PredictOptions & { layer?: number }): Promise<number[][]>;
  async predict(inputs: WorkerRowsInput, options: PredictOptions & { layer: readonly number[] }): Promise<number[][][]>;
  async predict(inputs: WorkerRowsInput, options: PredictOptions = {}): Promise<number[][] | number[][][]> {
    this.alive();
    const { layers, values } = await this.worker.send<Predicted>({ kind: 'predict', network: this.id, inputs: rowsRef(inputs, this.worker), layer: options.layer });
    const each = values.map((flat, k) => {
      const width = this.spec.layers[layers[k]].units;
      return Array.from({ length: flat.length / width }, (_, r) => Array.from(flat.subarray(r * width, (r + 1) * width)));
    });
    return Array.isArray(options.layer) ? each : each[0];
  }

  /** The mean loss and the metrics asked for (see Network.evaluate), computed in the worker. */
  async evaluate(inputs: WorkerRowsInput, targets: WorkerRowsInput | Labels, options: EvaluateOptions = {}): Promise<Evaluation> {
    this.alive();
    return this.worker.send<Evaluation>({ kind: 'evaluate', network: this.id, inputs: rowsRef(inputs, this.worker), targets: rowsRef(targets, this.worker), metrics: options.metrics });
  }

  /** The model file of the weights as of the end of the last fit (or as made). */
  toJSON(): ModelFile {
    this.alive();
    return modelToJson(this.model);
  }

  /** The parameters as of the end of the last fit (or as made), flat, by the parameter layout (a copy). */
  params(): Float64Array {
    this.alive();
    return this.model.params.slice();
  }

  /** The weights in another engine's format (see Network.export), written in the worker. */
  async export(format: ExportFormat, options: PytorchExportOptions = {}): Promise<Record<string, string | Uint8Array>> {
    this.alive();
    return this.worker.send({ kind: 'export', network: this.id, format, options });
  }

  /** Frees the network in the worker (and ends the worker, where it is the network's own); any later call throws DisposedError. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.worker.onRecover(this.id);
    if (this.ownsWorker) this.worker.terminate();
    else this.worker.send({ kind: 'dispose', network: this.id }).catch(() => {});
  }
}
