// The ops that have no WebAssembly body, run by the host on the float32 buffers: each
// op's float64 record (src/model/ops), through the reference's own functions, rounded to
// float32 where it is stored. The module calls these where its generated switches have
// no case (src/wasm/op-switch.ts): an op added to the tables trains here before it has a
// body in src/wasm/assembly/ops.ts.

import { layerParameter, outputSize } from '../model/model.ts';
import { ACTIVATION_OPS } from '../model/ops/activations.ts';
import { activate, derivative } from '../reference/activations.ts';
import { outputDelta, sampleLoss } from '../reference/losses.ts';
import { optimizerStep } from '../reference/optimizers.ts';
import type { Rows } from './buffers.ts';
import type { HostOps } from './runtime.ts';

/** The host's ops on `rows`' buffers and its parameters. */
export function hostOps(rows: Rows): HostOps {
  const { parameters } = rows;
  const { runtime, model } = parameters;
  const { spec, layout } = model;
  const view = (at: number, length: number) => runtime.f32(at, length);
  // float64 copies for the optimizer's update, made at its first call
  let scratch: { params: Float64Array; grads: Float64Array; state: Float64Array[] } | undefined;

  return {
    activate(l, count) {
      const layer = spec.layers[l];
      const op = ACTIVATION_OPS[layer.activation];
      const units = layer.units;
      const net = view(rows.layers[l].net, count * units);
      const out = view(rows.layers[l].out, count * units);
      if (op.kind === 'row') {
        for (let b = 0; b < count; b++) out.set(op.row(net.subarray(b * units, (b + 1) * units)), b * units);
        return;
      }
      const parameter = layerParameter(layer);
      for (let k = 0; k < count * units; k++) out[k] = op.f(net[k], parameter);
    },
    derivative(l, count) {
      const layer = spec.layers[l];
      const length = count * layer.units;
      const [net, out, delta] = [rows.layers[l].net, rows.layers[l].out, rows.layers[l].delta].map((at) => view(at, length));
      const parameter = layerParameter(layer);
      if (!rows.layers[l].mask) {
        for (let k = 0; k < length; k++) delta[k] *= derivative(layer.activation, net[k], out[k], parameter);
        return;
      }
      // Where the layer dropped: times its mask, and the slope of the output before it, f(net).
      const activation = layer.activation as Exclude<typeof layer.activation, 'softmax'>;
      const mask = view(rows.layers[l].mask, length);
      for (let k = 0; k < length; k++) delta[k] *= mask[k] * derivative(activation, net[k], activate(activation, net[k], parameter), parameter);
    },
    output(target, count) {
      const L = spec.layers.length;
      const layer = spec.layers[L - 1];
      const K = outputSize(spec);
      const [net, out, delta, t] = [rows.layers[L - 1].net, rows.layers[L - 1].out, rows.layers[L - 1].delta, target].map((at) => view(at, count * K));
      const losses = view(rows.losses, count);
      for (let b = 0; b < count; b++) {
        const row = (values: Float32Array) => values.subarray(b * K, (b + 1) * K);
        delta.set(outputDelta(spec.loss, layer, row(net), row(out), row(t)), b * K);
        losses[b] = sampleLoss(spec.loss, layer.activation, row(net), row(out), row(t));
      }
    },
    update(step, learningRate, gradScale) {
      const P = layout.size;
      scratch ??= { params: new Float64Array(P), grads: new Float64Array(P), state: parameters.state.map(() => new Float64Array(P)) };
      scratch.params.set(parameters.view(parameters.params));
      scratch.grads.set(parameters.view(parameters.grads));
      parameters.state.forEach((at, slot) => scratch!.state[slot].set(parameters.view(at)));
      optimizerStep(parameters.optimizer, layout, scratch.params, scratch.grads, scratch.state, learningRate, step, spec.trainBiases, gradScale);
      parameters.view(parameters.params).set(scratch.params);
      parameters.state.forEach((at, slot) => parameters.view(at).set(scratch!.state[slot]));
    },
  };
}
