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
//
// One function per phase of the step, named as in src/reference/backprop.ts; what is
// particular to an op (an activation's slope and curvature, a loss's sensitivity, how
// an optimizer accumulates) comes from its record's `tolerance` (src/model/ops).

import { parseLayerBuffer } from '../model/buffers.ts';
import { paramView, type ParamLayout } from '../model/layout.ts';
import { layerInputs, layerParameter, outputSize, type ModelSpec } from '../model/model.ts';
import { ACTIVATION_OPS, type Activation, type ElementwiseActivationOp } from '../model/ops/activations.ts';
import { dropoutMask, drops } from '../model/dropout.ts';
import { LOSS_OPS } from '../model/ops/losses.ts';
import { constantsOf, OPTIMIZER_OPS, weightDecayOf, type OptimizerSpec } from '../model/ops/optimizers.ts';
import { derivative } from '../reference/activations.ts';
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
  /** The global norm the gradient is clipped to, if it is. */
  clipNorm?: number;
  /** The run's seed and the step's 0-based count: dropout's masks, where layers drop. */
  seed?: number;
  step?: number;
}

/** One step's buffers and the magnitudes M found so far, which each phase adds to. */
interface Step {
  setting: ToleranceSetting;
  reference: ReferenceBuffers;
  magnitude: Map<string, Float64Array>;
  /** ε of each buffer. */
  epsilon(name: string): number;
  /** Dropout's mask of each layer that drops (the reference's own, drawn again). */
  masks: (Float64Array | undefined)[];
}

/** The masks the reference drew in the step, by the same generator. */
function dropoutMasks(setting: ToleranceSetting): (Float64Array | undefined)[] {
  return setting.spec.layers.map((layer, l) => {
    if (!drops(layer.dropout)) return undefined;
    if (setting.seed === undefined || setting.step === undefined) throw new InputError(`layers[${l}].dropout`, "the tolerances of a layer that drops need the run's seed and the step: give them in the setting");
    return dropoutMask(layer.dropout, { seed: setting.seed, step: setting.step }, l, setting.batch, layer.units);
  });
}

/**
 * Element-wise tolerances for every buffer of one training step, from the reference's
 * buffers of that step.
 */
export function float32Tolerances(setting: ToleranceSetting, reference: ReferenceBuffers): (name: string) => Tolerance {
  const step: Step = { setting, reference, magnitude: new Map(), epsilon: epsilons(setting.spec, setting.batch), masks: dropoutMasks(setting) };
  forward(step);
  sampleLosses(step);
  outputDeltas(step);
  hiddenDeltas(step);
  layerGradients(step);
  optimizerStep(step);
  return (name) => {
    const m = step.magnitude.get(name);
    if (!m) throw new InputError(`buffer ${name}`, 'has no tolerance');
    const epsilon = step.epsilon(name);
    return { atol: m.map((value) => epsilon * value), rtol: 0 };
  };
}

/** ε of each buffer: the sums it has been through, added up. */
function epsilons(spec: ModelSpec, B: number): (name: string) => number {
  const L = spec.layers.length;
  const units = (l: number) => spec.layers[l].units;
  const forwardEpsilon: number[] = [];
  let epsilon = sumEpsilon(1); // the data rounded to f32
  for (let l = 0; l < L; l++) {
    epsilon += sumEpsilon(layerInputs(spec, l)) + (ACTIVATION_OPS[spec.layers[l].activation].kind === 'row' ? sumEpsilon(units(l)) : 0);
    forwardEpsilon.push(epsilon);
  }
  const deltaEpsilon: number[] = new Array(L);
  deltaEpsilon[L - 1] = forwardEpsilon[L - 1] + sumEpsilon(outputSize(spec));
  for (let l = L - 2; l >= 0; l--) deltaEpsilon[l] = deltaEpsilon[l + 1] + sumEpsilon(units(l + 1));
  const gradEpsilon = Math.max(...deltaEpsilon) + sumEpsilon(B);
  return (name) => {
    if (name === 'input' || name === 'target') return sumEpsilon(1);
    if (name === 'loss') return deltaEpsilon[L - 1];
    if (name === 'grads' || name === 'params') return gradEpsilon;
    const buffer = parseLayerBuffer(name);
    if (!buffer) throw new InputError(`buffer ${name}`, 'has no tolerance');
    return buffer.kind === 'delta' ? deltaEpsilon[buffer.layer] : forwardEpsilon[buffer.layer];
  };
}

