// The one error type for bad input: a model file, a data file, a flag, a network the
// adapter cannot hold. Its message is a single line naming where the problem is and
// what was expected; the command line prints it as is, without a stack trace.

export class InputError extends Error {
  constructor(
    /** Where: a file, a field path such as `layers[1].weights[0]`, a flag, or a line. */
    readonly where: string,
    /** What was expected, and what was found. */
    readonly problem: string,
  ) {
    // One line, whatever the problem quotes (a JSON parser's message can hold a newline).
    super(`${where}: ${problem}`.replace(/\s*\n\s*/g, ' '));
    this.name = 'InputError';
  }

  /** The same error, located inside `file`. */
  inFile(file: string): InputError {
    return new InputError(this.where ? `${file}: ${this.where}` : file, this.problem);
  }
}

/** The GPU device went away (driver reset, tab in the background, device.destroy()). */
export class DeviceLostError extends Error {
  constructor(readonly reason: string) {
    super(`the GPU device was lost (${reason})`);
    this.name = 'DeviceLostError';
  }
}

/** Training produced a non-finite value; the message says where it first appeared. */
export class DivergedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DivergedError';
  }
}
