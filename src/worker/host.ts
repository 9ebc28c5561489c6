// The worker's side: networks made, trained and asked on behalf of a page (client.ts),
// each a `Network` of this thread, on whatever backend its options choose (WebGPU, the
// float64 reference, any other the library gains): the worker adds no policy of its own.
// A fit's callbacks go back as events; the batch losses of a chunk in one message, with
// training at most one chunk ahead of the page's handling of them.

import type { Labels } from '../data/labels.ts';
import type { Rows } from '../data/validate.ts';
import { BackpropError, InputError } from '../errors.ts';
import { nextTask } from '../gpu/pacing.ts';
import { importFormat } from '../interop/formats.ts';
import { Network } from '../network.ts';
import type { NetworkOptions } from '../network-options.ts';
import type { BatchLogs, FitCallbacks, FitOptions } from '../train/fit-options.ts';
import { buffersOf, errorData, errorFrom, type Batches, type CallbackName, type FitEvent, type FitSettings, type NetworkSettings, type Notice, type Opened, type Reply, type Request, type RowsRef, type WorkerEndpoint } from './protocol.ts';

/** A fit in progress: its stop, and the acknowledgements it waits for. */
interface RunningFit {
  abort: AbortController;
  waiting: Map<number, (error?: Error) => void>;
}

/**
 * Serves networks to a page over `endpoint` (in a worker: `serveNetworks(self)`). The
 * worker script the library ships does just this; a worker of your own may too, beside
 * its other work.
 */
