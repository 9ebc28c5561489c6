// ONNX export; onnx-import.ts reads graphs of the shape written here back in.
//
//   exportOnnx(model: Model): Uint8Array
//
// Export writes one Gemm (transB = 1, so the out × in weights are stored as they are here)
// and one activation node (Sigmoid, Tanh, Relu or Softmax; none for linear) per layer, all
// float32, with an input named "input" of shape (batch, IN), the batch dimension dynamic,
// and an output named "output". Opset 21 (ONNX 1.16): every operator used has had its
// current definition since opset 13 or 14, and ONNX Runtime runs opset 21 since 1.18, so
// the file stays loadable by the runtimes people deploy. Our loss and trainBiases ride
// along in the model's metadata_props.
// Encoding goes through @bufbuild/protobuf with the ONNX schema compiled by onnx-buf.

import { create, toBinary } from '@bufbuild/protobuf';
import { AttributeProto_AttributeType, ModelProtoSchema, TensorProto_DataType } from 'onnx-buf';
import { InputError } from '../errors.ts';
import { ACTIVATION_OPS } from '../model/ops/activations.ts';
import type { Model } from '../model/network.ts';
import { denseLayers, float32Bytes, METADATA_KEY, type DenseLayer } from './dense.ts';

/** The ONNX opset the export declares. */
export const ONNX_OPSET = 21;
/** IR version 10 goes with opset 21 (ONNX 1.16). */
export const ONNX_IR_VERSION = 10;
/** The name of the exported graph's input, shape (batch, IN). */
export const ONNX_INPUT = 'input';
/** The name of the exported graph's output, shape (batch, OUT). */
export const ONNX_OUTPUT = 'output';
/** What the export records in metadata_props, each under `webgpu-backprop.<field>`: all of them, in a whole file. */
export const METADATA_FIELDS = ['loss', 'trainBiases'] as const;
/** The symbolic batch dimension of the input and the output. */
export const ONNX_BATCH = 'batch';

function floatTensor(name: string, dims: number[], values: ArrayLike<number>) {
  return { name, dims: dims.map(BigInt), dataType: TensorProto_DataType.FLOAT, rawData: float32Bytes(values) };
}

function valueInfo(name: string, units: number) {
  return {
    name,
    type: {
      value: {
        case: 'tensorType' as const,
        value: {
          elemType: TensorProto_DataType.FLOAT,
          shape: { dim: [{ value: { case: 'dimParam' as const, value: ONNX_BATCH } }, { value: { case: 'dimValue' as const, value: BigInt(units) } }] },
        },
      },
    },
  };
}

function intAttribute(name: string, value: number) {
  return { name, type: AttributeProto_AttributeType.INT, i: BigInt(value) };
}

/** A float or string attribute. */
function attributeOf(name: string, value: number | string) {
  return typeof value === 'number' ? { name, type: AttributeProto_AttributeType.FLOAT, f: value } : { name, type: AttributeProto_AttributeType.STRING, s: new TextEncoder().encode(value) };
}

/** An activation node's attributes: Softmax's axis, the layer's parameter, the fixed ones its record names. */
function activationAttributes(layer: DenseLayer) {
  const onnx = ACTIVATION_OPS[layer.activation].names.onnx!;
  return [
    ...(onnx.op === 'Softmax' ? [intAttribute('axis', -1)] : []),
    ...(onnx.parameterAttribute && layer.parameter !== undefined ? [attributeOf(onnx.parameterAttribute, layer.parameter)] : []),
    ...Object.entries(onnx.attributes ?? {}).map(([name, { value }]) => attributeOf(name, value)),
  ];
}

/** The model as an ONNX file's bytes. */
export function exportOnnx(model: Model): Uint8Array {
  const layers = denseLayers(model);
  const last = layers.length - 1;
  const nodes: object[] = [];
  const initializers: object[] = [];
  let current = ONNX_INPUT;
  layers.forEach((layer, l) => {
    const onnx = ACTIVATION_OPS[layer.activation].names.onnx;
    if (!onnx) throw new InputError(`layers[${l}].activation`, `${layer.activation} has no equivalent ONNX operator; export the model to TensorFlow.js or PyTorch instead`);
    const op = onnx.op === 'Identity' ? undefined : onnx.op;
    const net = l === last && !op ? ONNX_OUTPUT : `layer${l}.net`;
    initializers.push(floatTensor(`layer${l}.weights`, [layer.units, layer.inputs], layer.weights));
    initializers.push(floatTensor(`layer${l}.biases`, [layer.units], layer.biases));
    nodes.push({
      name: `layer${l}.gemm`,
      opType: 'Gemm',
      input: [current, `layer${l}.weights`, `layer${l}.biases`],
      output: [net],
      attribute: [intAttribute('transB', 1)],
    });
    current = net;
    if (op) {
      const out = l === last ? ONNX_OUTPUT : `layer${l}.out`;
      const activated = onnx.timesInput ? `layer${l}.${op.toLowerCase()}` : out;
      nodes.push({ name: `layer${l}.${layer.activation}`, opType: op, input: [current], output: [activated], attribute: activationAttributes(layer) });
      // Its output times its input: net·σ(net) for silu.
      if (onnx.timesInput) nodes.push({ name: `layer${l}.mul`, opType: 'Mul', input: [net, activated], output: [out], attribute: [] });
      current = out;
    }
  });
  const proto = create(ModelProtoSchema, {
    irVersion: BigInt(ONNX_IR_VERSION),
    opsetImport: [{ domain: '', version: BigInt(ONNX_OPSET) }],
    producerName: 'webgpu-backprop',
    docString: `${model.spec.inputSize}-${model.spec.layers.map((l) => `${l.units} ${l.activation}`).join('-')} dense network`,
    metadataProps: [
      ...METADATA_FIELDS.map((field) => ({ key: `${METADATA_KEY}.${field}`, value: String(model.spec[field]) })),
      // Dropout is training's alone (an inference graph has none): kept for a model that trains on.
      ...(layers.some((layer) => layer.dropout) ? [{ key: `${METADATA_KEY}.dropout`, value: JSON.stringify(layers.map((layer) => layer.dropout ?? 0)) }] : []),
    ],
    graph: {
      name: 'webgpu-backprop',
      node: nodes,
      initializer: initializers,
      input: [valueInfo(ONNX_INPUT, model.spec.inputSize)],
      output: [valueInfo(ONNX_OUTPUT, layers[last].units)],
    },
  });
  return toBinary(ModelProtoSchema, proto);
}
