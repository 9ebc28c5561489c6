// What the interop tests share: networks with every activation at several depths and
// widths, seeded inputs, and how far a float32 engine's prediction may stray from the
// float64 reference's.

import { paramLayout, paramView } from '../../src/model/layout.ts';
import { layerInputs, layerParameter, type Activation, type LayerSpec, type ModelSpec } from '../../src/model/model.ts';
import { ACTIVATION_OPS, type ElementwiseActivationOp } from '../../src/model/ops/activations.ts';
import { seededRandom } from '../../src/data/random.ts';
import { createModel, type Model } from '../../src/model/network.ts';
import { forward } from '../../src/reference/backprop.ts';

export interface NetworkCase {
  name: string;
  spec: ModelSpec;
}

const spec = (inputSize: number, layers: [number, Activation, Partial<LayerSpec>?][], loss: ModelSpec['loss'], trainBiases = true): ModelSpec => ({
  inputSize,
  layers: layers.map(([units, activation, more]) => ({ units, activation, ...more })),
  loss,
  trainBiases,
});

/** Every activation (softmax last), depths 1 to 4, widths 1 to 128. */
export const NETWORK_CASES: NetworkCase[] = [
  { name: '2-3-2 sigmoid, half-sse', spec: spec(2, [[3, 'sigmoid'], [2, 'sigmoid']], 'half-sse') },
  { name: '4-8 tanh-3 softmax, cross-entropy', spec: spec(4, [[8, 'tanh'], [3, 'softmax']], 'cross-entropy') },
  { name: '5-16 relu-16 linear-2 linear, mse, frozen biases', spec: spec(5, [[16, 'relu'], [16, 'linear'], [2, 'linear']], 'mse', false) },
  { name: '6-1 sigmoid, binary cross-entropy', spec: spec(6, [[1, 'sigmoid']], 'cross-entropy') },
  { name: '3-4 linear-4 relu-2 tanh, sse', spec: spec(3, [[4, 'linear'], [4, 'relu'], [2, 'tanh']], 'sse') },
  { name: '100-128 relu-64 tanh-32 sigmoid-10 softmax, cross-entropy', spec: spec(100, [[128, 'relu'], [64, 'tanh'], [32, 'sigmoid'], [10, 'softmax']], 'cross-entropy') },
  { name: '6-8 leaky-relu (0.2)-7 elu-5 softplus-3 linear, huber', spec: spec(6, [[8, 'leaky-relu', { negativeSlope: 0.2 }], [7, 'elu'], [5, 'softplus'], [3, 'linear']], 'huber') },
  { name: '5-9 silu (dropout 0.3)-4 leaky-relu-2 sigmoid, cross-entropy', spec: spec(5, [[9, 'silu', { dropout: 0.3 }], [4, 'leaky-relu'], [2, 'sigmoid']], 'cross-entropy') },
  { name: '4-6 gelu-5 gelu-2 linear, mse', spec: spec(4, [[6, 'gelu'], [5, 'gelu'], [2, 'linear']], 'mse') },
];

/** A model with seeded weights (the library's initialisation) and seeded non-zero biases. */
export function seededModel(networkSpec: ModelSpec, seed: number): Model {
  const model = createModel(networkSpec, { seed });
  const random = seededRandom(`biases ${seed}`);
  networkSpec.layers.forEach((_, l) => {
    const biases = paramView(model.layout, model.params, l, 'biases');
    for (let j = 0; j < biases.length; j++) biases[j] = random() - 0.5;
  });
  return model;
}

/** Seeded inputs in [−2, 2): (rows, IN), float32-representable so every engine sees the same data. */
export function seededInputs(inputSize: number, rows: number, seed: number): Float64Array {
  const random = seededRandom(`inputs ${seed}`);
  return Float64Array.from({ length: rows * inputSize }, () => Math.fround(4 * random() - 2));
}

/** The reference's prediction: (rows, OUT); or, given `layer`, that layer's out (rows, units). */
export function referencePredict(model: Model, inputs: Float64Array, rows: number, layer = model.spec.layers.length - 1): Float64Array {
  const values = forward(model.spec, model.layout, model.params, inputs, rows);
  return values.out[layer];
}

/** The weights and biases as float32 values: what a float32 file holds. */
export function asFloat32(params: Float64Array): Float64Array {
  return params.map(Math.fround);
}

export const FLOAT32_UNIT_ROUNDOFF = 2 ** -24;
/** Standard deviations of the probabilistic bound on a sum's rounding error (below). */
const LAMBDA = 6;
/**
 * Units of roundoff per layer for what the sum's bound leaves out: rounding each weight and
 * bias to float32 (1 each), the activation's evaluation (ONNX Runtime's and TensorFlow.js's
 * sigmoid, tanh and exp are within a few ulp), softmax's division (1).
 */
const HEADROOM = 8;

/** ε of one K-term float32 sum. */
function sumEpsilon(K: number): number {
  return (LAMBDA * Math.sqrt(K) + HEADROOM) * FLOAT32_UNIT_ROUNDOFF;
}

