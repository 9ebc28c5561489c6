// What TypeScript knows of the kernels (src/gpu/abi.ts) against what the WGSL declares:
// every kernel's bindings, the op tables against ops.wgsl and the generated switches, the
// uniform structs' fields, and the workgroup memory the tile choice counts.

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
  OP_SWITCHES,
  opFunctions,
  OPTIMIZER_CODE,
  STEP_FIELDS,
  STEP_STORAGE_BYTES,
  STEP_UNIFORM_BYTES,
  UPDATE_LAYER_BYTES,
  UPDATE_LAYER_FIELDS,
  UPDATE_LAYERS,
  UPDATE_TABLE_BYTES,
  USES_STEP,
  wgslCodeName,
  wgslName,
  type BindingKind,
} from '../src/gpu/abi.ts';
import { opSwitchSource } from '../src/gpu/op-switch.ts';
import { ACTIVATION_NAMES, ACTIVATION_OPS } from '../src/model/ops/activations.ts';
import { LOSS_NAMES, LOSS_OPS } from '../src/model/ops/losses.ts';
import { OPTIMIZER_NAMES, OPTIMIZER_OPS } from '../src/model/ops/optimizers.ts';
import { sharedFiles } from '../src/gpu/shaders.ts';
import { biasSumFloats, UPDATE_OPTIONS } from '../src/gpu/kernels.ts';
import { chooseMatmuls, holdsATile, planStorageBytes } from '../src/gpu/tiles.ts';
import { CPU_THREADING, GPU_THREADING } from '../src/gpu/adapters.ts';

const wgsl = (name: string) => readFileSync(`shaders/${name}.wgsl`, 'utf8');
const common = wgsl('common');
const ops = wgsl('ops');
const generated = opSwitchSource();
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

/** The functions a WGSL source declares: name, parameters as [name, type], result type. */
function functions(source: string): Map<string, { parameters: [string, string][]; returns: string }> {
  const declared = new Map<string, { parameters: [string, string][]; returns: string }>();
  for (const [, name, list, returns] of source.matchAll(/^fn (\w+)\(([^)]*)\)(?: -> ([\w<>, ]+))? \{/gm)) {
    // Split at the commas outside <…> (ptr<function, f32>).
    const parameters = list.split(/,(?![^<]*>)/).filter((p) => p.trim()).map((p) => p.split(':').map((part) => part.trim()) as [string, string]);
    declared.set(name, { parameters, returns: returns ?? '' });
  }
  return declared;
}

