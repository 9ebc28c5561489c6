// Every element-wise activation of the table (src/model/ops/activations.ts), on its own:
// its record's derivative is the slope of its function and its curvature terms the slope's
// slope (float64, against central differences), and on WebGPU every buffer of a few
// training steps on the layered and the fused kernels, and prediction, agree with the
// reference. An activation that takes a parameter runs with its default and with another.
// Its agreement with PyTorch's module is in test/pytorch.test.ts.

import { beforeAll, describe, expect, it } from 'vitest';
import { float32Tolerances } from '../src/check/tolerance.ts';
import { bufferNames, type BufferName } from '../src/model/buffers.ts';
import { crossCheck as crossCheckTrainer } from '../src/check/crosscheck.ts';
import { GpuTrainer } from '../src/gpu/trainer.ts';
import { GpuPredictor } from '../src/gpu/predict.ts';
import { ACTIVATIONS, type LayerSpec } from '../src/model/model.ts';
import { ACTIVATION_OPS, type ElementwiseActivationOp } from '../src/model/ops/activations.ts';
import { DEFAULT_OPTIMIZERS } from '../src/model/optimizer.ts';
import { CpuTrainer } from '../src/reference/trainer.ts';
import { compareBuffers } from '../src/check/compare.ts';
import { crossCheck, expectAllClose, randomDataset, randomModel, type RandomNetwork } from './support/crosscheck.ts';
import { testDevice } from './support/gpu.ts';

const ELEMENTWISE = ACTIVATIONS.filter((name) => ACTIVATION_OPS[name].kind === 'elementwise');

/** Each activation with its default parameter, and with another where it takes one. */
const VARIANTS = ELEMENTWISE.flatMap((activation) => {
  const parameter = (ACTIVATION_OPS[activation] as ElementwiseActivationOp).parameter;
  const variants: { name: string; activation: typeof activation; hidden: Partial<LayerSpec> }[] = [{ name: activation, activation, hidden: {} }];
  if (parameter) variants.push({ name: `${activation}, ${parameter.field} 0.25`, activation, hidden: { [parameter.field]: 0.25 } });
  return variants;
});

/** Net inputs to try: across where the functions bend, and out to where they saturate. */
const NETS = [-30, -8, -3.2, -1.7, -0.9, -0.4, -0.05, 0.05, 0.3, 0.8, 1.3, 2.6, 5, 9, 25];

describe('each activation record, in float64', () => {
  it.each(VARIANTS)('$name: the derivative is the slope of f, and the curvature terms the slope of the derivative', ({ activation, hidden }) => {
    const op = ACTIVATION_OPS[activation] as ElementwiseActivationOp;
    const parameter = op.parameter ? (hidden[op.parameter.field as keyof LayerSpec] as number | undefined) ?? op.parameter.default : 0;
    const f = (net: number) => op.f(net, parameter);
    const slope = (net: number) => op.derivative(net, f(net), parameter);
    const h = 1e-5;
    for (const net of NETS) {
      // Central differences: O(h²) truncation, O(u·|f|/h) rounding.
      const numeric = (f(net + h) - f(net - h)) / (2 * h);
      expect(Math.abs(slope(net) - numeric), `f′(${net})`).toBeLessThanOrEqual(1e-8 * Math.max(1, Math.abs(f(net))));
      // The slope moves with net directly and through out: |∂f′/∂net| + |∂f′/∂out|·|f′| bounds its total change.
      const curvature = op.tolerance.curvature(net, f(net), parameter);
      const change = Math.abs((slope(net + h) - slope(net - h)) / (2 * h));
      expect(change, `f″(${net})`).toBeLessThanOrEqual(curvature.net + curvature.out * Math.abs(slope(net)) + 1e-6);
    }
  });
});

let device: GPUDevice;
beforeAll(async () => {
  device = await testDevice();
});

describe('each activation on WebGPU', () => {
  const options = { learningRate: 0.1, batchSize: 6, shuffle: true, seed: 3, optimizer: DEFAULT_OPTIMIZERS.sgd };
  for (const [k, variant] of VARIANTS.entries()) {
    const network: RandomNetwork = { sizes: [4, 9, 7, 3], activations: [variant.activation, variant.activation, 'linear'], loss: 'mse', hidden: variant.hidden };
    const model = randomModel(network, 300 + k);
    const dataset = randomDataset(network, 14, 300 + k);

    it(`${variant.name}: every buffer after 3 steps, fused kernel`, async () => {
      expectAllClose(await crossCheck(device, model, dataset, options, 3, { path: 'fused' }));
    });

    it(`${variant.name}: every buffer the layered kernels keep after 3 steps, training as fit does (no capture: net is kept only where a slope needs it)`, async () => {
      const gpu = await GpuTrainer.create(device, model, dataset, options, { path: 'layered', capture: false });
      try {
        const L = network.activations.length;
        const kept: BufferName[] = ['params', `layer${L - 1}.net`, ...network.activations.flatMap((_, l) => [`layer${l}.out`, `layer${l}.delta`] as BufferName[])];
        expectAllClose(await crossCheckTrainer(gpu, model, dataset, options, 3, kept));
      } finally {
        gpu.dispose();
      }
    });

    it(`${variant.name}: prediction`, async () => {
      // The reference's first step over every row gives the forward pass and its tolerance.
      const reference = new CpuTrainer(model, dataset, { ...options, batchSize: dataset.size, shuffle: false });
      await reference.train(1);
      const buffers = new Map<string, Float64Array>();
      for (const name of bufferNames(model.spec)) buffers.set(name, await reference.read(name));
      const tolerance = float32Tolerances({ ...model, ...options, batch: dataset.size }, (name) => buffers.get(name)!);
      const predictor = await GpuPredictor.create(device, model, 32);
      try {
        const output = `layer${network.activations.length - 1}.out`;
        const comparison = compareBuffers(output, await predictor.predict(dataset.inputs, dataset.size), buffers.get(output)!, tolerance(output));
        expect(comparison.ok, comparison.message).toBe(true);
      } finally {
        predictor.dispose();
      }
    });
  }
});
