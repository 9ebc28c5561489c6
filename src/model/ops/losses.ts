// The losses, one record each: a sample's loss and the pieces of its output deltas in
// float64, the code the kernels know it by (its WGSL is in shaders/ops.wgsl), how its
// float32 error is bounded, and its names in Keras / TensorFlow.js and PyTorch. Every
// loss is per sample; the loss of a batch is the mean of its samples' losses. docs/ops.md
// says what adding one takes.

/** What every loss record holds. */
interface LossBase {
  /** Its code in the kernels: unique, and fixed once models have been compiled with it. */
  code: number;
  /** Keras / TensorFlow.js names it is imported from (a model.json's training config); the first is exported. */
  keras: readonly string[];
}

/**
 * A loss summed over the outputs, E = Σ_k e(out_k, target_k): its WGSL is
 * `fn <name>_loss` and `fn <name>_gradient`.
 */
export interface ElementwiseLossOp extends LossBase {
  kind: 'elementwise';
  /** e_k: output k's part of a sample's loss. */
  loss(out: number, target: number, outputs: number): number;
  /** ∂e_k/∂out_k. */
  gradient(out: number, target: number, outputs: number): number;
  tolerance: {
    /**
     * How far e_k moves when target − out is off by ε·pieces (pieces = |t| + |o| + M(o), its
     * size before cancellation): the magnitude ε multiplies, second order included.
     */
    loss(out: number, target: number, pieces: number, epsilon: number, outputs: number): number;
    /** The magnitude of ∂e_k/∂out_k, from the same pieces. */
    gradient(out: number, target: number, pieces: number, outputs: number): number;
  };
  /** train.py's loss of `out` and `target`, per sample: a comment and the Python. */
  pytorch: { comment: string; code: string };
}

/**
 * A loss of probabilities taken from the logits (cross-entropy), with a softmax or sigmoid
 * output layer: its WGSL is `fn <name>_softmax_loss`, `fn <name>_sigmoid_loss` and
 * `fn <name>_delta`. The division by out in ∂E/∂out cancels against ∂out/∂net, so δ is
 * simple and stays finite where out rounds to 0 or 1.
 */
export interface LogitsLossOp extends LossBase {
  kind: 'logits';
  /** Output k's part after a softmax, from net and the row's log Σ_j e^{net_j}. */
  softmaxLoss(net: number, target: number, logSumExp: number): number;
  /** Output k's part after a sigmoid, from net. */
  sigmoidLoss(net: number, target: number): number;
  /** δ_k from out_k, t_k and the sum of the targets of the distribution out_k is in (the row for softmax; 1 for a sigmoid). */
  delta(out: number, target: number, targetSum: number): number;
  tolerance: {
    /** After a softmax: the magnitude of −t·(net − log Σ e^net), from |net|, the row's largest |net| and M(net), and K. */
    softmaxLoss(target: number, net: number, largestNet: number, largestNetMagnitude: number, outputs: number): number;
    /** After a sigmoid, from the net input's magnitude. */
    sigmoidLoss(out: number, target: number, net: number, netMagnitude: number): number;
    /** δ_k's magnitude. */
    delta(out: number, target: number, outMagnitude: number, targetSum: number): number;
  };
  pytorch: { softmax: { comment: string; code: string }; sigmoid: { comment: string; code: string } };
}

export type LossOp = ElementwiseLossOp | LogitsLossOp;

/** log(1 + e^z) without overflow. */
function softplus(z: number): number {
  return Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
}

/** A loss's name, as the model file and the API give it. */
export type Loss = 'half-sse' | 'sse' | 'mse' | 'cross-entropy';

