// What a benchmark waits for while WebGPU (and WebAssembly) compile: each compile timed
// from its call to the end of the promise it returned. bench/compile.ts and bench/job.ts
// time Dawn's createComputePipelineAsync this way, hooked as soon as Dawn's bindings
// install the GPUDevice global, before anything can compile.
//
// A compile's own time runs from when it was asked for, or from the end of the compile
// before it, to its end: compiles overlap, and the sum of own times is the time spent
// waiting for compiles.

export interface Compile {
  label: string;
  asked: number;
  done: number;
}

export class CompileTimes {
  /** The compiles done since the last clear(), in the order they ended. */
  readonly done: Compile[] = [];
  private pending: Promise<unknown>[] = [];

  /** `now`: the clock compiles are timed on (ms). */
  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Times every call of owner[name], a method that returns a promise; a compile that fails is not counted. */
  time<T extends object>(owner: T, name: keyof T & string, label: (args: unknown[]) => string): void {
    const original = owner[name] as (...args: unknown[]) => Promise<unknown>;
    const done = this.done;
    const pending = () => this.pending;
    const now = this.now;
    (owner as Record<string, unknown>)[name] = function (this: unknown, ...args: unknown[]) {
      const asked = now();
      const result = original.apply(this, args);
      pending().push(result.then(() => void done.push({ label: label(args), asked, done: now() }), () => {}));
      return result;
    };
  }

  /** Times Dawn's pipeline compiles, from when its bindings install GPUDevice (they assign the GPU* globals). */
  timePipelines(): void {
    let device: typeof GPUDevice | undefined;
    Object.defineProperty(globalThis, 'GPUDevice', {
      configurable: true,
      get: () => device,
      set: (value: typeof GPUDevice) => {
        device = value;
        this.time(value.prototype, 'createComputePipelineAsync', ([descriptor]) => (descriptor as GPUComputePipelineDescriptor).label ?? 'pipeline');
      },
    });
  }

  /** Once every compile asked for so far has ended. */
  async settled(): Promise<void> {
    await Promise.all(this.pending);
  }

  /** Forgets the compiles so far. */
  clear(): void {
    this.done.length = 0;
    this.pending = [];
  }

  /** Each compile's own time, the first counted from `start` at the earliest. */
  ownTimes(start: number): { label: string; ms: number }[] {
    let previous = start;
    return [...this.done]
      .sort((a, b) => a.done - b.done)
      .map((c) => {
        const ms = c.done - Math.max(c.asked, previous);
        previous = c.done;
        return { label: c.label, ms };
      });
  }
}
