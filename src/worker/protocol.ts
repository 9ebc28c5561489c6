// The messages between a page's NetworkWorker (client.ts) and the worker's serveNetworks
// (host.ts). Requests carry an id and get one reply each; a fit's callbacks come as events
// (the batch losses of a chunk of steps in one message, as a Float64Array), and the page
// acknowledges the ones training waits for. Arrays of numbers travel as typed arrays,
// transferred rather than copied where the sender has no more use for them. Errors travel
// as their class's name and fields, and are rebuilt as the same class on the other side.

import type { Labels } from '../data/labels.ts';
import type { Rows } from '../data/validate.ts';
import { BackpropError, DeviceLostError, DisposedError, DivergedError, InputError, LimitError, WebGpuUnavailableError } from '../errors.ts';
import type { ImportFormat } from '../interop/formats.ts';
import type { PytorchExportOptions } from '../interop/pytorch.ts';
import type { ModelFile } from '../io/model-format.ts';
import type { EpochLogs, FitOptions, History } from '../train/fit-options.ts';
import type { Metric } from '../train/metrics.ts';
import type { AdapterDescription } from '../gpu/device.ts';
import type { ModelSpec } from '../model/model.ts';
import type { InputScaling } from '../data/scaling.ts';
import type { ExportFormat } from '../interop/formats.ts';

/** What carries the messages: a Worker, or either end of a MessageChannel (its `start` is called). */
export interface WorkerEndpoint {
  /** Sends a message to the other side, moving the `transfer` buffers rather than copying them. */
  postMessage(message: unknown, transfer?: Transferable[]): void;
  /** Hears the other side's messages. */
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  /** A MessagePort's: messages flow once it is called. */
  start?(): void;
}

/** Rows in a message: uploaded to the worker before (by id), or sent with it. */
/** Rows (or class ids, as targets) sent with a message, or rows the worker holds. */
export type RowsRef = { uploaded: number } | { values: Rows | Labels };

/** A network's options as they cross to the worker: everything but the functions and the device. */
export interface NetworkSettings {
  backend?: string;
  seed?: number | string;
  path?: string;
  source?: string;
  loss?: string;
  trainBiases?: boolean;
  weights?: Record<string, Uint8Array>;
}

/** The callbacks a fit has, by name: the worker calls back for these only (so a fit without them runs as one without them does). */
export type CallbackName = 'onTrainBegin' | 'onEpochBegin' | 'onBatchEnd' | 'onEpochEnd' | 'onTrainEnd' | 'checkpoint';

/** `fit`'s options without its functions; `checkpointEvery` stands for `checkpoint.every`. */
export type FitSettings = Omit<FitOptions, 'callbacks' | 'signal' | 'checkpoint' | 'validationData'> & { checkpointEvery?: number; validationData?: [RowsRef, RowsRef] };

export type Request =
  | { kind: 'create'; network: number; description: ModelFile; options: NetworkSettings }
  | { kind: 'fromJSON'; network: number; json: string | ModelFile; options: NetworkSettings }
  | { kind: 'import'; network: number; bytes: Uint8Array | string; format: ImportFormat | 'auto'; options: NetworkSettings }
  | { kind: 'weightPaths'; bytes: Uint8Array | string; source: string }
  | { kind: 'upload'; rows: number; values: Rows }
  | { kind: 'release'; rows: number }
  | { kind: 'fit'; network: number; inputs: RowsRef; targets: RowsRef; options: FitSettings; callbacks: CallbackName[]; aborted: boolean }
  | { kind: 'predict'; network: number; inputs: RowsRef; layer?: number | readonly number[] }
  | { kind: 'evaluate'; network: number; inputs: RowsRef; targets: RowsRef; metrics?: readonly Metric[] | undefined }
  | { kind: 'export'; network: number; format: ExportFormat; options: PytorchExportOptions }
  | { kind: 'dispose'; network: number };

/** Messages that get no reply: stopping a fit, and acknowledging an event of one. */
export type Notice = { kind: 'abort'; fit: number } | { kind: 'ack'; fit: number; event: number; error?: ErrorData };

/** What the worker says of a network it has made. */
export interface Opened {
  spec: ModelSpec;
  inputScaling?: InputScaling;
  classes?: readonly string[];
  backend: string;
  backendReason: string;
  adapter?: AdapterDescription;
  params: Float64Array; // (P)
}

export interface Fitted {
  history: History;
  params: Float64Array; // (P)
}

export interface Predicted {
  /** The layers asked for, as indices from 0. */
  layers: number[];
  /** Each one's outputs (N, units_l), flat. */
  values: Float64Array[];
}

/** A chunk's steps, for onBatchEnd: (S) each. */
export interface Batches {
  batch: Float64Array;
  loss: Float64Array;
  epoch: Float64Array;
  step: Float64Array;
}

/** A fit's callback, as a message. `awaited`: training waits for the page's acknowledgement. */
export type FitEvent =
  | { type: 'onTrainBegin'; logs: { step: number; steps: number; done: number } }
  | { type: 'onEpochBegin'; epoch: number }
  | { type: 'onBatchEnd'; batches: Batches }
  | { type: 'onEpochEnd'; epoch: number; logs: EpochLogs }
  | { type: 'onTrainEnd'; history: History }
  | { type: 'checkpoint'; checkpoint: unknown };

/** From the worker: a reply, a fit's event, or a network's recovery from a lost device. */
export type Reply =
  | { kind: 'reply'; id: number; ok: true; value: unknown }
  | { kind: 'reply'; id: number; ok: false; error: ErrorData }
  | { kind: 'event'; fit: number; event: number; data: FitEvent }
  | { kind: 'recover'; network: number; message: string };

/** An error as a message: its class's name and its fields. */
export interface ErrorData {
  name: string;
  message: string;
  where?: string;
  problem?: string;
  limit?: string;
  step?: number;
  location?: string;
  reason?: string;
}

export function errorData(error: unknown): ErrorData {
  if (!(error instanceof Error)) return { name: 'BackpropError', message: String(error) };
  const { where, problem, limit, step, location, reason } = error as Partial<ErrorData>;
  return { name: error.name, message: error.message, where, problem, limit, step, location, reason };
}

/** The error a message describes, as its own class where the library has it (else a BackpropError with its message). */
export function errorFrom(data: ErrorData): BackpropError {
  switch (data.name) {
    case 'InputError':
      return new InputError(data.where ?? '', data.problem ?? data.message);
    case 'LimitError':
      return new LimitError(data.where ?? '', data.problem ?? data.message, data.limit ?? '');
    case 'DivergedError':
      return new DivergedError(data.message, data.step, data.location);
    case 'DeviceLostError':
      return new DeviceLostError(data.reason ?? data.message);
    case 'DisposedError':
      return Object.assign(new DisposedError('network'), { message: data.message });
    case 'WebGpuUnavailableError':
      return new WebGpuUnavailableError(data.message);
    default:
      return new BackpropError(data.message);
  }
}

/** The buffers of typed arrays, to transfer rather than copy. */
export function buffersOf(...arrays: (ArrayBufferView | undefined)[]): Transferable[] {
  return [...new Set(arrays.filter((a): a is ArrayBufferView => a !== undefined).map((a) => a.buffer as ArrayBuffer))];
}
