// ONNX: what we export, ONNX Runtime runs and predicts as our float64 reference does within
// float32 tolerance; what we import back is our weights exactly as float32; graphs of
// MatMul+Add are read too; anything else is refused naming the operator and the node.

import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import * as ort from 'onnxruntime-node';
import { AttributeProto_AttributeType, AttributeProtoSchema, ModelProtoSchema, NodeProtoSchema, TensorProto_DataType } from 'onnx-buf';
import { describe, expect, it } from 'vitest';
import { InputError } from '../src/errors.ts';
import { importOnnx } from '../src/interop/onnx-import.ts';
import { exportOnnx, ONNX_OPSET } from '../src/interop/onnx.ts';
import { float32Bytes } from '../src/interop/dense.ts';
import { layerBiases, layerWeights, type Model } from '../src/model/network.ts';
import {
  asFloat32,
  firstDifference,
  float32PredictionTolerance,
  NETWORK_CASES,
  referencePredict,
  seededInputs,
  seededModel,
  worstRatio,
} from './support/interop.ts';

const ROWS = 13;

async function runOnnx(bytes: Uint8Array, inputs: Float64Array, rows: number, inputSize: number): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes);
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', Float32Array.from(inputs), [rows, inputSize]) };
  const result = await session.run(feeds);
  const output = result[session.outputNames[0]];
  return output.data as Float32Array;
}

