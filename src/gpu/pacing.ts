// Waiting for the GPU without asking too early. Dawn's Node bindings poll for the
// completion of a mapAsync or onSubmittedWorkDone on the main thread, without pause, from
// the moment it is asked for until it settles; where the GPU is the CPU (SwiftShader), that
// polling takes a core away from the very work it waits for. So the trainer first sleeps
// for most of the time the submitted steps are expected to take, from the time per step
// measured so far, and only then asks. (A browser does not poll; there the sleep costs
// nothing, since it ends before the work is expected to.)

/** The part of the expected time to sleep: a little early is cheap, a little late costs latency. */
const SLEEP_FRACTION = 0.85;
/** A wait shorter than this found the work already done: the estimate was too long. */
const ALREADY_DONE_MS = 1;

const now = () => performance.now();
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * One turn of the event loop, so that events the GPU has delivered (a lost device) are
 * seen. Not `setTimeout(…, 0)`: Node makes that a millisecond, which a loop of short `fit`
 * calls pays several times a call. Node has setImmediate; a browser, MessageChannel.
 */
export function nextTask(): Promise<void> {
  if (typeof setImmediate === 'function') return new Promise((resolve) => setImmediate(resolve));
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(undefined);
  });
}

export class Pacer {
  /** Milliseconds per step, as last measured (undefined before the first measurement). */
  private msPerStep: number | undefined;
  /** When the GPU finished the last work waited for. */
  private lastDone = 0;
  /** Waits so far: the first includes the first use of every pipeline, and teaches nothing. */
  private waits = 0;

  /**
   * Waits for work of `steps` steps, submitted from `submittedAt` on: sleeps until shortly
   * before it is expected done, then awaits `done` (which asks the GPU), and learns from
   * how long that took.
   */
  async wait<T>(steps: number, submittedAt: number, done: () => Promise<T>): Promise<T> {
    const start = Math.max(submittedAt, this.lastDone);
    if (this.msPerStep !== undefined) {
      const remaining = start + steps * this.msPerStep - now();
      if (remaining > 2) await sleep(SLEEP_FRACTION * remaining);
    }
    const asked = now();
    const result = await done();
    const finished = now();
    if (this.waits++ === 0) {
      // The first work waited for: nothing learnt.
    } else if (finished - asked > ALREADY_DONE_MS || this.msPerStep === undefined) {
      // Asked before the work was done: `finished` is when it was.
      this.msPerStep = (finished - start) / Math.max(steps, 1);
    } else {
      // Done before we asked, some time before `asked`: guess well short of that, so that
      // the next wait measures again rather than oversleeps again.
      this.msPerStep = Math.min(this.msPerStep, (asked - start) / Math.max(steps, 1)) / 4;
    }
    this.lastDone = finished;
    return result;
  }
}
