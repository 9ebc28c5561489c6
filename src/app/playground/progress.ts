// How far a network has trained, as the worker reports it step by step: the steps, the
// samples (so the epoch), the curves (the batch losses a point a chunk, and each
// measurement's figures), the markers on them, the time spent training, and the rate of
// the last two seconds.

import { addPoint, emptyCurves, type Curves, type Marker } from './measure.ts';

export class Progress {
  /** Steps the network has taken. */
  step = 0;
  /** Samples trained on, over the network's life: the epoch is samples / training rows. */
  samples = 0;
  curves: Curves = emptyCurves();
  markers: Marker[] = [];
  /** The batch losses since the curve's last point, and the first non-finite one among them. */
  private pending = { sum: 0, count: 0, nonFinite: undefined as number | undefined };
  private rate: { time: number; step: number }[] = [];
  private trainingMs = 0;
  private runningSince?: number;

  constructor(
    /** Training rows: what an epoch is. */
    private readonly rows: number,
  ) {}

  get epoch(): number {
    return this.rows > 0 ? this.samples / this.rows : 0;
  }

  /** A step ran, with its batch loss. */
  stepped(step: number, loss: number, batchSize: number): void {
    this.step = step;
    this.samples += batchSize;
    if (Number.isFinite(loss)) {
      this.pending.sum += loss;
      this.pending.count++;
    } else this.pending.nonFinite ??= loss;
  }

  /** A chunk's steps are in: one point on the batch-loss curve (and, where one was not finite, a gap and a marker saying what it was). */
  chunk(): void {
    const { sum, count, nonFinite } = this.pending;
    if (count > 0) addPoint(this.curves.batchLoss, { epoch: this.epoch, value: sum / count });
    if (nonFinite !== undefined) {
      addPoint(this.curves.batchLoss, { epoch: this.epoch, value: NaN });
      this.mark(`loss ${nonFinite} at step ${this.step - 1}`);
    }
    this.pending = { sum: 0, count: 0, nonFinite: undefined };
    const now = performance.now();
    this.rate.push({ time: now, step: this.step });
    while (this.rate.length > 2 && now - this.rate[0].time > 2000) this.rate.shift();
  }

  /** Marks the curves here. */
  mark(label: string): void {
    this.markers.push({ epoch: this.epoch, label });
  }

  /** Training starts (again): the clock runs, and the rate counts from now. */
  clockOn(): void {
    this.rate = [];
    this.runningSince = performance.now();
  }

  /** Training stops: the clock stops. */
  clockOff(): void {
    if (this.runningSince !== undefined) this.trainingMs += performance.now() - this.runningSince;
    this.runningSince = undefined;
  }

  /** Wall time spent training. */
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
}
