// A model: its description and its parameters, in the layout's one flat array.

import type { InputScaling } from '../data/scaling.ts';
import { checkSpec, layerInputs, type ModelSpec } from './model.ts';
import { initParams } from './init.ts';
import { paramLayout, paramView, type ParamLayout } from './layout.ts';
import { InputError } from '../errors.ts';

/** A model: its description and its parameters, in one flat array sliced by the parameter layout. */
export interface Model {
  spec: ModelSpec;
  layout: ParamLayout;
  params: Float64Array; // (P) by the layout
  /**
   * The standardisation the inputs were trained with, where they were: `Network` applies
   * it to every input it is given. Trainers take their data as given.
   */
  inputScaling?: InputScaling;
  /** The class each output unit stands for, where the network is a classifier trained on named classes. */
  classes?: string[];
}

/** A model with the given parameters, or with weights initialised from `seed`. */
export function createModel(spec: ModelSpec, init: { params: Float64Array } | { seed: number | string }): Model {
  checkSpec(spec);
  const layout = paramLayout(spec);
  const params = 'params' in init ? init.params : initParams(spec, init.seed, layout);
  if (params.length !== layout.size) throw new InputError('params', `expected ${layout.size} parameters, got ${params.length}`);
  return { spec, layout, params };
}

/** Sets layer `layer`'s weights[j][i] (from input i into neuron j) and biases[j]. */
export function setLayerParams(model: Model, layer: number, weights: readonly (readonly number[])[], biases: readonly number[]): void {
  const inputs = layerInputs(model.spec, layer);
  const w = paramView(model.layout, model.params, layer, 'weights');
  weights.forEach((row, j) => row.forEach((value, i) => (w[j * inputs + i] = value)));
  paramView(model.layout, model.params, layer, 'biases').set(biases);
}

/** Layer `layer`'s weights as rows: weights[j][i] from input i into neuron j. */
export function layerWeights(layout: ParamLayout, params: Float64Array, layer: number): number[][] {
  const w = paramView(layout, params, layer, 'weights');
  const entry = layout.entries.find((e) => e.layer === layer && e.kind === 'weights')!;
  const [units, inputs] = entry.shape;
  return Array.from({ length: units }, (_, j) => Array.from(w.subarray(j * inputs, (j + 1) * inputs)));
}

/** Layer `layer`'s biases. */
export function layerBiases(layout: ParamLayout, params: Float64Array, layer: number): number[] {
  return Array.from(paramView(layout, params, layer, 'biases'));
}
