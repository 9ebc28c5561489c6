// The activations, one record each: what the float64 reference computes, the code the
// kernels know it by (its WGSL is `fn <name>_activate` and `fn <name>_derivative` in
// shaders/ops.wgsl), how its float32 error is bounded, how it initialises, and its names
// in ONNX, Keras / TensorFlow.js and PyTorch. docs/ops.md says what adding one takes.

/** A value as a formula shows it: a symbol (`net_h1`), or a number with its factor form (`(−0.3)`). */
export interface Shown {
  text: string;
  /** As a factor in a product: negative numbers in parentheses. */
  factor: string;
  /** A symbol rather than a number: products are written by juxtaposition, `out(1 − out)`. */
  symbolic: boolean;
}

/** What every activation record holds. */
interface ActivationBase {
  /** Its code in the kernels: unique, and fixed once models have been compiled with it. */
  code: number;
  /**
   * ∂out/∂net from the neuron's net input and output (softmax: the diagonal of its Jacobian;
   * the output stage uses the whole Jacobian).
   */
  derivative(net: number, out: number, parameter: number): number;
  /** Whether `derivative` reads net: the kernels then keep every layer's net for the backward pass. */
  derivativeNeedsNet: boolean;
  /** The one layer field it takes, with its default (absent: the parameter is 0 and unused). */
  parameter?: { field: string; default: number; check(value: number): string | undefined };
  /** The weights' initialisation: He (normal, √(2/fan-in)) for the relu family, Glorot (uniform) otherwise. */
  init: 'he' | 'glorot';
  names: {
    /**
     * ONNX: its operator (Identity for linear, written as no node); the attribute its
     * parameter goes in; attributes it must have (each with ONNX's default, for a file that
     * leaves it out); and `timesInput` where it is the operator's output times its input
     * (silu: Sigmoid, then Mul). None where ONNX has no equivalent.
     */
    onnx?: { op: string; parameterAttribute?: string; attributes?: Record<string, { value: number | string; onnxDefault: number | string }>; timesInput?: true };
    /** The activation string of a Keras / TensorFlow.js Dense layer; none where Keras has it as a layer of its own (see kerasLayer). */
    keras?: string;
    /** The Keras layer it is, after a linear Dense: its class, the config field of its parameter, and Keras's default for it. */
    kerasLayer?: { className: string; parameterConfig: string; kerasDefault: number };
    /** PyTorch: the nn module after a Linear (none for linear) and the function of `net`; `{p}` is the parameter. */
    pytorch: { module?: string; functional: string };
  };
  /** The articles' way of writing out = f(net) and its slope (examples/formulas.ts); none: out = net. */
  formula: { out?(net: Shown, layer: Shown[], parameter: number): string; slope(out: Shown, net: Shown, parameter: number): string };
}

/** An element-wise activation: out = f(net). */
export interface ElementwiseActivationOp extends ActivationBase {
  kind: 'elementwise';
  f(net: number, parameter: number): number;
  tolerance: {
    /**
     * How fast the slope moves: |∂f′/∂net| and |∂f′/∂out| at this point (first order; the
     * moves the float32 error makes are small). A kink where f′ jumps is left aside.
     */
    curvature(net: number, out: number, parameter: number): { net: number; out: number };
    /**
     * Error of its float32 evaluation not relative to its value, in units of roundoff
     * (u = 2⁻²⁴): exp(x) − 1 near 0, log near 1 (WGSL allows 2⁻²¹ there).
     */
    evaluation?: number;
    /** The jump of f′ at net = 0 (relu's 0 to 1), for bounds that must hold across the kink. */
    kink?(parameter: number): number;
  };
}

/** Softmax: a function of the whole row of net inputs, on the output layer only. */
export interface RowActivationOp extends ActivationBase {
  kind: 'row';
  row(net: ArrayLike<number>): Float64Array;
  tolerance: {
    /** How far out_k moves when every net input moves by at most Δ: out_k's magnitude, per unit of Δ. */
    out(out: number): number;
    /** δ_k = out_k(g_k − Σ_j out_j g_j): its magnitude from the loss gradients' magnitudes g. */
    delta(out: number, outMagnitude: number, gradientMagnitudeSum: number): number;
  };
}

export type ActivationOp = ElementwiseActivationOp | RowActivationOp;

export function sigmoid(net: number): number {
  return 1 / (1 + Math.exp(-net));
}

