// How far a float32 GPU step may stray from the float64 reference, element by element.
//
// A K-term dot product summed in f32 is off by at most γ_K·Σ|a_i·b_i| with γ_K ≈ K·u,
// u = 2⁻²⁴, in the worst case (Higham, Accuracy and Stability of Numerical Algorithms,
// §3.1), and by at most λ·√K·u·Σ|a_i·b_i| with probability 1 − 2·exp(−λ²/2) when the
// roundings are independent (Higham & Mary, "A new approach to probabilistic rounding
// error analysis", SIAM J. Sci. Comput. 41(5), 2019). We take λ = 6: a bound that fails
// for fewer than 1 sum in 10⁷. The worst case grows with K and, over layers hundreds
// wide, would let through the very errors a wrong kernel makes.
//
// If a sum's operands already carry errors of at most ε_a·M(a_i), it is off by at most
// (γ + ε_a)·Σ M(a_i)·|b_i|. So every element gets
//
//   |gpu − reference| ≤ ε · M,
//
// where M, its magnitude, is the step recomputed from the reference's buffers with every
// value replaced by a bound on its size before cancellation (|W|·M(in) + |b| for a net
// input, the deltas above carried back through |W| for a hidden delta, …), and ε adds up
// (λ·√K + HEADROOM)·u over the sums on the path that produces the buffer. Nothing here
// uses the GPU's results.

import { parseLayerBuffer } from '../model/buffers.ts';
import type { ParamLayout } from '../model/layout.ts';
import { paramView } from '../model/layout.ts';
import type { Activation, ModelSpec } from '../model/model.ts';
import { derivativeFromOut } from '../reference/activations.ts';
import { layerInputs, outputActivation, outputSize } from '../model/model.ts';
import type { OptimizerSpec } from '../model/optimizer.ts';
import type { Tolerance } from './compare.ts';
import { InputError } from '../errors.ts';

/** u = 2⁻²⁴: the largest relative error of rounding a real number to the nearest float32. */
export const FLOAT32_UNIT_ROUNDOFF = 2 ** -24;

/** Standard deviations of the probabilistic bound. */
const LAMBDA = 6;

/**
 * Units of roundoff per sum for what the dot-product bound leaves out: rounding the
 * float64 data and weights to f32 (u each), exp's error in sigmoid, tanh and softmax
 * (WGSL allows 3 + 2|x| ulp), the divisions in softmax and in a mean, the optimizer's few
 * operations.
 */
const HEADROOM = 8;

/** ε of one sum of K terms. */
function sumEpsilon(K: number): number {
  return (LAMBDA * Math.sqrt(K) + HEADROOM) * FLOAT32_UNIT_ROUNDOFF;
}

/** Reads one of the reference's buffers of the step being checked. */
export type ReferenceBuffers = (name: string) => Float64Array;

/** The training step the tolerances are for: the network, its parameter layout, the batch size and the optimizer. */
export interface ToleranceSetting {
  spec: ModelSpec;
  layout: ParamLayout;
  /** Samples per step (B). */
  batch: number;
  learningRate: number;
  optimizer: OptimizerSpec;
}

/** |∂out/∂net| (the reference's derivative), and how fast that slope moves as out does, from out. */
function slopes(activation: Exclude<Activation, 'softmax'>, out: number): { slope: number; curvature: number } {
  const curvature = activation === 'sigmoid' ? Math.abs(1 - 2 * out) : activation === 'tanh' ? 2 * Math.abs(out) : 0;
  return { slope: Math.abs(derivativeFromOut(activation, out)), curvature };
}

/** The factor of the squared losses' gradient: ∂E/∂out = c·(out − target). */
function lossScale(loss: string, outputs: number): number {
  return loss === 'half-sse' ? 1 : loss === 'mse' ? 2 / outputs : 2;
}

/**
 * Element-wise tolerances for every buffer of one training step, from the reference's
 * buffers of that step.
 */
