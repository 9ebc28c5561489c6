// The one place TypeScript knows what the WGSL declares: the kernels, the buffers each
// binds, the codes of activations, losses and optimizers (from the op tables) and the
// functions each op has in shaders/ops.wgsl, and the uniform structs' sizes and packing.
// test/abi.test.ts reads the .wgsl files and checks every fact here against them.

import type { ModelSpec } from '../model/model.ts';
import { layerInputs, layerParameter } from '../model/model.ts';
import { paramEntry, type ParamLayout } from '../model/layout.ts';
import { dropoutKey, dropoutThreshold, drops } from '../model/dropout.ts';
import { ACTIVATION_NAMES, ACTIVATION_OPS, type Activation } from '../model/ops/activations.ts';
import { LOSS_NAMES, LOSS_OPS, type Loss } from '../model/ops/losses.ts';
import { OPTIMIZER_NAMES, OPTIMIZER_OPS, type OptimizerKind } from '../model/ops/optimizers.ts';

/** The kernels, one .wgsl file each in shaders/ (the loader prepends the shared files to them: src/gpu/shaders.ts). */
export const KERNELS = ['gather_batch', 'forward', 'softmax', 'output_delta', 'hidden_delta', 'weight_update', 'grad_norm', 'train_tiny', 'finite_check'] as const;
export type KernelName = (typeof KERNELS)[number];

/** The codes the kernels use for activations, losses and optimizers: their records' (src/gpu/op-switch.ts declares them in WGSL). */
export const ACTIVATION_CODE = codes(ACTIVATION_NAMES, ACTIVATION_OPS) as Record<Activation, number>;
export const LOSS_CODE = codes(LOSS_NAMES, LOSS_OPS) as Record<Loss, number>;
export const OPTIMIZER_CODE = codes(OPTIMIZER_NAMES, OPTIMIZER_OPS) as Record<OptimizerKind, number>;

function codes(names: readonly string[], ops: Record<string, { code: number }>): Record<string, number> {
  return Object.fromEntries(names.map((name) => [name, ops[name].code]));
}

/** An op's name as WGSL spells it: `half-sse` → `half_sse` (functions), `HALF_SSE` (its code's constant). */
export function wgslName(op: string): string {
  return op.replace(/-/g, '_');
}

export function wgslCodeName(op: string): string {
  return wgslName(op).toUpperCase();
}

/** A function an op has in shaders/ops.wgsl: its name, parameters (name, type) and result type. */
export interface OpFunction {
  op: string;
  name: string;
  parameters: readonly (readonly [string, string])[];
  returns: string;
}

const ACTIVATE = [['net', 'f32'], ['parameter', 'f32']] as const;
const DERIVATIVE = [['net', 'f32'], ['out', 'f32'], ['parameter', 'f32']] as const;
const LOSS_PIECE = [['out', 'f32'], ['t', 'f32'], ['outputs', 'u32']] as const;
const UPDATE = [['param', 'f32'], ['grad', 'f32'], ['s0', 'ptr<function, f32>'], ['s1', 'ptr<function, f32>'], ['step', 'Step']] as const;

/** Every function the op records call for in shaders/ops.wgsl. */
export function opFunctions(): OpFunction[] {
  const fn = (op: string, suffix: string, parameters: OpFunction['parameters']): OpFunction => ({ op, name: `${wgslName(op)}_${suffix}`, parameters, returns: 'f32' });
  return [
    ...ACTIVATION_NAMES.flatMap((name) => (ACTIVATION_OPS[name].kind === 'elementwise' ? [fn(name, 'activate', ACTIVATE), fn(name, 'derivative', DERIVATIVE)] : [])),
    ...LOSS_NAMES.flatMap((name) =>
      LOSS_OPS[name].kind === 'elementwise'
        ? [fn(name, 'loss', LOSS_PIECE), fn(name, 'gradient', LOSS_PIECE)]
        : [
            fn(name, 'softmax_loss', [['net', 'f32'], ['t', 'f32'], ['log_sum_exp', 'f32']]),
            fn(name, 'sigmoid_loss', [['net', 'f32'], ['t', 'f32']]),
            fn(name, 'delta', [['out', 'f32'], ['t', 'f32'], ['target_sum', 'f32']]),
          ],
    ),
    ...OPTIMIZER_NAMES.map((name) => fn(name, 'update', UPDATE)),
  ];
}

/** The switches src/gpu/op-switch.ts generates: each dispatches on a code to the functions of one kind. */
export const OP_SWITCHES = {
  activate: { code: 'activation', parameters: ACTIVATE, suffix: 'activate' },
  derivative: { code: 'activation', parameters: DERIVATIVE, suffix: 'derivative' },
  loss_term: { code: 'loss', parameters: LOSS_PIECE, suffix: 'loss' },
  loss_gradient: { code: 'loss', parameters: LOSS_PIECE, suffix: 'gradient' },
  optimizer_update: { code: 'optimizer', parameters: UPDATE, suffix: 'update' },
} as const;

