// The playground's settings form: one control per setting (the 2-D sets' features as
// checkboxes, the label noise and the test share as sliders), what it shows for a
// configuration, and the configuration it reads back (or the first setting it cannot).

import { ACTIVATIONS, LOSSES, OPTIMIZER_KINDS } from 'webgpu-backprop';
import { checkField, field, h, select } from '../dom.ts';
import { BACKENDS, DATASETS, HIDDEN_ACTIVATIONS, isMnist, isPlane, parseSetting, type PlaygroundConfig } from './config.ts';
import { FEATURE_DEFINITIONS, FEATURES } from './features.ts';

const DATASET_LABELS: Record<(typeof DATASETS)[number], string> = {
  xor: 'XOR',
  spirals: 'two spirals',
  circles: 'circle in a ring',
  mnist: 'MNIST digits (10,000)',
  'mnist-full': 'MNIST, full (60,000 + 10,000)',
  csv: 'CSV file…',
};

export type SettingInputs = ReturnType<typeof settingInputs>;

/** The form's controls, by setting. */
export function settingInputs(config: PlaygroundConfig) {
  const inputs = {
    dataset: select('dataset', DATASETS, config.dataset),
    layers: h('input', { type: 'text', id: 'layers', inputmode: 'numeric', 'aria-describedby': 'layers-help' }),
    activation: select('activation', HIDDEN_ACTIVATIONS, config.activation),
    output: select('output', ['auto', ...ACTIVATIONS], config.output),
    loss: select('loss', ['auto', ...LOSSES], config.loss),
    batchSize: h('input', { type: 'number', id: 'batch-size', min: 1, step: 1 }),
    learningRate: h('input', { type: 'number', id: 'learning-rate', min: 0, step: 'any' }),
    optimizer: select('optimizer', OPTIMIZER_KINDS, config.optimizer),
    weightDecay: h('input', { type: 'number', id: 'weight-decay', min: 0, max: 1, step: 'any', 'aria-describedby': 'training-help' }),
    schedule: h('input', { type: 'text', id: 'lr-schedule', placeholder: 'none', 'aria-describedby': 'training-help' }),
    warmup: h('input', { type: 'number', id: 'lr-warmup', min: 0, step: 1, 'aria-describedby': 'training-help' }),
    dropout: h('input', { type: 'number', id: 'dropout', min: 0, max: 0.95, step: 0.05, 'aria-describedby': 'layers-help' }),
    backend: select('backend', BACKENDS, config.backend),
    seed: h('input', { type: 'number', id: 'seed', min: 0, step: 1 }),
    testPercent: h('input', { type: 'range', id: 'test-percent', min: 5, max: 90, step: 5, 'aria-describedby': 'test-percent-value' }),
    targets: h('input', { type: 'text', id: 'csv-targets', placeholder: 'label' }),
    standardize: h('input', { type: 'checkbox', id: 'standardize' }),
    features: h('fieldset', { id: 'features', class: 'features' }, h('legend', {}, 'inputs beside x and y'), ...FEATURES.map((f) => checkField(FEATURE_DEFINITIONS[f].label, h('input', { type: 'checkbox', id: `feature-${f}`, value: f })))),
    noise: h('input', { type: 'range', id: 'noise', min: 0, max: 50, step: 5, 'aria-describedby': 'noise-value' }),
  };
  for (const option of inputs.dataset.options) option.textContent = DATASET_LABELS[option.value as keyof typeof DATASET_LABELS];
  return inputs;
}

/** The features' checkboxes. */
const featureBoxes = (inputs: SettingInputs) => [...inputs.features.querySelectorAll('input')];

/** Shows a configuration in the form. */
export function writeForm(inputs: SettingInputs, config: PlaygroundConfig): void {
  inputs.dataset.value = config.dataset;
  inputs.layers.value = config.layers.join(',');
  inputs.activation.value = config.activation;
  inputs.output.value = config.output;
  inputs.loss.value = config.loss;
  inputs.batchSize.value = String(config.batchSize);
  inputs.learningRate.value = String(config.learningRate);
  inputs.optimizer.value = config.optimizer;
  inputs.weightDecay.value = String(config.weightDecay);
  inputs.schedule.value = config.schedule;
  inputs.warmup.value = String(config.warmup);
  inputs.dropout.value = String(config.dropout);
  inputs.backend.value = config.backend;
  inputs.seed.value = String(config.seed);
  inputs.testPercent.value = String(config.testPercent);
  inputs.targets.value = config.targets;
  inputs.standardize.checked = config.standardize;
  for (const box of featureBoxes(inputs)) box.checked = config.features.includes(box.value as (typeof FEATURES)[number]);
  inputs.noise.value = String(config.noise);
  showSliders(inputs);
}

