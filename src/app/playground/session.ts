// A playground session: the settings, the data, the network they describe, and its
// training in a Worker (webgpu-backprop/worker), so the page never waits on it. It lives
// beyond the page, so a network keeps its training when the reader looks at another page
// and comes back.
//
// Every network is built from the settings of the moment: a change of data or
// architecture builds a new one at once (disposing the old), a change of learning rate or
// its schedule, batch size, optimizer or weight decay applies to the running network from
// its next step (marked on the curves), and a setting that cannot be applied leaves no network at all. So training
// never resumes a network the settings no longer describe.

import { InputError, type ModelFile } from 'webgpu-backprop';
import { NetworkWorker, type WorkerNetwork, type WorkerNetworkOptions } from 'webgpu-backprop/worker';
import { DEFAULTS, learningRateOption, LIVE_SETTINGS, needsNewNetwork, SETTING_WORDS, type PlaygroundConfig } from './config.ts';
import { csvNotReady, describeModel, outputChoice, type CsvFile, type PreparedData } from './data.ts';
import { checkModelFits, configOfModel } from './model-files.ts';
import { measureNetwork, recordMeasurement, type Measurement } from './measure.ts';
import { Progress } from './progress.ts';
import { prepareHeld, releaseRows, type HeldRows } from './rows.ts';
import { fitAndMeasure, STEPS_PER_FIT } from './training.ts';
import { describeFailure } from './failures.ts';

export type Phase = 'idle' | 'loading' | 'ready' | 'training' | 'failed';

/** Measurements come at least MIN and at most MAX apart, and (between the two) take a fifth of the time. */
const MIN_MEASURE_MS = 250;
const MAX_MEASURE_MS = 1000;

export class PlaygroundSession {
  config: PlaygroundConfig = { ...DEFAULTS };
  phase: Phase = 'idle';
  /** Why there is no network (a setting, a file, the data), or why training stopped. */
  error = '';
  /** Something worth knowing that is no error: a recovered device, a setting applied mid-run. */
  notice = '';
  /** What was wrong with the link's settings: shown until the settings change. */
  linkProblems = '';
  loading?: { label: string; fraction: number };
  data?: PreparedData;
  network?: WorkerNetwork;
  /** The model file the network was loaded from, where it was. */
  loadedFrom?: string;
  csv?: CsvFile;
  /** How far the network has trained, as the worker reports it. */
  progress = new Progress(0);
  last?: Measurement;
  /** Step once or ten times in progress. */
  stepping = false;
  /** Pause asked for: the steps in flight end, then the last measurement. */
  pausing = false;

  private worker?: NetworkWorker;
  private rows?: HeldRows;
  private generation = 0;
  private loop?: Promise<void>;
  private fitAbort?: AbortController;
  private listeners = new Set<() => void>();
  private measureEvery = MIN_MEASURE_MS;
  /** Operations that replace or measure the network run one after another. */
  private queue: Promise<void> = Promise.resolve();
  /** A setting that cannot be applied: nothing trains until it is fixed. */
  private blockedBy?: string;

  /** Calls `listener` after every change; returns the function that stops it. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }

  /** Steps the network has taken (as the worker reports them). */
  get step(): number {
    return this.progress.step;
  }

  get epoch(): number {
    return this.progress.epoch;
  }

  /** The worker the session's networks train in, started on first use. */
  private get networks(): NetworkWorker {
    return (this.worker ??= NetworkWorker.start());
  }

  /** Runs `work` once every operation before it is done; its failure is the caller's. */
  private serial<T>(work: () => Promise<T>): Promise<T> {
    const result = this.queue.then(work);
    this.queue = result.then(() => {}, () => {}); // prettier-ignore
    return result;
  }

  /** Takes on new settings: a new network where data or architecture changed, else the new training settings from the next step. */
  apply(next: PlaygroundConfig, csv: CsvFile | undefined = this.csv): Promise<void> {
    return this.serial(() => this.applyNow(next, csv));
  }