export type BindingKind = 'uniform' | 'read-only-storage' | 'storage';

/**
 * The buffers each kernel binds in group 0, in binding order (every entry point of a kernel
 * shares them). The layered path keeps every layer's net, out and δ in one activation
 * buffer (buffers.ts), so the forward and δ kernels declare their activation inputs
 * read_write though they only read them: WebGPU refuses a buffer bound read-only beside
 * a writable binding of it in one dispatch (the ranges bound never overlap).
 */
export const GROUP0: Record<KernelName, readonly BindingKind[]> = {
  // dims, dataset inputs, dataset targets, batch rows, input, target
  gather_batch: ['uniform', 'read-only-storage', 'read-only-storage', 'read-only-storage', 'storage', 'storage'],
  // layer, input, batch rows, params, net, out, partials
  forward: ['uniform', 'storage', 'read-only-storage', 'read-only-storage', 'storage', 'storage', 'storage'],
  // layer, net, out
  softmax: ['uniform', 'read-only-storage', 'storage'],
  // layer, params, dataset targets, batch rows, net, out, delta, loss, loss history
  output_delta: ['uniform', 'read-only-storage', 'read-only-storage', 'read-only-storage', 'storage', 'storage', 'storage', 'storage', 'storage'],
  // layer, next delta, params, net, out, delta, partials
  hidden_delta: ['uniform', 'storage', 'read-only-storage', 'storage', 'storage', 'storage', 'storage'],
  // layers, dataset inputs, batch rows, activations, params, grads, state, partials
  weight_update: ['uniform', 'read-only-storage', 'read-only-storage', 'read-only-storage', 'storage', 'storage', 'storage', 'storage'],
  // trained ranges, grads, partials
  grad_norm: ['read-only-storage', 'read-only-storage', 'storage'],
  // chunk, dataset, batch rows, steps, values, params, grads, state, loss history
  train_tiny: ['uniform', 'read-only-storage', 'read-only-storage', 'read-only-storage', 'storage', 'storage', 'storage', 'storage', 'storage'],
  // params, optimizer state, flag
  finite_check: ['read-only-storage', 'read-only-storage', 'storage'],
};

/** Kernels that also read the Step uniform: group 1, binding 0, bound with a dynamic offset. */
export const USES_STEP: ReadonlySet<KernelName> = new Set(['gather_batch', 'forward', 'output_delta', 'hidden_delta', 'weight_update']);

/** The fields of common.wgsl's Layer struct, in order, and their types. */
export const LAYER_FIELDS = {
  batch: 'u32',
  inputs: 'u32',
  units: 'u32',
  next_units: 'u32',
  weights_offset: 'u32',
  biases_offset: 'u32',
  next_weights_offset: 'u32',
  index: 'u32',
  gather: 'u32',
  activation_parameter: 'f32',
  net_only: 'u32',
  keep_net: 'u32',
  dropout_threshold: 'u32',
  dropout_scale: 'f32',
} as const;
export type LayerFields = Record<keyof typeof LAYER_FIELDS, number>;
/** The fields of weight_update.wgsl's UpdateLayer struct, in order; all u32. */
export const UPDATE_LAYER_FIELDS = ['batch', 'inputs', 'units', 'weights_offset', 'biases_offset', 'state1_offset', 'input_offset', 'delta_offset', 'partials_offset', 'gather', 'vec4_a', 'vec4_b'] as const;
export type UpdateLayerFields = Record<(typeof UPDATE_LAYER_FIELDS)[number], number>;
/** weight_update.wgsl's UPDATE_LAYERS: the most layers one weight-update dispatch takes (the length of its `layers` array). */
export const UPDATE_LAYERS = 64;
/** The fields of common.wgsl's Step struct, in order: two u32, three f32, three u32. */
export const STEP_FIELDS = ['rows_offset', 'loss_slot', 'learning_rate', 'correction1', 'correction2', 'index', 'seed_low', 'seed_high'] as const;
/** The fields of gather_batch.wgsl's Dims struct; all u32. */
export const GATHER_DIMS_FIELDS = ['batch', 'inputs', 'outputs'] as const;

/** A uniform struct of 4-byte fields takes a multiple of 16 bytes (WGSL's uniform layout rules). */
function uniformBytes(fields: number): number {
  return Math.ceil((4 * fields) / 16) * 16;
}

export const LAYER_UNIFORM_BYTES = uniformBytes(Object.keys(LAYER_FIELDS).length);
export const STEP_UNIFORM_BYTES = uniformBytes(STEP_FIELDS.length);
/** One UpdateLayer in weight_update.wgsl's uniform array (a stride of whole 16 bytes), and the array's bytes: one dispatch's binding. */
export const UPDATE_LAYER_BYTES = uniformBytes(UPDATE_LAYER_FIELDS.length);
export const UPDATE_TABLE_BYTES = UPDATE_LAYERS * UPDATE_LAYER_BYTES;
/** One Step in train_tiny.wgsl's storage array: 4-byte fields, no padding. */
export const STEP_STORAGE_BYTES = 4 * STEP_FIELDS.length;
export const GATHER_DIMS_BYTES = uniformBytes(GATHER_DIMS_FIELDS.length);
/** Bytes of train_tiny.wgsl's Chunk uniform (one u32, padded). */
export const CHUNK_UNIFORM_BYTES = 16;

