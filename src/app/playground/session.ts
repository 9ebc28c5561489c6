// A playground session: the settings, the data, the network they describe, and its
// training on WebGPU through the library's Network.fit. It lives beyond the page, so a
// network keeps its training when the reader looks at another page and comes back.
//
// Every network is built from the settings of the moment: a change of data or
// architecture builds a new one at once (disposing the old), a change of learning rate or
// its schedule, batch size, optimizer or weight decay applies to the running network from
// its next step, and a
// setting that cannot be applied leaves no network at all. So training never resumes a
// network the settings no longer describe.

import { InputError, Network, type DeviceKeeper, type ModelFile, type NetworkOptions } from 'webgpu-backprop';
import { DEFAULTS, learningRateOption, LIVE_SETTINGS, needsNewNetwork, type PlaygroundConfig } from './config.ts';
import { describeModel, outputChoice, prepareData, type CsvFile, type PreparedData } from './data.ts';
import { addPoint, emptyCurves, measuredTrainingRows, measureNetwork, recordMeasurement, type Curves, type Measurement } from './measure.ts';

export type Phase = 'idle' | 'loading' | 'ready' | 'training' | 'failed';

/** Steps one `fit` call may run before the loop measures and calls again (bounds fit's per-call buffers). */
const STEPS_PER_FIT = 20_000;
/** Measurements come at least MIN and at most MAX apart, and (between the two) take a sixth of the time. */
const MIN_MEASURE_MS = 250;
const MAX_MEASURE_MS = 3000;
/** The batch-loss curve gets a point this often. */
const BATCH_POINT_MS = 200;

export class PlaygroundSession {
  config: PlaygroundConfig = { ...DEFAULTS };
  phase: Phase = 'idle';
  /** Why there is no network (a setting, a file, the data), or why training stopped. */
  error = '';
  /** Something worth knowing that is no error: a recovered device, a setting applied mid-run. */
  notice = '';
  loading?: { label: string; fraction: number };
  data?: PreparedData;
  network?: Network;
  /** The model file the network was loaded from, where it was. */
  loadedFrom?: string;
  csv?: CsvFile;
  step = 0;
  /** Samples trained on, over the network's life: the epoch is samples / training rows. */
  samples = 0;
  curves: Curves = emptyCurves();
  last?: Measurement;

  private trainingMs = 0;
  private runningSince?: number;
  private rate: { time: number; step: number }[] = [];
  private generation = 0;
  private loop?: Promise<void>;
  private fitAbort?: AbortController;
  private listeners = new Set<() => void>();
  private measureEvery = MIN_MEASURE_MS;
  /** The training rows the training figures are measured on. */
  private trainSample?: PreparedData['train'];
  /** Operations that replace or measure the network run one after another. */
  private queue: Promise<void> = Promise.resolve();
  /** A setting that cannot be applied: nothing trains until it is fixed. */
  private blockedBy?: string;

  constructor(private readonly keeper: DeviceKeeper) {}

  /** Calls `listener` after every change; returns the function that stops it. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }

  get epoch(): number {
    return this.data ? this.samples / this.data.train.size : 0;
  }

  /** Wall time spent training this network. */
  get elapsedMs(): number {
    return this.trainingMs + (this.runningSince === undefined ? 0 : performance.now() - this.runningSince);
  }

  /** Steps per second over the last two seconds of training. */
  get stepsPerSecond(): number {
    const recent = this.rate;
    if (recent.length < 2) return 0;
    const [first, last] = [recent[0], recent[recent.length - 1]];
    return last.time > first.time ? ((last.step - first.step) * 1000) / (last.time - first.time) : 0;
  }

  /** Runs `work` once every operation before it is done; its failure is the caller's. */
  private serial<T>(work: () => Promise<T>): Promise<T> {
    const result = this.queue.then(work);
    this.queue = result.then(
      () => {},
      () => {},
    );
    return result;
  }

  /** Takes on new settings: a new network where data or architecture changed, else the new training settings from the next step. */
  apply(next: PlaygroundConfig, csv: CsvFile | undefined = this.csv): Promise<void> {
    return this.serial(() => this.applyNow(next, csv));
  }

  private async applyNow(next: PlaygroundConfig, csv: CsvFile | undefined): Promise<void> {
    const previous = this.config;
    const wasBlocked = this.blockedBy !== undefined;
    this.blockedBy = undefined;
    if (wasBlocked) this.error = '';
    const rebuild = needsNewNetwork(previous, next) || csv !== this.csv || (!this.network && this.phase !== 'loading');
    this.config = { ...next, layers: [...next.layers] };
    this.csv = csv;
    if (rebuild) return this.rebuildNow();
    const changed = LIVE_SETTINGS.filter((key) => previous[key] !== next[key]);
    if (changed.length > 0) {
      const words = { learningRate: 'learning rate', batchSize: 'batch size', optimizer: 'optimizer', weightDecay: 'weight decay', schedule: 'schedule', warmup: 'warmup' };
      this.notice = `${changed.map((key) => `${words[key]} ${next[key]}`).join(', ')} from step ${this.step}.`;
      // The fit in flight ends at its next chunk; the loop's next fit takes the new settings.
      this.fitAbort?.abort();
    }
    this.changed();
  }

