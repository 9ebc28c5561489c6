// The rows of the data in hand that the session's worker holds: the training rows (moved
// there, for MNIST, rather than copied), the training rows measured, the test rows, and for
// a 2-D set the plane's grid as network inputs. Uploaded once per data, named by every
// fit, predict and evaluate after.

import type { NetworkWorker, WorkerRows } from 'webgpu-backprop/worker';
import type { PlaygroundConfig } from './config.ts';
import { prepareData, type CsvFile, type PreparedData } from './data.ts';
import { withFeatures } from './features.ts';
import { measuredTrainingRows, type MeasuredRows } from './measure.ts';
import { dataArea, GRID_SIZE, gridInputs } from './panels.ts';

export interface HeldRows extends MeasuredRows {
  /** All the training rows, for fit. */
  all: { inputs: WorkerRows; targets: WorkerRows };
  /** Where each measured training row is among the training rows. */
  measuredRows: number[];
}

/** Hands the data's rows to the worker. */
export async function heldRows(worker: NetworkWorker, data: PreparedData): Promise<HeldRows> {
  const sample = measuredTrainingRows(data.train);
  // The training rows of the digits are large, and wanted only there: they move.
  const all = { inputs: await worker.upload(data.train.inputs, { transfer: data.images }), targets: await worker.upload(data.train.targets) };
  const train = sample.rows === undefined ? all : { inputs: await worker.upload(sample.data.inputs), targets: await worker.upload(sample.data.targets) };
  const test = { inputs: await worker.upload(data.test.inputs), targets: await worker.upload(data.test.targets) };
  let grid: HeldRows['grid'];
  if (data.classNames && data.points) {
    const area = dataArea(data.points.train, data.points.test);
    grid = { inputs: await worker.upload(withFeatures(gridInputs(area, GRID_SIZE), data.features ?? [])), area, size: GRID_SIZE };
  }
  return { all, train, test, grid, measuredRows: sample.rows ?? Array.from({ length: data.train.size }, (_, n) => n) };
}

/** Frees them in the worker. */
export function releaseRows(rows: HeldRows): void {
  const sets = [rows.all, rows.train, rows.test];
  for (const set of new Set(sets)) {
    set.inputs.release();
    set.targets.release();
  }
  rows.grid?.inputs.release();
}

/** The data the settings ask for, prepared (`progress` hears how) and handed to the worker. */
export async function prepareHeld(worker: NetworkWorker, config: PlaygroundConfig, csv: CsvFile | undefined, progress: (label: string, fraction: number) => void): Promise<{ data: PreparedData; rows: HeldRows }> {
  const data = await prepareData(config, csv, progress);
  progress('Handing the data to the worker', 1);
  return { data, rows: await heldRows(worker, data) };
}
