// The errors the library throws on purpose, one class per kind, so that a caller can
// catch them: bad input, a limit exceeded, training diverged, the GPU device lost, and a
// network used after `dispose()`. Their messages are single lines; the command line
// prints them as they are, without a stack trace. Each class names itself in a string, so
// `error.name` stays `'InputError'` in a minified build, where class names are mangled.

/** The base class of every error the library throws on purpose. */
export class BackpropError extends Error {
  override name = 'BackpropError';

  constructor(message: string) {
    // One line, whatever the message quotes (a JSON parser's message can hold a newline).
    super(message.replace(/\s*\n\s*/g, ' '));
  }
}

/** Bad input: a model file, a data file, an option, an argument. Names where, and what was expected. */
export class InputError extends BackpropError {
  override name = 'InputError';

  constructor(
    /** Where: a file, a field path such as `layers[1].weights[0]`, an option, or a line. */
    readonly where: string,
    /** What was expected, and what was found. */
    readonly problem: string,
  ) {
    super(`${where}: ${problem}`);
  }

  /** The same error, located inside `file`. */
  inFile(file: string): InputError {
    return new InputError(this.where ? `${file}: ${this.where}` : file, this.problem);
  }
}

/**
 * Input within the rules but beyond a limit: a network or batch larger than the GPU
 * adapter can hold, or a file larger than the library reads. `limit` names the limit
 * (`maxStorageBufferBindingSize`, `MODEL_LIMITS.params`, …).
 */
export class LimitError extends InputError {
  override name = 'LimitError';

  constructor(
    where: string,
    problem: string,
    /** The limit that was exceeded. */
    readonly limit: string,
  ) {
    super(where, problem);
  }

  override inFile(file: string): LimitError {
    return new LimitError(this.where ? `${file}: ${this.where}` : file, this.problem, this.limit);
  }
}

/**
 * Training produced a value float32 cannot hold (NaN, ±Infinity, or beyond its range); the
 * message says where it first appeared. Training is rolled back to its last finite weights
 * and optimizer state, those before step `stepsKept` (see the message).
 */
export class DivergedError extends BackpropError {
  override name = 'DivergedError';

  constructor(
    message: string,
    /** The step (counted from 0) whose values were first non-finite, where known. */
    readonly step?: number,
    /** The value in words, e.g. `layer0.net[sample 3, unit 1]`, where known. */
    readonly location?: string,
    /** The steps the weights training was rolled back to had taken (counted over the network's life): they are the weights before step `stepsKept`. */
    readonly stepsKept?: number,
  ) {
    super(message);
  }
}

/** The GPU device went away (driver reset, tab in the background, device.destroy()). */
export class DeviceLostError extends BackpropError {
  override name = 'DeviceLostError';

  constructor(readonly reason: string) {
    super(`the GPU device was lost (${reason})`);
  }
}

/** A network or trainer used after `dispose()` (or `destroy()`). */
export class DisposedError extends BackpropError {
  override name = 'DisposedError';

  constructor(what: string) {
    super(`this ${what} has been disposed; create a new one`);
  }
}

/** WebGPU was asked for where there is none: no `navigator.gpu`, no Dawn, or no adapter. */
export class WebGpuUnavailableError extends BackpropError {
  override name = 'WebGpuUnavailableError';
}

/** `String(value)` for a message, also for a value whose conversion throws (an object with a broken toString). */
export function asText(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
