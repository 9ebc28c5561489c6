// Data files read from disk in chunks, for Node: a file up to DATA_LIMITS.fileBytes (1 GiB)
// loads with the memory its numbers take as float64 and little more, never as one
// string (V8's strings stop near 512 MiB). The readers are the browser-safe ones in
// src/io; only the reading from disk is here.

import { closeSync, createReadStream, openSync, readSync, statSync } from 'node:fs';
import Papa from 'papaparse';
import { InputError } from '../errors.ts';
import { csvOptions, CsvTableReader, csvSteps, NEWLINE_SAMPLE_BYTES } from '../io/data-csv.ts';
import { checkTargetColumns, DATA_LIMITS, isCsv, type DataTable } from '../io/data-file.ts';
import { JsonTableReader } from '../io/data-json.ts';

/** `readDataFile`'s options. */
export interface ReadDataOptions {
  /** CSV: the target columns. */
  targetColumns?: string[];
  /** CSV: the column of class labels (ids, or names), instead of target columns. */
  labelColumn?: string;
  /** The model's class names: names in the label column become their ids (default: the column's names, sorted). */
  classes?: readonly string[];
  /** Bytes read at a time (the default suits large files; tests use tiny ones). */
  chunkBytes?: number;
}

function readError(path: string, error: unknown): InputError {
  if (error instanceof InputError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  return new InputError(path, code === 'ENOENT' ? 'no such data file' : `cannot read the data file (${code ?? (error as Error).message})`);
}

/** Reads a data file (.csv, or JSON) from disk, chunk by chunk, into a table. */
export async function readDataFile(path: string, options: ReadDataOptions = {}): Promise<DataTable> {
  checkTargetColumns(path, options.targetColumns, options.labelColumn);
  let size: number;
  try {
    const stats = statSync(path);
    if (!stats.isFile()) throw new InputError(path, 'expected a data file, found a directory or device');
    size = stats.size;
  } catch (error) {
    throw readError(path, error);
  }
  if (size > DATA_LIMITS.fileBytes) {
    throw new InputError(path, `the data file is ${size} bytes; at most ${DATA_LIMITS.fileBytes} (${DATA_LIMITS.fileBytes / 2 ** 30} GiB) are read`);
  }
  const highWaterMark = options.chunkBytes ?? 1 << 20;
  try {
    return isCsv(path) ? await readCsv(path, options, highWaterMark) : await readJson(path, highWaterMark);
  } catch (error) {
    throw readError(path, error);
  }
}

async function readJson(path: string, highWaterMark: number): Promise<DataTable> {
  const reader = new JsonTableReader(path);
  for await (const chunk of createReadStream(path, { highWaterMark })) reader.write(chunk as Buffer);
  return reader.finish();
}

async function readCsv(path: string, options: ReadDataOptions, highWaterMark: number): Promise<DataTable> {
  const reader = new CsvTableReader(path, options.targetColumns, options.labelColumn, options.classes);
  const steps = csvSteps(reader);
  const parsing = csvOptions(fileStart(path, NEWLINE_SAMPLE_BYTES));
  const stream = createReadStream(path, { encoding: 'utf8', highWaterMark });
  await new Promise<void>((resolve, reject) => {
    stream.on('error', reject);
    Papa.parse<string[]>(stream, { ...parsing, step: steps.step, complete: () => resolve(), error: reject });
  });
  stream.destroy();
  if (steps.failure() !== undefined) throw steps.failure();
  return reader.finish();
}

/** The first `bytes` bytes of a file, as text (for guessing its line ending). */
function fileStart(path: string, bytes: number): string {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    return buffer.toString('latin1', 0, readSync(fd, buffer, 0, bytes, 0));
  } finally {
    closeSync(fd);
  }
}
