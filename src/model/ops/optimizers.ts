// The optimizers, one record each, named and defined as PyTorch's torch.optim: the update
// of one parameter in float64, its state, its constants and their defaults, the code the
// kernels know it by (its WGSL is `fn <name>_update` in shaders/ops.wgsl, its constants
// overrides declared there), its FLOPs and how its float32 error is bounded. docs/ops.md
// says what adding one takes.

/** What an update reads besides the parameter, its gradient and its state. */
export interface StepValues {
  learningRate: number;
  /** Bias corrections 1 − β1ᵗ and 1 − β2ᵗ of step t, computed in float64 (1 where unused). */
  correction1: number;
  correction2: number;
  /** The weight decay λ, for an optimizer that decays the parameter itself (AdamW). */
  weightDecay: number;
}

/** One constant of an optimizer: its default (PyTorch's), its WGSL override, and the range it must lie in. */
export interface OptimizerConstant {
  default: number;
  /** The `override` of shaders/ops.wgsl that carries it. */
  override: string;
  /** `unit`: in [0, 1); `positive`: finite and > 0. */
  range: 'unit' | 'positive';
}

export interface OptimizerOp {
  /** Its code in the kernels: unique, and fixed once models have been compiled with it. */
  code: number;
  constants: Readonly<Record<string, OptimizerConstant>>;
  /** The learning rate where none is given (Keras's and PyTorch's usual ones). */
  defaultLearningRate: number;
  /** Arrays of state, each shaped like the parameters (momentum's velocity; Adam's m and v). */
  stateSlots: 0 | 1 | 2;
  /** The slots that hold averages of squares (Adam's v): never negative, as a checkpoint's must not be either. */
  nonNegativeSlots?: readonly number[];
  /**
   * The new value of parameter k from its gradient g; `state` holds the optimizer's arrays,
   * updated in place at k.
   */
  update(param: number, grad: number, state: Float64Array[], k: number, constants: Record<string, number>, step: StepValues): number;
  /**
   * Weight decay λ applied to the parameter by the update itself (AdamW's decoupled
   * decay), with its default. Absent: λ·w is added to the gradient (L2), default 0.
   */
  decoupledDecay?: { default: number };
  /** Bias corrections of step t (1-based), where the update uses them. */
  corrections?(constants: Record<string, number>, t: number): { correction1: number; correction2: number };
  /** Operations per parameter of the update (besides the gradient's scaling by 1/B). */
  flops: number;
  tolerance: {
    /**
     * How far the update may move the parameter, per unit of the gradient's relative
     * error: from the learning rate, the gradient's magnitude and value.
     */
    update(learningRate: number, gradMagnitude: number, grad: number, constants: Record<string, number>): number;
  };
  /** The torch.optim class. */
  pytorch: string;
}

/**
 * An optimizer and its constants, as PyTorch names them, and its weight decay (PyTorch's
 * weight_decay: added to the gradient, or decoupled for AdamW; default 0, 0.01 for AdamW).
 */
export type OptimizerSpec = (
  | { kind: 'sgd' }
  /** v ← μ·v + g;  w ← w − η·v  (PyTorch's SGD with momentum, no dampening) */
  | { kind: 'momentum'; momentum: number }
  /** Adam with bias correction; ε is added after the square root, as in PyTorch. */
  | { kind: 'adam'; beta1: number; beta2: number; epsilon: number }
  /** RMSprop, not centred, without momentum: v ← α·v + (1 − α)·g²; w ← w − η·g/(√v + ε). */
  | { kind: 'rmsprop'; alpha: number; epsilon: number }
  /** AdamW: Adam with decoupled weight decay, w ← w·(1 − η·λ) before Adam's step. */
  | { kind: 'adamw'; beta1: number; beta2: number; epsilon: number }
) & { weightDecay?: number };

/** An optimizer by name: `sgd`, `momentum` or `adam`. */
export type OptimizerKind = OptimizerSpec['kind'];

/** Adam's step, for Adam and AdamW. */
const adam: OptimizerOp['update'] = (param, grad, state, k, { beta1, beta2, epsilon }, { learningRate, correction1, correction2 }) => {
  const m = state[0];
  const v = state[1];
  m[k] = beta1 * m[k] + (1 - beta1) * grad;
  v[k] = beta2 * v[k] + (1 - beta2) * grad * grad;
  const mHat = m[k] / correction1;
  const vHat = v[k] / correction2;
  return param - (learningRate * mHat) / (Math.sqrt(vHat) + epsilon);
};

/** Adam's bias corrections of step t: the GPU receives them per step rather than raising β to a power in f32. */
const biasCorrections: NonNullable<OptimizerOp['corrections']> = ({ beta1, beta2 }, t) => ({ correction1: 1 - beta1 ** t, correction2: 1 - beta2 ** t });

/** The table, in the order the choices are listed. */
/** Adam's constants, PyTorch's defaults; AdamW has the same. */
const ADAM_CONSTANTS = {
  beta1: { default: 0.9, override: 'BETA1', range: 'unit' },
  beta2: { default: 0.999, override: 'BETA2', range: 'unit' },
  epsilon: { default: 1e-8, override: 'EPSILON', range: 'positive' },
} as const;