/** The sliders' values beside them. */
export function showSliders(inputs: SettingInputs): void {
  document.getElementById('test-percent-value')!.textContent = `${inputs.testPercent.value}%`;
  document.getElementById('noise-value')!.textContent = `${inputs.noise.value}%`;
}

/** The settings the form shows, or the first that cannot be read. */
export function readForm(inputs: SettingInputs, current: PlaygroundConfig): { config: PlaygroundConfig } | { problem: string; key: keyof PlaygroundConfig } {
  const config = { ...current };
  const text: Record<keyof PlaygroundConfig, string> = {
    dataset: inputs.dataset.value,
    layers: inputs.layers.value,
    activation: inputs.activation.value,
    output: inputs.output.value,
    loss: inputs.loss.value,
    batchSize: inputs.batchSize.value,
    learningRate: inputs.learningRate.value,
    optimizer: inputs.optimizer.value,
    weightDecay: inputs.weightDecay.value,
    schedule: inputs.schedule.value.trim() || 'none',
    warmup: inputs.warmup.value,
    dropout: inputs.dropout.value,
    backend: inputs.backend.value,
    seed: inputs.seed.value,
    testPercent: inputs.testPercent.value,
    targets: inputs.targets.value,
    standardize: String(inputs.standardize.checked),
    features: featureBoxes(inputs)
      .filter((box) => box.checked)
      .map((box) => box.value)
      .join(','),
    noise: inputs.noise.value,
  };
  for (const key of Object.keys(text) as (keyof PlaygroundConfig)[]) {
    try {
      (config as Record<string, unknown>)[key] = parseSetting(key, text[key]);
    } catch (error) {
      return { problem: (error as Error).message, key };
    }
  }
  return { config };
}

/** The Data fieldset: the dataset, the test share, and each kind of data's own fields (shown by `layout`). */
export function dataFields(inputs: SettingInputs, csvFile: HTMLInputElement, csvName: HTMLElement) {
  const testField = field('test rows', h('span', { class: 'slider' }, inputs.testPercent, h('output', { id: 'test-percent-value', for: 'test-percent' })));
  const planeFields = h('div', { class: 'row', id: 'plane-fields' }, inputs.features, field('label noise (training rows)', h('span', { class: 'slider' }, inputs.noise, h('output', { id: 'noise-value', for: 'noise' }))));
  const csvFields = h('div', { class: 'row', id: 'csv-fields' }, field('CSV file', h('span', { class: 'file-pick' }, csvFile, csvName)), field('target column(s)', inputs.targets), checkField('standardise inputs', inputs.standardize));
  const mnistSplit = h('p', { class: 'hint', id: 'mnist-split' }, '');
  const element = h('fieldset', {}, h('legend', {}, 'Data'), h('div', { class: 'row' }, field('dataset', inputs.dataset), testField), mnistSplit, planeFields, csvFields);
  /** Only the dataset's own fields show. */
  const layout = (csvInUse: string | undefined) => {
    const dataset = inputs.dataset.value as PlaygroundConfig['dataset'];
    csvFields.hidden = dataset !== 'csv';
    planeFields.hidden = !isPlane(dataset);
    testField.hidden = isMnist(dataset);
    mnistSplit.hidden = !isMnist(dataset);
    mnistSplit.textContent = dataset === 'mnist' ? 'MNIST digits: a fixed 10% of each digit held out as the test set.' : 'The full MNIST database: its own 10,000 test digits; about 11 MB to download.';
    // After a page switch the file input is new and empty; the session still has the file.
    csvName.textContent = csvInUse && !csvFile.files?.length ? `in use: ${csvInUse}` : '';
  };
  return { element, layout };
}
