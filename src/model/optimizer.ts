// Optimizers, named as PyTorch names them: their records, update rules included, are in
// src/model/ops/optimizers.ts; this file derives what the rest of the library asks of them.

import { OPTIMIZER_NAMES, OPTIMIZER_OPS, type OptimizerKind, type OptimizerSpec } from './ops/optimizers.ts';

export type { OptimizerKind, OptimizerSpec };

/** The optimizers, by name. */
export const OPTIMIZER_KINDS: readonly OptimizerKind[] = OPTIMIZER_NAMES;

/** Each optimizer with PyTorch's usual constants: momentum 0.9; Adam β1 0.9, β2 0.999, ε 1e-8. */
export const DEFAULT_OPTIMIZERS = Object.fromEntries(
  OPTIMIZER_NAMES.map((kind) => [kind, { kind, ...Object.fromEntries(Object.entries(OPTIMIZER_OPS[kind].constants).map(([name, constant]) => [name, constant.default])) }]),
) as { [K in OptimizerKind]: Extract<OptimizerSpec, { kind: K }> };

/** Arrays of optimizer state, each shaped like the parameters: none, velocity, or (m, v). */
export function stateSlots(optimizer: OptimizerSpec): number {
  return OPTIMIZER_OPS[optimizer.kind].stateSlots;
}