/** The case labels of the switch in function `name` of the generated source, with the function each case calls. */
function switchCases(name: string): Map<string, string> {
  const body = new RegExp(`fn ${name}\\([^)]*\\) -> f32 \\{([\\s\\S]*?)\\n\\}`).exec(generated)?.[1];
  if (!body) throw new Error(`no generated fn ${name}`);
  return new Map([...body.matchAll(/case (\w+): \{ return (\w+)\(/g)].map(([, label, called]) => [label, called]));
}

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

  it('the activation, loss and optimizer codes: unique in each family, and declared by the generated WGSL as the records give them', () => {
    for (const table of [ACTIVATION_CODE, LOSS_CODE, OPTIMIZER_CODE]) {
      const codes = Object.values(table);
      expect(new Set(codes).size, JSON.stringify(table)).toBe(codes.length);
    }
    expect(ACTIVATION_CODE).toEqual(Object.fromEntries(ACTIVATION_NAMES.map((name) => [name, ACTIVATION_OPS[name].code])));
    const codes = constants(generated);
    const all = { ...ACTIVATION_CODE, ...LOSS_CODE, ...OPTIMIZER_CODE };
    for (const [name, code] of Object.entries(all)) expect(codes.get(wgslCodeName(name)), wgslCodeName(name)).toBe(code);
    expect(codes.size).toBe(Object.keys(all).length);
    // The codes are declared once, there: no .wgsl file declares them too.
    for (const file of readdirSync('shaders')) expect(constants(readFileSync(`shaders/${file}`, 'utf8')).size, file).toBe(0);
  });

  it("every record's functions are in ops.wgsl with their signatures, and every function of ops.wgsl is a record's", () => {
    const declared = functions(ops);
    const expected = opFunctions();
    for (const fn of expected) {
      expect(declared.get(fn.name), `ops.wgsl: fn ${fn.name} of ${fn.op}`).toEqual({ parameters: fn.parameters.map(([name, type]) => [name, type]), returns: fn.returns });
    }
    expect([...declared.keys()].sort()).toEqual(expected.map((fn) => fn.name).sort());
  });

  it("every optimizer constant is an f32 override of ops.wgsl, and every override there is some optimizer's", () => {
    const overrides = new Map([...ops.matchAll(/^override (\w+): (\w+)/gm)].map(([, name, type]) => [name, type]));
    const named = new Set(OPTIMIZER_NAMES.flatMap((kind) => Object.values(OPTIMIZER_OPS[kind].constants).map((constant) => constant.override)));
    for (const name of named) expect(overrides.get(name), name).toBe('f32');
    expect([...overrides.keys()].sort()).toEqual([...named].sort());
  });

  it('the generated switches cover every code: a case for each op of their kind, calling its function with their own parameters', () => {
    const declared = functions(ops);
    const elementwise = {
      activation: ACTIVATION_NAMES.filter((name) => ACTIVATION_OPS[name].kind === 'elementwise'),
      loss: LOSS_NAMES.filter((name) => LOSS_OPS[name].kind === 'elementwise'),
      optimizer: OPTIMIZER_NAMES,
    };
    for (const [name, { code, parameters, suffix }] of Object.entries(OP_SWITCHES)) {
      const cases = switchCases(name);
      const ops = elementwise[code];
      expect([...cases.keys()].sort(), name).toEqual(ops.map(wgslCodeName).sort());
      for (const op of ops) {
        const called = cases.get(wgslCodeName(op))!;
        expect(called).toBe(`${wgslName(op)}_${suffix}`);
        expect(declared.get(called)?.parameters).toEqual(parameters.map(([p, type]) => [p, type]));
      }
      const signature = functions(generated).get(name);
      expect(signature?.parameters).toEqual([[code, 'u32'], ...parameters.map(([p, type]) => [p, type])]);
    }
    // The rest reach `default`: softmax, computed by the kernels (output_stage.wgsl, softmax.wgsl), and the
    // losses taken from the logits, whose functions the output stage calls by name.
    const rest = [...ACTIVATION_NAMES.filter((name) => ACTIVATION_OPS[name].kind === 'row'), ...LOSS_NAMES.filter((name) => LOSS_OPS[name].kind === 'logits')];
    for (const name of rest) expect(wgsl('output_stage'), name).toContain(wgslCodeName(name));
    for (const fn of opFunctions().filter((fn) => LOSS_OPS[fn.op as keyof typeof LOSS_OPS]?.kind === 'logits')) expect(wgsl('output_stage'), fn.name).toContain(`${fn.name}(`);
  });

  it('the Layer, Step and Dims structs, field by field, and their sizes', () => {
    const layer = structFields(common, 'Layer');
    expect(layer).toEqual(Object.entries(LAYER_FIELDS));
    expect(LAYER_UNIFORM_BYTES).toBe(Math.ceil((4 * layer.length) / 16) * 16);

    const step = structFields(common, 'Step');
    expect(step.map(([name]) => name)).toEqual([...STEP_FIELDS]);
    expect(step.map(([, type]) => type)).toEqual(['u32', 'u32', 'f32', 'f32', 'f32', 'u32', 'u32', 'u32']);
    expect(STEP_STORAGE_BYTES).toBe(4 * step.length);
    expect(STEP_UNIFORM_BYTES).toBe(Math.ceil((4 * step.length) / 16) * 16);

    expect(structFields(wgsl('gather_batch'), 'Dims').map(([name]) => name)).toEqual([...GATHER_DIMS_FIELDS]);

    const update = structFields(wgsl('weight_update'), 'UpdateLayer');
    expect(update.map(([name]) => name)).toEqual([...UPDATE_LAYER_FIELDS]);
    expect(update.every(([, type]) => type === 'u32')).toBe(true);
    // An array element in the uniform address space: a stride of whole 16 bytes.
    expect(UPDATE_LAYER_BYTES).toBe(Math.ceil((4 * update.length) / 16) * 16);
    expect(wgsl('weight_update')).toContain(`var<uniform> layers: array<UpdateLayer, ${UPDATE_LAYERS}>;`);
    expect(UPDATE_TABLE_BYTES).toBe(UPDATE_LAYERS * UPDATE_LAYER_BYTES);
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
      { WG_X: 16, WG_Y: 16, GM: 2, GN: 2, TILE_K: 16, BUFFERS: 2 },
      { WG_X: 8, WG_Y: 4, GM: 1, GN: 4, TILE_K: 8, BUFFERS: 1 },
      { WG_X: 16, WG_Y: 8, GM: 2, GN: 4, TILE_K: 32, BUFFERS: 2 },
      { WG_X: 16, WG_Y: 4, GM: 1, GN: 1, TILE_K: 4, BUFFERS: 1 }, // a_tile of 64 floats: too small for 16 + 64 bias sums
    ]) {
      // The derived overrides (TILE_M, TILE_N, THREADS …) as tile_product.wgsl derives them.
      const values: Record<string, number> = { ...plan };
      for (const [, name, expression] of tile.matchAll(/override (\w+): u32 = ([^;]+);/g)) if (!(name in values)) values[name] = evaluate(expression, values);
      const { TILE_M, TILE_N, TILE_K, THREADS, BUFFERS } = values;
      expect(workgroupBytes(tile, values), `tiles of ${JSON.stringify(plan)}`).toBe(planStorageBytes({ tileM: TILE_M, tileN: TILE_N, tileK: TILE_K, buffers: BUFFERS }));
      // weight_update.wgsl's bias sums live in a_tile: it declares no workgroup memory of its own.
      expect(workgroupBytes(wgsl('weight_update'), values), `bias sums of ${JSON.stringify(plan)}`).toBe(0);
      const aTile = /var<workgroup> a_tile: array<vec4f, ([^>]+)>;/.exec(tile)!;
      expect(4 * evaluate(aTile[1], values) >= biasSumFloats(TILE_M, THREADS)).toBe(holdsATile({ tileM: TILE_M, tileK: TILE_K, wgX: plan.WG_X, wgY: plan.WG_Y }, UPDATE_OPTIONS));
    }
  });

  it("every plan of the weight update keeps a_tile at least TILE_M + THREADS floats, the bias sums' room, on every adapter", () => {
    const limits = { maxInvocations: 256, maxWorkgroupStorage: 32768, maxWorkgroupsPerDimension: 65535, subgroups: false, minThreads: 1, maxColumnBlocks: 4, dispatchCost: 0 };
    const profiles = [
      { ...limits, units: 2, ...CPU_THREADING, software: true },
      { ...limits, units: 132, ...GPU_THREADING, software: false },
      { ...limits, units: 8, ...GPU_THREADING, software: false, maxInvocations: 64, maxWorkgroupStorage: 4096 },
    ];
    let checked = 0;
    for (const profile of profiles) {
      for (const batch of [1, 5, 64, 256, 4096]) {
        for (const sizes of [[784, 128, 10], [1024, 1024, 1024, 10], [3, 2, 1]]) {
          const shapes = sizes.slice(1).map((units, l) => ({ m: units, n: sizes[l], k: batch }));
          for (const plan of chooseMatmuls(shapes, profile, UPDATE_OPTIONS)) {
            expect(plan.tileK * plan.tileM, JSON.stringify(plan)).toBeGreaterThanOrEqual(biasSumFloats(plan.tileM, plan.wgX * plan.wgY));
            checked++;
          }
        }
      }
    }
    expect(checked).toBe(3 * 5 * (2 + 3 + 2));
  });

  it('no kernel redeclares what common.wgsl shares, and each names it in its header', () => {
    for (const kernel of KERNELS) {
      const source = wgsl(kernel);
      for (const shared of ['struct Layer', 'struct Step', 'fn activate', 'fn derivative', 'fn loss_term', 'fn loss_gradient', 'fn optimize', 'fn sample_loss', 'fn softmax_row', 'fn sigmoid_activate', 'fn adam_update']) {
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
