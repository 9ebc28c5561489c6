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
  it('imports no Node module and only the model, the model file, JSON, errors, the reference and the training defaults', () => {
    const folder = join(import.meta.dirname, '../src/interop');
    for (const file of readdirSync(folder)) {
      const imports = [...readFileSync(join(folder, file), 'utf8').matchAll(/^(?:import|export)[^;]*?from '([^']+)'/gms)].map((m) => m[1]);
      for (const path of imports) {
        expect(path, `${file} imports ${path}`).toMatch(/^(\.\/[\w-]+\.ts|\.\.\/model\/\w+\.ts|\.\.\/reference\/\w+\.ts|\.\.\/io\/(model-file|json)\.ts|\.\.\/errors\.ts|\.\.\/train\/options\.ts|@bufbuild\/protobuf|onnx-buf|zod)$/);
      }
    }
  });
});
