// What the playground measures of a network, between runs of training: loss and metrics
// on a fixed part of the training rows and on the test rows, the test rows' outputs (for
// the confusion matrix, the sample digits, predicted against actual), and for a 2-D
// classifier its outputs over the plane; and the curves those figures draw.

import type { Evaluation, Metric, Network } from 'webgpu-backprop';
import { computeMetrics, confusionMatrix, type Dataset } from 'webgpu-backprop/trainers';
import type { PreparedData } from './data.ts';
import { dataArea, GRID_SIZE, gridInputs, type BoundaryGrid } from './panels.ts';

/** The figures of one measurement: losses and metrics on the training and test rows. */
export interface Measurement {
  step: number;
  epoch: number;
  train: Evaluation;
  test: Evaluation;
  /** The network's outputs for every test row (N, OUT), flat. */
  testOutputs: Float64Array;
  /** Classifiers: matrix[actual][predicted] over the test rows. */
  confusion?: number[][];
  /** Classifiers of two inputs: the outputs over a grid of the plane. */
  grid?: BoundaryGrid;
}

/** Training rows the training figures are measured on at most: fixed, so the curve moves with the network only. */
const TRAIN_MEASURE_ROWS = 1000;

/** The training rows to measure on: all of them, or `TRAIN_MEASURE_ROWS` spread evenly (every k-th), so that each class is there whatever the order. */
export function measuredTrainingRows(train: Dataset): Dataset {
  if (train.size <= TRAIN_MEASURE_ROWS) return train;
  const every = Math.floor(train.size / TRAIN_MEASURE_ROWS);
  const { inputSize: IN, outputSize: OUT } = train;
  const inputs = new Float64Array(TRAIN_MEASURE_ROWS * IN);
  const targets = new Float64Array(TRAIN_MEASURE_ROWS * OUT);
  for (let r = 0; r < TRAIN_MEASURE_ROWS; r++) {
    const n = r * every;
    inputs.set(train.inputs.subarray(n * IN, (n + 1) * IN), r * IN);
    targets.set(train.targets.subarray(n * OUT, (n + 1) * OUT), r * OUT);
  }
  return { inputs, targets, size: TRAIN_MEASURE_ROWS, inputSize: IN, outputSize: OUT };
}

/** Measures the network on the data (the training figures on `trainRows`). */
export async function measureNetwork(network: Network, data: PreparedData, trainRows: Dataset, metrics: Metric[]): Promise<Omit<Measurement, 'step' | 'epoch'>> {
  const train = await network.evaluate(trainRows.inputs, trainRows.targets, { metrics });
  // The test rows' outputs are wanted anyway (the panels): their metrics come from them.
  const testOutputs = Float64Array.from((await network.predict(data.test.inputs)).flat());
  const test = { ...(await network.evaluate(data.test.inputs, data.test.targets)), ...computeMetrics(metrics, testOutputs, data.test.targets, data.test.outputSize) };
  let grid: BoundaryGrid | undefined;
  if (data.classNames && data.train.inputSize === 2) {
    const area = dataArea(data.train, data.test);
    grid = { area, size: GRID_SIZE, outputs: Float64Array.from((await network.predict(gridInputs(area, GRID_SIZE))).flat()) };
  }
  const confusion = data.classNames ? confusionMatrix(testOutputs, data.test.targets, data.test.outputSize) : undefined;
  return { train, test, testOutputs, confusion, grid };
}

export interface Point {
  epoch: number;
  value: number;
}

export type Curves = Record<'batchLoss' | 'trainLoss' | 'testLoss' | `${'train' | 'test'}_${Metric}`, Point[]>;

export function emptyCurves(): Curves {
  return { batchLoss: [], trainLoss: [], testLoss: [], train_accuracy: [], test_accuracy: [], train_mae: [], test_mae: [], train_r2: [], test_r2: [] };
}

/** A curve keeps at most this many points: past it, every other point goes (an hour of training stays light to draw). */
const MAX_POINTS = 2000;

export function addPoint(curve: Point[], point: Point): void {
  curve.push(point);
  if (curve.length > MAX_POINTS) {
    const kept = curve.filter((_, k) => k % 2 === 0 || k === curve.length - 1);
    curve.splice(0, curve.length, ...kept);
  }
}

/** Adds a measurement's figures to the curves. */
export function recordMeasurement(curves: Curves, measurement: Measurement, metrics: Metric[]): void {
  const { epoch, train, test } = measurement;
  addPoint(curves.trainLoss, { epoch, value: train.loss });
  addPoint(curves.testLoss, { epoch, value: test.loss });
  for (const metric of metrics) {
    addPoint(curves[`train_${metric}`], { epoch, value: train[metric]! });
    addPoint(curves[`test_${metric}`], { epoch, value: test[metric]! });
  }
}
