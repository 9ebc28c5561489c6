// The override constants each kernel of a training step (and prediction) is compiled
// with: the choices that shape a kernel's code (the activation, vec4 loads, dropout's
// generator, the optimizer, the clipping norm, whether a check captures). One function per
// kernel, so training and prediction ask for the same constants wherever they can share a
// pipeline (kernels.ts). The rest of what sets one layer apart from another (its
// activation's parameter, dropout's rate, whether it reads the dataset) is its uniform's
// (layerUniform in abi.ts).

import { ACTIVATION_CODE, netOnly, OPTIMIZER_CODE } from './abi.ts';
import { layerInputs, type ModelSpec } from '../model/model.ts';
import { drops } from '../model/dropout.ts';
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
export const vec4Loads = (width: number) => (width % 4 === 0 ? 1 : 0);

/** 1 where layer l drops in training (dropout.wgsl's generator is compiled in), else 0. */
const dropping = (spec: ModelSpec, l: number, training: boolean) => (training && drops(spec.layers[l].dropout) ? 1 : 0);

/**
 * forward.wgsl's constants for layer l: the activation it applies, whether it writes every
 * layer's net for a check, reads its rows as vec4s, and drops (in training). A layer
 * whose out another kernel computes (netOnly) applies none, and takes the first layer's
 * code, so it can share that layer's pipeline. The rest of what sets a layer's forward
 * pass apart (dropout's rate, whether it leaves net to the output stage) is in its Layer
 * uniform (layerUniform in abi.ts): layers share a pipeline, in training and in
 * prediction, wherever these constants and their tile plans agree.
 */
export function forwardConstants(spec: ModelSpec, l: number, capture: boolean, training: boolean): Record<string, number> {
  const applied = spec.layers[netOnly(spec, l, training) ? 0 : l];
  return { ACTIVATION: ACTIVATION_CODE[applied.activation], CAPTURE: capture ? 1 : 0, VEC4_LOADS: vec4Loads(layerInputs(spec, l)), DROPOUT: dropping(spec, l, training) };
}

/** hidden_delta.wgsl's constants for layer l: its activation, vec4 loads and dropout, as forwardConstants's (the rest is its Layer uniform's). */
export function hiddenConstants(spec: ModelSpec, l: number): Record<string, number> {
  return { ACTIVATION: ACTIVATION_CODE[spec.layers[l].activation], VEC4_A: vec4Loads(spec.layers[l + 1].units), VEC4_B: vec4Loads(spec.layers[l].units), DROPOUT: dropping(spec, l, true) };
}

/**
 * weight_update.wgsl's constants, the same for every layer (one dispatch runs them all):
 * what differs by layer (its sizes, whether it reads the dataset, vec4 loads) is in its
 * UpdateLayer uniform (buffers.ts); vec4 loads are a constant too where every layer has them.
 */
export function updateConstants(spec: ModelSpec, setting: TrainingSetting): Record<string, number> {
  const every = (width: (l: number) => number) => (spec.layers.every((_, l) => vec4Loads(width(l)) === 1) ? 1 : 0);
  return {
    ...optimizerConstants(spec, setting.optimizer, setting.clipNorm),
    NORM_GROUPS: normGroups(spec),
    CAPTURE: setting.capture ? 1 : 0,
    VEC4_A: every((l) => spec.layers[l].units),
    VEC4_B: every((l) => layerInputs(spec, l)),
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
