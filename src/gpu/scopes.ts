// WebGPU reports a failed allocation or a bad call not by throwing but through error
// scopes (or, outside any scope, an uncaptured-error event): an out-of-memory buffer is
// simply invalid, and work that uses it does nothing, leaving zeros behind. Every
// allocation and submission of the trainers and the predictor runs inside scopes, so that
// such an error is an exception at once: LimitError for memory, naming what was being
// allocated, BackpropError for the rest.
//
// Scopes are a stack on the device, and popping one is asynchronous: the work between
// push and pop is synchronous, so that work of another caller interleaved at an `await`
// can never land in this caller's scope.

import { BackpropError, LimitError } from '../errors.ts';

/** What `scoped` reports an out-of-memory error against: the buffers it allocated, by label. */
export interface Allocations {
  /** Each buffer's label and size in bytes, as it was created. */
  readonly buffers: Map<string, number>;
  /** A buffer created here, its size noted for the message. */
  buffer(device: GPUDevice, descriptor: GPUBufferDescriptor & { label: string }): GPUBuffer;
}

/** A log of the buffers a piece of work creates. */
export function allocations(): Allocations {
  const buffers = new Map<string, number>();
  return {
    buffers,
    buffer(device, descriptor) {
      buffers.set(descriptor.label, (buffers.get(descriptor.label) ?? 0) + descriptor.size);
      return device.createBuffer(descriptor);
    },
  };
}

/** The errors of synchronous WebGPU work, awaited: out of memory, and validation. */
export interface ScopeErrors {
  memory: GPUError | null;
  validation: GPUError | null;
}

/** Pushes the scopes, runs `work` (synchronous), pops them: the work's result, and the errors to await. */
export function inScopes<T>(device: GPUDevice, work: () => T): { result: T; errors: Promise<ScopeErrors> } {
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('validation');
  let outcome: { result: T } | { thrown: unknown };
  try {
    outcome = { result: work() };
  } catch (thrown) {
    outcome = { thrown };
  }
  const validation = device.popErrorScope();
  const memory = device.popErrorScope();
  const errors = Promise.all([memory, validation]).then(([m, v]) => ({ memory: m, validation: v }));
  if ('thrown' in outcome) {
    errors.catch(() => {});
    throw outcome.thrown;
  }
  return { result: outcome.result, errors };
}

/** The first line of a WebGPU error's message (Dawn's go on with a call trace). */
function firstLine(error: GPUError): string {
  return error.message.split('\n')[0].trim();
}

/**
 * Throws what the scopes caught: LimitError for an out-of-memory error, naming the buffer
 * Dawn names (with its size, from `log`) or else `what`; BackpropError for a validation
 * error. `what` says what was being done (`allocating the trainer's buffers for a batch of 64`).
 */
export function throwScopeErrors(errors: ScopeErrors, what: string, log?: Allocations): void {
  if (errors.memory) {
    const label = /BufferDescriptor "+([^"]+)"/.exec(errors.memory.message)?.[1]; // Dawn quotes it twice
    const bytes = label === undefined ? undefined : log?.buffers.get(label);
    const buffer = label === undefined ? '' : ` (buffer ${label}${bytes === undefined ? '' : `, ${bytes} bytes`})`;
    throw new LimitError(what, `the GPU ran out of memory${buffer}: ${firstLine(errors.memory)}`, 'GPU memory');
  }
  if (errors.validation) throw new BackpropError(`WebGPU error ${what}: ${firstLine(errors.validation)}`);
}

/**
 * Runs synchronous WebGPU work inside error scopes and waits for their verdict: its result,
 * or the error (see throwScopeErrors), after `release` has freed what the work made.
 */
export async function scoped<T>(device: GPUDevice, what: string, work: (log: Allocations) => T, release?: (result: T) => void): Promise<T> {
  const log = allocations();
  const { result, errors } = inScopes(device, () => work(log));
  const caught = await errors;
  if (caught.memory || caught.validation) {
    release?.(result);
    throwScopeErrors(caught, what, log);
  }
  return result;
}