  /** Settings that cannot be applied: training stops, and where they would need a new network, the old one goes. */
  refuse(message: string, needsRebuild: boolean): Promise<void> {
    return this.serial(async () => {
      await this.stop();
      if (needsRebuild) {
        this.discard();
        this.data = undefined;
      }
      this.blockedBy = message;
      this.error = message;
      this.phase = this.network ? 'ready' : 'failed';
      this.changed();
    });
  }

  /** Whether Train may start: a network, ready, and no setting refused. */
  get canTrain(): boolean {
    return this.phase === 'ready' && this.network !== undefined && this.blockedBy === undefined;
  }

  /** Drops the network, the data's figures and the curves. */
  private discard(): void {
    this.generation++;
    this.network?.dispose();
    this.network = undefined;
    this.loadedFrom = undefined;
    this.last = undefined;
    this.curves = emptyCurves();
    this.step = 0;
    this.samples = 0;
    this.trainingMs = 0;
    this.rate = [];
  }

  /** A new network from the settings, on freshly prepared data; on failure, no network and no figures. */
  rebuild(): Promise<void> {
    return this.serial(() => this.rebuildNow());
  }

  /** A new network from these settings, whatever changed. */
  reset(config: PlaygroundConfig): Promise<void> {
    return this.serial(() => {
      this.config = { ...config, layers: [...config.layers] };
      this.blockedBy = undefined;
      return this.rebuildNow();
    });
  }

  /** Shows a problem that changes nothing (a model file that could not be loaded). */
  report(message: string): void {
    this.error = message;
    this.changed();
  }

  private async rebuildNow(): Promise<void> {
    await this.stop();
    this.discard();
    const generation = this.generation;
    this.error = '';
    this.notice = '';
    this.data = undefined;
    this.phase = 'loading';
    this.loading = { label: 'Preparing the data', fraction: 0 };
    this.changed();
    try {
      if (this.config.dataset === 'csv' && (!this.csv || this.config.targets.trim() === '')) {
        this.phase = 'idle';
        this.loading = undefined;
        this.error = this.csv
          ? `Name the target column(s) of ${this.csv.name} (its columns: ${(this.csv.text.split(/\r?\n/, 1)[0] ?? '').split(',').map((c) => c.trim()).join(', ')}).`
          : 'Choose a CSV file with a header row, and name its target column(s).';
        this.changed();
        return;
      }
      const data = await prepareData(this.config, this.csv, (label, fraction) => {
        if (generation !== this.generation) return;
        this.loading = { label, fraction };
        this.changed();
      });
      if (generation !== this.generation) return;
      this.data = data;
      this.trainSample = measuredTrainingRows(data.train);
      await this.start(describeModel(this.config, data), generation);
    } catch (error) {
      if (generation !== this.generation) return;
      this.discard();
      this.data = undefined;
      this.phase = 'failed';
      this.loading = undefined;
      this.error = (error as Error).message;
      this.changed();
    }
  }

  /** How the session's networks are made: on the app's device, saying so when a lost device is replaced. */
  get networkOptions(): NetworkOptions {
    return {
      device: this.keeper,
      onRecover: (message) => {
        this.notice = `${message[0].toUpperCase()}${message.slice(1)}.`;
        this.changed();
      },
    };
  }

  /** Builds the network of a description and measures it. */
  private async start(description: ModelFile, generation: number): Promise<void> {
    const network = await Network.create(description, this.networkOptions);
    if (generation !== this.generation) {
      network.dispose();
      return;
    }
    this.network = network;
    this.loading = undefined;
    await this.measure(generation);
    if (generation !== this.generation) return;
    this.phase = 'ready';
    this.changed();
  }

  /** Starts training from where the network is. */
  train(): void {
    if (!this.canTrain || !this.data) return;
    this.phase = 'training';
    this.error = '';
    this.runningSince = performance.now();
    this.rate = [];
    const generation = this.generation;
    this.loop = this.run(generation).catch((error) => {
      if (generation !== this.generation) return;
      this.pauseClock();
      this.phase = 'failed';
      this.error = `${(error as Error).message}. Reset to start again${/diverged/.test((error as Error).message) ? ' (a smaller learning rate may help)' : ''}.`;
      this.network?.dispose();
      this.network = undefined;
      this.changed();
    });
    this.changed();
  }