const TABLE = {
  sgd: {
    code: 0,
    constants: {},
    defaultLearningRate: 0.01,
    stateSlots: 0,
    // w⁺ = w − η·∂E/∂w, the articles' rule
    update: (param, grad, _state, _k, _c, { learningRate }) => param - learningRate * grad,
    flops: 2,
    tolerance: { update: (learningRate, gradMagnitude) => learningRate * gradMagnitude },
    pytorch: 'torch.optim.SGD',
  },
  momentum: {
    code: 1,
    constants: { momentum: { default: 0.9, override: 'MOMENTUM_FACTOR', range: 'unit' } },
    defaultLearningRate: 0.01,
    stateSlots: 1,
    // v ← μ·v + g;  w ← w − η·v (PyTorch's SGD with momentum, no dampening)
    update: (param, grad, state, k, { momentum }, { learningRate }) => {
      const velocity = state[0];
      velocity[k] = momentum * velocity[k] + grad;
      return param - learningRate * velocity[k];
    },
    flops: 4,
    // The velocity sums past gradients with weights μ^s: their errors add up to 1/(1 − μ) times one.
    tolerance: { update: (learningRate, gradMagnitude, _grad, { momentum }) => (learningRate * gradMagnitude) / (1 - momentum) },
    pytorch: 'torch.optim.SGD',
  },
  adam: {
    code: 2,
    constants: ADAM_CONSTANTS,
    defaultLearningRate: 0.001,
    stateSlots: 2,
    nonNegativeSlots: [1],
    // m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²;  w ← w − η·m̂/(√v̂ + ε), ε after the root as in PyTorch
    update: adam,
    corrections: biasCorrections,
    flops: 12,
    // The first steps move by about η·g/|g|: the update's error is η times g's relative error.
    tolerance: { update: (learningRate, gradMagnitude, grad, { epsilon }) => learningRate * (1 + gradMagnitude / (Math.abs(grad) + epsilon)) },
    pytorch: 'torch.optim.Adam',
  },
  rmsprop: {
    code: 3,
    constants: {
      alpha: { default: 0.99, override: 'RMSPROP_ALPHA', range: 'unit' },
      epsilon: { default: 1e-8, override: 'EPSILON', range: 'positive' },
    },
    defaultLearningRate: 0.001,
    stateSlots: 1,
    nonNegativeSlots: [0],
    // PyTorch's RMSprop: v ← α·v + (1 − α)·g²;  w ← w − η·g/(√v + ε)
    update: (param, grad, state, k, { alpha, epsilon }, { learningRate }) => {
      const v = state[0];
      v[k] = alpha * v[k] + (1 - alpha) * grad * grad;
      return param - (learningRate * grad) / (Math.sqrt(v[k]) + epsilon);
    },
    flops: 7,
    // v holds at least (1 − α)·g²: a step moves by at most η/√(1 − α), and its error is that times g's relative error.
    tolerance: { update: (learningRate, gradMagnitude, grad, { alpha, epsilon }) => (learningRate * (1 + gradMagnitude / (Math.abs(grad) + epsilon))) / Math.sqrt(1 - alpha) },
    pytorch: 'torch.optim.RMSprop',
  },
  adamw: {
    code: 4,
    constants: ADAM_CONSTANTS,
    defaultLearningRate: 0.001,
    stateSlots: 2,
    nonNegativeSlots: [1],
    decoupledDecay: { default: 0.01 },
    // PyTorch's AdamW: w ← w·(1 − η·λ), then Adam's step
    update: (param, grad, state, k, constants, values) => adam(param * (1 - values.learningRate * values.weightDecay), grad, state, k, constants, values),
    corrections: biasCorrections,
    flops: 14,
    // As Adam's; the decay's rounding is relative to w.
    tolerance: { update: (learningRate, gradMagnitude, grad, { epsilon }) => learningRate * (1 + gradMagnitude / (Math.abs(grad) + epsilon)) },
    pytorch: 'torch.optim.AdamW',
  },
} as const satisfies Record<OptimizerKind, OptimizerOp>;

// Each specification's fields are its record's constants (checked by the compiler both ways).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const specsAgree: Same<OptimizerSpec, { [K in OptimizerKind]: { kind: K } & { -readonly [C in keyof (typeof TABLE)[K]['constants']]: number } & { weightDecay?: number } }[OptimizerKind]> = true;
void specsAgree;

/** Every optimizer's record, by name. */
export const OPTIMIZER_OPS: { readonly [K in OptimizerKind]: OptimizerOp } = TABLE;

/** The optimizers, in the order choices list them. */
export const OPTIMIZER_NAMES = Object.keys(TABLE) as [OptimizerKind, ...OptimizerKind[]];

/** An optimizer specification's constants, by name (its weight decay aside). */
export function constantsOf(optimizer: OptimizerSpec): Record<string, number> {
  const { kind: _kind, weightDecay: _decay, ...constants } = optimizer;
  return constants;
}

/** The specification's weight decay λ, or its optimizer's default. */
export function weightDecayOf(optimizer: OptimizerSpec): number {
  return optimizer.weightDecay ?? OPTIMIZER_OPS[optimizer.kind].decoupledDecay?.default ?? 0;
}