/** The weights after the update stand in for the ones the step used: they differ by one small step. */
function weights(step: Step, l: number): Float64Array {
  return paramView(step.setting.layout, step.reference('params'), l, 'weights');
}

/**
 * M(net) = |W|·M(in) + |b|; M(out) = |f′|·M(net) + |out| (softmax: 2·out·the row's
 * largest M(net)), plus the activation's own evaluation error; times dropout's mask.
 */
function forward(step: Step): void {
  const { spec, layout, batch: B } = step.setting;
  const { reference, magnitude } = step;
  magnitude.set('input', reference('input').map(Math.abs));
  magnitude.set('target', reference('target').map(Math.abs));
  let inMagnitude = magnitude.get('input')!;
  spec.layers.forEach((layer, l) => {
    const IN = layerInputs(spec, l);
    const OUT = layer.units;
    const w = weights(step, l);
    const b = paramView(layout, reference('params'), l, 'biases');
    const net = new Float64Array(B * OUT);
    for (let s = 0; s < B; s++) {
      for (let j = 0; j < OUT; j++) {
        let sum = Math.abs(b[j]);
        for (let i = 0; i < IN; i++) sum += Math.abs(w[j * IN + i]) * inMagnitude[s * IN + i];
        net[s * OUT + j] = sum;
      }
    }
    const netValues = reference(`layer${l}.net`);
    const outValues = reference(`layer${l}.out`);
    const op = ACTIVATION_OPS[layer.activation];
    const parameter = layerParameter(layer);
    // An error of the activation's evaluation that is not relative to its value, as a magnitude ε_out multiplies.
    const evaluation = op.kind === 'elementwise' ? ((op.tolerance.evaluation ?? 0) * FLOAT32_UNIT_ROUNDOFF) / step.epsilon(`layer${l}.out`) : 0;
    const out = new Float64Array(B * OUT);
    for (let s = 0; s < B; s++) {
      let rowNet = 0;
      for (let j = 0; j < OUT; j++) rowNet = Math.max(rowNet, net[s * OUT + j]);
      for (let j = 0; j < OUT; j++) {
        const e = s * OUT + j;
        const o = outValues[e];
        // Before dropout, whose mask scales the output and its error alike.
        const keep = step.masks[l]?.[e] ?? 1;
        const undropped = keep === 1 ? o : op.kind === 'row' ? o : op.f(netValues[e], parameter);
        const carried = op.kind === 'row' ? op.tolerance.out(o) * rowNet : Math.abs(op.derivative(netValues[e], undropped, parameter)) * net[e];
        out[e] = keep * (carried + Math.abs(undropped) + evaluation);
      }
    }
    magnitude.set(`layer${l}.net`, net);
    magnitude.set(`layer${l}.out`, out);
    inMagnitude = out;
  });
}

/** The output layer's values of sample s, and their magnitudes: what the loss phases read. */
function outputRow(step: Step, s: number) {
  const { spec } = step.setting;
  const L = spec.layers.length;
  const K = outputSize(spec);
  const row = (values: Float64Array) => values.subarray(s * K, (s + 1) * K);
  return {
    K,
    layer: spec.layers[L - 1],
    net: row(step.reference(`layer${L - 1}.net`)),
    out: row(step.reference(`layer${L - 1}.out`)),
    target: row(step.reference('target')),
    netM: row(step.magnitude.get(`layer${L - 1}.net`)!),
    outM: row(step.magnitude.get(`layer${L - 1}.out`)!),
  };
}

/** |t| + |o| + M(o): the pieces of t − o before they cancel. */
function pieces(o: number, t: number, outM: number): number {
  return Math.abs(t) + Math.abs(o) + outM;
}