/** softmax(net)_k = exp(net_k − max) / Σ_j exp(net_j − max); subtracting the max avoids overflow. */
export function softmax(net: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let k = 0; k < net.length; k++) max = Math.max(max, net[k]);
  const out = new Float64Array(net.length);
  let sum = 0;
  for (let k = 0; k < net.length; k++) {
    out[k] = Math.exp(net[k] - max);
    sum += out[k];
  }
  for (let k = 0; k < net.length; k++) out[k] /= sum;
  return out;
}

const noCurvature = () => ({ net: 0, out: 0 });

/** GELU's tanh approximation, as PyTorch's nn.GELU(approximate='tanh'): 0.5x(1 + tanh(u)), u = √(2/π)(x + 0.044715x³). */
const GELU = { c: Math.sqrt(2 / Math.PI), k: 0.044715 };

function gelu(net: number): { t: number; du: number; d2u: number } {
  const t = Math.tanh(GELU.c * (net + GELU.k * net ** 3));
  return { t, du: GELU.c * (1 + 3 * GELU.k * net * net), d2u: 6 * GELU.c * GELU.k * net };
}

/** An activation's name, as the model file and the API give it. */
export type Activation = 'sigmoid' | 'linear' | 'tanh' | 'relu' | 'softmax' | 'silu' | 'gelu' | 'elu' | 'softplus' | 'leaky-relu';
/** The element-wise activations: every one but softmax, a function of the whole row. */
export type ElementwiseActivation = Exclude<Activation, 'softmax'>;
/** The layer fields of the activations' parameters (e.g. leaky-relu's `negativeSlope`). */
export type ActivationParameterField = 'negativeSlope';