  private async applyNow(next: PlaygroundConfig, csv: CsvFile | undefined): Promise<void> {
    const previous = this.config;
    if (this.blockedBy !== undefined) this.error = '';
    this.blockedBy = undefined;
    const rebuild = needsNewNetwork(previous, next) || csv !== this.csv || (!this.network && this.phase !== 'loading');
    this.config = { ...next, layers: [...next.layers], features: [...next.features] };
    this.csv = csv;
    if (rebuild) return this.rebuildNow();
    const changed = LIVE_SETTINGS.filter((key) => previous[key] !== next[key]);
    if (changed.length > 0) {
      const words = changed.map((key) => `${SETTING_WORDS[key]} ${next[key]}`).join(', ');
      this.notice = `${words} from step ${this.step}.`;
      this.progress.mark(words);
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
        this.setData(undefined);
      }
      this.blockedBy = message;
      this.error = message;
      this.phase = this.network ? 'ready' : 'failed';
      this.changed();
    });
  }

  /** Whether Train may start: a network, ready, and no setting refused. */
  get canTrain(): boolean {
    return this.phase === 'ready' && this.network !== undefined && this.blockedBy === undefined && !this.stepping && !this.pausing;
  }

  /** Drops the network, its figures and the curves. */
  private discard(): void {
    this.generation++;
    this.network?.dispose();
    this.network = undefined;
    this.loadedFrom = undefined;
    this.last = undefined;
    this.progress = new Progress(this.data?.train.size ?? 0);
  }

  /** The data in hand, and the rows of it the worker holds. */
  private setData(data: PreparedData | undefined, rows?: HeldRows): void {
    if (this.rows) releaseRows(this.rows);
    this.data = data;
    this.rows = rows;
    this.progress = new Progress(data?.train.size ?? 0);
  }

  /** A new network from the settings, on freshly prepared data; on failure, no network and no figures. */
  rebuild(): Promise<void> {
    return this.serial(() => this.rebuildNow());
  }

  /** A new network from these settings, whatever changed. */
  reset(config: PlaygroundConfig): Promise<void> {
    return this.serial(() => {
      this.config = { ...config, layers: [...config.layers], features: [...config.features] };
      this.blockedBy = undefined;
      return this.rebuildNow();
    });
  }

  /** Shows a problem that changes nothing (a model file that could not be loaded). */
  report(message: string): void {
    this.error = message;
    this.changed();
  }

  /** Shows what was wrong with a link's settings, until they next change. */
  reportLink(message: string): void {
    this.linkProblems = message;
    this.changed();
  }

  private async rebuildNow(): Promise<void> {
    await this.stop();
    this.discard();
    const generation = this.generation;
    this.error = '';
    this.notice = '';
    this.setData(undefined);
    this.phase = 'loading';
    this.loading = { label: 'Preparing the data', fraction: 0 };
    this.changed();
    try {
      const notReady = csvNotReady(this.config, this.csv);
      if (notReady) {
        this.phase = 'idle';
        this.loading = undefined;
        this.error = notReady;
        this.changed();
        return;
      }
      const { data, rows } = await prepareHeld(this.networks, this.config, this.csv, (label, fraction) => {
        if (generation !== this.generation) return;
        this.loading = { label, fraction };
        this.changed();
      });
      if (generation !== this.generation) return releaseRows(rows);
      this.setData(data, rows);
      await this.start(describeModel(this.config, data), generation);
    } catch (error) {
      if (generation !== this.generation) return;
      this.error = describeFailure(error, this.config, this.data, this.csv, this.rows?.measuredRows);
      this.discard();
      this.setData(undefined);
      this.phase = 'failed';
      this.loading = undefined;
      this.changed();
    }
  }

  /** How the session's networks are made: in its worker, saying so when a lost device is replaced. */
  get networkOptions(): WorkerNetworkOptions {
    return {
      worker: this.networks,
      backend: this.config.backend,
      onRecover: (message) => {
        this.notice = `${message[0].toUpperCase()}${message.slice(1)}.`;
        this.changed();
      },
    };
  }

  /** Builds the network of a description and measures it. */
  private async start(description: ModelFile, generation: number): Promise<void> {
    const { worker, ...options } = this.networkOptions;
    const network = await worker!.create(description, options);
    if (generation !== this.generation) return network.dispose();
    this.network = network;
    this.loading = undefined;
    await this.measure(generation);
    if (generation !== this.generation) return;
    this.phase = 'ready';
    this.changed();
  }

  /** The training settings of the moment, as fit's options. */
  private fitOptions() {
    const { optimizer, weightDecay, seed } = this.config;
    return { batchSize: Math.min(this.config.batchSize, this.data!.train.size), learningRate: learningRateOption(this.config), optimizer, weightDecay, seed, shuffle: true };
  }

  /** What a run reports, onto the network's progress. */
  private listener(generation: number, batchSize: number) {
    return {
      step: (step: number, loss: number) => generation === this.generation && this.progress.stepped(step, loss, batchSize),
      chunk: () => {
        if (generation !== this.generation) return;
        this.progress.chunk();
        this.changed();
      },
    };
  }

  /** Starts training from where the network is. */
  train(): void {
    if (!this.canTrain || !this.data) return;
    this.phase = 'training';
    this.error = '';
    this.progress.clockOn();
    const generation = this.generation;
    this.loop = this.run(generation).catch((error) => this.failed(error, generation));
    this.changed();
  }

  /** Runs `steps` steps (Step and Step 10), then measures. */
  stepBy(steps: number): Promise<void> {
    return this.serial(async () => {
      if (!this.canTrain || !this.data) return;
      const generation = this.generation;
      this.stepping = true;
      this.changed();
      try {
        const options = this.fitOptions();
        await fitAndMeasure(this.network!, this.rows!.all, { ...options, steps }, this.listener(generation, options.batchSize));
        await this.measure(generation);
      } catch (error) {
        this.failed(error, generation);
      } finally {
        this.stepping = false;
        this.changed();
      }
    });
  }

  /** Training stopped by an error: a divergence keeps its curves (the collapse is the point), nothing else trains on. */
  private failed(error: unknown, generation: number): void {
    if (generation !== this.generation) return;
    this.progress.clockOff();
    this.phase = 'failed';
    const message = describeFailure(error, this.config, this.data, this.csv, this.rows?.measuredRows);
    this.error = `${message}. Reset to start again${/diverged/.test(message) ? ' (a smaller learning rate may help)' : ''}.`;
    this.changed();
  }

  /** Stops training at the end of the steps in flight, then measures the network as it stands. */
  pause(): Promise<void> {
    return this.serial(async () => {
      if (this.phase !== 'training') return;
      // Done once the figures are of the last step: from then on nothing changes them.
      this.pausing = true;
      this.changed();
      try {
        await this.stop();
        await this.measure(this.generation);
      } finally {
        this.pausing = false;
        this.changed();
      }
    });
  }

  /** Ends the training loop, if any, and waits for it. */
  private async stop(): Promise<void> {
    const loop = this.loop;
    if (this.phase === 'training') this.phase = 'ready';
    this.fitAbort?.abort();
    this.loop = undefined;
    await loop;
    this.progress.clockOff();
  }

  /** One `fit` after another (a live setting's change ends one), measuring as they go. */
  private async run(generation: number): Promise<void> {
    const live = () => generation === this.generation && this.phase === 'training';
    while (live()) {
      const abort = new AbortController();
      this.fitAbort = abort;
      const options = this.fitOptions();
      await fitAndMeasure(this.network!, this.rows!.all, { ...options, steps: STEPS_PER_FIT, signal: abort.signal }, this.listener(generation, options.batchSize), {
        every: () => this.measureEvery,
        run: () => (live() ? this.measure(generation) : Promise.resolve()),
      });
    }
  }

  /** Loss and metrics on (a fixed part of) the training rows and on the test rows, and the outputs the panels draw. */
  private async measure(generation: number): Promise<void> {
    const network = this.network;
    const data = this.data;
    if (!network || !data || !this.rows) return;
    const started = performance.now();
    const step = this.step;
    const epoch = this.epoch;
    const { metrics } = outputChoice(this.config, data);
    const measured = await measureNetwork(network, data, this.rows, metrics);
    if (generation !== this.generation) return;
    this.last = { step, epoch, ...measured };
    recordMeasurement(this.progress.curves, this.last, metrics);
    // The first measurement of a network compiles its pipelines: only later ones set the pace.
    if (this.phase === 'training') this.measureEvery = Math.min(MAX_MEASURE_MS, Math.max(MIN_MEASURE_MS, 5 * (performance.now() - started)));
    this.changed();
  }

  /** Takes on a loaded network (see readModel) for the data in hand: same inputs and outputs, or a message saying what differs. */
  loadModel(name: string, network: WorkerNetwork): Promise<void> {
    return this.serial(() => this.loadModelNow(name, network)).catch((error: unknown) => {
      if (network !== this.network) network.dispose();
      throw error;
    });
  }

  private async loadModelNow(name: string, network: WorkerNetwork): Promise<void> {
    if (!this.data) throw new InputError(name, 'choose the data first: a model file is loaded for the data in hand');
    checkModelFits(name, network.spec, this.data);
    await this.stop();
    const [data, rows] = [this.data, this.rows];
    this.rows = undefined;
    this.discard();
    const generation = this.generation;
    this.setData(data, rows);
    this.config = configOfModel(this.config, network.spec, data);
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
