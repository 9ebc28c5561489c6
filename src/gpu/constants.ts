// The override constants each kernel of a training step (and prediction) is compiled
// with, for one layer: its activation and dropout, the optimizer, the clipping norm, the
// widths read as vec4s. One function per kernel, so training and prediction ask for the
// same constants wherever they can share a pipeline (kernels.ts).

import { ACTIVATION_CODE, OPTIMIZER_CODE } from './abi.ts';
import { layerInputs, layerParameter, type LayerSpec, type ModelSpec } from '../model/model.ts';
import { ACTIVATION_OPS } from '../model/ops/activations.ts';
import { dropoutThreshold, drops } from '../model/dropout.ts';
import { constantsOf, OPTIMIZER_OPS, weightDecayOf, type OptimizerSpec } from '../model/ops/optimizers.ts';
import type { TrainOptions } from '../model/trainer.ts';

/** Threads per workgroup of grad_norm.wgsl, and the most workgroups it takes (each leaves one partial sum). */
export const NORM_THREADS = 256;
export const MAX_NORM_GROUPS = 64;

/** What a training step compiles with: the optimizer, whether it captures, and the clipping norm. */
export interface TrainingSetting {
  optimizer: OptimizerSpec;
  capture: boolean;
  clipNorm: number | undefined;
}

export function trainingSetting(options: Pick<TrainOptions, 'optimizer' | 'clipNorm'>, capture: boolean): TrainingSetting {
  return { optimizer: options.optimizer, capture, clipNorm: options.clipNorm };
}

/** 1 where a width is a multiple of 4 (rows of that width are read as vec4s), else 0. */
const vec4 = (width: number) => (width % 4 === 0 ? 1 : 0);

/** A layer's activation as override constants: its code and parameter, and whether its slope needs net (ops.wgsl). */
function activationConstants(layer: LayerSpec): { ACTIVATION: number; ACTIVATION_PARAMETER: number; KEEP_NET: number } {
  return { ACTIVATION: ACTIVATION_CODE[layer.activation], ACTIVATION_PARAMETER: layerParameter(layer), KEEP_NET: ACTIVATION_OPS[layer.activation].derivativeNeedsNet ? 1 : 0 };
}

/** A training layer's activation and dropout (dropout.wgsl): a layer that drops keeps net, to take its slope before dropout. */
function trainingLayerConstants(layer: LayerSpec, l: number): Record<string, number> {
  const activation = activationConstants(layer);
  if (!drops(layer.dropout)) return activation;
  return { ...activation, KEEP_NET: 1, LAYER_INDEX: l, DROPOUT_THRESHOLD: dropoutThreshold(layer.dropout), DROPOUT_SCALE: 1 / (1 - layer.dropout) };
}

/**
 * forward.wgsl's constants for layer l: in training, with its dropout and (the output
 * layer) leaving net to output_delta.wgsl; in prediction the same but for dropout, so a
 * layer without dropout predicts with training's kernel. A softmax output layer writes
 * net alone either way (softmax.wgsl's, or output_delta.wgsl's, is its out).
 */
export function forwardConstants(spec: ModelSpec, l: number, capture: boolean, training: boolean): Record<string, number> {
  const layer = spec.layers[l];
  const last = l === spec.layers.length - 1;
  const activation = training ? trainingLayerConstants(layer, l) : activationConstants(layer);
  const output = last && (training || layer.activation === 'softmax');
  return { ...activation, GATHER: l === 0 ? 1 : 0, OUTPUT: output ? 1 : 0, CAPTURE: capture ? 1 : 0, VEC4_LOADS: vec4(layerInputs(spec, l)) };
}

/** hidden_delta.wgsl's constants for layer l. */
export function hiddenConstants(spec: ModelSpec, l: number): Record<string, number> {
  return { ...trainingLayerConstants(spec.layers[l], l), VEC4_A: vec4(spec.layers[l + 1].units), VEC4_B: vec4(spec.layers[l].units) };
}

/**
 * weight_update.wgsl's constants, the same for every layer (one dispatch runs them all):
 * what differs by layer (its sizes, whether it reads the dataset, vec4 loads) is in its
 * UpdateLayer uniform (buffers.ts).
 */
export function updateConstants(spec: ModelSpec, setting: TrainingSetting): Record<string, number> {
  return {
    ...optimizerConstants(spec, setting.optimizer, setting.clipNorm),
    NORM_GROUPS: normGroups(spec),
    CAPTURE: setting.capture ? 1 : 0,
  };
}

/** The trained parameters (every weight, and the biases where they train): what clipping's norm is over. */
export function trainedCount(spec: ModelSpec): number {
  return spec.layers.reduce((sum, layer, l) => sum + layer.units * (layerInputs(spec, l) + (spec.trainBiases ? 1 : 0)), 0);
}

/** grad_norm.wgsl's workgroups: enough that each thread sums some 16 gradients, at most MAX_NORM_GROUPS. */
export function normGroups(spec: ModelSpec): number {
  return Math.max(1, Math.min(MAX_NORM_GROUPS, Math.ceil(trainedCount(spec) / (16 * NORM_THREADS))));
}

/**
 * The update's override constants: the optimizer's code, state slots and weight decay, and
 * the clipping norm (common.wgsl), its constants (ops.wgsl), by its record.
 */
export function optimizerConstants(spec: ModelSpec, optimizer: OptimizerSpec, clipNorm?: number): Record<string, number> {
  const op = OPTIMIZER_OPS[optimizer.kind];
  const values = constantsOf(optimizer);
  return {
    CLIP_NORM: clipNorm ?? 0,
    OPTIMIZER: OPTIMIZER_CODE[optimizer.kind],
    STATE_SLOTS: op.stateSlots,
    WEIGHT_DECAY: weightDecayOf(optimizer),
    DECOUPLED_DECAY: op.decoupledDecay ? 1 : 0,
    TRAIN_BIASES: spec.trainBiases ? 1 : 0,
    ...Object.fromEntries(Object.entries(op.constants).map(([name, constant]) => [constant.override, values[name]])),
  };
}
