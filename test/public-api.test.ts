// The public API: its entry points ('webgpu-backprop' and its tiers /node, /trainers,
// /bench, /examples), wired alike everywhere; the command line, the app and the benchmark
// command as its users, importing those entry points and nothing else of the library;
// every export used by one of them or shown in the README or docs/; no import cycle
// between the folders of src/; one error class per kind, and promises that reject rather
// than throw.

import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ENTRY_POINTS, builtName, importName } from '../scripts/entry-points.ts';
import { BackpropError, DeviceLostError, DisposedError, DivergedError, InputError, LimitError, WebGpuUnavailableError } from '../src/index.ts';
import { bufferShape, CpuTrainer, createModel, trainOptions } from '../src/trainers.ts';

type Subpath = keyof typeof ENTRY_POINTS;
const SUBPATHS = Object.keys(ENTRY_POINTS) as Subpath[];
const ENTRY_NAMES = new Set(SUBPATHS.map(importName));

function files(dir: string, pattern = /\.(ts|js|mjs)$/): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return ['node_modules', 'results', 'dist', 'api'].includes(name) ? [] : files(path, pattern);
    return pattern.test(name) ? [path] : [];
  });
}

/** Every module specifier a file imports (static, dynamic and re-exports). */
function imports(source: string): string[] {
  return [...source.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"]([^'"]+)['"]/g)].map((m) => m[1]);
}

/** Imports of `dir`'s files that reach into the library rather than through its entry points. */
function libraryReaches(dir: string): string[] {
  const root = resolve(dir);
  return files(dir).flatMap((file) =>
    imports(readFileSync(file, 'utf8')).flatMap((specifier) => {
      if (specifier.startsWith('webgpu-backprop')) return ENTRY_NAMES.has(specifier) ? [] : [`${relative('.', file)} imports ${specifier}, not an entry point`];
      if (!specifier.startsWith('.') || resolve(dirname(file), specifier).startsWith(root)) return [];
      // Documents and other assets are no part of the library.
      const target = relative('.', resolve(dirname(file), specifier.replace(/\?.*$/, '')));
      return /^(src|shaders)\//.test(target) ? [`${relative('.', file)} imports ${specifier}`] : [];
    }),
  );
}

describe('the entry points', () => {
  it('are wired alike: package.json exports, the TypeScript < 6 declarations, the path aliases, the declaration build and TypeDoc', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
    const json = (path: string) => JSON.parse(readFileSync(path, 'utf8').replace(/^\s*\/\/.*$/gm, ''));
    const tsconfig = json('tsconfig.json');
    const build = json('tsconfig.build.json');
    const typedoc = json('typedoc.json');
    for (const subpath of SUBPATHS) {
      const name = builtName(subpath);
      expect(pkg.exports[subpath], subpath).toEqual({ 'types@>=6': `./dist/${name}.d.ts`, types: `./types/ts5/${name}.d.ts`, default: `./dist/${name}.js` });
      expect(readFileSync(`types/ts5/${name}.d.ts`, 'utf8')).toContain(`export * from '../../dist/${name}.ts';`);
      expect(tsconfig.compilerOptions.paths[importName(subpath)]).toEqual([`./${ENTRY_POINTS[subpath]}`]);
      expect(build.files).toContain(ENTRY_POINTS[subpath]);
      expect(typedoc.entryPoints).toContain(ENTRY_POINTS[subpath]);
    }
    expect(Object.keys(pkg.exports).filter((key) => key !== './package.json').sort()).toEqual([...SUBPATHS].sort());
    expect(Object.keys(tsconfig.compilerOptions.paths).sort()).toEqual([...ENTRY_NAMES].sort());
    expect(typedoc.entryPoints).toHaveLength(SUBPATHS.length);
  });
});

