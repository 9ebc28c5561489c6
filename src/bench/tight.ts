// The benchmarks' fastest honest CPU baseline: the standard workloads' step (sigmoid
// layers, half-sse, plain SGD, batches in data order) as tight float64 loops over typed
// arrays allocated once, with loop orders that walk memory contiguously. The reference
// (src/reference/) is the specification and reads like the articles; this is what a
// careful JavaScript programmer would write for speed. A test checks it against the
// reference.

import type { Dataset } from '../data/dataset.ts';
import { paramEntry } from '../model/layout.ts';
import { layerInputs } from '../model/model.ts';
import type { Model } from '../model/network.ts';
import type { TrainOptions } from '../model/trainer.ts';
import { InputError } from '../errors.ts';

/** Whether the tight loop runs this setting: sigmoid layers, half-sse, SGD, rows in data order. */
export function tightLoopRuns(model: Model, options: TrainOptions): boolean {
  return model.spec.layers.every((layer) => layer.activation === 'sigmoid') && model.spec.loss === 'half-sse' && options.optimizer.kind === 'sgd' && !options.shuffle;
}

export class TightLoop {
  step = 0;
  readonly params: Float64Array; // (P) by the model's layout
  private readonly out: Float64Array[]; //   per layer (B, OUT)
  private readonly delta: Float64Array[]; // per layer (B, OUT)
  private readonly input: Float64Array; //   (B, IN)
  private readonly target: Float64Array; //  (B, K)
  private readonly grad: Float64Array; //    (largest OUT × IN) one layer's weight gradient at a time
  private readonly losses: number[] = [];
  private readonly sizes: number[];
  private readonly weights: number[]; // offsets into params
  private readonly biases: number[];

  constructor(
    readonly model: Model,
    readonly dataset: Dataset,
    readonly options: TrainOptions,
  ) {
    if (!tightLoopRuns(model, options)) throw new InputError('the tight loop', 'runs sigmoid layers, half-sse and SGD on rows in data order');
    const { spec, layout } = model;
    const B = options.batchSize;
    this.params = model.params.slice();
    this.sizes = [spec.inputSize, ...spec.layers.map((layer) => layer.units)];
    this.weights = spec.layers.map((_, l) => paramEntry(layout, l, 'weights').offset);
    this.biases = spec.layers.map((_, l) => paramEntry(layout, l, 'biases').offset);
    this.out = spec.layers.map((layer) => new Float64Array(B * layer.units));
    this.delta = spec.layers.map((layer) => new Float64Array(B * layer.units));
    this.input = new Float64Array(B * spec.inputSize);
    this.target = new Float64Array(B * dataset.outputSize);
    this.grad = new Float64Array(Math.max(...spec.layers.map((layer, l) => layer.units * layerInputs(spec, l))));
  }

  /** The batch loss of each step since the last call. */
  takeLosses(): Float64Array {
    const losses = Float64Array.from(this.losses);
    this.losses.length = 0;
    return losses;
  }

  train(steps: number): void {
    for (let s = 0; s < steps; s++) this.trainStep();
  }

  private trainStep(): void {
    const { params, sizes, input, target, out, delta, grad } = this;
    const B = this.options.batchSize;
    const L = sizes.length - 1;
    const IN = sizes[0];
    const K = sizes[L];
    const { inputs, targets, size: N } = this.dataset;
    // The batch, in data order.
    for (let b = 0; b < B; b++) {
      const row = (this.step * B + b) % N;
      for (let i = 0; i < IN; i++) input[b * IN + i] = inputs[row * IN + i];
      for (let k = 0; k < K; k++) target[b * K + k] = targets[row * K + k];
    }
    // Forward: out = σ(in·Wᵀ + b), rows of W and of in both contiguous.
    for (let l = 0; l < L; l++) {
      const I = sizes[l];
      const O = sizes[l + 1];
      const x = l === 0 ? input : out[l - 1];
      const y = out[l];
      const w = this.weights[l];
      const bias = this.biases[l];
      for (let b = 0; b < B; b++) {
        const xb = b * I;
        for (let j = 0; j < O; j++) {
          let sum = params[bias + j];
          const wj = w + j * I;
          for (let i = 0; i < I; i++) sum += params[wj + i] * x[xb + i];
          y[b * O + j] = 1 / (1 + Math.exp(-sum));
        }
      }
    }
    // Loss and output deltas: δ = (out − t)·out·(1 − out).
    let loss = 0;
    const yL = out[L - 1];
    const dL = delta[L - 1];
    for (let e = 0; e < B * K; e++) {
      const o = yL[e];
      const error = o - target[e];
      loss += 0.5 * error * error;
      dL[e] = error * o * (1 - o);
    }
    this.losses.push(loss / B);
    // Hidden deltas: δ_l = (δ_{l+1}·W_{l+1}) ⊙ out(1 − out), accumulated row by row of W.
    for (let l = L - 2; l >= 0; l--) {
      const O = sizes[l + 1];
      const NEXT = sizes[l + 2];
      const w = this.weights[l + 1];
      const d = delta[l];
      const dn = delta[l + 1];
      const y = out[l];
      d.fill(0);
      for (let b = 0; b < B; b++) {
        const db = b * O;
        for (let o = 0; o < NEXT; o++) {
          const g = dn[b * NEXT + o];
          const wo = w + o * O;
          for (let h = 0; h < O; h++) d[db + h] += g * params[wo + h];
        }
        for (let h = 0; h < O; h++) d[db + h] *= y[db + h] * (1 - y[db + h]);
      }
    }
    // Gradients and the update: W −= η/B · Σ_b δ_bᵀ·in_b, accumulated row by row of the gradient.
    const scale = this.options.learningRate / B;
    const trainBiases = this.model.spec.trainBiases;
    for (let l = 0; l < L; l++) {
      const I = sizes[l];
      const O = sizes[l + 1];
      const x = l === 0 ? input : out[l - 1];
      const d = delta[l];
      const w = this.weights[l];
      const bias = this.biases[l];
      grad.fill(0, 0, O * I);
      for (let b = 0; b < B; b++) {
        const xb = b * I;
        for (let j = 0; j < O; j++) {
          const g = d[b * O + j];
          const gj = j * I;
          for (let i = 0; i < I; i++) grad[gj + i] += g * x[xb + i];
        }
      }
      for (let e = 0; e < O * I; e++) params[w + e] -= scale * grad[e];
      if (trainBiases) {
        for (let j = 0; j < O; j++) {
          let sum = 0;
          for (let b = 0; b < B; b++) sum += d[b * O + j];
          params[bias + j] -= scale * sum;
        }
      }
    }
    this.step++;
  }
}