function importError(bytes: Uint8Array): InputError {
  try {
    importOnnx(bytes, 'net.onnx');
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error('expected an InputError');
}

describe('ONNX export', () => {
  for (const [c, { name, spec }] of NETWORK_CASES.entries()) {
    it(`runs in ONNX Runtime as the reference predicts: ${name}`, async () => {
      const model = seededModel(spec, c + 1);
      const bytes = exportOnnx(model);
      const inputs = seededInputs(spec.inputSize, ROWS, c);
      const want = referencePredict(model, inputs, ROWS);
      const tolerance = float32PredictionTolerance(model, inputs, ROWS);
      const got = await runOnnx(bytes, inputs, ROWS, spec.inputSize);
      expect(worstRatio(got, want, tolerance)).toBeLessThanOrEqual(1);
      // The batch dimension is dynamic: one row runs too, and gives the first row's outputs.
      const one = await runOnnx(bytes, inputs.subarray(0, spec.inputSize), 1, spec.inputSize);
      expect(Array.from(one)).toEqual(Array.from(got.subarray(0, one.length)));
    });

    it(`imports back to our weights exactly as float32: ${name}`, () => {
      const model = seededModel(spec, c + 1);
      const back = importOnnx(exportOnnx(model), 'net.onnx');
      expect(back.spec).toEqual(model.spec);
      expect(firstDifference(back.params, asFloat32(model.params))).toBeUndefined();
    });
  }

  it('writes one Gemm (transB = 1) and one activation node per layer, float32, a dynamic batch, opset 21', async () => {
    const model = seededModel(NETWORK_CASES[4].spec, 5); // linear, relu, tanh
    const proto = fromBinary(ModelProtoSchema, exportOnnx(model));
    expect(proto.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', ONNX_OPSET]]);
    const graph = proto.graph!;
    expect(graph.node.map((n) => n.opType)).toEqual(['Gemm', 'Gemm', 'Relu', 'Gemm', 'Tanh']);
    for (const gemm of graph.node.filter((n) => n.opType === 'Gemm')) {
      expect(gemm.attribute.map((a) => [a.name, Number(a.i)])).toEqual([['transB', 1]]);
    }
    expect(graph.initializer.every((t) => t.dataType === TensorProto_DataType.FLOAT)).toBe(true);
    // Out × in, as stored here: layer 0 maps 3 inputs to 4 units.
    expect(graph.initializer[0].dims.map(Number)).toEqual([4, 3]);
    const [input] = graph.input;
    expect(input.name).toBe('input');
    const shape = input.type?.value.case === 'tensorType' ? input.type.value.value.shape?.dim.map((d) => d.value) : undefined;
    expect(shape).toEqual([
      { case: 'dimParam', value: 'batch' },
      { case: 'dimValue', value: 3n },
    ]);
    const session = await ort.InferenceSession.create(exportOnnx(model));
    expect([session.inputNames, session.outputNames]).toEqual([['input'], ['output']]);
  });
});

/** A hand-built graph of the other supported shape: per layer MatMul (W in × out) + Add, then an activation. */
function matMulAddModel(model: Model, nodes?: (layer: number) => object[]): Uint8Array {
  const { spec } = model;
  const node: object[] = [];
  const initializer: object[] = [];
  let current = 'x';
  spec.layers.forEach((layer, l) => {
    const weights = layerWeights(model.layout, model.params, l); // (OUT, IN)
    const inputs = weights[0].length;
    const kernel = Array.from({ length: inputs }, (_, i) => weights.map((row) => row[i])).flat(); // (IN, OUT)
    initializer.push({ name: `W${l}`, dims: [BigInt(inputs), BigInt(layer.units)], dataType: TensorProto_DataType.FLOAT, floatData: kernel.map(Math.fround) });
    initializer.push({ name: `B${l}`, dims: [BigInt(layer.units)], dataType: TensorProto_DataType.FLOAT, rawData: float32Bytes(layerBiases(model.layout, model.params, l)) });
    node.push({ name: `matmul${l}`, opType: 'MatMul', input: [current, `W${l}`], output: [`mm${l}`] });
    node.push({ name: `add${l}`, opType: 'Add', input: [`B${l}`, `mm${l}`], output: [`a${l}`] });
    current = `a${l}`;
    const op = ({ sigmoid: 'Sigmoid', tanh: 'Tanh', relu: 'Relu', softmax: 'Softmax', linear: 'Identity' } as Record<string, string>)[layer.activation];
    node.push({ name: `act${l}`, opType: op, input: [current], output: [`y${l}`] });
    current = `y${l}`;
    node.push(...(nodes?.(l) ?? []));
  });
  const info = (name: string, width: number) => ({
    name,
    type: { value: { case: 'tensorType', value: { elemType: TensorProto_DataType.FLOAT, shape: { dim: [{ value: { case: 'dimParam', value: 'N' } }, { value: { case: 'dimValue', value: BigInt(width) } }] } } } },
  });
  const proto = create(ModelProtoSchema, {
    irVersion: 8n,
    opsetImport: [{ domain: '', version: 17n }],
    graph: { name: 'other', node, initializer, input: [info('x', spec.inputSize)], output: [info(current, spec.layers[spec.layers.length - 1].units)] },
  } as never);
  return toBinary(ModelProtoSchema, proto);
}

function editGraph(bytes: Uint8Array, edit: (graph: NonNullable<ReturnType<typeof fromBinary<typeof ModelProtoSchema>>['graph']>) => void): Uint8Array {
  const proto = fromBinary(ModelProtoSchema, bytes);
  edit(proto.graph!);
  return toBinary(ModelProtoSchema, proto);
}

describe('ONNX import', () => {
  it('reads MatMul + Add graphs (weights in × out), as ONNX Runtime runs them', async () => {
    const spec = NETWORK_CASES[1].spec; // tanh, softmax
    const model = seededModel(spec, 7);
    const bytes = matMulAddModel(model);
    const imported = importOnnx(bytes, 'other.onnx', { loss: 'cross-entropy' });
    expect(imported.spec).toEqual(spec);
    expect(firstDifference(imported.params, asFloat32(model.params))).toBeUndefined();
    const inputs = seededInputs(spec.inputSize, ROWS, 7);
    const got = await runOnnx(bytes, inputs, ROWS, spec.inputSize);
    expect(worstRatio(got, referencePredict(imported, inputs, ROWS), float32PredictionTolerance(imported, inputs, ROWS))).toBeLessThanOrEqual(1);
  });

  it('reads Gemm without transB (weights in × out), and takes the loss from the options or a default', () => {
    const model = seededModel(NETWORK_CASES[0].spec, 3);
    const bytes = editGraph(exportOnnx(model), (graph) => {
      for (const node of graph.node.filter((n) => n.opType === 'Gemm')) {
        node.attribute = [];
        const weights = graph.initializer.find((t) => t.name === node.input[1])!;
        const [units, inputs] = weights.dims.map(Number);
        const values = new Float32Array(weights.rawData.buffer.slice(weights.rawData.byteOffset, weights.rawData.byteOffset + weights.rawData.length));
        const kernel = new Float32Array(units * inputs);
        for (let j = 0; j < units; j++) for (let i = 0; i < inputs; i++) kernel[i * units + j] = values[j * inputs + i];
        weights.dims = [BigInt(inputs), BigInt(units)];
        weights.rawData = new Uint8Array(kernel.buffer);
      }
    });
    // As another exporter writes it: no metadata of ours.
    const noMetadata = fromBinary(ModelProtoSchema, bytes);
    noMetadata.metadataProps = [];
    noMetadata.producerName = 'pytorch';
    const warnings: string[] = [];
    const imported = importOnnx(toBinary(ModelProtoSchema, noMetadata), 'net.onnx', { warn: (message) => warnings.push(message) });
    expect(firstDifference(imported.params, asFloat32(model.params))).toBeUndefined();
    expect(imported.spec.loss).toBe('cross-entropy'); // sigmoid outputs, nothing recorded
    expect(warnings).toEqual(['net.onnx: records no loss; taking cross-entropy, as its sigmoid output suggests (give the loss to choose another)']);
    expect(importOnnx(bytes, 'net.onnx', { loss: 'mse', trainBiases: false }).spec).toMatchObject({ loss: 'mse', trainBiases: false });
  });

  const refusals: [string, () => Uint8Array, RegExp][] = [
    [
      'an unsupported operator',
      () => matMulAddModel(seededModel(NETWORK_CASES[0].spec, 1), (l) => (l === 0 ? [{ name: 'drop', opType: 'Selu', input: ['y0'], output: ['y0b'] }] : [])),
      /^net\.onnx: node 3 \(drop, Selu\): operator Selu is not supported/,
    ],
    [
      'a convolution',
      () => editGraph(exportOnnx(seededModel(NETWORK_CASES[0].spec, 1)), (graph) => (graph.node[2].opType = 'Conv')),
      /^net\.onnx: node 2 \(layer1\.gemm, Conv\): operator Conv is not supported/,
    ],
    [
      'a node off the chain',
      () => editGraph(exportOnnx(seededModel(NETWORK_CASES[0].spec, 1)), (graph) => (graph.node[2].input[0] = 'input')),
      /^net\.onnx: node 2 \(layer1\.gemm, Gemm\): takes input where the output of the previous node \(layer0\.out\) was expected/,
    ],
    [
      'float64 weights',
      () =>
        editGraph(exportOnnx(seededModel(NETWORK_CASES[0].spec, 1)), (graph) => {
          graph.initializer[0].dataType = TensorProto_DataType.DOUBLE;
        }),
      /^net\.onnx: node 0 \(layer0\.gemm, Gemm\): initializer layer0\.weights: has data type DOUBLE; only FLOAT \(float32\) weights are supported/,
    ],
    [
      'softmax on a hidden layer',
      () => editGraph(exportOnnx(seededModel(NETWORK_CASES[0].spec, 1)), (graph) => (graph.node[1].opType = 'Softmax')),
      /^net\.onnx: node 1 \(layer0\.sigmoid, Softmax\): softmax is supported on the output layer only/,
    ],
    [
      'a non-finite weight',
      () =>
        editGraph(exportOnnx(seededModel(NETWORK_CASES[0].spec, 1)), (graph) => {
          graph.initializer[2].rawData = float32Bytes([0.5, NaN, 0.25, 1, 2, 3]);
        }),
      /^net\.onnx: node 2 \(layer1\.gemm, Gemm\): weights\[1\] is NaN: expected a finite number/,
    ],
    [
      'a custom domain',
      () =>
        editGraph(exportOnnx(seededModel(NETWORK_CASES[0].spec, 1)), (graph) => {
          graph.node[1].domain = 'com.microsoft';
          graph.node[1].opType = 'FastGelu';
        }),
      /^net\.onnx: node 1 \(layer0\.sigmoid, FastGelu\): operator com\.microsoft\.FastGelu is not supported/,
    ],
    ['bytes that are not ONNX', () => new TextEncoder().encode('{"loss": "mse", "layers": []}'), /^net\.onnx: not an ONNX model/],
    [
      'an Elu of another alpha than 1',
      () =>
        editGraph(exportOnnx(seededModel(NETWORK_CASES[6].spec, 1)), (graph) => {
          graph.node[3].attribute[0].f = 0.5;
        }),
      /^net\.onnx: node 3 \(layer1\.elu, Elu\): Elu with alpha = 0\.5 is not supported: elu is Elu with alpha = 1$/,
    ],
    [
      'a Gelu without the tanh approximation (the erf form)',
      () =>
        editGraph(exportOnnx(seededModel(NETWORK_CASES[8].spec, 1)), (graph) => {
          graph.node[1].attribute = [];
        }),
      /^net\.onnx: node 1 \(layer0\.gelu, Gelu\): Gelu with approximate = "none" is not supported: gelu is Gelu with approximate = "tanh"$/,
    ],
    [
      'a Mul that is not x·sigmoid(x)',
      () =>
        editGraph(exportOnnx(seededModel(NETWORK_CASES[7].spec, 1)), (graph) => {
          graph.node[2].input = ['layer0.sigmoid', 'layer0.sigmoid'];
        }),
      /^net\.onnx: node 2 \(layer0\.mul, Mul\): a Mul is supported only as x·sigmoid\(x\) \(silu\), right after the Sigmoid of a layer's net input$/,
    ],
    [
      'a Gemm with transA',
      () =>
        editGraph(exportOnnx(seededModel(NETWORK_CASES[0].spec, 1)), (graph) => {
          graph.node[0].attribute.push(create(AttributeProtoSchema, { name: 'transA', type: AttributeProto_AttributeType.INT, i: 1n }));
        }),
      /^net\.onnx: node 0 \(layer0\.gemm, Gemm\): transA = 1 is not supported/,
    ],
  ];
  for (const [what, bytes, message] of refusals) {
    it(`refuses ${what}, naming it and where it is, in one line`, () => {
      const error = importError(bytes());
      expect(error.message).toMatch(message);
      expect(error.message).not.toContain('\n');
    });
  }
});

describe('ONNX import, past the simplest graphs', () => {
  it('refuses a file cut short anywhere, in one line; one cut after its graph (its metadata and opset gone) says so', () => {
    const model = seededModel(NETWORK_CASES[1].spec, 4);
    const bytes = exportOnnx(model);
    for (let length = 0; length < bytes.length; length++) {
      const error = importError(bytes.subarray(0, length));
      expect(error.message, `cut at ${length} of ${bytes.length} bytes`).toMatch(/^net\.onnx: (not an ONNX model, or one cut short|has no opset_import: it is cut short|is cut short: webgpu-backprop wrote it|not an ONNX model \(no graph)/);
      expect(error.message).not.toContain('\n');
    }
    // Where the graph ends: ModelProto's graph is field 7, written before opset_import (8) and metadata_props (14).
    const proto = fromBinary(ModelProtoSchema, bytes);
    const graphOnly = toBinary(ModelProtoSchema, create(ModelProtoSchema, { irVersion: proto.irVersion, producerName: proto.producerName, docString: proto.docString, graph: proto.graph }));
    expect(bytes.subarray(0, graphOnly.length)).toEqual(graphOnly);
    expect(importError(graphOnly).message).toBe('net.onnx: has no opset_import: it is cut short (a whole ONNX file has them after its graph), or not an ONNX model');
  });

  it('takes Identity nodes (anywhere) and Constant nodes (weights as nodes), as exporters write them, and predicts as ONNX Runtime does', async () => {
    const { spec } = NETWORK_CASES[1]; // tanh, softmax
    const model = seededModel(spec, 9);
    const bytes = editGraph(exportOnnx(model), (graph) => {
      // Layer 0's weights as a Constant node, layer 1's through an Identity of the initializer.
      const [w0] = graph.initializer.splice(0, 1);
      const w1 = graph.initializer.find((t) => t.name === 'layer1.weights')!;
      w1.name = 'layer1.weights.stored';
      graph.node.unshift(
        create(NodeProtoSchema, { name: 'w0', opType: 'Constant', output: ['layer0.weights'], attribute: [create(AttributeProtoSchema, { name: 'value', type: AttributeProto_AttributeType.TENSOR, t: w0 })] }),
        create(NodeProtoSchema, { name: 'w1', opType: 'Identity', input: ['layer1.weights.stored'], output: ['layer1.weights'] }),
      );
      // An Identity on the way between the layers, and one at the output.
      const gemm1 = graph.node.find((n) => n.name === 'layer1.gemm')!;
      graph.node.splice(graph.node.indexOf(gemm1), 0, create(NodeProtoSchema, { name: 'pass', opType: 'Identity', input: [gemm1.input[0]], output: ['passed'] }));
      gemm1.input[0] = 'passed';
      graph.node.push(create(NodeProtoSchema, { name: 'out', opType: 'Identity', input: ['output'], output: ['final'] }));
      graph.output[0].name = 'final';
    });
    const imported = importOnnx(bytes, 'net.onnx');
    expect(imported.spec).toEqual(model.spec);
    expect(firstDifference(imported.params, asFloat32(model.params))).toBeUndefined();
    const inputs = seededInputs(spec.inputSize, ROWS, 9);
    const got = await runOnnx(bytes, inputs, ROWS, spec.inputSize);
    expect(worstRatio(got, referencePredict(imported, inputs, ROWS), float32PredictionTolerance(imported, inputs, ROWS))).toBeLessThanOrEqual(1);
  });

  it('tells a PyTorch file (torch.save) by its name or its zip or pickle header, and says how to convert it', async () => {
    const { Network } = await import('../src/index.ts');
    const advice = /is a PyTorch file \(torch\.save\), which holds Python objects rather than a network others can read: export it to ONNX with torch\.onnx\.export\(model, torch\.zeros\(1, inputs\), "model\.onnx"\) and import model\.onnx$/;
    const zip = Uint8Array.from([0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0]);
    const pickle = Uint8Array.from([0x80, 0x02, 0x63, 0x00]);
    await expect(Network.import(zip, 'auto', { source: 'model.bin', backend: 'cpu' })).rejects.toThrow(new RegExp(`^model\\.bin: ${advice.source}`));
    await expect(Network.import(pickle, 'auto', { source: 'weights', backend: 'cpu' })).rejects.toThrow(advice);
    await expect(Network.import(exportOnnx(seededModel(NETWORK_CASES[0].spec, 1)), 'onnx', { source: 'net.pt', backend: 'cpu' })).rejects.toThrow(advice);
  });
});