/**
 * Whether layer l's forward product writes net alone, another kernel computing its out:
 * the output layer in training (output_delta.wgsl), and a softmax output layer in
 * prediction (softmax.wgsl).
 */
export function netOnly(spec: ModelSpec, l: number, training: boolean): boolean {
  return l === spec.layers.length - 1 && (training || spec.layers[l].activation === 'softmax');
}

/**
 * The Layer struct of layer `l` for a batch of `batch`: sizes, offsets into the parameter
 * buffer, and what sets the layer apart, in training (`training`: its dropout, and the
 * output layer's net left to the output stage) or in prediction (no dropout; a softmax
 * output layer's net left to softmax.wgsl). A layer keeps net where its activation's slope
 * reads it, or where it drops (the slope then takes the output before dropout).
 */
export function layerUniform(spec: ModelSpec, layout: ParamLayout, l: number, batch: number, training: boolean): Uint32Array<ArrayBuffer> {
  const L = spec.layers.length;
  const layer = spec.layers[l];
  const last = l === L - 1;
  const dropout = training && drops(layer.dropout) ? layer.dropout : undefined;
  const fields: LayerFields = {
    batch,
    inputs: layerInputs(spec, l),
    units: layer.units,
    next_units: last ? 0 : spec.layers[l + 1].units,
    weights_offset: paramEntry(layout, l, 'weights').offset,
    biases_offset: paramEntry(layout, l, 'biases').offset,
    next_weights_offset: last ? 0 : paramEntry(layout, l + 1, 'weights').offset,
    index: l,
    gather: l === 0 ? 1 : 0,
    activation_parameter: layerParameter(layer),
    net_only: netOnly(spec, l, training) ? 1 : 0,
    keep_net: ACTIVATION_OPS[layer.activation].derivativeNeedsNet || dropout !== undefined ? 1 : 0,
    dropout_threshold: dropout === undefined ? 0 : dropoutThreshold(dropout),
    dropout_scale: dropout === undefined ? 1 : 1 / (1 - dropout),
  };
  const packed = new Uint32Array(LAYER_UNIFORM_BYTES / 4);
  const floats = new Float32Array(packed.buffer);
  Object.entries(LAYER_FIELDS).forEach(([name, type], k) => {
    if (type === 'f32') floats[k] = fields[name as keyof LayerFields];
    else packed[k] = fields[name as keyof LayerFields];
  });
  return packed;
}

/**
 * weight_update.wgsl's `layers` arrays for every layer: ⌈L / UPDATE_LAYERS⌉ of them, one a
 * dispatch, UPDATE_TABLE_BYTES apart, the fields of each layer as UPDATE_LAYER_FIELDS lists them.
 */
export function updateLayerTable(layers: readonly UpdateLayerFields[]): Uint32Array<ArrayBuffer> {
  const stride = UPDATE_LAYER_BYTES / 4;
  const packed = new Uint32Array((Math.ceil(layers.length / UPDATE_LAYERS) * UPDATE_TABLE_BYTES) / 4);
  layers.forEach((fields, l) => UPDATE_LAYER_FIELDS.forEach((name, k) => (packed[l * stride + k] = fields[name])));
  return packed;
}

/** What one Step struct holds: see common.wgsl. */
export interface StepValues {
  rowsOffset: number;
  lossSlot: number;
  learningRate: number;
  correction1: number;
  correction2: number;
  /** The 0-based step count since training began. */
  index: number;
  /** The run's seed (dropout's key), a whole number below 2⁵³. */
  seed: number;
}

/**
 * Writes one Step struct at byte `offset` of `target` (a view over the whole upload, made
 * once: nothing is allocated per step), field by field as STEP_FIELDS lists them.
 */
export function packStep(target: DataView, offset: number, step: StepValues): void {
  const [seedLow, seedHigh] = dropoutKey(step.seed);
  target.setUint32(offset, step.rowsOffset, true);
  target.setUint32(offset + 4, step.lossSlot, true);
  target.setFloat32(offset + 8, step.learningRate, true);
  target.setFloat32(offset + 12, step.correction1, true);
  target.setFloat32(offset + 16, step.correction2, true);
  target.setUint32(offset + 20, step.index, true);
  target.setUint32(offset + 24, seedLow, true);
  target.setUint32(offset + 28, seedHigh, true);
}

/** The Dims struct of gather_batch.wgsl. */
export function gatherDims(batch: number, inputs: number, outputs: number): Uint32Array<ArrayBuffer> {
  const packed = new Uint32Array(GATHER_DIMS_BYTES / 4);
  packed.set([batch, inputs, outputs]);
  return packed;
}
