// The errors the library throws on purpose, one class per kind, so that a caller can
// catch them: bad input, a limit exceeded, training diverged, the GPU device lost, and a
// network used after `dispose()`. Their messages are single lines; the command line
// prints them as they are, without a stack trace. Each class names itself in a string, so
// `error.name` stays `'InputError'` in a minified build, where class names are mangled.

/** The base class of every error the library throws on purpose. */
export class BackpropError extends Error {
  override name = 'BackpropError';

  constructor(message: string) {
    // One line, whatever the message quotes (a JSON parser's message can hold a newline),
    // and of bounded length, whatever value it shows.
    super(bounded(message.replace(/\s*\n\s*/g, ' ')));
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

/** The most characters of a value a message shows. */
const SHOWN = 80;
/** The longest message: a value the message shows in full cannot make it longer. */
const MESSAGE_MAX = 2000;

/** `text`, cut to `SHOWN` characters where longer, saying how long it was. */
function shortened(text: string): string {
  return text.length > SHOWN ? `${text.slice(0, SHOWN)}… (${text.length} characters)` : text;
}

/** A message with each overlong run of non-space characters shortened, and cut at MESSAGE_MAX. */
function bounded(message: string): string {
  const words = message.length > SHOWN ? message.replace(/\S{200,}/g, (word) => shortened(word)) : message;
  return words.length > MESSAGE_MAX ? `${words.slice(0, MESSAGE_MAX)}…` : words;
}

/**
 * A value for a message, in a few words, whatever it is: an array or an object is named,
 * never spelled out (a row of a million values, or one nested a million deep, would make
 * a message of megabytes, or overflow the stack); text is shortened; a value whose
 * conversion to text throws (a broken toString) is named by its type.
 */
export function asText(value: unknown): string {
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'function') return 'a function';
  if (ArrayBuffer.isView(value)) return `a ${Object.prototype.toString.call(value).slice(8, -1)}`;
  if (typeof value === 'object' && value !== null) return Object.prototype.toString.call(value) === '[object Object]' ? 'an object' : Object.prototype.toString.call(value);
  try {
    return shortened(String(value));
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** A value as a message quotes it: text in quotes (shortened), anything else as asText gives it. */
export function quoted(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(shortened(value)) : asText(value);
}