/** The table, in the order the choices are listed. */
const TABLE = {
  'half-sse': {
    kind: 'elementwise',
    code: 0,
    loss: (out, target) => 0.5 * (target - out) ** 2,
    gradient: (out, target) => -(target - out),
    // ½(t − o)² off by |t − o|·Δ + ½Δ²; its gradient by Δ.
    tolerance: {
      loss: (out, target, pieces, epsilon) => Math.abs(target - out) * pieces + 0.5 * epsilon * pieces ** 2,
      gradient: (_out, _target, pieces) => pieces,
    },
    keras: [],
    pytorch: { comment: "½ Σ_k (t_k − out_k)², the articles' E_total", code: 'return 0.5 * ((target - out) ** 2).sum(dim=1)' },
  },
  sse: {
    kind: 'elementwise',
    code: 1,
    loss: (out, target) => (target - out) ** 2,
    gradient: (out, target) => -2 * (target - out),
    tolerance: {
      loss: (out, target, pieces, epsilon) => 2 * Math.abs(target - out) * pieces + epsilon * pieces ** 2,
      gradient: (_out, _target, pieces) => 2 * pieces,
    },
    keras: [],
    pytorch: { comment: 'Σ_k (t_k − out_k)²', code: 'return ((target - out) ** 2).sum(dim=1)' },
  },
  mse: {
    kind: 'elementwise',
    code: 2,
    loss: (out, target, outputs) => (target - out) ** 2 / outputs,
    gradient: (out, target, outputs) => (-2 * (target - out)) / outputs,
    tolerance: {
      loss: (out, target, pieces, epsilon, outputs) => ((2 / outputs) * Math.abs(target - out) * pieces + (1 / outputs) * epsilon * pieces ** 2),
      gradient: (_out, _target, pieces, outputs) => (2 / outputs) * pieces,
    },
    keras: ['mean_squared_error', 'meanSquaredError', 'mse'],
    pytorch: { comment: '(1/K) Σ_k (t_k − out_k)²', code: 'return ((target - out) ** 2).mean(dim=1)' },
  },
  'cross-entropy': {
    kind: 'logits',
    code: 3,
    // −t·log softmax(net)_k, with log softmax(net)_k = net_k − log Σ_j e^{net_j}
    softmaxLoss: (net, target, logSumExp) => -target * (net - logSumExp),
    // binary: −[t log σ(z) + (1 − t) log(1 − σ(z))] = softplus(z) − t·z
    sigmoidLoss: (net, target) => softplus(net) - target * net,
    delta: (out, target, targetSum) => out * targetSum - target,
    tolerance: {
      // log Σ e^net ≤ max|net| + log K: each net input moves by its M(net), the log-sum-exp by at most the largest.
      softmaxLoss: (target, net, largestNet, largestNetMagnitude, outputs) => Math.abs(target) * (Math.abs(net) + largestNet + Math.log(outputs) + 2 * largestNetMagnitude),
      // softplus(z) ≤ max(z, 0) + log 2; softplus(z) − t·z moves by |σ(z) − t|·Δz.
      sigmoidLoss: (out, target, net, netMagnitude) => Math.abs(out - target) * netMagnitude + Math.abs(net) * (1 + Math.abs(target)) + Math.LN2,
      delta: (out, target, outMagnitude, targetSum) => (Math.abs(out) + outMagnitude) * targetSum + Math.abs(target),
    },
    keras: ['categorical_crossentropy', 'categoricalCrossentropy', 'binary_crossentropy', 'binaryCrossentropy'],
    pytorch: {
      softmax: { comment: '−Σ_k t_k log softmax(net)_k, with log softmax(net) = net − log Σ_j e^net_j', code: 'return -(target * torch.log_softmax(net, dim=1)).sum(dim=1)' },
      sigmoid: {
        comment: 'binary: −Σ_k [t_k log σ(net_k) + (1 − t_k) log(1 − σ(net_k))], from net',
        code: 'return F.binary_cross_entropy_with_logits(net, target, reduction="none").sum(dim=1)',
      },
    },
  },
} as const satisfies Record<Loss, LossOp>;

/** Every loss's record, by name. */
export const LOSS_OPS: { readonly [K in Loss]: (typeof TABLE)[K] extends { kind: 'logits' } ? LogitsLossOp : ElementwiseLossOp } = TABLE;

/** The losses, in the order choices list them. */
export const LOSS_NAMES = Object.keys(TABLE) as [Loss, ...Loss[]];