/**
 * How far a float32 forward pass may be from the float64 reference, element by element:
 * (rows, OUT), or (rows, units) of the layer given. The argument of src/check/tolerance.ts, for prediction alone:
 *
 * A K-term dot product summed in float32 is off by at most λ·√K·u·Σ|a_i·b_i| with
 * probability 1 − 2·exp(−λ²/2) (Higham & Mary, SIAM J. Sci. Comput. 41(5), 2019); λ = 6
 * fails for fewer than 1 sum in 10⁷. Errors the inputs of a sum already carry, at most
 * ε·M(in), come through it as ε·|W|·M(in). So each layer's net input is off by at most
 * ε_l·M(net) with
 *
 *   M(net) = |W|·M(in) + |b|,   ε_l = ε_{l−1} + (λ·√(IN+1) + HEADROOM)·u,
 *
 * and its output by ε_l·M(out), M(out) = s·M(net) + |out|, where s bounds the activation's
 * slope over the interval net ± ε_l·M(net) (the reference's |f′(net)| for the smooth ones,
 * to first order; 1 for ReLU wherever that interval reaches past 0) and |out| covers the
 * activation's own evaluation error. Softmax moves out_k by at most 2·out_k·max_j Δnet_j
 * when every net input moves by at most Δnet_j, and adds a K-term sum of its own.
 * The inputs are float32 values already, so the data adds nothing.
 */
export function float32PredictionTolerance(model: Model, inputs: Float64Array, rows: number, layer = model.spec.layers.length - 1): Float64Array {
  const { spec, params } = model;
  const tolerances: Float64Array[] = [];
  const layout = paramLayout(spec);
  const values = forward(spec, layout, params, inputs, rows);
  let epsilon = 0;
  let inMagnitude = inputs.map(Math.abs);
  spec.layers.forEach((layer, l) => {
    const IN = layerInputs(spec, l);
    const OUT = layer.units;
    const w = paramView(layout, params, l, 'weights');
    const b = paramView(layout, params, l, 'biases');
    epsilon += sumEpsilon(IN + 1);
    const net = values.net[l];
    const out = values.out[l];
    const netMagnitude = new Float64Array(rows * OUT);
    for (let s = 0; s < rows; s++) {
      for (let j = 0; j < OUT; j++) {
        let sum = Math.abs(b[j]);
        for (let i = 0; i < IN; i++) sum += Math.abs(w[j * IN + i]) * inMagnitude[s * IN + i];
        netMagnitude[s * OUT + j] = sum;
      }
    }
    const outMagnitude = new Float64Array(rows * OUT);
    if (layer.activation === 'softmax') epsilon += sumEpsilon(OUT);
    for (let s = 0; s < rows; s++) {
      let rowMax = 0;
      for (let j = 0; j < OUT; j++) rowMax = Math.max(rowMax, netMagnitude[s * OUT + j]);
      for (let j = 0; j < OUT; j++) {
        const k = s * OUT + j;
        const o = out[k];
        let carried: number;
        switch (layer.activation) {
          case 'softmax':
            carried = 2 * o * rowMax;
            break;
          case 'sigmoid':
            carried = o * (1 - o) * netMagnitude[k];
            break;
          case 'tanh':
            carried = (1 - o * o) * netMagnitude[k] + ((ACTIVATION_OPS.tanh.tolerance.evaluation ?? 0) * 2 ** -24) / epsilon;
            break;
          case 'relu':
            carried = net[k] > -epsilon * netMagnitude[k] ? netMagnitude[k] : 0;
            break;
          case 'linear':
            carried = netMagnitude[k];
            break;
          default: {
            // The others by their records: the slope, and its jump where a kink lies within the error.
            const op = ACTIVATION_OPS[layer.activation] as ElementwiseActivationOp;
            const parameter = layerParameter(layer);
            const jump = op.tolerance.kink && Math.abs(net[k]) <= epsilon * netMagnitude[k] ? op.tolerance.kink(parameter) : 0;
            carried = (Math.abs(op.derivative(net[k], o, parameter)) + jump) * netMagnitude[k] + ((op.tolerance.evaluation ?? 0) * 2 ** -24) / epsilon;
          }
        }
        outMagnitude[k] = carried + Math.abs(o);
      }
    }
    inMagnitude = outMagnitude;
    tolerances.push(outMagnitude.map((m) => epsilon * m));
  });
  return tolerances[layer];
}

/** The largest |got − want| / tolerance over all elements: at most 1 when within tolerance. */
export function worstRatio(got: ArrayLike<number>, want: ArrayLike<number>, tolerance: ArrayLike<number>): number {
  if (got.length !== want.length) throw new Error(`expected ${want.length} values, got ${got.length}`);
  let worst = 0;
  for (let k = 0; k < want.length; k++) {
    const difference = Math.abs(got[k] - want[k]);
    worst = Math.max(worst, difference === 0 ? 0 : difference / tolerance[k]);
    if (Number.isNaN(got[k])) return Infinity;
  }
  return worst;
}

/** Where two arrays first differ (undefined if nowhere): quicker to read, and to compute, than a diff of every value. */
export function firstDifference(got: ArrayLike<number>, want: ArrayLike<number>): string | undefined {
  if (got.length !== want.length) return `${got.length} values where ${want.length} were expected`;
  for (let k = 0; k < want.length; k++) if (!Object.is(got[k], want[k])) return `[${k}]: ${got[k]} where ${want[k]} was expected`;
  return undefined;
}
