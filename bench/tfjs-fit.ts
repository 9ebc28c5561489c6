// A job as a TensorFlow.js user trains it: tf.sequential dense layers, compiled with SGD
// and categorical cross-entropy, `model.fit` with the job's epochs and batch size,
// batches in data order; from this project's initial weights (TensorFlow.js's kernels are
// in × out, ours out × in), so that its result can be checked against the same reference.

import type * as tf from '@tensorflow/tfjs';
import { type Job, jobSteps } from 'webgpu-backprop/bench';
import { Network } from 'webgpu-backprop/node';

const transpose = (values: ArrayLike<number>, rows: number, columns: number) => Float32Array.from({ length: rows * columns }, (_, k) => values[(k % rows) * columns + Math.floor(k / rows)]);

/** Trains `job` with TensorFlow.js on `backend`; `onBatch` after each step. The trained parameters in this project's layout. */
export async function tfjsFit(tfjs: typeof tf, backend: string, job: Job, inputs: Float32Array, targets: Float32Array, onBatch: () => void): Promise<{ params: Float64Array; steps: number }> {
  if (!(await tfjs.setBackend(backend))) throw new Error(`TensorFlow.js has no ${backend} backend here`);
  await tfjs.ready();
  // The same initial weights as Network.create's (on the reference, which opens nothing).
  const start = await Network.create(job.description, { backend: 'cpu' });
  const initial = start.toJSON();
  start.dispose();
  const IN = job.description.inputSize;
  const model = tfjs.sequential();
  initial.layers.forEach((layer, l) => {
    const units = layer.weights!.length;
    const inputs = l === 0 ? IN : initial.layers[l - 1].weights!.length;
    const dense = tfjs.layers.dense({ units, activation: layer.activation as 'relu', inputShape: l === 0 ? [IN] : undefined });
    model.add(dense);
    dense.setWeights([tfjs.tensor2d(transpose(layer.weights!.flat(), units, inputs), [inputs, units]), tfjs.tensor1d(Float32Array.from(layer.biases!))]);
  });
  model.compile({ optimizer: tfjs.train.sgd(job.learningRate), loss: 'categoricalCrossentropy' });
  const K = initial.layers[initial.layers.length - 1].weights!.length;
  const x = tfjs.tensor2d(inputs, [job.rows, IN]);
  const y = tfjs.tensor2d(targets, [job.rows, K]);
  let steps = 0;
  await model.fit(x, y, { epochs: job.epochs, batchSize: job.batchSize, shuffle: false, verbose: 0, callbacks: { onBatchEnd: async () => void (steps++, onBatch()) } });
  // Back into this project's layout: each layer's weights (out × in), then its biases.
  const trained = await Network.fromJSON(
    {
      ...initial,
      layers: await Promise.all(
        model.layers.map(async (dense, l) => {
          const [kernel, bias] = dense.getWeights();
          const [inputs, units] = kernel.shape as [number, number];
          const weights = transpose(await kernel.data(), inputs, units);
          return { ...initial.layers[l], weights: Array.from({ length: units }, (_, j) => Array.from(weights.subarray(j * inputs, (j + 1) * inputs))), biases: Array.from(await bias.data()) };
        }),
      ),
    },
    { backend: 'cpu' },
  );
  const params = trained.params();
  trained.dispose();
  for (const tensor of [x, y]) tensor.dispose();
  model.dispose();
  if (steps !== jobSteps(job)) throw new Error(`TensorFlow.js ran ${steps} steps, expected ${jobSteps(job)}`);
  return { params, steps };
}
