// ONNX import.
//
//   importOnnx(bytes: Uint8Array, source: string, options?: ImportOptions): Model
//
// Import takes graphs of the shape the export writes (onnx.ts): per layer a Gemm, or a
// MatMul followed by an Add of the bias, then at most one activation; Identity nodes
// (anywhere: a tensor renamed) and Constant nodes (weights written as nodes) are taken as
// what they are. Anything else is refused with an InputError naming the operator and the
// node. A file cut short is refused; one without our metadata gets the loss its output
// suggests, with a warning.
// Decoding goes through @bufbuild/protobuf with the ONNX schema compiled by onnx-buf.

import { fromBinary } from '@bufbuild/protobuf';
import {
  AttributeProto_AttributeType,
  ModelProtoSchema,
  TensorProto_DataLocation,
  TensorProto_DataType,
  type AttributeProto,
  type GraphProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from 'onnx-buf';
import { asText, InputError } from '../errors.ts';
import { MODEL_LIMITS } from '../io/model-format.ts';
import { ACTIVATIONS, type Activation } from '../model/model.ts';
import { ACTIVATION_OPS } from '../model/ops/activations.ts';
import type { Model } from '../model/network.ts';
import { checkLimits, importedLoss, METADATA_KEY, modelFromLayers, readFloat32, recordedLoss, transpose, type DenseLayer, type ImportOptions } from './dense.ts';
import { METADATA_FIELDS } from './onnx.ts';

/** Our activations by ONNX operator (their records'); silu, Sigmoid then Mul, is found from the Mul. */
const OP_ACTIVATIONS: Record<string, Activation> = Object.fromEntries(
  ACTIVATIONS.flatMap((activation) => {
    const onnx = ACTIVATION_OPS[activation].names.onnx;
    return onnx && !onnx.timesInput ? [[onnx.op, activation]] : [];
  }),
);
/** The activation written as its operator's output times its input (silu). */
const TIMES_INPUT = ACTIVATIONS.find((activation) => ACTIVATION_OPS[activation].names.onnx?.timesInput);

const SUPPORTED = `expected Gemm, or MatMul then Add, per layer, each followed by at most one of ${Object.keys(OP_ACTIVATIONS).filter((op) => op !== 'Identity').join(', ')} (or Sigmoid then Mul, silu); Identity and Constant nodes anywhere`;

/** A node, as errors name it: `node 3 (layer1.gemm, Gemm)`. */
function describeNode(node: NodeProto, index: number): string {
  return node.name ? `node ${index} (${node.name}, ${node.opType})` : `node ${index} (${node.opType})`;
}

function attribute(node: NodeProto, name: string): AttributeProto | undefined {
  return node.attribute.find((a) => a.name === name);
}

function intAttr(node: NodeProto, name: string, fallback: number): number {
  const a = attribute(node, name);
  return a === undefined ? fallback : Number(a.i);
}

function floatAttr(node: NodeProto, name: string, fallback: number): number {
  const a = attribute(node, name);
  return a === undefined ? fallback : a.f;
}

/** A float32 attribute as the shortest decimal that rounds to it (0.1, not 0.10000000149): the value its writer meant. */
function float32Decimal(value: number): number {
  for (let digits = 1; digits < 9; digits++) {
    const decimal = Number(value.toPrecision(digits));
    if (Math.fround(decimal) === value) return decimal;
  }
  return value;
}

/** The dropout metadata: one probability in [0, 1) per layer. */
function parseDropout(text: string, layers: number, where: string): number[] {
  let rates: unknown;
  try {
    rates = JSON.parse(text);
  } catch {
    rates = undefined;
  }
  if (!Array.isArray(rates) || rates.length !== layers || !rates.every((p) => typeof p === 'number' && p >= 0 && p < 1)) {
    throw new InputError(where, `expected ${layers} dropout probabilities p with 0 ≤ p < 1, one per layer, got ${text}`);
  }
  return rates as number[];
}

/** A float or string attribute's value, or the fallback where the node leaves it out. */
function attrValue(node: NodeProto, name: string, fallback: number | string): number | string {
  const a = attribute(node, name);
  if (a === undefined) return fallback;
  return a.type === AttributeProto_AttributeType.STRING ? new TextDecoder().decode(a.s) : a.type === AttributeProto_AttributeType.INT ? Number(a.i) : a.f;
}

/** An initializer's values as float32, with its shape. */
function tensorValues(tensor: TensorProto, where: string): { dims: number[]; values: Float32Array } {
  const dims = tensor.dims.map(Number);
  const here = `${where}: initializer ${tensor.name}`;
  if (tensor.dataType !== TensorProto_DataType.FLOAT) {
    const type = TensorProto_DataType[tensor.dataType] ?? tensor.dataType;
    throw new InputError(here, `has data type ${type}; only FLOAT (float32) weights are supported`);
  }
  if (tensor.dataLocation === TensorProto_DataLocation.EXTERNAL) throw new InputError(here, 'keeps its data in an external file; only weights inside the model are supported');
  if (dims.some((d) => !Number.isSafeInteger(d) || d < 0 || d > MODEL_LIMITS.units)) throw new InputError(here, `has dimensions ${dims.join(' × ')}, outside what a layer may have`);
  const count = dims.reduce((a, b) => a * b, 1);
  if (tensor.rawData.length > 0) {
    if (tensor.rawData.length !== count * 4) throw new InputError(here, `expected ${count * 4} bytes of raw_data for shape ${dims.join(' × ')}, got ${tensor.rawData.length}`);
    return { dims, values: readFloat32(tensor.rawData, 0, count) };
  }
  if (tensor.floatData.length !== count) throw new InputError(here, `expected ${count} float_data values for shape ${dims.join(' × ')}, got ${tensor.floatData.length}`);
  return { dims, values: Float32Array.from(tensor.floatData) };
}

/** The float32 batch × units shape of a graph input or output, if it says one. */
function tensorWidth(info: ValueInfoProto, where: string): number | undefined {
  if (info.type?.value.case !== 'tensorType') throw new InputError(where, 'expected a tensor');
  const tensor = info.type.value.value;
  if (tensor.elemType !== TensorProto_DataType.FLOAT) {
    throw new InputError(where, `has element type ${TensorProto_DataType[tensor.elemType] ?? tensor.elemType}; expected FLOAT (float32)`);
  }
  const dims = tensor.shape?.dim;
  if (dims === undefined) return undefined;
  if (dims.length !== 2) throw new InputError(where, `has ${dims.length} dimensions; expected 2 (batch, features)`);
  return dims[1].value.case === 'dimValue' ? Number(dims[1].value.value) : undefined;
}

/**
 * The model's protobuf message, its boundaries checked: a message cut inside a field fails
 * to decode; one cut between fields is told by what a whole file has after its graph (the
 * opset imports, and in our exports the metadata, are written after it).
 */
function parseModel(bytes: Uint8Array, source: string) {
  if (bytes.length > MODEL_LIMITS.fileBytes) throw new InputError(source, `the file is larger than the ${MODEL_LIMITS.fileBytes / 2 ** 20} MiB a model file may be`);
  let proto;
  try {
    proto = fromBinary(ModelProtoSchema, bytes);
  } catch (error) {
    throw new InputError(source, `not an ONNX model, or one cut short (${asText((error as Error).message).slice(0, 200)})`);
  }
  if (proto.opsetImport.length === 0) throw new InputError(source, 'has no opset_import: it is cut short (a whole ONNX file has them after its graph), or not an ONNX model');
  const keys = new Set(proto.metadataProps.map((entry) => entry.key));
  if (proto.producerName === METADATA_KEY && !METADATA_FIELDS.every((field) => keys.has(`${METADATA_KEY}.${field}`))) {
    throw new InputError(source, `is cut short: ${METADATA_KEY} wrote it with its ${METADATA_FIELDS.join(' and ')} in metadata_props, after the graph, and they are missing`);
  }
  return proto;
}

/** An ONNX model of dense layers as our model. */
export function importOnnx(bytes: Uint8Array, source: string, options: ImportOptions = {}): Model {
  const proto = parseModel(bytes, source);
  const graph: GraphProto | undefined = proto.graph;
  if (!graph || graph.node.length === 0) throw new InputError(source, 'not an ONNX model (no graph, or a graph without nodes)');
  const metadata = new Map(proto.metadataProps.map((entry) => [entry.key, entry.value]));
  const initializers = new Map(graph.initializer.map((tensor) => [tensor.name, tensor]));
  // Constants, and Identity nodes of constants (exporters write both for weights), are initializers by another name.
  const chain = graph.node.filter((node, index) => {
    const where = `${source}: ${describeNode(node, index)}`;
    if ((node.domain === '' || node.domain === 'ai.onnx') && node.opType === 'Constant') {
      const value = attribute(node, 'value');
      if (!value?.t || node.output.length !== 1) throw new InputError(where, 'a Constant is supported with a tensor `value` (the weights of a layer)');
      initializers.set(node.output[0], { ...value.t, name: node.output[0] });
      return false;
    }
    const aliased = node.opType === 'Identity' && node.input.length === 1 && initializers.get(node.input[0]);
    if (aliased && node.output.length === 1) {
      initializers.set(node.output[0], { ...aliased, name: node.output[0] });
      return false;
    }
    return true;
  });

  // Older exporters list the initializers among the graph's inputs too.
  const inputs = graph.input.filter((info) => !initializers.has(info.name));
  if (inputs.length !== 1) throw new InputError(`${source}: graph.input`, `expected one input (the features), got ${inputs.length}: ${inputs.map((i) => i.name).join(', ')}`);
  const declaredInputs = tensorWidth(inputs[0], `${source}: graph input ${inputs[0].name}`);

  const layers: DenseLayer[] = [];
  const nodeOf: NodeProto[] = []; // the node that made each layer, for errors
  const activationOf: (NodeProto | undefined)[] = [];
  let biasAdded = true; // whether the last layer may still take an Add
  let activated = true; // whether the last layer has its activation
  let timesInputDone = true; // whether the last layer's Sigmoid has been multiplied by its input already
  let current = inputs[0].name;

  const weightInit = (node: NodeProto, where: string, k: number) => {
    const name = node.input[k];
    const tensor = name === undefined ? undefined : initializers.get(name);
    if (!tensor) throw new InputError(where, `input ${k} (${name ?? 'missing'}) is not an initializer; weights and biases must be constants in the file`);
    return tensorValues(tensor, where);
  };
  const biasVector = (values: { dims: number[]; values: Float32Array }, units: number, where: string): Float32Array => {
    const { dims } = values;
    const broadcast = dims.length === 0 || (dims.length <= 2 && dims.every((d) => d === 1));
    const vector = (dims.length === 1 && dims[0] === units) || (dims.length === 2 && dims[0] === 1 && dims[1] === units);
    if (vector) return values.values;
    if (broadcast) return new Float32Array(units).fill(values.values[0]);
    throw new InputError(where, `the bias has shape ${dims.join(' × ')}; expected ${units} or 1 × ${units}`);
  };

  chain.forEach((node) => {
    const index = graph.node.indexOf(node);
    const where = `${source}: ${describeNode(node, index)}`;
    if (node.domain !== '' && node.domain !== 'ai.onnx') {
      throw new InputError(where, `operator ${node.domain}.${node.opType} is not supported (${SUPPORTED})`);
    }
    const known = node.opType === 'Gemm' || node.opType === 'MatMul' || node.opType === 'Add' || node.opType === 'Identity' || node.opType in OP_ACTIVATIONS || node.opType === 'Mul';
    if (!known) throw new InputError(where, `operator ${node.opType} is not supported (${SUPPORTED})`);
    if (node.opType === 'Mul') {
      // x·σ(x): the Sigmoid just read, times what it took.
      const layer = layers[layers.length - 1];
      const sigmoid = activationOf[layers.length - 1];
      const ok = TIMES_INPUT && layer?.activation === 'sigmoid' && sigmoid?.output[0] === current && [...node.input].sort().join() === [sigmoid.input[0], current].sort().join() && !timesInputDone;
      if (!ok) throw new InputError(where, 'a Mul is supported only as x·sigmoid(x) (silu), right after the Sigmoid of a layer\'s net input');
      if (node.output.length !== 1) throw new InputError(where, `has ${node.output.length} outputs; expected 1`);
      layer.activation = TIMES_INPUT!;
      timesInputDone = true;
      current = node.output[0];
      return;
    }
    const flowing = node.opType === 'Add' ? node.input.filter((name) => !initializers.has(name)) : [node.input[0]];
    if (flowing.length !== 1 || flowing[0] !== current) {
      throw new InputError(where, `takes ${flowing.join(', ') || 'no tensor'} where the output of the previous node (${current}) was expected: only a chain of dense layers is supported`);
    }
    if (node.output.length !== 1) throw new InputError(where, `has ${node.output.length} outputs; expected 1`);
    const inputsHere = layers.length === 0 ? declaredInputs : layers[layers.length - 1].units;

    if (node.opType === 'Identity') {
      // The tensor under another name: nothing is computed (a linear layer stays linear).
      current = node.output[0];
      return;
    }
    if (node.opType === 'Gemm' || node.opType === 'MatMul') {
      const w = weightInit(node, where, 1);
      if (w.dims.length !== 2) throw new InputError(where, `the weights have shape ${w.dims.join(' × ')}; expected a matrix`);
      // Gemm computes α·A·op(B) + β·C with op(B) = Bᵀ when transB = 1: B is then out × in.
      const transposed = node.opType === 'Gemm' && intAttr(node, 'transB', 0) === 1;
      const [units, inputs] = transposed ? w.dims : [w.dims[1], w.dims[0]];
      if (node.opType === 'Gemm' && intAttr(node, 'transA', 0) !== 0) throw new InputError(where, 'transA = 1 is not supported: the input must be batch × features');
      if (inputsHere !== undefined && inputs !== inputsHere) throw new InputError(where, `the weights take ${inputs} inputs; the previous layer gives ${inputsHere}`);
      checkLimits(inputs, [units], where);
      let weights = transposed ? w.values : transpose(w.values, inputs, units); // (OUT, IN)
      let biases: Float32Array = new Float32Array(units); //                      (OUT)
      if (node.opType === 'Gemm') {
        const alpha = floatAttr(node, 'alpha', 1);
        const beta = floatAttr(node, 'beta', 1);
        if (alpha !== 1) weights = weights.map((v) => Math.fround(alpha * v));
        if (node.input[2]) biases = biasVector(weightInit(node, where, 2), units, where).map((v) => Math.fround(beta * v));
      }
      layers.push({ activation: 'linear', units, inputs, weights, biases });
      nodeOf.push(node);
      activationOf.push(undefined);
      timesInputDone = false;
      biasAdded = node.opType === 'Gemm' && Boolean(node.input[2]);
      activated = false;
    } else if (node.opType === 'Add') {
      const layer = layers[layers.length - 1];
      if (!layer || biasAdded || activated) throw new InputError(where, 'an Add is supported only as the bias right after a MatMul');
      const k = node.input.findIndex((name) => initializers.has(name));
      layer.biases = biasVector(weightInit(node, where, k), layer.units, where);
      biasAdded = true;
    } else {
      const layer = layers[layers.length - 1];
      if (!layer || activated) throw new InputError(where, `an activation is supported only right after a Gemm or MatMul+Add`);
      if (node.opType === 'Softmax' && ![-1, 1].includes(intAttr(node, 'axis', -1))) {
        throw new InputError(where, `Softmax over axis ${intAttr(node, 'axis', -1)}; expected the features' axis (1 or -1)`);
      }
      layer.activation = OP_ACTIVATIONS[node.opType];
      const onnx = ACTIVATION_OPS[layer.activation].names.onnx!;
      for (const [name, { value, onnxDefault }] of Object.entries(onnx.attributes ?? {})) {
        const given = attrValue(node, name, onnxDefault);
        if (given !== value) throw new InputError(where, `${node.opType} with ${name} = ${JSON.stringify(given)} is not supported: ${layer.activation} is ${node.opType} with ${name} = ${JSON.stringify(value)}`);
      }
      const parameter = ACTIVATION_OPS[layer.activation].parameter;
      if (onnx.parameterAttribute && parameter) layer.parameter = float32Decimal(floatAttr(node, onnx.parameterAttribute, parameter.default));
      activationOf[layers.length - 1] = node;
      activated = true;
      biasAdded = true;
    }
    current = node.output[0];
  });

  if (graph.output.length !== 1 || graph.output[0].name !== current) {
    throw new InputError(`${source}: graph.output`, `expected one output, the last node's (${current}); got ${graph.output.map((o) => o.name).join(', ') || 'none'}`);
  }
  const outputs = tensorWidth(graph.output[0], `${source}: graph output ${current}`);
  const last = layers[layers.length - 1];
  if (outputs !== undefined && outputs !== last.units) throw new InputError(`${source}: graph output ${current}`, `declares ${outputs} features; the last layer gives ${last.units}`);

  const hiddenSoftmax = layers.findIndex((layer, l) => layer.activation === 'softmax' && l < layers.length - 1);
  if (hiddenSoftmax >= 0) {
    const node = activationOf[hiddenSoftmax]!;
    throw new InputError(`${source}: ${describeNode(node, graph.node.indexOf(node))}`, 'softmax is supported on the output layer only');
  }
  const recorded = metadata.get(`${METADATA_KEY}.loss`);
  const loss = importedLoss(options, recorded === undefined ? undefined : recordedLoss(recorded, `${source}: metadata ${METADATA_KEY}.loss`), last.activation, source);
  const trainBiases = options.trainBiases ?? metadata.get(`${METADATA_KEY}.trainBiases`) !== 'false';
  const dropout = metadata.get(`${METADATA_KEY}.dropout`);
  if (dropout !== undefined) {
    const rates = parseDropout(dropout, layers.length, `${source}: metadata ${METADATA_KEY}.dropout`);
    layers.forEach((layer, l) => rates[l] > 0 && (layer.dropout = rates[l]));
  }
  return modelFromLayers(layers[0].inputs, layers, loss, trainBiases, source, (l) => `${source}: ${describeNode(nodeOf[l], graph.node.indexOf(nodeOf[l]))}`);
}