describe('the library is used through its entry points only', () => {
  for (const dir of ['src/cli', 'src/app', 'bench']) {
    it(`${dir} imports nothing of the library but its entry points`, () => {
      expect(libraryReaches(dir)).toEqual([]);
    });
  }

  it('the app, which runs in browsers, does not import the Node entry point', () => {
    const nodeImports = files('src/app').filter((file) => imports(readFileSync(file, 'utf8')).includes('webgpu-backprop/node'));
    expect(nodeImports).toEqual([]);
  });

  it('the library never imports the command line, the app or the benchmark command, nor its own entry points', () => {
    const entries = new Set(Object.values(ENTRY_POINTS) as string[]);
    const library = files('src').filter((file) => !file.startsWith('src/cli/') && !file.startsWith('src/app/'));
    const reaches = library.flatMap((file) =>
      imports(readFileSync(file, 'utf8'))
        .filter((specifier) => specifier.startsWith('.'))
        .map((specifier) => relative('.', resolve(dirname(file), specifier)))
        .filter((target) => /^(src\/cli|src\/app|bench)\//.test(target) || (entries.has(target) && target !== 'src/index.ts'))
        .map((target) => `${file} imports ${target}`),
    );
    // src/node.ts re-exports the root: the one entry point that imports another.
    expect(reaches.filter((reach) => reach !== 'src/node.ts imports src/index.ts')).toEqual([]);
  });

  it('the browser entry points pull in no Node module', () => {
    for (const subpath of SUBPATHS.filter((s) => s !== './node')) {
      // Everything reachable from the entry point, by relative imports.
      const seen = new Set<string>();
      const visit = (file: string) => {
        if (seen.has(file)) return;
        seen.add(file);
        for (const specifier of imports(readFileSync(file, 'utf8'))) {
          // Text embedded at build time (`?raw`: the WGSL, train.py) imports nothing.
          if (specifier.startsWith('.') && !specifier.includes('?')) visit(resolve(dirname(file), specifier));
        }
      };
      visit(resolve(ENTRY_POINTS[subpath]));
      const nodeOnly = [...seen].flatMap((file) => imports(readFileSync(file, 'utf8')).filter((s) => s.startsWith('node:') || s === 'webgpu').map((s) => `${relative('.', file)} imports ${s}`));
      expect(nodeOnly, subpath).toEqual([]);
    }
  });
});

/** The TypeScript program of the entry points, for what they export and what each export's declaration names. */
const program = ts.createProgram(Object.values(ENTRY_POINTS), {
  allowImportingTsExtensions: true,
  noEmit: true,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  target: ts.ScriptTarget.ES2022,
  types: ['@webgpu/types', 'node', 'vite/client'],
});
const checker = program.getTypeChecker();

/** An entry point's exports, by name, as the symbols they stand for. */
function exportsOf(subpath: Subpath): Map<string, ts.Symbol> {
  const module = checker.getSymbolAtLocation(program.getSourceFile(ENTRY_POINTS[subpath])!)!;
  return new Map(checker.getExportsOfModule(module).map((e) => [e.name, e.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(e) : e]));
}

/** The exported names a declaration refers to (its members' types, its parameters, what it extends). */
function namesIn(symbol: ts.Symbol, exported: Map<string, ts.Symbol>): string[] {
  const byTarget = new Map([...exported].map(([name, target]) => [target, name]));
  const found = new Set<string>();
  const visit = (node: ts.Node) => {
    if (ts.isIdentifier(node)) {
      let target = checker.getSymbolAtLocation(node);
      if (target && target.flags & ts.SymbolFlags.Alias) target = checker.getAliasedSymbol(target);
      const name = target && byTarget.get(target);
      if (name && target !== symbol) found.add(name);
    }
    // A function's body and a class's private parts are no part of its API.
    if ((ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node) || ts.isConstructorDeclaration(node) || ts.isGetAccessor(node)) && node.body) {
      node.parameters.forEach(visit);
      if (node.type) visit(node.type);
      return;
    }
    if (ts.isPropertyDeclaration(node) && node.modifiers?.some((m) => m.kind === ts.SyntaxKind.PrivateKeyword)) return;
    if (ts.isVariableDeclaration(node)) {
      if (node.type) visit(node.type);
      return;
    }
    ts.forEachChild(node, visit);
  };
  symbol.declarations?.forEach(visit);
  return [...found];
}

