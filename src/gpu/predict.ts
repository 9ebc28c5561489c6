// Inference on the GPU: the forward kernels over any number of rows, with buffers of
// their own (the trainer's per-step buffers hold one batch). Rows are split into passes
// where one pass would not fit the adapter's binding size or workgroup count. The
// kernels are training's forward ones where a layer does not drop (kernels.ts), so the
// first layer reads its rows through batch_rows, here 0, 1, … N − 1.

import { layerUniform, LAYER_UNIFORM_BYTES, STEP_UNIFORM_BYTES } from './abi.ts';
import { gpuProfile, type GpuProfile } from './adapters.ts';
import { createForwardKernels, SOFTMAX_THREADS, stepBindGroupLayout, type ForwardKernels } from './kernels.ts';
import { binding, maxBindingBytes, readRegion, storageBuffer, whole, type Region } from './memory.ts';
import { allocations, inScopes, scoped, throwScopeErrors } from './scopes.ts';
import type { Tuning } from './tune.ts';
import { tunes, type TuneMode, type TuneSettings } from './tune-mode.ts';
import type { Dataset } from '../data/dataset.ts';
import { checkRowCount } from '../data/validate.ts';
import { DisposedError, LimitError } from '../errors.ts';
import type { ParamLayout } from '../model/layout.ts';
import { checkLayerIndices, outputSize, type ModelSpec } from '../model/model.ts';
import type { Model } from '../model/network.ts';
import { mean, sampleLosses, type ForwardValues } from '../reference/backprop.ts';

export interface ForwardSetting {
  device: GPUDevice;
  spec: ModelSpec;
  layout: ParamLayout;
  kernels: ForwardKernels;
  params: Region; // (P)
  /** The most bytes one binding may hold. */
  maxBinding: number;
}

/** What a forward pass reads back: the out (N, units_l) of each layer asked for, and the last layer's net (N, OUT) where asked. */
export interface ForwardRead {
  /** The layers (from 0) whose out to read, in this order. */
  layers: readonly number[];
  /** Also the last layer's net (for the loss). */
  net: boolean;
}

/**
 * The out of each layer in `read.layers` (and the last layer's net) for `count` rows of
 * `inputs`. Rows go in passes that fit the adapter's binding size and workgroup count; a
 * pass the GPU has no memory for is split in two, down to one row (then LimitError).
 */
export async function forwardRows(setting: ForwardSetting, inputs: Float64Array, count: number, read: ForwardRead): Promise<{ net: Float64Array; outs: Float64Array[] }> {
  const { spec, device } = setting;
  const widest = Math.max(spec.inputSize, ...spec.layers.map((layer) => layer.units));
  const smallestTile = Math.min(...setting.kernels.forward.map((kernel) => kernel.plan.tileM));
  const perPass = Math.max(1, Math.min(Math.floor(setting.maxBinding / (4 * widest)), device.limits.maxComputeWorkgroupsPerDimension * smallestTile));
  const K = outputSize(spec);
  const units = read.layers.map((l) => spec.layers[l].units);
  const net = new Float64Array(read.net ? count * K : 0);
  const outs = units.map((width) => new Float64Array(count * width));
  const run = async (first: number, rows: number): Promise<void> => {
    let pass: { net: Float64Array; outs: Float64Array[] };
    try {
      pass = await forwardPass(setting, inputs.subarray(first * spec.inputSize, (first + rows) * spec.inputSize), rows, read);
    } catch (error) {
      if (!(error instanceof LimitError && error.limit === 'GPU memory') || rows === 1) throw error;
      const half = Math.ceil(rows / 2);
      await run(first, half);
      await run(first + half, rows - half);
      return;
    }
    pass.outs.forEach((out, k) => outs[k].set(out, first * units[k]));
    if (read.net) net.set(pass.net, first * K);
  };
  for (let first = 0; first < count; first += perPass) await run(first, Math.min(perPass, count - first));
  return { net, outs };
}

