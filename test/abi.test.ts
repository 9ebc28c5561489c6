// What TypeScript knows of the kernels (src/gpu/abi.ts) against what the WGSL declares:
// every kernel's bindings, the codes of common.wgsl, the uniform structs' fields, and the
// workgroup memory the tile choice counts.

import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ACTIVATION_CODE,
  GATHER_DIMS_FIELDS,
  GROUP0,
  KERNELS,
  LAYER_FIELDS,
  LAYER_UNIFORM_BYTES,
  LOSS_CODE,
  OPTIMIZER_CODE,
  STEP_FIELDS,
  STEP_STORAGE_BYTES,
  STEP_UNIFORM_BYTES,
  USES_STEP,
  type BindingKind,
} from '../src/gpu/abi.ts';
import { sharedFiles } from '../src/gpu/shaders.ts';
import { updateStorage } from '../src/gpu/kernels.ts';
import { planStorageBytes } from '../src/gpu/tiles.ts';

const wgsl = (name: string) => readFileSync(`shaders/${name}.wgsl`, 'utf8');
const common = wgsl('common');
/** The files the shader loader prepends to kernels (common.wgsl and the rest), on adapters with subgroups and without. */
const SHARED = new Set(KERNELS.flatMap((kernel) => [...sharedFiles(kernel, { subgroups: true }), ...sharedFiles(kernel, { subgroups: false })]));

/** The bindings a WGSL source declares: group, binding, and the kind a bind group layout gives it. */
function bindings(source: string): { group: number; binding: number; kind: BindingKind }[] {
  const found = [...source.matchAll(/@group\((\d+)\)\s*@binding\((\d+)\)\s*var<([^>]+)>/g)];
  return found.map(([, group, binding, space]) => {
    const words = space.split(',').map((word) => word.trim());
    const kind: BindingKind = words[0] === 'uniform' ? 'uniform' : words[1] === 'read_write' ? 'storage' : 'read-only-storage';
    return { group: Number(group), binding: Number(binding), kind };
  });
}

/** A struct's fields as [name, type], in order. */
function structFields(source: string, name: string): [string, string][] {
  const body = new RegExp(`struct ${name} \\{([^}]*)\\}`).exec(source);
  if (!body) throw new Error(`no struct ${name}`);
  return [...body[1].matchAll(/(\w+)\s*:\s*(\w+)\s*,/g)].map(([, field, type]) => [field, type]);
}

/** `const NAME = 3u;` constants of a WGSL source. */
function constants(source: string): Map<string, number> {
  return new Map([...source.matchAll(/const (\w+) = (\d+)u;/g)].map(([, name, value]) => [name, Number(value)]));
}

const SCREAMING = (name: string) => name.toUpperCase().replace(/-/g, '_');

