// The standard workloads: sigmoid layers, half-sse loss, plain SGD, float32 on the GPU,
// data from a fixed seed, batches in data order.
//   W1  article 001's 2-2-2 network and sample, batch 1
//   W2  784-128-10, batch 64
//   W3  1024-1024-1024-10, batch 256
//   sweep  width × batch, to find where WebGPU starts beating the CPU

import { mazur } from '../examples/articles.ts';
import { stepFlops } from '../gpu/layered.ts';
import { caseSetup } from '../examples/worked-example.ts';
import type { Dataset } from '../data/dataset.ts';
import { seededRandom } from '../data/random.ts';
import { createModel, type Model } from '../model/network.ts';
import type { ModelSpec } from '../model/model.ts';
import type { TrainOptions } from '../model/trainer.ts';

/** A network, its data and its training options, under the name the benchmark tables give it. */
export interface Workload {
  /** Short name: `W1`, `sweep w64 b16`. */
  name: string;
  /** The network and batch in words: `784-128-10, batch 64`. */
  title: string;
  /** Inputs, then each layer's units. */
  sizes: number[];
  /** Samples per step. */
  batch: number;
  /**
   * A fresh model, its dataset and the options to train it with; every call gives the
   * same initial parameters and data, so each backend starts from the same point.
   */
  build(): { model: Model; dataset: Dataset; options: TrainOptions };
}

/**
 * Floating-point operations of one step, counted exactly as the layered path does its
 * work (stepFlops): the three products at 2 per multiply-add, with no δ for the input
 * layer, plus the bias adds, derivatives, bias sums and SGD updates. The same count for
 * every backend.
 */
export function flopsPerStep(workload: Workload): number {
  return stepFlops(sigmoidSpec(workload.sizes), workload.batch, { kind: 'sgd' });
}

function sigmoidSpec(sizes: number[]): ModelSpec {
  return {
    inputSize: sizes[0],
    layers: sizes.slice(1).map((units) => ({ units, activation: 'sigmoid' as const })),
    loss: 'half-sse',
    trainBiases: true,
  };
}

/** Inputs in [0, 1), one-hot targets, from the workload's seed. */
function seededData(sizes: number[], size: number, seed: string): Dataset {
  const random = seededRandom(seed);
  const IN = sizes[0];
  const OUT = sizes[sizes.length - 1];
  const inputs = Float64Array.from({ length: size * IN }, () => random());
  const targets = new Float64Array(size * OUT);
  for (let n = 0; n < size; n++) targets[n * OUT + Math.floor(random() * OUT)] = 1;
  return { inputs, targets, size, inputSize: IN, outputSize: OUT };
}

function seeded(name: string, title: string, sizes: number[], batch: number, datasetSize: number): Workload {
  return {
    name,
    title,
    sizes,
    batch,
    build: () => ({
      model: createModel(sigmoidSpec(sizes), { seed: name }),
      dataset: seededData(sizes, datasetSize, `${name}:data`),
      options: { learningRate: 0.1, batchSize: batch, shuffle: false, seed: 1, optimizer: { kind: 'sgd' } },
    }),
  };
}

/** Article 001's 2-2-2 network on its one training sample, batch 1, as its worked example sets it up. */
export const W1: Workload = {
  name: 'W1',
  title: "article 001's 2-2-2 network, batch 1",
  sizes: [2, 2, 2],
  batch: 1,
  build: () => caseSetup(mazur.cases[0]),
};

/** A 784-128-10 network (MNIST's shape), batch 64, on 2048 seeded random rows. */
export const W2 = seeded('W2', '784-128-10, batch 64', [784, 128, 10], 64, 2048);
/** A 1024-1024-1024-10 network, batch 256, on 1024 seeded random rows. */
export const W3 = seeded('W3', '1024-1024-1024-10, batch 256', [1024, 1024, 1024, 10], 256, 1024);

/** W1, W2 and W3, in that order: the workloads the benchmark command and page offer. */
export const STANDARD_WORKLOADS = [W1, W2, W3];

/** width-width-width-10 networks over a grid of widths and batch sizes. */
export function sweepWorkloads(widths = [16, 64, 256, 1024], batches = [1, 16, 128]): Workload[] {
  return widths.flatMap((width) =>
    batches.map((batch) => seeded(`sweep w${width} b${batch}`, `${width}-${width}-${width}-10, batch ${batch}`, [width, width, width, 10], batch, Math.max(batch, 256))),
  );
}
