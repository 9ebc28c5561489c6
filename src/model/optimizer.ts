// Optimizers, named as PyTorch names them. The update rules live in
// reference/optimizers.ts (float64) and shaders/common.wgsl (f32).

/** An optimizer and its constants, as PyTorch names them. */
export type OptimizerSpec =
  | { kind: 'sgd' }
  /** v ← μ·v + g;  w ← w − η·v  (PyTorch's SGD with momentum, no dampening) */
  | { kind: 'momentum'; momentum: number }
  /** Adam with bias correction; ε is added after the square root, as in PyTorch. */
  | { kind: 'adam'; beta1: number; beta2: number; epsilon: number };

/** An optimizer by name: `sgd`, `momentum` or `adam`. */
export type OptimizerKind = OptimizerSpec['kind'];
/** The optimizers, by name. */
export const OPTIMIZER_KINDS: readonly OptimizerKind[] = ['sgd', 'momentum', 'adam'];

/** Each optimizer with PyTorch's usual constants: momentum 0.9; Adam β1 0.9, β2 0.999, ε 1e-8. */
export const DEFAULT_OPTIMIZERS: { [K in OptimizerKind]: Extract<OptimizerSpec, { kind: K }> } = {
  sgd: { kind: 'sgd' },
  momentum: { kind: 'momentum', momentum: 0.9 },
  adam: { kind: 'adam', beta1: 0.9, beta2: 0.999, epsilon: 1e-8 },
};

/** Arrays of optimizer state, each shaped like the parameters: none, velocity, or (m, v). */
export function stateSlots(optimizer: OptimizerSpec): number {
  return { sgd: 0, momentum: 1, adam: 2 }[optimizer.kind];
}
