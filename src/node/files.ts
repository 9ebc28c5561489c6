// Reading inputs and writing outputs for the command line. Outputs are written to a
// temporary file beside the target and renamed over it, so a reader never sees half a
// file and a failed run leaves the old one as it was.

import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { InputError } from '../errors.ts';

export function readText(path: string, what: string, maxBytes: number): string {
  let size: number;
  try {
    const stats = statSync(path);
    if (!stats.isFile()) throw new InputError(path, `expected a ${what}, found a directory or device`);
    size = stats.size;
  } catch (error) {
    if (error instanceof InputError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(path, code === 'ENOENT' ? `no such ${what}` : `cannot read the ${what} (${code})`);
  }
  if (size > maxBytes) throw new InputError(path, `the ${what} is ${size} bytes; at most ${maxBytes} are read`);
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new InputError(path, `cannot read the ${what} (${(error as NodeJS.ErrnoException).code})`);
  }
}

/** Writes `text` to `path` atomically: temporary file, fsync, rename. */
export function writeAtomically(path: string, text: string): void {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    const fd = openSync(temporary, 'w');
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(path, `cannot write the file (${code ?? (error as Error).message})`);
  }
}
