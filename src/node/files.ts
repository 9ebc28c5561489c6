// Reading model, data and checkpoint files from disk, and writing outputs atomically: to
// a temporary file beside the target, then renamed over it, so a reader never sees half
// a file and a failed run leaves the old one as it was.

import { closeSync, fsyncSync, openSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';
import { InputError, LimitError } from '../errors.ts';
import { MODEL_LIMITS, parseModelFile } from '../io/model-file.ts';
import type { Model } from '../model/network.ts';

/** A text file, refused with an InputError naming it if it is missing, unreadable or over `maxBytes`. */
export function readTextFile(path: string, what: string, maxBytes: number): string {
  return new TextDecoder().decode(readBinaryFile(path, what, maxBytes));
}

/** A file's bytes, refused with an InputError naming it if it is missing, unreadable or over `maxBytes`. */
export function readBinaryFile(path: string, what: string, maxBytes: number): Uint8Array {
  let size: number;
  try {
    const stats = statSync(path);
    if (!stats.isFile()) throw new InputError(path, `expected a ${what}, found a directory or device`);
    size = stats.size;
  } catch (error) {
    if (error instanceof InputError) throw error;
    const code = (error as { code?: string }).code;
    throw new InputError(path, code === 'ENOENT' ? `no such ${what}` : `cannot read the ${what} (${code})`);
  }
  if (size > maxBytes) throw new LimitError(path, `the ${what} is ${size} bytes; at most ${maxBytes} are read`, `${what} size`);
  try {
    return readFileSync(path);
  } catch (error) {
    throw new InputError(path, `cannot read the ${what} (${(error as { code?: string }).code})`);
  }
}

/** Whether process `pid` is running (EPERM: it is, as another user's). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
}

/**
 * Removes the temporary files of earlier writes of `path` whose process is gone (killed
 * between writing and renaming): none outlives the next write of the same file.
 */
function removeStaleTemporaries(path: string): void {
  const prefix = `.${basename(path)}.`;
  let names: string[];
  try {
    names = readdirSync(dirname(path));
  } catch {
    return; // the write itself says what is wrong with the folder
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue;
    const pid = Number(name.slice(prefix.length, -'.tmp'.length));
    if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && !running(pid)) rmSync(join(dirname(path), name), { force: true });
  }
}

/**
 * A file `name` beside the file `beside` (a TensorFlow.js model.json's weight file), refused
 * unless it is inside that file's folder once links are followed: a link out of the
 * folder reads nothing. As readBinaryFile otherwise.
 */
export function readFileBeside(beside: string, name: string, what: string, maxBytes: number): Uint8Array {
  const folder = dirname(beside);
  const path = join(folder, name);
  let inside: boolean;
  try {
    const within = relative(realpathSync(folder), realpathSync(path));
    inside = within !== '' && !within.startsWith(`..${sep}`) && within !== '..' && !within.startsWith(sep);
  } catch {
    return readBinaryFile(path, what, maxBytes); // says what is wrong with it
  }
  if (!inside) throw new InputError(path, `is not inside ${folder === '.' ? 'the folder' : folder} of ${basename(beside)} (a link leads out of it): a ${what} must be`);
  return readBinaryFile(path, what, maxBytes);
}

/** Writes `contents` to `path` atomically: temporary file, fsync, rename. Temporary files a killed writer left are removed. */
export function writeFileAtomically(path: string, contents: string | Uint8Array): void {
  removeStaleTemporaries(path);
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    const fd = openSync(temporary, 'w');
    try {
      if (typeof contents === 'string') writeSync(fd, contents);
      else writeSync(fd, contents);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    const code = (error as { code?: string }).code;
    throw new InputError(path, `cannot write the file (${code ?? (error as Error).message})`);
  }
}

/** A model file from disk (see parseModelFile). */
export function loadModelFile(path: string): Model {
  return parseModelFile(readTextFile(path, 'model file', MODEL_LIMITS.fileBytes), path);
}