/** The code spans and code blocks of a Markdown text: where it names an API. */
function codeOf(markdown: string): string {
  return [...markdown.matchAll(/```[\s\S]*?```|`[^`\n]+`/g)].map((m) => m[0]).join('\n');
}

describe('every export has a user', () => {
  // Names the command line, the app and the benchmark command import from an entry point.
  const imported = new Set<string>();
  for (const file of [...files('src/cli'), ...files('src/app'), ...files('bench')]) {
    for (const m of readFileSync(file, 'utf8').matchAll(/import\s+(?:type\s+)?\{([^}]*)\}\s*from\s*['"](webgpu-backprop[^'"]*)['"]/g)) {
      for (const binding of m[1].split(',')) imported.add(binding.trim().replace(/^type\s+/, '').split(/\s+as\s+/)[0]);
    }
  }
  const documented = codeOf([readFileSync('README.md', 'utf8'), ...files('docs', /\.md$/).map((file) => readFileSync(file, 'utf8'))].join('\n'));

  it.each(SUBPATHS)('%s: used by the command line, the app or bench/, shown in the README or docs/, or named by the declaration of an export that is', (subpath) => {
    const exported = exportsOf(subpath);
    const used = new Set([...exported.keys()].filter((name) => imported.has(name) || new RegExp(`\\b${name}\\b`).test(documented)));
    // The types a used export names are used with it (a function's options, a class's members' types).
    for (let grew = true; grew; ) {
      grew = false;
      for (const name of [...used]) {
        for (const named of namesIn(exported.get(name)!, exported)) {
          if (!used.has(named)) grew = used.add(named) !== undefined;
        }
      }
    }
    // The root's exports are /node's too: /node answers only for its own.
    const own = subpath === './node' ? [...exported.keys()].filter((name) => !exportsOf('.').has(name)) : [...exported.keys()];
    expect(own.filter((name) => !used.has(name))).toEqual([]);
  });

  it('the root entry point stays small: Network, its errors, options and files', () => {
    const names = [...exportsOf('.').keys()];
    console.log(`'webgpu-backprop' exports ${names.length} names: ${names.join(', ')}`);
    expect(names.length).toBeLessThanOrEqual(50);
  });
});

/** The folders of src/ (its top-level files each a node of their own) and which import which, with one import that shows each arrow. */
function folderGraph(): Map<string, Map<string, string>> {
  const node = (file: string) => {
    const path = relative('src', file);
    return path.includes('/') ? `${path.split('/')[0]}/` : path;
  };
  const graph = new Map<string, Map<string, string>>();
  for (const file of files('src', /\.ts$/)) {
    for (const specifier of imports(readFileSync(file, 'utf8'))) {
      if (!specifier.startsWith('.')) continue;
      const target = relative('.', resolve(dirname(file), specifier));
      if (!target.startsWith('src/') || node(file) === node(target)) continue;
      if (!graph.has(node(file))) graph.set(node(file), new Map());
      if (!graph.get(node(file))!.has(node(target))) graph.get(node(file))!.set(node(target), `${file} imports ${target}`);
    }
  }
  return graph;
}

/** A cycle of the graph, as the imports that close it, or undefined. */
function findCycle(graph: Map<string, Map<string, string>>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (from: string): string[] | undefined => {
    state.set(from, 'open');
    path.push(from);
    for (const [to] of graph.get(from) ?? []) {
      if (state.get(to) === 'open') {
        const loop = [...path.slice(path.indexOf(to)), to];
        return loop.slice(1).map((next, k) => graph.get(loop[k])!.get(next)!);
      }
      if (!state.has(to)) {
        const found = visit(to);
        if (found) return found;
      }
    }
    path.pop();
    state.set(from, 'done');
    return undefined;
  };
  for (const from of graph.keys()) {
    if (state.has(from)) continue;
    const found = visit(from);
    if (found) return found;
  }
  return undefined;
}

describe('the folders of src/', () => {
  it('import one another without a cycle', () => {
    expect(findCycle(folderGraph())).toBeUndefined();
  });

  it('a cycle is found and listed, import by import', () => {
    const graph = new Map([
      ['train/', new Map([['gpu/', 'src/train/create.ts imports src/gpu/trainer.ts']])],
      ['gpu/', new Map([['model/', 'src/gpu/abi.ts imports src/model/model.ts']])],
      ['model/', new Map([['train/', 'src/model/trainer.ts imports src/train/loop.ts']])],
    ]);
    expect(findCycle(graph)).toEqual(['src/train/create.ts imports src/gpu/trainer.ts', 'src/gpu/abi.ts imports src/model/model.ts', 'src/model/trainer.ts imports src/train/loop.ts']);
  });
});

describe('errors', () => {
  const classes = { BackpropError, InputError, LimitError, DivergedError, DeviceLostError, DisposedError, WebGpuUnavailableError };

  it('the library throws only its error classes: no plain Error is left in it', () => {
    const library = files('src', /\.ts$/).filter((file) => !/^src\/(cli|app)\//.test(file));
    const plain = library.flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .flatMap((line, k) => (/\b(new|throw)\s+(Error|TypeError|RangeError)\(/.test(line) ? [`${file}:${k + 1}: ${line.trim()}`] : [])),
    );
    expect(plain).toEqual([]);
  });

  it('each class names itself in a string, so that `name` survives minification', () => {
    for (const [name, Class] of Object.entries(classes)) {
      const error = Class === InputError || Class === LimitError ? new (Class as typeof LimitError)('where', 'what', 'limit') : new (Class as typeof BackpropError)('what');
      expect(error.name).toBe(name);
      expect(error).toBeInstanceOf(BackpropError);
    }
    expect(readFileSync('src/errors.ts', 'utf8')).not.toMatch(/new\.target|constructor\.name/);
  });

  it('the lower-level calls that took a wrong argument with a plain Error throw InputError', async () => {
    const spec = { inputSize: 2, layers: [{ units: 1, activation: 'sigmoid' as const }], loss: 'half-sse' as const, trainBiases: true };
    expect(() => createModel(spec, { params: new Float64Array(2) })).toThrow(InputError);
    expect(() => createModel(spec, { params: new Float64Array(2) })).toThrow(/^params: expected \d+ parameters, got 2$/);
    expect(() => bufferShape(spec, 4, 3, 'layer5.out')).toThrow(InputError);
    const model = createModel(spec, { seed: 1 });
    const trainer = new CpuTrainer(model, { inputs: new Float64Array(2), targets: new Float64Array(1), size: 1, inputSize: 2, outputSize: 1 }, trainOptions({}, 1));
    await expect(trainer.read('layer0.net')).rejects.toThrow(InputError);
  });
});

describe('promises', () => {
  it('every public function or method that returns a promise is async: it rejects, never throws before it returns', () => {
    const sync: string[] = [];
    const check = (name: string, node: ts.SignatureDeclaration) => {
      const signature = checker.getSignatureFromDeclaration(node);
      if (!signature) return;
      const returns = checker.getReturnTypeOfSignature(signature);
      const promise = returns.getSymbol()?.name === 'Promise' || checker.typeToString(returns).startsWith('Promise<');
      const isAsync = (ts.getCombinedModifierFlags(node as ts.Declaration) & ts.ModifierFlags.Async) !== 0;
      if (promise && !isAsync && 'body' in node && node.body) sync.push(name);
    };
    for (const subpath of SUBPATHS) {
      for (const [name, symbol] of exportsOf(subpath)) {
        for (const declaration of symbol.declarations ?? []) {
          if (ts.isFunctionDeclaration(declaration)) check(name, declaration);
          if (!ts.isClassDeclaration(declaration)) continue;
          for (const member of declaration.members) {
            const hidden = ts.getCombinedModifierFlags(member) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected);
            if (!hidden && (ts.isMethodDeclaration(member) || ts.isGetAccessor(member)) && member.name) check(`${name}.${member.name.getText()}`, member);
          }
        }
      }
    }
    expect([...new Set(sync)]).toEqual([]);
  });

  it('Network.fromJSON rejects bad JSON', async () => {
    const { Network } = await import('../src/index.ts');
    const made = Network.fromJSON('{"loss": ', { backend: 'cpu' });
    await expect(made).rejects.toThrow(InputError);
    await expect(made).rejects.toThrow(/^model: line 1, column 10: not valid JSON/);
  });
});

// A user reads the API in its doc comments (and in the pages TypeDoc makes of them): every
// export of every entry point has one, and every type an export names is exported too.
// TypeDoc checks both (typedoc.json's validation); here any warning of its fails the test.
describe('the public API is documented', () => {
  it('TypeDoc finds every export of every entry point documented, with no warning', () => {
    const typedoc = spawnSync(process.execPath, [join('node_modules', 'typedoc', 'bin', 'typedoc'), '--emit', 'none', '--treatWarningsAsErrors'], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    const output = `${typedoc.stdout}${typedoc.stderr}`.trim();
    expect(typedoc.status, `TypeDoc exited with ${typedoc.status ?? typedoc.signal}:\n${output}`).toBe(0);
  }, 120_000);
});
