// The playground's settings form: one input per setting, written from a configuration and
// read back into one, each setting parsed as the URL's are (config.ts).

import { ACTIVATIONS, LOSSES, OPTIMIZER_KINDS } from 'webgpu-backprop';
import { h, select } from '../dom.ts';
import { DATASETS, formatSetting, HIDDEN_ACTIVATIONS, parseSetting, type PlaygroundConfig } from './config.ts';

/** The inputs of the settings, by the setting each shows. */
export function settingInputs(config: PlaygroundConfig) {
  return {
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
    dropout: h('input', { type: 'number', id: 'dropout', min: 0, max: 0.95, step: 0.05 }),
    seed: h('input', { type: 'number', id: 'seed', min: 0, step: 1 }),
    testPercent: h('input', { type: 'number', id: 'test-percent', min: 5, max: 90, step: 1 }),
    targets: h('input', { type: 'text', id: 'csv-targets', placeholder: 'label' }),
    standardize: h('input', { type: 'checkbox', id: 'standardize' }),
  } satisfies Record<keyof PlaygroundConfig, HTMLInputElement | HTMLSelectElement>;
}

export type SettingInputs = ReturnType<typeof settingInputs>;

const keysOf = (inputs: SettingInputs) => Object.keys(inputs) as (keyof PlaygroundConfig)[];

/** Shows a configuration in the form. */
export function writeSettings(inputs: SettingInputs, config: PlaygroundConfig): void {
  for (const key of keysOf(inputs)) {
    if (key === 'standardize') inputs.standardize.checked = config.standardize;
    else inputs[key].value = formatSetting(config[key]);
  }
}

/** The settings the form shows, or the first that cannot be read. */
export function readSettings(inputs: SettingInputs, base: PlaygroundConfig): { config: PlaygroundConfig } | { problem: string; key: keyof PlaygroundConfig } {
  const config = { ...base };
  for (const key of keysOf(inputs)) {
    const text = key === 'standardize' ? String(inputs.standardize.checked) : key === 'schedule' ? inputs.schedule.value.trim() || 'none' : inputs[key].value;
    try {
      (config as Record<string, unknown>)[key] = parseSetting(key, text);
    } catch (error) {
      return { problem: (error as Error).message, key };
    }
  }
  return { config };
}
