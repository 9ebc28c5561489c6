// What the playground measures of a network (in its worker), between and during runs of
// training: loss and metrics on a fixed part of the training rows and on the test rows, the
// test rows' outputs (for the confusion matrix, the digits, predicted against actual), and
// for a 2-D classifier its outputs over the plane with each hidden neuron's (one forward
// pass on the GPU); and the curves those figures draw.

import type { Evaluation, Metric } from 'webgpu-backprop';
import { computeMetrics, confusionMatrix, type Dataset } from 'webgpu-backprop/trainers';
import type { WorkerNetwork, WorkerRows } from 'webgpu-backprop/worker';
import type { PreparedData } from './data.ts';
import { onRows } from './failures.ts';
import type { Area, BoundaryGrid } from './panels.ts';

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
  /** The same grid's hidden layers: each layer's outputs (G·G, units), flat. */
  neurons?: Float64Array[];
}

/** The rows a network is measured on, held by its worker. */
export interface MeasuredRows {
  /** The training rows measured (all, or a fixed sample). */
  train: { inputs: WorkerRows; targets: WorkerRows };
  test: { inputs: WorkerRows; targets: WorkerRows };
  /** 2-D sets: the plane's grid, as the network's inputs, and where it lies. */
  grid?: { inputs: WorkerRows; area: Area; size: number };
}

/** Training rows the training figures are measured on at most: fixed, so the curve moves with the network only. */
const TRAIN_MEASURE_ROWS = 1000;

/**
 * The training rows to measure on: all of them, or `TRAIN_MEASURE_ROWS` spread evenly
 * (every k-th), so that each class is there whatever the order; `rows`: which, where a sample.
 */
export function measuredTrainingRows(train: Dataset): { data: Dataset; rows?: number[] } {
  if (train.size <= TRAIN_MEASURE_ROWS) return { data: train };
  const every = Math.floor(train.size / TRAIN_MEASURE_ROWS);
  const { inputSize: IN, outputSize: OUT } = train;
  const inputs = new Float64Array(TRAIN_MEASURE_ROWS * IN);
  const targets = new Float64Array(TRAIN_MEASURE_ROWS * OUT);
  const rows = Array.from({ length: TRAIN_MEASURE_ROWS }, (_, r) => r * every);
  rows.forEach((n, r) => {
    inputs.set(train.inputs.subarray(n * IN, (n + 1) * IN), r * IN);
    targets.set(train.targets.subarray(n * OUT, (n + 1) * OUT), r * OUT);
  });
  return { data: { inputs, targets, size: TRAIN_MEASURE_ROWS, inputSize: IN, outputSize: OUT }, rows };
}

/** Measures the network on the rows its worker holds. */
export async function measureNetwork(network: WorkerNetwork, data: PreparedData, rows: MeasuredRows, metrics: Metric[]): Promise<Omit<Measurement, 'step' | 'epoch'>> {
  // All asked at once: the worker answers them together, between two chunks of training.
  const layers = network.spec.layers.map((_, l) => l);
  const [train, outputs, testEvaluation, gridOutputs] = await Promise.all([
    onRows('measured', network.evaluate(rows.train.inputs, rows.train.targets, { metrics })),
    network.predict(rows.test.inputs),
    onRows('test', network.evaluate(rows.test.inputs, rows.test.targets)),
    // Every layer over the plane from one forward pass: the hidden ones are the neuron maps, the last the boundary.
    rows.grid ? network.predict(rows.grid.inputs, { layer: layers }) : undefined,
  ]);
  // The test rows' outputs are wanted anyway (the panels): their metrics come from them.
  const testOutputs = Float64Array.from(outputs.flat());
  const test = { ...testEvaluation, ...computeMetrics(metrics, testOutputs, data.test.targets, data.test.outputSize) };
  let grid: BoundaryGrid | undefined;
  let neurons: Float64Array[] | undefined;
  if (rows.grid && gridOutputs) {
    const flat = gridOutputs.map((layer) => Float64Array.from(layer.flat()));
    grid = { area: rows.grid.area, size: rows.grid.size, outputs: flat.at(-1)! };
    neurons = flat.slice(0, -1);
  }
  const confusion = data.classNames ? confusionMatrix(testOutputs, data.test.targets, data.test.outputSize) : undefined;
  return { train, test, testOutputs, confusion, grid, neurons };
}

export interface Point {
  epoch: number;
  value: number;
}

export type Curves = Record<'batchLoss' | 'trainLoss' | 'testLoss' | `${'train' | 'test'}_${Metric}`, Point[]>;

export function emptyCurves(): Curves {
  return { batchLoss: [], trainLoss: [], testLoss: [], train_accuracy: [], test_accuracy: [], train_mae: [], test_mae: [], train_r2: [], test_r2: [] };
}

/** Where a setting changed (or the run diverged), drawn on the curves. */
export interface Marker {
  epoch: number;
  label: string;
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
