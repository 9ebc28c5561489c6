// The interop modules: one entry point for the command line and the app, telling the
// formats apart, and pure code a browser bundle can take.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportOnnx, exportPytorch, exportTfjs, importFormat } from '../src/interop/index.ts';
import { NETWORK_CASES, seededModel } from './support/interop.ts';

describe('importFormat', () => {
  const model = seededModel(NETWORK_CASES[1].spec, 1);
  const encode = (text: string) => new TextEncoder().encode(text);

  it('tells an ONNX file, a TF.js model.json and our model file apart by their contents', () => {
    expect(importFormat('net.bin', exportOnnx(model))).toBe('onnx');
    expect(importFormat('model.json', encode(JSON.stringify(exportTfjs(model).modelJson, null, 2)))).toBe('tfjs');
    expect(importFormat('trained.json', encode(exportPytorch(model)['model.json']))).toBe('model-file');
    expect(importFormat('empty', new Uint8Array(0))).toBe('onnx'); // importOnnx then says what is wrong
  });
});

describe('src/interop', () => {
  it('imports no Node module and only the model, the model file, JSON, errors, the reference, the training defaults and train.py as text', () => {
    const folder = join(import.meta.dirname, '../src/interop');
    for (const file of readdirSync(folder).filter((name) => name.endsWith('.ts'))) {
      const imports = [...readFileSync(join(folder, file), 'utf8').matchAll(/^(?:import|export)[^;]*?from '([^']+)'/gms)].map((m) => m[1]);
      for (const path of imports) {
        expect(path, `${file} imports ${path}`).toMatch(/^(\.\/[\w-]+\.ts|\.\/[\w-]+\.py\?raw|\.\.\/model\/(ops\/)?\w+\.ts|\.\.\/reference\/\w+\.ts|\.\.\/io\/(model-file|model-format|json)\.ts|\.\.\/errors\.ts|\.\.\/option-keys\.ts|\.\.\/train\/options\.ts|@bufbuild\/protobuf|onnx-buf|zod)$/);
      }
    }
  });
});

describe('a model with input scaling', () => {
  it('goes to ONNX and TensorFlow.js with the scaling folded into its first layer (the same function on raw inputs), and to PyTorch as it is', async () => {
    const { applyInputScaling } = await import('../src/data/scaling.ts');
    const { forward } = await import('../src/reference/backprop.ts');
    const { importOnnx, importTfjs } = await import('../src/interop/index.ts');
    const { parseModelFile } = await import('../src/io/model-file.ts');
    const base = seededModel(NETWORK_CASES[1].spec, 2);
    const inputSize = base.spec.inputSize;
    const model = { ...base, inputScaling: { mean: Array.from({ length: inputSize }, (_, i) => 10 * i - 3), std: Array.from({ length: inputSize }, (_, i) => 0.5 + i) } };
    const raw = Float64Array.from({ length: 5 * inputSize }, (_, k) => Math.sin(k) * 20);
    const outputs = (m: typeof base, x: Float64Array) => forward(m.spec, m.layout, m.params, x, 5).out.at(-1)!;
    const expected = outputs(base, applyInputScaling(raw.slice(), model.inputScaling));
    const { modelJson, weightsBin } = exportTfjs(model);
    const exported = {
      onnx: importOnnx(exportOnnx(model), 'scaled.onnx'),
      tfjs: importTfjs(modelJson, weightsBin, 'model.json'),
    };
    // train.py standardises the inputs itself, as a fixed step it does not train: the model file is the model's.
    const pytorch = parseModelFile(exportPytorch(model)['model.json'], 'model.json');
    expect(pytorch.inputScaling).toEqual(model.inputScaling);
    expect(Array.from(pytorch.params)).toEqual(Array.from(model.params));
    for (const [format, imported] of Object.entries(exported)) {
      expect(imported.inputScaling, format).toBeUndefined();
      // The folded weights went through float32: a few ulps of float32 on values of order 1 bound the difference.
      outputs(imported, raw).forEach((value, k) => expect(Math.abs(value - expected[k]), `${format} output ${k}`).toBeLessThan(1e-5 * (1 + Math.abs(expected[k]))));
    }
  });
});