async function forwardPass(setting: ForwardSetting, inputs: Float64Array, count: number, read: ForwardRead): Promise<{ net: Float64Array; outs: Float64Array[] }> {
  const { device, spec, layout, kernels } = setting;
  const temporary: GPUBuffer[] = [];
  const log = allocations();
  const storage = (label: string, floats: number) => {
    const buffer = storageBuffer(device, label, floats, log);
    temporary.push(buffer);
    return whole(buffer);
  };
  const bindGroup = (layoutOf: GPUBindGroupLayout, regions: Region[], label: string) =>
    device.createBindGroup({ label, layout: layoutOf, entries: regions.map((region, b) => ({ binding: b, resource: binding(region) })) });
  try {
    // Allocated and submitted inside error scopes: a buffer the GPU has no memory for fails here, not as zeros.
    const { result: layers, errors } = inScopes(device, () => {
      const input = storage('prediction input', inputs.length); // (N, IN)
      device.queue.writeBuffer(input.buffer, 0, new Float32Array(inputs));
      // The first layer's rows, in order: (N)
      const rows = storage('prediction rows', count);
      device.queue.writeBuffer(rows.buffer, 0, Uint32Array.from({ length: count }, (_, k) => k));
      // Bound because forward.wgsl declares it; prediction never splits a product.
      const noPartials = storage('no partials', 1);
      const stepUniform = log.buffer(device, { label: 'prediction step', size: STEP_UNIFORM_BYTES, usage: GPUBufferUsage.UNIFORM });
      temporary.push(stepUniform);
      const step = device.createBindGroup({ layout: stepBindGroupLayout(device), entries: [{ binding: 0, resource: { buffer: stepUniform, size: STEP_UNIFORM_BYTES } }] });
      const encoder = device.createCommandEncoder({ label: 'forward only' });
      const pass = encoder.beginComputePass();
      let layerInput = input;
      const layers: { net: Region; out: Region }[] = [];
      spec.layers.forEach((layer, l) => {
        const uniform = log.buffer(device, { label: `prediction layer${l} dims`, size: LAYER_UNIFORM_BYTES, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
        temporary.push(uniform);
        device.queue.writeBuffer(uniform, 0, layerUniform(spec, layout, l, count, false));
        const net = storage(`prediction layer${l}.net`, count * layer.units); // (N, OUT_l)
        const out = storage(`prediction layer${l}.out`, count * layer.units); // (N, OUT_l)
        const { main, plan } = kernels.forward[l];
        pass.setPipeline(main.pipeline);
        pass.setBindGroup(0, bindGroup(main.layout, [whole(uniform), layerInput, rows, setting.params, net, out, noPartials], `predict layer${l}`));
        pass.setBindGroup(1, step, [0]);
        pass.dispatchWorkgroups(Math.ceil(layer.units / plan.tileN), Math.ceil(count / plan.tileM));
        if (layer.activation === 'softmax' && kernels.softmax) {
          pass.setPipeline(kernels.softmax.pipeline);
          pass.setBindGroup(0, bindGroup(kernels.softmax.layout, [whole(uniform), net, out], 'predict softmax'));
          pass.dispatchWorkgroups(Math.min(device.limits.maxComputeWorkgroupsPerDimension, Math.ceil(count / SOFTMAX_THREADS)));
        }
        layerInput = out;
        layers.push({ net, out });
      });
      pass.end();
      device.queue.submit([encoder.finish()]);
      return layers;
    });
    throwScopeErrors(await errors, `predicting ${count} rows`, log);
    const last = layers[layers.length - 1];
    const [net, ...outs] = await Promise.all([
      read.net ? readRegion(device, { ...last.net, length: count * outputSize(spec) }, 'reading back the predictions') : Promise.resolve(new Float64Array(0)),
      ...read.layers.map((l) => readRegion(device, { ...layers[l].out, length: count * spec.layers[l].units }, 'reading back the predictions')),
    ]);
    return { net, outs };
  } finally {
    for (const buffer of temporary) buffer.destroy();
  }
}

/** The mean loss over a dataset, in float64, from the last layer's net and out computed on the GPU. */
export function datasetLoss(spec: ModelSpec, net: Float64Array, out: Float64Array, dataset: Dataset): number {
  const L = spec.layers.length;
  const values: ForwardValues = { net: new Array(L), out: new Array(L) }; // sampleLosses reads the last layer's only
  values.net[L - 1] = net;
  values.out[L - 1] = out;
  return mean(sampleLosses(spec, values, dataset.targets, dataset.size));
}

/**
 * The forward kernels of `spec` (createForwardKernels), their plans tuned where `tuning`
 * says (tune.ts, loaded only then; the products tuned are added to it).
 */
export async function forwardKernels(device: GPUDevice, spec: ModelSpec, batch: number, profile: GpuProfile, capture: boolean, tuning: Tuning): Promise<ForwardKernels> {
  if (!tunes(tuning.settings, profile)) return createForwardKernels(device, spec, batch, profile, capture);
  return (await import('./tune.ts')).tunedForwardKernels(device, spec, batch, profile, capture, tuning);
}

/** The forward pass alone, on a parameter buffer of its own: prediction without a trainer. */
export class GpuPredictor {
  private disposed = false;

  private constructor(
    private readonly setting: ForwardSetting,
    private readonly paramsBuffer: GPUBuffer,
  ) {}

  /**
   * `planRows`: the rows its tile plans are chosen for (fit's batch size, so a fit at that
   * batch can take its kernels); `tune`: as GpuTrainerOptions.tune.
   */
  static async create(device: GPUDevice, model: Model, planRows: number, tune?: TuneMode | TuneSettings): Promise<GpuPredictor> {
    const kernels = await forwardKernels(device, model.spec, planRows, gpuProfile(device), false, { settings: tune, products: [] });
    const params = await scoped(
      device,
      'allocating the parameters for prediction',
      (log) => {
        const buffer = storageBuffer(device, 'params', model.layout.size, log); // (P)
        device.queue.writeBuffer(buffer, 0, new Float32Array(model.params));
        return buffer;
      },
      (buffer) => buffer.destroy(),
    );
    return new GpuPredictor({ device, spec: model.spec, layout: model.layout, kernels, params: whole(params), maxBinding: maxBindingBytes(device) }, params);
  }

  /** Outputs (N, OUT) for inputs (N, IN). */
  async predict(inputs: Float64Array, count: number): Promise<Float64Array> {
    return (await this.layerOutputs(inputs, count, [this.setting.spec.layers.length - 1]))[0];
  }

  /** The out (N, units_l) of each layer in `layers` for inputs (N, IN). */
  async layerOutputs(inputs: Float64Array, count: number, layers: readonly number[]): Promise<Float64Array[]> {
    if (this.disposed) throw new DisposedError('predictor');
    checkRowCount(inputs, count, this.setting.spec.inputSize);
    checkLayerIndices(layers, this.setting.spec, 'layers');
    return (await forwardRows(this.setting, inputs, count, { layers, net: false })).outs;
  }

  /** The mean loss over a dataset. */
  async evaluate(dataset: Dataset): Promise<number> {
    if (this.disposed) throw new DisposedError('predictor');
    const L = this.setting.spec.layers.length;
    const { net, outs } = await forwardRows(this.setting, dataset.inputs, dataset.size, { layers: [L - 1], net: true });
    return datasetLoss(this.setting.spec, net, outs[0], dataset);
  }

  dispose(): void {
    this.disposed = true;
    this.paramsBuffer.destroy();
  }
}