/** Each sample's loss: its terms' magnitudes, by the loss's record. */
function sampleLosses(step: Step): void {
  const { spec, batch: B } = step.setting;
  const op = LOSS_OPS[spec.loss];
  const epsilon = step.epsilon('loss');
  const loss = new Float64Array(B);
  for (let s = 0; s < B; s++) {
    const { K, layer, net, out, target, netM, outM } = outputRow(step, s);
    let largestNet = 0;
    let largestNetM = 0;
    for (let k = 0; k < K; k++) {
      largestNet = Math.max(largestNet, Math.abs(net[k]));
      largestNetM = Math.max(largestNetM, netM[k]);
    }
    let sum = 0;
    for (let k = 0; k < K; k++) {
      if (op.kind === 'logits' && layer.activation === 'softmax') sum += op.tolerance.softmaxLoss(target[k], net[k], largestNet, largestNetM, K);
      else if (op.kind === 'logits') sum += op.tolerance.sigmoidLoss(out[k], target[k], net[k], netM[k]);
      else sum += op.tolerance.loss(out[k], target[k], pieces(out[k], target[k], outM[k]), epsilon, K);
    }
    loss[s] = sum;
  }
  step.magnitude.set('loss', loss);
}

/** δ of the output layer: the loss's gradient through the activation's slope, or the simplified δ of a loss from the logits. */
function outputDeltas(step: Step): void {
  const { spec, batch: B } = step.setting;
  const op = LOSS_OPS[spec.loss];
  const L = spec.layers.length;
  const K = outputSize(spec);
  const delta = new Float64Array(B * K);
  for (let s = 0; s < B; s++) {
    const { layer, net, out, target, netM, outM } = outputRow(step, s);
    const activation = ACTIVATION_OPS[layer.activation];
    const row = delta.subarray(s * K, (s + 1) * K);
    if (op.kind === 'logits') {
      let targetSum = 0;
      for (let k = 0; k < K; k++) targetSum += Math.abs(target[k]);
      for (let k = 0; k < K; k++) row[k] = op.tolerance.delta(out[k], target[k], outM[k], layer.activation === 'softmax' ? targetSum : 1);
      continue;
    }
    const gradientM = Array.from({ length: K }, (_, k) => op.tolerance.gradient(out[k], target[k], pieces(out[k], target[k], outM[k]), K));
    if (activation.kind === 'row') {
      const sum = gradientM.reduce((a, b) => a + b, 0);
      for (let k = 0; k < K; k++) row[k] = activation.tolerance.delta(out[k], outM[k], sum);
      continue;
    }
    const parameter = layerParameter(layer);
    for (let k = 0; k < K; k++) {
      const g = op.gradient(out[k], target[k], K);
      row[k] = throughSlope(layer.activation, net[k], out[k], parameter, gradientM[k], g, netM[k], outM[k]);
    }
  }
  step.magnitude.set(`layer${L - 1}.delta`, delta);
}

/**
 * M(g·f′): g's magnitude times the slope, plus |g| times how far the slope moves as net
 * and out move by their magnitudes.
 */
function throughSlope(activation: Activation, net: number, out: number, parameter: number, gM: number, g: number, netM: number, outM: number): number {
  const op = ACTIVATION_OPS[activation];
  if (op.kind === 'row') throw new InputError('activation', `${activation} is an output-layer activation`);
  const slope = Math.abs(derivative(activation, net, out, parameter));
  const curvature = op.tolerance.curvature(net, out, parameter);
  return slope * gM + Math.abs(g) * (curvature.net * netM + curvature.out * outM);
}