describe('src/gpu/abi.ts agrees with the WGSL', () => {
  it('names every kernel in shaders/, and no other: the other files are the shared ones the loader prepends', () => {
    const files = readdirSync('shaders').filter((f) => f.endsWith('.wgsl')).map((f) => f.replace(/\.wgsl$/, ''));
    expect([...KERNELS, ...SHARED].sort()).toEqual(files.sort());
    expect(KERNELS.filter((kernel) => SHARED.has(kernel))).toEqual([]);
  });

  for (const kernel of KERNELS) {
    it(`${kernel}: the binding table`, () => {
      const declared = bindings(wgsl(kernel));
      expect(declared.filter((b) => b.group === 0).map((b) => [b.binding, b.kind])).toEqual(GROUP0[kernel].map((kind, binding) => [binding, kind]));
      const step = declared.filter((b) => b.group === 1);
      expect(step).toEqual(USES_STEP.has(kernel) ? [{ group: 1, binding: 0, kind: 'uniform' }] : []);
    });
  }

  it('the activation, loss and optimizer codes', () => {
    const codes = constants(common);
    for (const [name, code] of Object.entries({ ...ACTIVATION_CODE, ...LOSS_CODE, ...OPTIMIZER_CODE })) {
      const wgslName = name === 'cross-entropy' ? 'CROSS_ENTROPY' : SCREAMING(name);
      expect(codes.get(wgslName), wgslName).toBe(code);
    }
  });

  it('the Layer, Step and Dims structs, field by field, and their sizes', () => {
    const layer = structFields(common, 'Layer');
    expect(layer.map(([name]) => name)).toEqual([...LAYER_FIELDS]);
    expect(layer.every(([, type]) => type === 'u32')).toBe(true);
    expect(LAYER_UNIFORM_BYTES).toBe(Math.ceil((4 * layer.length) / 16) * 16);

    const step = structFields(common, 'Step');
    expect(step.map(([name]) => name)).toEqual([...STEP_FIELDS]);
    expect(step.map(([, type]) => type)).toEqual(['u32', 'u32', 'f32', 'f32', 'f32']);
    expect(STEP_STORAGE_BYTES).toBe(4 * step.length);
    expect(STEP_UNIFORM_BYTES).toBe(Math.ceil((4 * step.length) / 16) * 16);

    expect(structFields(wgsl('gather_batch'), 'Dims').map(([name]) => name)).toEqual([...GATHER_DIMS_FIELDS]);
  });

  it("workgroup memory: what tiles.ts and kernels.ts count is what tile_product.wgsl and weight_update.wgsl declare", () => {
    /** A WGSL u32 expression of override names and literals, evaluated with `values`. */
    const evaluate = (expression: string, values: Record<string, number>): number => {
      const js = expression.replace(/(\d+)u\b/g, '$1').replace(/\b[A-Z_][A-Z0-9_]*\b/g, (name) => {
        if (!(name in values)) throw new Error(`no value for ${name} in ${expression}`);
        return String(values[name]);
      });
      return Math.trunc(Function(`return (${js});`)() as number);
    };
    /** Bytes of the var<workgroup> arrays a source declares. */
    const workgroupBytes = (source: string, values: Record<string, number>) =>
      [...source.matchAll(/var<workgroup> \w+: array<(vec4f|f32), ([^>]+)>;/g)].reduce((sum, [, type, size]) => sum + (type === 'vec4f' ? 16 : 4) * evaluate(size, values), 0);
    const tile = wgsl('tile_product');
    for (const plan of [
      { WG_X: 16, WG_Y: 16, GM: 2, GN: 2, TILE_K: 16 },
      { WG_X: 8, WG_Y: 4, GM: 1, GN: 4, TILE_K: 8 },
      { WG_X: 16, WG_Y: 8, GM: 2, GN: 4, TILE_K: 32 },
    ]) {
      // The derived overrides (TILE_M, TILE_N, THREADS …) as tile_product.wgsl derives them.
      const values: Record<string, number> = { ...plan };
      for (const [, name, expression] of tile.matchAll(/override (\w+): u32 = ([^;]+);/g)) if (!(name in values)) values[name] = evaluate(expression, values);
      const { TILE_M, TILE_N, TILE_K, THREADS } = values;
      expect(workgroupBytes(tile, values), `tiles of ${JSON.stringify(plan)}`).toBe(planStorageBytes({ tileM: TILE_M, tileN: TILE_N, tileK: TILE_K }));
      expect(workgroupBytes(wgsl('weight_update'), values), `bias sums of ${JSON.stringify(plan)}`).toBe(updateStorage(TILE_M, THREADS));
    }
  });

  it('no kernel redeclares what common.wgsl shares, and each names it in its header', () => {
    for (const kernel of KERNELS) {
      const source = wgsl(kernel);
      for (const shared of ['struct Layer', 'struct Step', 'fn activate', 'fn derivative_from_out', 'fn loss_gradient', 'fn softplus', 'fn optimize', 'const SIGMOID']) {
        expect(new RegExp(`${shared}\\b`).test(source), `${kernel} declares ${shared}`).toBe(false);
      }
      // The header's "Prepended:" paragraph names every file the loader puts before the kernel.
      const prepended = /\/\/ Prepended: ((?:.|\n\/\/ )*)/.exec(source)?.[1] ?? '';
      for (const file of new Set([...sharedFiles(kernel, { subgroups: true }), ...sharedFiles(kernel, { subgroups: false })])) {
        expect(prepended, `${kernel} names ${file}.wgsl in its header`).toContain(`${file}.wgsl`);
      }
    }
  });
});