/** The table, in the order the choices are listed (the codes are separate and fixed). */
const TABLE = {
  sigmoid: {
    kind: 'elementwise',
    code: 1,
    f: (net) => sigmoid(net),
    derivative: (_net, out) => out * (1 - out),
    derivativeNeedsNet: false,
    init: 'glorot',
    // ∂/∂out of out(1 − out)
    tolerance: { curvature: (_net, out) => ({ net: 0, out: Math.abs(1 - 2 * out) }) },
    names: { onnx: { op: 'Sigmoid' }, keras: 'sigmoid', pytorch: { module: 'nn.Sigmoid()', functional: 'torch.sigmoid(net)' } },
    formula: {
      out: (net) => `1/(1 + e^(−${net.factor}))`,
      slope: (out) => `${out.factor}${out.symbolic ? '' : '·'}(1 − ${out.factor})`,
    },
  },
  linear: {
    kind: 'elementwise',
    code: 0,
    f: (net) => net,
    derivative: () => 1,
    derivativeNeedsNet: false,
    init: 'glorot',
    tolerance: { curvature: noCurvature },
    names: { onnx: { op: 'Identity' }, keras: 'linear', pytorch: { functional: 'net' } },
    formula: { slope: () => '1' },
  },
  tanh: {
    kind: 'elementwise',
    code: 2,
    f: (net) => Math.tanh(net),
    derivative: (_net, out) => 1 - out * out,
    derivativeNeedsNet: false,
    init: 'glorot',
    // ops.wgsl's tanh is (1 − e)/(1 + e) with e = exp(−2|x|): near 0, 1 − e cancels and
    // keeps exp's error, 3 ulp of e ≈ 1 (WGSL's bound there), halved by 1 + e: 1.5u, not
    // relative to the value; 2u with the division's rounding.
    tolerance: { curvature: (_net, out) => ({ net: 0, out: 2 * Math.abs(out) }), evaluation: 2 },
    names: { onnx: { op: 'Tanh' }, keras: 'tanh', pytorch: { module: 'nn.Tanh()', functional: 'torch.tanh(net)' } },
    formula: { out: (net) => `tanh(${net.text})`, slope: (out) => `(1 − ${out.factor}²)` },
  },
  relu: {
    kind: 'elementwise',
    code: 3,
    f: (net) => (net > 0 ? net : 0),
    derivative: (_net, out) => (out > 0 ? 1 : 0),
    derivativeNeedsNet: false,
    init: 'he',
    tolerance: { curvature: noCurvature, kink: () => 1 },
    names: { onnx: { op: 'Relu' }, keras: 'relu', pytorch: { module: 'nn.ReLU()', functional: 'torch.relu(net)' } },
    formula: { out: (net) => `max(0, ${net.text})`, slope: (out) => `[${out.factor} > 0]` },
  },
  softmax: {
    kind: 'row',
    code: 4,
    row: softmax,
    derivative: (_net, out) => out * (1 - out),
    derivativeNeedsNet: false,
    init: 'glorot',
    tolerance: {
      // Moving every net input by Δ moves out_k by at most 2·out_k·Δ.
      out: (out) => 2 * out,
      // |out_k|·(|g_k| + Σ_j out_j |g_j|) ≤ (|out_k| + M(out_k))·2·Σ_j M(g_j)
      delta: (out, outMagnitude, gradientMagnitudeSum) => (Math.abs(out) + outMagnitude) * 2 * gradientMagnitudeSum,
    },
    names: { onnx: { op: 'Softmax' }, keras: 'softmax', pytorch: { module: 'nn.Softmax(dim=1)', functional: 'torch.softmax(net, dim=1)' } },
    formula: {
      out: (net, layer) => `e^${net.factor}/(${layer.map((n) => `e^${n.factor}`).join(' + ')})`,
      slope: (out) => `${out.factor}${out.symbolic ? '' : '·'}(1 − ${out.factor})`,
    },
  },
  silu: {
    kind: 'elementwise',
    code: 5,
    // x·σ(x), PyTorch's nn.SiLU (Keras's swish)
    f: (net) => net * sigmoid(net),
    derivative: (net) => sigmoid(net) * (1 + net * (1 - sigmoid(net))),
    derivativeNeedsNet: true,
    init: 'he',
    // f″ = σ(1 − σ)·(2 + x(1 − 2σ))
    tolerance: { curvature: (net) => ({ net: Math.abs(sigmoid(net) * (1 - sigmoid(net)) * (2 + net * (1 - 2 * sigmoid(net)))), out: 0 }) },
    names: { onnx: { op: 'Sigmoid', timesInput: true }, keras: 'swish', pytorch: { module: 'nn.SiLU()', functional: 'F.silu(net)' } },
    formula: {
      out: (net) => `${net.factor}/(1 + e^(−${net.factor}))`,
      slope: (_out, net) => `σ(${net.text})·(1 + ${net.factor}·(1 − σ(${net.text})))`,
    },
  },
  gelu: {
    kind: 'elementwise',
    code: 6,
    f: (net) => 0.5 * net * (1 + gelu(net).t),
    // ½(1 + t) + ½x(1 − t²)·u′
    derivative: (net) => {
      const { t, du } = gelu(net);
      return 0.5 * (1 + t) + 0.5 * net * (1 - t * t) * du;
    },
    derivativeNeedsNet: true,
    init: 'he',
    // f″ = (1 − t²)·u′ + ½x(1 − t²)(u″ − 2t·u′²)
    tolerance: {
      curvature: (net) => {
        const { t, du, d2u } = gelu(net);
        return { net: Math.abs((1 - t * t) * du + 0.5 * net * (1 - t * t) * (d2u - 2 * t * du * du)), out: 0 };
      },
      // For x < 0, 1 + t cancels: it is known to about 3u absolutely (t near −1 is spaced u/2,
      // and tanh's 1 − e and division round), and ½x scales that by up to 5 (|x| ≤ 10, past
      // which 1 + t is 0 and so is the product): 15u, not relative to the value.
      evaluation: 16,
    },
    names: {
      // TensorFlow.js's gelu is the erf form, and its gelu_new (this one) does not load from a model.json.
      onnx: { op: 'Gelu', attributes: { approximate: { value: 'tanh', onnxDefault: 'none' } } },
      pytorch: { module: "nn.GELU(approximate='tanh')", functional: "F.gelu(net, approximate='tanh')" },
    },
    formula: {
      out: (net) => `½·${net.factor}·(1 + tanh(0.7978845608·(${net.text} + 0.044715·${net.factor}³)))`,
      slope: (_out, net) => `GELU′(${net.text})`,
    },
  },
  elu: {
    kind: 'elementwise',
    code: 7,
    // PyTorch's nn.ELU with α = 1: x, or e^x − 1 below 0
    f: (net) => (net > 0 ? net : Math.expm1(net)),
    derivative: (net) => (net > 0 ? 1 : Math.exp(net)),
    derivativeNeedsNet: true,
    init: 'he',
    // In f32, e^x − 1 near 0 is off by e^x's few ulps of 1, not of its value.
    tolerance: { curvature: (net) => ({ net: net > 0 ? 0 : Math.exp(net), out: 0 }), evaluation: 4 },
    names: { onnx: { op: 'Elu', attributes: { alpha: { value: 1, onnxDefault: 1 } } }, keras: 'elu', pytorch: { module: 'nn.ELU()', functional: 'F.elu(net)' } },
    formula: {
      out: (net) => `(${net.text} > 0 ? ${net.text} : e^${net.factor} − 1)`,
      slope: (_out, net) => `(${net.text} > 0 ? 1 : e^${net.factor})`,
    },
  },
  softplus: {
    kind: 'elementwise',
    code: 8,
    // PyTorch's nn.Softplus (β = 1): log(1 + e^x), and x itself past its threshold of 20
    f: (net) => (net > 20 ? net : Math.log1p(Math.exp(net))),
    derivative: (net) => (net > 20 ? 1 : sigmoid(net)),
    derivativeNeedsNet: true,
    init: 'he',
    // f″ = σ(1 − σ); WGSL's log is off by up to 2⁻²¹ (8u) absolute near 1, and log(1 + e^x) by e^x more where 1 + e^x rounds to 1.
    tolerance: { curvature: (net) => ({ net: net > 20 ? 0 : sigmoid(net) * (1 - sigmoid(net)), out: 0 }), evaluation: 9 },
    names: { onnx: { op: 'Softplus' }, keras: 'softplus', pytorch: { module: 'nn.Softplus()', functional: 'F.softplus(net)' } },
    formula: {
      out: (net) => `log(1 + e^${net.factor})`,
      slope: (_out, net) => `1/(1 + e^(−${net.factor}))`,
    },
  },
  'leaky-relu': {
    kind: 'elementwise',
    code: 9,
    // PyTorch's nn.LeakyReLU: x, or its negative slope times x below 0
    f: (net, slope) => (net > 0 ? net : slope * net),
    derivative: (_net, out, slope) => (out > 0 ? 1 : slope),
    derivativeNeedsNet: false,
    parameter: { field: 'negativeSlope', default: 0.01, check: (slope) => (slope >= 0 ? undefined : 'a number ≥ 0 (the slope for negative net inputs)') },
    init: 'he',
    tolerance: { curvature: noCurvature, kink: (slope) => Math.abs(1 - slope) },
    names: {
      onnx: { op: 'LeakyRelu', parameterAttribute: 'alpha' },
      kerasLayer: { className: 'LeakyReLU', parameterConfig: 'alpha', kerasDefault: 0.3 },
      pytorch: { module: 'nn.LeakyReLU({p})', functional: 'F.leaky_relu(net, {p})' },
    },
    formula: {
      out: (net, _layer, slope) => `max(${net.text}, ${slope}·${net.factor})`,
      slope: (out, _net, slope) => `(${out.factor} > 0 ? 1 : ${slope})`,
    },
  },
} as const satisfies Record<Activation, ActivationOp>;

// The names above are the table's, element-wise where its records are, and the parameter
// fields those its records take (checked by the compiler both ways).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const tableAgrees: [
  Same<Activation, keyof typeof TABLE>,
  Same<ElementwiseActivation, { [K in Activation]: (typeof TABLE)[K]['kind'] extends 'elementwise' ? K : never }[Activation]>,
  Same<ActivationParameterField, { [K in Activation]: (typeof TABLE)[K] extends { parameter: { field: infer F extends string } } ? F : never }[Activation]>,
] = [true, true, true];
void tableAgrees;

/** Every activation's record, by name. */
export const ACTIVATION_OPS: { readonly [K in Activation]: (typeof TABLE)[K] extends { kind: 'row' } ? RowActivationOp : ElementwiseActivationOp } = TABLE;

/** The activations, in the order choices list them. */
export const ACTIVATION_NAMES = Object.keys(TABLE) as [Activation, ...Activation[]];

/** The layer fields that activations' parameters take. */
export const ACTIVATION_PARAMETER_FIELDS = ACTIVATION_NAMES.flatMap((name) => {
  const parameter = (ACTIVATION_OPS[name] as ActivationOp).parameter;
  return parameter ? [parameter.field as ActivationParameterField] : [];
});
