// TensorFlow.js on the same work: the same network, initial weights, batches in data
// order and loss, trained the way its users train fastest with the ops API: each layer
// one tf.fused.matMul with its bias fused, then tf.sigmoid (TensorFlow.js cannot take the
// gradient of a fused sigmoid), plain SGD through optimizer.minimize, each step's batch
// a slice of the dataset uploaded once. Synchronised as ours is: a timed run ends with one
// read of its last loss. Its layout is TensorFlow's: weights in × out, so ours transposed.
//
// The TensorFlow.js module is passed in and typed by the little this file calls, so the
// library's types never name TensorFlow.js (a user without it still type-checks).

import { paramView } from '../model/layout.ts';
import type { Backend } from './backends.ts';
import { standardSetting } from './backends.ts';
import { InputError, WebGpuUnavailableError } from '../errors.ts';

/** The parts of a TensorFlow.js tensor used here. */
export interface TfTensor {
  readonly shape: readonly number[];
  /** tensor.data */
  data(): Promise<ArrayLike<number>>;
  /** tensor.dispose */
  dispose(): void;
}

/**
 * The parts of TensorFlow.js used here, over its tensor type T
 * (`import * as tf from '@tensorflow/tfjs'` satisfies it, with T its Tensor).
 */
export interface TfModule<T extends TfTensor> {
  readonly version: { readonly tfjs: string };
  /** Its tensor class: where T is inferred from (NoInfer elsewhere keeps it there). */
  readonly Tensor: abstract new (...args: never[]) => T;
  /** tf.setBackend */
  setBackend(name: string): Promise<boolean>;
  /** tf.getBackend */
  getBackend(): string;
  /** tf.ready */
  ready(): Promise<void>;
  /** tf.tensor2d */
  tensor2d(values: Float32Array, shape: [number, number]): NoInfer<T>;
  /** tf.tensor1d */
  tensor1d(values: Float32Array): NoInfer<T>;
  /** tf.variable */
  variable(initial: NoInfer<T>): NoInfer<T>;
  train: {
    /** tf.train.sgd */
    sgd(learningRate: number): {
      /** optimizer.minimize */
      minimize(f: () => NoInfer<T>, returnCost?: boolean, varList?: NoInfer<T>[]): NoInfer<T> | null;
      /** optimizer.dispose */
      dispose(): void;
    };
  };
  /** tf.slice */
  slice(x: NoInfer<T>, begin: number[], size: number[]): NoInfer<T>;
  fused: {
    /** tf.fused.matMul */
    matMul(args: { a: NoInfer<T>; b: NoInfer<T>; bias?: NoInfer<T> }): NoInfer<T>;
  };
  /** tf.sigmoid */
  sigmoid(x: NoInfer<T>): NoInfer<T>;
  /** tf.sub */
  sub(a: NoInfer<T>, b: NoInfer<T>): NoInfer<T>;
  /** tf.square */
  square(x: NoInfer<T>): NoInfer<T>;
  /** tf.sum */
  sum(x: NoInfer<T>): NoInfer<T>;
  /** tf.mul */
  mul(a: NoInfer<T>, b: number): NoInfer<T>;
}

const transpose = (values: ArrayLike<number>, rows: number, columns: number) =>
  Float32Array.from({ length: rows * columns }, (_, k) => values[(k % rows) * columns + Math.floor(k / rows)]);

/**
 * TensorFlow.js as a backend, on its backend `backendName` ('webgpu', 'cpu', …), for the
 * standard workloads only: each layer one tf.fused.matMul with its bias, then tf.sigmoid,
 * and plain SGD through optimizer.minimize, from the same initial weights and batches.
 * `device` names where it runs, for the tables.
 */
export function tfjsBackend<T extends TfTensor>(tf: TfModule<T>, backendName: string, device: string): Backend {
  return {
    name: `TensorFlow.js ${tf.version.tfjs} (${backendName})`,
    device,
    async start(workload) {
      if (!(await tf.setBackend(backendName))) throw new WebGpuUnavailableError(`TensorFlow.js has no ${backendName} backend here`);
      await tf.ready();
      const { model, dataset, options } = workload.build();
      standardSetting(model, options, 'TensorFlow.js');
      const { spec, layout } = model;
      const B = options.batchSize;
      const N = dataset.size;
      const weights = spec.layers.map((layer, l) => {
        const inputs = l === 0 ? spec.inputSize : spec.layers[l - 1].units;
        return tf.variable(tf.tensor2d(transpose(paramView(layout, model.params, l, 'weights'), layer.units, inputs), [inputs, layer.units]));
      });
      const biases = spec.layers.map((_, l) => tf.variable(tf.tensor1d(Float32Array.from(paramView(layout, model.params, l, 'biases')))));
      const X = tf.tensor2d(Float32Array.from(dataset.inputs), [N, dataset.inputSize]);
      const T = tf.tensor2d(Float32Array.from(dataset.targets), [N, dataset.outputSize]);
      const optimizer = tf.train.sgd(options.learningRate);
      const varList = spec.trainBiases ? [...weights, ...biases] : weights;
      let step = 0;
      // Step s takes rows sB … sB + B − 1 (src/data/batches.ts): a slice, since B divides N.
      if (N % B !== 0) throw new InputError('batchSize', 'the TensorFlow.js benchmark takes batches that divide the dataset');
      const loss = (s: number) => () => {
        const start = (s * B) % N;
        let out = tf.slice(X, [start, 0], [B, dataset.inputSize]);
        spec.layers.forEach((_, l) => (out = tf.sigmoid(tf.fused.matMul({ a: out, b: weights[l], bias: biases[l] }))));
        // half-sse per sample, the mean over the batch
        return tf.mul(tf.sum(tf.square(tf.sub(tf.slice(T, [start, 0], [B, dataset.outputSize]), out))), 0.5 / B);
      };
      let lastLoss: T | undefined;
      // TensorFlow.js runs ops on one backend at a time; another backend's runs interleave with these.
      const active = async () => {
        if (tf.getBackend() !== backendName) await tf.setBackend(backendName);
      };
      return {
        async train(steps) {
          await active();
          for (let s = 0; s < steps; s++, step++) {
            // minimize frees the step's intermediate tensors itself; it keeps the cost.
            const cost = optimizer.minimize(loss(step), true, varList)!;
            lastLoss?.dispose();
            lastLoss = cost;
          }
          await lastLoss?.data(); // the one read: the GPU's queued work is done once it arrives
        },
        async params() {
          await active();
          const params = new Float64Array(layout.size);
          for (let l = 0; l < spec.layers.length; l++) {
            const [inputs, units] = weights[l].shape;
            paramView(layout, params, l, 'weights').set(transpose(await weights[l].data(), inputs, units));
            paramView(layout, params, l, 'biases').set(await biases[l].data());
          }
          return params;
        },
        dispose() {
          for (const tensor of [...weights, ...biases, X, T, ...(lastLoss ? [lastLoss] : [])]) tensor.dispose();
          optimizer.dispose();
        },
      };
    },
  };
}