/** Hidden deltas: g = Σ_o δ_o·w_oh carried back through |W|, then times f′. */
function hiddenDeltas(step: Step): void {
  const { spec, batch: B } = step.setting;
  const { reference, magnitude } = step;
  for (let l = spec.layers.length - 2; l >= 0; l--) {
    const layer = spec.layers[l];
    const OUT = layer.units;
    const NEXT = spec.layers[l + 1].units;
    const w = weights(step, l + 1);
    const nextDelta = reference(`layer${l + 1}.delta`);
    const nextM = magnitude.get(`layer${l + 1}.delta`)!;
    const net = reference(`layer${l}.net`);
    const out = reference(`layer${l}.out`);
    const netM = magnitude.get(`layer${l}.net`)!;
    const outM = magnitude.get(`layer${l}.out`)!;
    const parameter = layerParameter(layer);
    const delta = new Float64Array(B * OUT);
    for (let s = 0; s < B; s++) {
      for (let h = 0; h < OUT; h++) {
        let g = 0;
        let gM = 0;
        for (let o = 0; o < NEXT; o++) {
          g += nextDelta[s * NEXT + o] * w[o * OUT + h];
          gM += nextM[s * NEXT + o] * Math.abs(w[o * OUT + h]);
        }
        const e = s * OUT + h;
        // Where the layer dropped, δ is times the mask, and the slope is of the output before it.
        const keep = step.masks[l]?.[e];
        if (keep === undefined) {
          delta[e] = throughSlope(layer.activation, net[e], out[e], parameter, gM, g, netM[e], outM[e]);
        } else {
          const undropped = ACTIVATION_OPS[layer.activation].kind === 'row' ? out[e] : (ACTIVATION_OPS[layer.activation] as ElementwiseActivationOp).f(net[e], parameter);
          delta[e] = keep * throughSlope(layer.activation, net[e], undropped, parameter, gM, g, netM[e], keep === 0 ? 0 : outM[e] / keep);
        }
      }
    }
    magnitude.set(`layer${l}.delta`, delta);
  }
}

/** Gradients: mean_b δ_j·in_i, both factors carrying their errors. */
function layerGradients(step: Step): void {
  const { spec, layout, batch: B } = step.setting;
  const { reference, magnitude } = step;
  const grads = new Float64Array(layout.size);
  spec.layers.forEach((layer, l) => {
    const IN = layerInputs(spec, l);
    const OUT = layer.units;
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
  });
  magnitude.set('grads', grads);
}

/**
 * The update: the parameter, plus how far the optimizer's step carries the gradient's
 * error (its record's). Clipping scales the gradient (see `clipping`); L2 weight decay
 * adds λ·w to it, and λ·|w| to its magnitude; decoupled decay scales the parameter, whose
 * rounding |w| covers.
 */
function optimizerStep(step: Step): void {
  const { optimizer, learningRate } = step.setting;
  const op = OPTIMIZER_OPS[optimizer.kind];
  const constants = constantsOf(optimizer);
  const l2 = op.decoupledDecay ? 0 : weightDecayOf(optimizer);
  const clip = clipping(step);
  const [grads, gradsM] = [step.reference('grads'), step.magnitude.get('grads')!];
  step.magnitude.set(
    'params',
    step.reference('params').map((p, k) => {
      const gM = clip.scale * (gradsM[k] + Math.abs(grads[k]) * clip.relative) + l2 * Math.abs(p);
      return Math.abs(p) + op.tolerance.update(learningRate, gM, grads[k] * clip.scale + l2 * p, constants);
    }),
  );
}

/**
 * Clipping's factor s = C/(‖g‖ + 1e-6) (at most 1), and how far its relative error can
 * reach, per unit of the gradients' ε: ‖g‖ moves by at most ‖M(g)‖₂ (each g_i by its own
 * magnitude) and by its sum's rounding, and s with it (min(1, ·) moves no more than its
 * argument). A scaled gradient s·g_i then carries s·(M(g_i) + |g_i|·relative).
 */
function clipping(step: Step): { scale: number; relative: number } {
  const { clipNorm, spec, layout } = step.setting;
  if (clipNorm === undefined) return { scale: 1, relative: 0 };
  const [grads, gradsM] = [step.reference('grads'), step.magnitude.get('grads')!];
  let [squares, magnitudeSquares, count] = [0, 0, 0];
  for (const entry of layout.entries) {
    if (entry.kind === 'biases' && !spec.trainBiases) continue;
    for (let k = entry.offset; k < entry.offset + entry.length; k++) {
      squares += grads[k] ** 2;
      magnitudeSquares += gradsM[k] ** 2;
    }
    count += entry.length;
  }
  const norm = Math.sqrt(squares);
  const relative = (Math.sqrt(magnitudeSquares) + (norm * sumEpsilon(count)) / step.epsilon('grads')) / (norm + 1e-6);
  return { scale: Math.min(1, clipNorm / (norm + 1e-6)), relative };
}
