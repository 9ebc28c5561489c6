// Why a network could not be made, trained or measured, in the page's words. The library's
// refusal of cross-entropy on targets outside [0, 1] names the row of the rows it was given
// (targets[12][0]); for a CSV file the page names the file's line, the column and the value,
// and says what to choose instead.

import { InputError } from 'webgpu-backprop';
import type { PlaygroundConfig } from './config.ts';
import type { CsvFile, PreparedData } from './data.ts';

/** Which rows a call was given: all the training rows (fit), the training rows measured, or the test rows. */
export type RowSet = 'all' | 'measured' | 'test';

/** `work`'s failure, marked with the rows it was given. */
export async function onRows<T>(rows: RowSet, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    throw error instanceof InputError ? Object.assign(error, { rows }) : error;
  }
}

/** The message for an error, in the file's terms where it is about a row of the data. */
export function describeFailure(error: unknown, config: PlaygroundConfig, data: PreparedData | undefined, csv: CsvFile | undefined, measuredRows?: number[]): string {
  const message = (error as Error).message ?? String(error);
  if (!(error instanceof InputError)) return message;
  const at = /^targets\[(\d+)\]\[(\d+)\]$/.exec(error.where);
  if (!at || !/takes targets in \[0, 1\]/.test(error.problem)) return message;
  const [row, column] = [Number(at[1]), Number(at[2])];
  const value = /got (\S+?);/.exec(error.problem)?.[1] ?? '?';
  const rows = (error as InputError & { rows?: RowSet }).rows ?? 'all';
  const trainRow = rows === 'measured' ? measuredRows?.[row] ?? row : row;
  const line = data?.lines && (rows === 'test' ? data.lines.test[row] : data.lines.train[trainRow]);
  const name = data?.targetNames?.[column];
  const where = line !== undefined && csv ? `line ${line} of ${csv.name} has ${name ?? `target ${column + 1}`} = ${value}` : `${rows === 'test' ? 'test' : 'training'} row ${rows === 'test' ? row : trainRow} has a target of ${value}`;
  const loss = config.loss === 'auto' ? 'cross-entropy' : config.loss;
  return `Not trained: ${loss} takes targets between 0 and 1 (class labels or probabilities), and ${where}. For numbers to predict, choose output linear and loss mse, or auto for both`;
}