export function serveNetworks(endpoint: WorkerEndpoint): void {
  const networks = new Map<number, Network>();
  const uploaded = new Map<number, Rows>();
  const fits = new Map<number, RunningFit>();
  const post = (message: Reply, transfer: Transferable[] = []) => endpoint.postMessage(message, transfer);

  // Targets may be class ids; inputs are rows, which Network checks as it takes them.
  const targets = (ref: RowsRef): Rows | Labels => ('values' in ref ? ref.values : rows(ref));
  const rows = (ref: RowsRef): Rows => {
    if ('values' in ref) return ref.values as Rows;
    const found = uploaded.get(ref.uploaded);
    if (!found) throw new InputError('rows', 'these uploaded rows have been released');
    return found;
  };
  const network = (id: number): Network => {
    const found = networks.get(id);
    if (!found) throw new BackpropError('this network has been disposed, or was never made');
    return found;
  };
  const options = (id: number, settings: NetworkSettings): NetworkOptions => ({
    ...(settings as NetworkOptions),
    onRecover: (message) => post({ kind: 'recover', network: id, message }),
  });
  const opened = (id: number, made: Network): [Opened, Transferable[]] => {
    networks.set(id, made);
    const params = made.params();
    return [{ spec: made.spec, inputScaling: made.inputScaling, classes: made.classes, backend: made.backend, backendReason: made.backendReason, adapter: made.adapter, params }, [params.buffer]];
  };

  const answer = async (id: number, request: Request): Promise<[unknown, Transferable[]]> => {
    switch (request.kind) {
      case 'create':
        return opened(request.network, await Network.create(request.description, options(request.network, request.options)));
      case 'fromJSON':
        return opened(request.network, await Network.fromJSON(request.json, options(request.network, request.options)));
      case 'import':
        return opened(request.network, await Network.import(request.bytes, request.format, options(request.network, request.options) as NetworkOptions));
      case 'weightPaths': {
        const data = typeof request.bytes === 'string' ? new TextEncoder().encode(request.bytes) : request.bytes;
        if (importFormat(request.source, data) !== 'tfjs') return [[], []];
        const { tfjsWeightPaths } = await import('../interop/tfjs.ts');
        return [tfjsWeightPaths(new TextDecoder().decode(data), request.source), []];
      }
      case 'upload':
        uploaded.set(request.rows, request.values);
        return [undefined, []];
      case 'release':
        uploaded.delete(request.rows);
        return [undefined, []];
      case 'fit':
        return fit(id, request);
      case 'predict': {
        const target = network(request.network);
        const L = target.spec.layers.length;
        const layers = request.layer === undefined ? [L - 1] : Array.isArray(request.layer) ? request.layer : [request.layer];
        const outputs = await target.predict(rows(request.inputs), { layer: layers.map((l) => (l < 0 ? L + l : l)) });
        const values = outputs.map((layer) => Float64Array.from(layer.flat()));
        return [{ layers: layers.map((l) => (l < 0 ? L + l : l)), values }, buffersOf(...values)];
      }
      case 'evaluate':
        return [await network(request.network).evaluate(rows(request.inputs), targets(request.targets), { metrics: request.metrics }), []];
      case 'export': {
        const files = await network(request.network).export(request.format, request.options);
        return [files, buffersOf(...Object.values(files).filter((f): f is Uint8Array => typeof f !== 'string'))];
      }
      case 'dispose':
        networks.get(request.network)?.dispose();
        networks.delete(request.network);
        return [undefined, []];
    }
  };

  /** Trains, calling back the callbacks the page has; replies with the history and the new weights. */
  const fit = async (id: number, request: Extract<Request, { kind: 'fit' }>): Promise<[unknown, Transferable[]]> => {
    const target = network(request.network);
    const running: RunningFit = { abort: new AbortController(), waiting: new Map() };
    if (request.aborted) running.abort.abort();
    fits.set(id, running);
    let event = 0;
    const has = new Set(request.callbacks);
    // Sends an event; `awaited`: resolves when the page has handled it.
    const send = (data: FitEvent, transfer: Transferable[] = [], awaited = true): Promise<void> => {
      const n = event++;
      const handled = new Promise<void>((resolve, reject) => running.waiting.set(n, (error) => (error ? reject(error) : resolve())));
      post({ kind: 'event', fit: id, event: n, data }, transfer);
      return awaited ? handled : (handled.catch(() => {}), handled);
    };
    // The steps of a chunk go in one message, sent once fit has called onBatchEnd for all of them.
    let batches: BatchLogs[] & { batch?: number[] } = [];
    let inFlight: Promise<void> | undefined;
    const flush = () => {
      if (batches.length === 0) return;
      const column = (pick: (k: number) => number) => Float64Array.from(batches, (_, k) => pick(k));
      const numbers = batches.batch!;
      const data: Batches = { batch: column((k) => numbers[k]), loss: column((k) => batches[k].loss), epoch: column((k) => batches[k].epoch), step: column((k) => batches[k].step) };
      batches = [];
      inFlight = send({ type: 'onBatchEnd', batches: data }, buffersOf(data.batch, data.loss, data.epoch, data.step), false);
    };
    const awaited = (data: FitEvent) => {
      flush();
      return send(data);
    };
    const callbacks: FitCallbacks = {};
    if (has.has('onTrainBegin')) callbacks.onTrainBegin = (logs) => awaited({ type: 'onTrainBegin', logs });
    if (has.has('onEpochBegin')) callbacks.onEpochBegin = (epoch) => awaited({ type: 'onEpochBegin', epoch });
    if (has.has('onEpochEnd')) callbacks.onEpochEnd = (epoch, logs) => awaited({ type: 'onEpochEnd', epoch, logs });
    if (has.has('onTrainEnd')) callbacks.onTrainEnd = (history) => awaited({ type: 'onTrainEnd', history });
    if (has.has('onBatchEnd')) {
      callbacks.onBatchEnd = (batch, logs) => {
        const first = batches.length === 0;
        if (first) batches.batch = [];
        batches.push(logs);
        batches.batch!.push(batch);
        if (!first) return undefined;
        // One message for the chunk, once fit has called back for all of it (it awaits nothing
        // meanwhile, and yields a task between chunks); training runs at most one chunk ahead of the page.
        const behind = inFlight;
        inFlight = undefined;
        if (!behind) return void nextTask().then(flush);
        return behind.then(() => void nextTask().then(flush));
      };
    }
    const { checkpointEvery, validationData, ...settings } = request.options as FitSettings;
    const fitOptions: FitOptions = { ...settings, callbacks, signal: running.abort.signal };
    if (validationData) fitOptions.validationData = [rows(validationData[0]), rows(validationData[1])];
    if (checkpointEvery !== undefined) fitOptions.checkpoint = { every: checkpointEvery, save: (checkpoint) => awaited({ type: 'checkpoint', checkpoint }) };
    try {
      const history = await target.fit(rows(request.inputs), targets(request.targets), fitOptions);
      flush();
      const params = target.params();
      return [{ history, params }, [params.buffer]];
    } finally {
      flush();
      fits.delete(id);
    }
  };

  const notice = (message: Notice) => {
    const running = fits.get(message.fit);
    if (!running) return;
    if (message.kind === 'abort') running.abort.abort();
    else {
      running.waiting.get(message.event)?.(message.error && errorFrom(message.error));
      running.waiting.delete(message.event);
    }
  };

  endpoint.addEventListener('message', (event: MessageEvent) => {
    const message = event.data as (Request & { id: number }) | Notice;
    if (message.kind === 'abort' || message.kind === 'ack') return notice(message);
    answer(message.id, message).then(
      ([value, transfer]) => post({ kind: 'reply', id: message.id, ok: true, value }, transfer),
      (error: unknown) => post({ kind: 'reply', id: message.id, ok: false, error: errorData(error) }),
    );
  });
  endpoint.start?.();
}

export type { CallbackName };
