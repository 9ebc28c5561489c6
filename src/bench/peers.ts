// TensorFlow.js on the same work: the same network, initial weights, batches in data
// order and loss, trained the way its users train (variables, tf.train.sgd, minimize).
// Its layout is TensorFlow's: weights in × out, so ours transposed.

import type * as TF from '@tensorflow/tfjs';
import { paramView } from '../model/layout.ts';
import type { Backend } from './backends.ts';

type Tf = typeof TF;

/**
 * The TensorFlow.js module (`import * as tf from '@tensorflow/tfjs'`), typed loosely so
 * that the library's declarations need no TensorFlow.js for users who do not have it.
 */
export interface TensorFlowModule {
  version: { tfjs: string };
}

const transpose = (values: ArrayLike<number>, rows: number, columns: number) =>
  Float32Array.from({ length: rows * columns }, (_, k) => values[(k % rows) * columns + Math.floor(k / rows)]);

/** TensorFlow.js on `backendName` ('webgpu', 'wasm', …) as a benchmark backend. */
export function tfjsBackend(module: TensorFlowModule, backendName: string, device: string): Backend {
  const tf = module as unknown as Tf;
  return {
    name: `TensorFlow.js ${tf.version.tfjs} (${backendName})`,
    device,
    checkable: 'params',
    async start(workload) {
      if (!(await tf.setBackend(backendName))) throw new Error(`TensorFlow.js has no ${backendName} backend here`);
      await tf.ready();
      const { model, dataset, options } = workload.build();
      const { spec, layout } = model;
      const B = options.batchSize;
      const weights = spec.layers.map((layer, l) => {
        const inputs = l === 0 ? spec.inputSize : spec.layers[l - 1].units;
        return tf.variable(tf.tensor2d(transpose(paramView(layout, model.params, l, 'weights'), layer.units, inputs), [inputs, layer.units]));
      });
      const biases = spec.layers.map((_, l) => tf.variable(tf.tensor1d(Float32Array.from(paramView(layout, model.params, l, 'biases')))));
      const X = tf.tensor2d(Float32Array.from(dataset.inputs), [dataset.size, dataset.inputSize]);
      const T = tf.tensor2d(Float32Array.from(dataset.targets), [dataset.size, dataset.outputSize]);
      const optimizer = tf.train.sgd(options.learningRate);
      const varList = spec.trainBiases ? [...weights, ...biases] : weights;
      let step = 0;
      // The rows of every step, uploaded once: data order, wrapping around (src/data/batches.ts).
      let rows: TF.Tensor1D | undefined;
      let rowsSteps = 0;
      const ensureRows = (steps: number) => {
        if (rows && step + steps <= rowsSteps) return;
        rows?.dispose();
        rowsSteps = step + Math.max(steps, 1024);
        rows = tf.tensor1d(Int32Array.from({ length: rowsSteps * B }, (_, k) => k % dataset.size), 'int32');
      };
      const lossOf = (s: number) => () => {
        const x = tf.gather(X, tf.slice(rows!, s * B, B));
        const t = tf.gather(T, tf.slice(rows!, s * B, B));
        let out: TF.Tensor2D = x;
        spec.layers.forEach((_, l) => (out = tf.sigmoid(tf.add(tf.matMul(out, weights[l]), biases[l])) as TF.Tensor2D));
        // half-sse per sample, the mean over the batch
        return tf.div(tf.mul(0.5, tf.sum(tf.square(tf.sub(t, out)))), B) as TF.Scalar;
      };
      return {
        async train(steps) {
          ensureRows(steps);
          for (let s = 0; s < steps; s++, step++) {
            tf.tidy(() => {
              optimizer.minimize(lossOf(step), false, varList);
            });
          }
          await weights[0].data(); // wait for the GPU: the work is queued until read
        },
        async read(name) {
          if (name !== 'params') throw new Error('TensorFlow.js is checked on the parameters only');
          const params = new Float64Array(layout.size);
          for (let l = 0; l < spec.layers.length; l++) {
            const [inputs, units] = weights[l].shape;
            paramView(layout, params, l, 'weights').set(transpose(await weights[l].data(), inputs, units));
            paramView(layout, params, l, 'biases').set(await biases[l].data());
          }
          return params;
        },
        dispose() {
          tf.dispose([...weights, ...biases, X, T]);
          rows?.dispose();
          optimizer.dispose();
        },
      };
    },
  };
}