export function float32Tolerances(setting: ToleranceSetting, reference: ReferenceBuffers): (name: string) => Tolerance {
  const { spec, layout, batch: B, learningRate } = setting;
  const L = spec.layers.length;
  const K = outputSize(spec);
  const units = (l: number) => spec.layers[l].units;
  // The weights after the update stand in for the ones the step used: they differ by one small step.
  const params = reference('params');
  const weights = (l: number) => paramView(layout, params, l, 'weights');
  const biases = (l: number) => paramView(layout, params, l, 'biases');
  const abs = (values: Float64Array) => values.map(Math.abs);

  // ε of each buffer: the sums it has been through, added up.
  const forwardEpsilon: number[] = [];
  let epsilon = sumEpsilon(1); // the data rounded to f32
  for (let l = 0; l < L; l++) {
    epsilon += sumEpsilon(layerInputs(spec, l)) + (spec.layers[l].activation === 'softmax' ? sumEpsilon(units(l)) : 0);
    forwardEpsilon.push(epsilon);
  }
  const deltaEpsilon: number[] = new Array(L);
  deltaEpsilon[L - 1] = forwardEpsilon[L - 1] + sumEpsilon(K);
  for (let l = L - 2; l >= 0; l--) deltaEpsilon[l] = deltaEpsilon[l + 1] + sumEpsilon(units(l + 1));
  const gradEpsilon = Math.max(...deltaEpsilon) + sumEpsilon(B);
  const epsilonOf = (name: string): number => {
    if (name === 'input' || name === 'target') return sumEpsilon(1);
    if (name === 'loss') return deltaEpsilon[L - 1];
    if (name === 'grads' || name === 'params') return gradEpsilon;
    const buffer = parseLayerBuffer(name);
    if (!buffer) throw new InputError(`buffer ${name}`, 'has no tolerance');
    return buffer.kind === 'delta' ? deltaEpsilon[buffer.layer] : forwardEpsilon[buffer.layer];
  };

  // Forward: M(net) = |W|·M(in) + |b|; M(out) = |f′|·M(net) + |out|.
  const magnitude = new Map<string, Float64Array>();
  magnitude.set('input', abs(reference('input')));
  magnitude.set('target', abs(reference('target')));
  let inMagnitude = magnitude.get('input')!;
  for (let l = 0; l < L; l++) {
    const IN = layerInputs(spec, l);
    const OUT = units(l);
    const w = weights(l);
    const b = biases(l);
    const net = new Float64Array(B * OUT);
    for (let s = 0; s < B; s++) {
      for (let j = 0; j < OUT; j++) {
        let sum = Math.abs(b[j]);
        for (let i = 0; i < IN; i++) sum += Math.abs(w[j * IN + i]) * inMagnitude[s * IN + i];
        net[s * OUT + j] = sum;
      }
    }
    const outValues = reference(`layer${l}.out`);
    const activation = spec.layers[l].activation;
    const out = new Float64Array(B * OUT);
    for (let s = 0; s < B; s++) {
      let rowNet = 0;
      for (let j = 0; j < OUT; j++) rowNet = Math.max(rowNet, net[s * OUT + j]);
      for (let j = 0; j < OUT; j++) {
        const o = outValues[s * OUT + j];
        // softmax: moving every net input by Δ moves out_k by at most 2·out_k·Δ.
        const carried = activation === 'softmax' ? 2 * o * rowNet : slopes(activation, o).slope * net[s * OUT + j];
        out[s * OUT + j] = carried + Math.abs(o);
      }
    }
    magnitude.set(`layer${l}.net`, net);
    magnitude.set(`layer${l}.out`, out);
    inMagnitude = out;
  }

  // The loss and the output deltas.
  const out = reference(`layer${L - 1}.out`);
  const net = reference(`layer${L - 1}.net`);
  const target = reference('target');
  const outM = magnitude.get(`layer${L - 1}.out`)!;
  const netM = magnitude.get(`layer${L - 1}.net`)!;
  const loss = new Float64Array(B);
  const outputDelta = new Float64Array(B * K);
  const c = lossScale(spec.loss, K);
  const lossEpsilon = epsilonOf('loss');
  const activation = outputActivation(spec);
  for (let s = 0; s < B; s++) {
    const row = s * K;
    let lossSum = 0;
    let rowNetM = 0;
    let rowNet = 0;
    let targetSum = 0;
    let terms = 0; // Σ_j (|t_j| + |o_j| + M(o_j)): the pieces of every (t − o)
    for (let k = 0; k < K; k++) {
      rowNetM = Math.max(rowNetM, netM[row + k]);
      rowNet = Math.max(rowNet, Math.abs(net[row + k]));
      targetSum += Math.abs(target[row + k]);
      terms += Math.abs(target[row + k]) + Math.abs(out[row + k]) + outM[row + k];
    }
    for (let k = 0; k < K; k++) {
      const o = out[row + k];
      const t = target[row + k];
      const pieces = Math.abs(t) + Math.abs(o) + outM[row + k];
      if (spec.loss === 'cross-entropy' && activation === 'softmax') {
        // −t·(net − log Σ e^net), log Σ e^net ≤ max|net| + log K: each net input moves by
        // its M(net), the log-sum-exp by at most the largest.
        lossSum += Math.abs(t) * (Math.abs(net[row + k]) + rowNet + Math.log(K) + 2 * rowNetM);
        outputDelta[row + k] = (Math.abs(o) + outM[row + k]) * targetSum + Math.abs(t);
      } else if (spec.loss === 'cross-entropy') {
        // softplus(z) − t·z, softplus(z) ≤ max(z, 0) + log 2; it moves by |σ(z) − t|·Δz. δ = o − t.
        lossSum += Math.abs(o - t) * netM[row + k] + Math.abs(net[row + k]) * (1 + Math.abs(t)) + Math.LN2;
        outputDelta[row + k] = pieces;
      } else {
        // c/2·(t − o)² with t − o off by at most ε·pieces: off by c·|t − o|·ε·pieces to first
        // order and c/2·(ε·pieces)² to second, which is all that is left once out ≈ target.
        lossSum += c * Math.abs(t - o) * pieces + (c / 2) * lossEpsilon * pieces ** 2;
        if (activation === 'softmax') {
          outputDelta[row + k] = c * (Math.abs(o) + outM[row + k]) * 2 * terms;
        } else {
          const { slope, curvature } = slopes(activation, o);
          outputDelta[row + k] = c * (slope * pieces + Math.abs(o - t) * curvature * outM[row + k]);
        }
      }
    }
    loss[s] = lossSum;
  }
  magnitude.set('loss', loss);
  magnitude.set(`layer${L - 1}.delta`, outputDelta);

  // Hidden deltas: g = Σ_o δ_o·w_oh carried back through |W|, then times f′(out).
  for (let l = L - 2; l >= 0; l--) {
    const OUT = units(l);
    const NEXT = units(l + 1);
    const w = weights(l + 1);
    const nextDelta = reference(`layer${l + 1}.delta`);
    const nextM = magnitude.get(`layer${l + 1}.delta`)!;
    const outValues = reference(`layer${l}.out`);
    const outMagnitude = magnitude.get(`layer${l}.out`)!;
    const delta = new Float64Array(B * OUT);
    for (let s = 0; s < B; s++) {
      for (let h = 0; h < OUT; h++) {
        let g = 0;
        let gM = 0;
        for (let o = 0; o < NEXT; o++) {
          g += nextDelta[s * NEXT + o] * w[o * OUT + h];
          gM += nextM[s * NEXT + o] * Math.abs(w[o * OUT + h]);
        }
        // Hidden layers are never softmax (checkSpec).
        const { slope, curvature } = slopes(spec.layers[l].activation as Exclude<Activation, 'softmax'>, outValues[s * OUT + h]);
        delta[s * OUT + h] = slope * gM + Math.abs(g) * curvature * outMagnitude[s * OUT + h];
      }
    }
    magnitude.set(`layer${l}.delta`, delta);
  }

  // Gradients: mean_b δ_j·in_i, and their update.
  const grads = new Float64Array(layout.size);
  for (let l = 0; l < L; l++) {
    const IN = layerInputs(spec, l);
    const OUT = units(l);
    const input = l === 0 ? reference('input') : reference(`layer${l - 1}.out`);
    const inputM = l === 0 ? magnitude.get('input')! : magnitude.get(`layer${l - 1}.out`)!;
    const delta = reference(`layer${l}.delta`);
    const deltaM = magnitude.get(`layer${l}.delta`)!;
    const gw = paramView(layout, grads, l, 'weights');
    const gb = paramView(layout, grads, l, 'biases');
    for (let j = 0; j < OUT; j++) {
      let biasSum = 0;
      for (let s = 0; s < B; s++) biasSum += deltaM[s * OUT + j];
      gb[j] = biasSum / B;
      for (let i = 0; i < IN; i++) {
        let sum = 0;
        for (let s = 0; s < B; s++) {
          sum += deltaM[s * OUT + j] * Math.abs(input[s * IN + i]) + Math.abs(delta[s * OUT + j]) * inputM[s * IN + i];
        }
        gw[j * IN + i] = sum / B;
      }
    }
  }
  magnitude.set('grads', grads);
  const gradValues = reference('grads');
  const paramsM = params.map((p, k) => {
    if (setting.optimizer.kind === 'adam') {
      // The first steps move by about η·g/|g|: the update's error is η times g's relative error.
      return Math.abs(p) + learningRate * (1 + grads[k] / (Math.abs(gradValues[k]) + setting.optimizer.epsilon));
    }
    const accumulation = setting.optimizer.kind === 'momentum' ? 1 / (1 - setting.optimizer.momentum) : 1;
    return Math.abs(p) + learningRate * accumulation * grads[k];
  });
  magnitude.set('params', paramsM);

  return (name) => {
    const m = magnitude.get(name);
    if (!m) throw new InputError(`buffer ${name}`, 'has no tolerance');
    const epsilon = epsilonOf(name);
    return { atol: m.map((value) => epsilon * value), rtol: 0 };
  };
}