  /** Stops training at the end of the steps in flight, then measures the network as it stands. */
  pause(): Promise<void> {
    return this.serial(async () => {
      if (this.phase !== 'training') return;
      await this.stop();
      const generation = this.generation;
      this.phase = 'ready';
      this.changed();
      await this.measure(generation);
      this.changed();
    });
  }

  /** Ends the training loop, if any, and waits for it. */
  private async stop(): Promise<void> {
    const loop = this.loop;
    if (this.phase === 'training') this.phase = 'ready';
    this.fitAbort?.abort();
    this.loop = undefined;
    await loop;
    this.pauseClock();
  }

  private pauseClock(): void {
    if (this.runningSince !== undefined) this.trainingMs += performance.now() - this.runningSince;
    this.runningSince = undefined;
  }

  /** One `fit` after another, each ended by the loop when a measurement is due or a setting changed. */
  private async run(generation: number): Promise<void> {
    const live = () => generation === this.generation && this.phase === 'training';
    let lastMeasure = performance.now();
    let lastPoint = performance.now();
    let sum = 0;
    let count = 0;
    while (live()) {
      const network = this.network!;
      const { train } = this.data!;
      const { optimizer, weightDecay, seed } = this.config;
      const batchSize = Math.min(this.config.batchSize, train.size);
      const epochs = Math.max(1, Math.floor(STEPS_PER_FIT / Math.ceil(train.size / batchSize)));
      const abort = new AbortController();
      this.fitAbort = abort;
      await network.fit(train.inputs, train.targets, {
        epochs,
        batchSize,
        learningRate: learningRateOption(this.config),
        optimizer,
        weightDecay,
        seed,
        shuffle: true,
        signal: abort.signal,
        callbacks: {
          onBatchEnd: (_, logs) => {
            if (!live()) return;
            this.step++;
            this.samples += batchSize;
            sum += logs.loss;
            count++;
            const now = performance.now();
            if (now - lastPoint >= BATCH_POINT_MS) {
              addPoint(this.curves.batchLoss, { epoch: this.epoch, value: sum / count });
              [sum, count, lastPoint] = [0, 0, now];
              this.rate.push({ time: now, step: this.step });
              while (this.rate.length > 2 && now - this.rate[0].time > 2000) this.rate.shift();
              this.changed();
            }
            if (now - lastMeasure >= this.measureEvery) abort.abort();
          },
        },
      });
      if (!live()) return;
      await this.measure(generation);
      lastMeasure = performance.now();
    }
  }

  /** Loss and metrics on (a fixed part of) the training rows and on the test rows, and the test rows' outputs. */
  private async measure(generation: number): Promise<void> {
    const network = this.network;
    const data = this.data;
    if (!network || !data) return;
    const started = performance.now();
    const { metrics } = outputChoice(this.config, data);
    const measured = await measureNetwork(network, data, this.trainSample ?? data.train, metrics);
    if (generation !== this.generation) return;
    this.last = { step: this.step, epoch: this.epoch, ...measured };
    recordMeasurement(this.curves, this.last, metrics);
    // The first measurement of a network compiles its pipelines: only later ones set the pace.
    if (this.phase === 'training') this.measureEvery = Math.min(MAX_MEASURE_MS, Math.max(MIN_MEASURE_MS, 5 * (performance.now() - started)));
    this.changed();
  }

  /** Takes on a loaded network (see readModel) for the data in hand: same inputs and outputs, or a message saying what differs. */
  loadModel(name: string, network: Network): Promise<void> {
    return this.serial(() => this.loadModelNow(name, network)).catch((error: unknown) => {
      if (network !== this.network) network.dispose();
      throw error;
    });
  }

  private async loadModelNow(name: string, network: Network): Promise<void> {
    if (!this.data) throw new InputError(name, 'choose the data first: a model file is loaded for the data in hand');
    const { spec } = network;
    const last = spec.layers[spec.layers.length - 1];
    if (spec.inputSize !== this.data.train.inputSize || last.units !== this.data.train.outputSize) {
      throw new InputError(name, `the model takes ${spec.inputSize} inputs to ${last.units} outputs; this data has ${this.data.train.inputSize} inputs and ${this.data.train.outputSize} outputs`);
    }
    await this.stop();
    const data = this.data;
    this.discard();
    const generation = this.generation;
    this.data = data;
    // The settings follow the loaded network, so that what the page shows is what trains.
    const hidden = spec.layers.slice(0, -1);
    this.config = { ...this.config, layers: hidden.map((layer) => layer.units), activation: hidden[0]?.activation ?? this.config.activation, dropout: hidden[0]?.dropout ?? 0, output: last.activation, loss: spec.loss };
    this.phase = 'loading';
    this.changed();
    this.network = network;
    await this.measure(generation);
    if (generation !== this.generation) return;
    this.loadedFrom = name;
    this.phase = 'ready';
    this.changed();
  }

  /** Leaving the page: training pauses, the network stays. */
  leave(): Promise<void> {
    return this.pause();
  }
}
