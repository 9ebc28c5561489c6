// Where a WebAssembly network's named buffers live in the runtime's memory, and the
// description of them the step reads (the Net and Layer of src/wasm/assembly/step.ts).
//
// A trainer holds one Parameters (params and grads by the parameter layout, the
// optimizer's state, the dataset as float32) and one Rows per batch size it steps or
// predicts with (the batch's input and target, each layer's net, out and δ, each sample's
// loss, and in training dropout's mask of each layer that drops), each Rows described to
// the module as a Net of its own.

import type { Dataset } from '../data/dataset.ts';
import { paramEntry } from '../model/layout.ts';
import { layerInputs, layerParameter, outputSize } from '../model/model.ts';
import type { Model } from '../model/network.ts';
import { dropoutKey, dropoutThreshold, drops } from '../model/dropout.ts';
import { ACTIVATION_OPS } from '../model/ops/activations.ts';
import { LOSS_OPS } from '../model/ops/losses.ts';
import { constantsOf, OPTIMIZER_OPS, weightDecayOf, type OptimizerSpec } from '../model/ops/optimizers.ts';
import type { TrainOptions } from '../model/trainer.ts';
import type { HostOps, WasmRuntime } from './runtime.ts';

/** Parameters, gradients and optimizer state (P each, the parameter layout), and the dataset, as float32. */
export class Parameters {
  readonly params: number; //    (P)
  readonly grads: number; //     (P)
  readonly state: number[]; //   each (P)
  readonly constants: number; // the optimizer's constants, in its record's order, then its weight decay λ
  readonly data: number; //      (N, IN)
  readonly targets: number; //   (N, K)
  private readonly blocks: [number, number][] = [];

  constructor(
    readonly runtime: WasmRuntime,
    readonly model: Model,
    readonly options: TrainOptions,
    dataset: Dataset | undefined,
  ) {
    const optimizer = options.optimizer;
    const P = model.layout.size;
    const take = (bytes: number, zeroed = false) => {
      const at = zeroed ? runtime.allocateZeroed(bytes) : runtime.allocate(bytes);
      this.blocks.push([at, bytes]);
      return at;
    };
    try {
      this.params = take(4 * P, true);
      this.grads = take(4 * P, true);
      const op = OPTIMIZER_OPS[optimizer.kind];
      this.state = Array.from({ length: op.stateSlots }, () => take(4 * P, true));
      // By the record's names, whatever order the specification gives them in.
      const given = constantsOf(optimizer);
      const constants = [...Object.keys(op.constants).map((name) => given[name]), weightDecayOf(optimizer)];
      this.constants = take(4 * constants.length);
      runtime.f32(this.constants, constants.length).set(constants);
      this.data = dataset ? take(4 * dataset.inputs.length) : 0;
      this.targets = dataset ? take(4 * dataset.targets.length) : 0;
      if (dataset) {
        runtime.f32(this.data, dataset.inputs.length).set(dataset.inputs);
        runtime.f32(this.targets, dataset.targets.length).set(dataset.targets);
      }
    } catch (error) {
      this.release();
      throw error;
    }
    runtime.f32(this.params, P).set(model.params);
  }

  get optimizer(): OptimizerSpec {
    return this.options.optimizer;
  }

  /** The float32 view of a P-long array at `at` (params, grads, a state slot). */
  view(at: number): Float32Array {
    return this.runtime.f32(at, this.model.layout.size);
  }

  release(): void {
    for (const [at, bytes] of this.blocks.splice(0)) this.runtime.release(at, bytes);
  }
}

/** One layer's per-sample buffers: (rows, units) each. */
export interface LayerRows {
  net: number;
  out: number;
  delta: number;
  /** Dropout's mask of the step, where the layer drops in training (else 0). */
  mask: number;
}

/** The per-sample buffers for up to `rows` samples, described to the module as a Net; `training`: its steps drop where layers do. */
export class Rows {
  readonly address: number;
  readonly handle: number;
  readonly input: number; //  (rows, IN)
  readonly target: number; // (rows, K)
  readonly losses: number; // (rows)
  readonly layers: LayerRows[];
  private readonly blocks: [number, number][] = [];

  constructor(
    readonly parameters: Parameters,
    readonly rows: number,
    host: (rows: Rows) => HostOps,
    readonly training: boolean,
  ) {
    const { runtime, model } = parameters;
    const { spec, layout } = model;
    const take = (floats: number) => {
      const at = runtime.allocateZeroed(4 * floats);
      this.blocks.push([at, 4 * floats]);
      return at;
    };
    const exports = runtime.exports;
    try {
      this.input = take(rows * spec.inputSize);
      this.target = take(rows * outputSize(spec));
      this.losses = take(rows);
      const dropping = spec.layers.map((layer) => training && drops(layer.dropout));
      this.layers = spec.layers.map((layer, l) => ({ net: take(rows * layer.units), out: take(rows * layer.units), delta: take(rows * layer.units), mask: dropping[l] ? take(rows * layer.units) : 0 }));
      this.address = take(exports.net_bytes(spec.layers.length) / 4);
      const task = take(exports.task_bytes() / 4);
      this.handle = runtime.register(host(this));
      const { params, grads, state, options } = parameters;
      const [seedLow, seedHigh] = dropoutKey(options.seed);
      exports.set_net(
        this.address,
        this.handle,
        spec.layers.length,
        rows,
        spec.inputSize,
        outputSize(spec),
        LOSS_OPS[spec.loss].code,
        OPTIMIZER_OPS[parameters.optimizer.kind].code,
        spec.trainBiases ? 1 : 0,
        parameters.data,
        parameters.targets,
        this.input,
        this.target,
        this.losses,
        params,
        grads,
        state[0] ?? 0,
        state[1] ?? 0,
        parameters.constants,
        options.clipNorm ?? 0,
        seedLow,
        seedHigh,
        runtime.pool,
        task,
      );
      spec.layers.forEach((layer, l) => {
        const at = (base: number, kind: 'weights' | 'biases') => base + 4 * paramEntry(layout, l, kind).offset;
        const buffers = this.layers[l];
        // A unit is kept where its draw reaches p·2³², and then scaled by 1/(1 − p) (0 and 1: a layer that never drops).
        const [threshold, scale] = dropping[l] ? [dropoutThreshold(layer.dropout!), 1 / (1 - layer.dropout!)] : [0, 1];
        exports.set_layer(this.address, l, layer.units, layerInputs(spec, l), ACTIVATION_OPS[layer.activation].code, layerParameter(layer), at(params, 'weights'), at(params, 'biases'), at(grads, 'weights'), at(grads, 'biases'), buffers.net, buffers.out, buffers.delta, threshold, scale, buffers.mask);
      });
    } catch (error) {
      this.release();
      throw error;
    }
  }

  release(): void {
    if (this.handle) this.parameters.runtime.unregister(this.handle);
    for (const [at, bytes] of this.blocks.splice(0)) this.parameters.runtime.release(at, bytes);
  }
}
