// The command line, the app and the benchmark command are users of the library: they
// import its public entry points ('webgpu-backprop', 'webgpu-backprop/node') and nothing
// else of it.

import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : /\.(ts|js|mjs)$/.test(name) ? [path] : [];
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
    imports(readFileSync(file, 'utf8'))
      .filter((specifier) => specifier.startsWith('.') && !resolve(dirname(file), specifier).startsWith(root))
      // Documents and other assets are no part of the library.
      .filter((specifier) => /^(src|shaders)\//.test(relative('.', resolve(dirname(file), specifier.replace(/\?.*$/, '')))))
      .map((specifier) => `${relative('.', file)} imports ${specifier}`),
  );
}

describe('the library is used through its public entry points only', () => {
  for (const dir of ['src/cli', 'src/app', 'bench']) {
    it(`${dir} imports nothing of the library but 'webgpu-backprop' and 'webgpu-backprop/node'`, () => {
      expect(libraryReaches(dir)).toEqual([]);
    });
  }

  it('the app, which runs in browsers, does not import the Node entry point', () => {
    const nodeImports = files('src/app').filter((file) => imports(readFileSync(file, 'utf8')).includes('webgpu-backprop/node'));
    expect(nodeImports).toEqual([]);
  });

  it('the library never imports the command line, the app or the benchmark command', () => {
    const library = files('src').filter((file) => !file.startsWith('src/cli/') && !file.startsWith('src/app/'));
    const reaches = library.flatMap((file) =>
      imports(readFileSync(file, 'utf8'))
        .filter((specifier) => specifier.startsWith('.'))
        .map((specifier) => relative('.', resolve(dirname(file), specifier)))
        .filter((target) => /^(src\/cli|src\/app|bench)\//.test(target))
        .map((target) => `${file} imports ${target}`),
    );
    expect(reaches).toEqual([]);
  });

  it('the browser entry point pulls in no Node module', () => {
    // Everything reachable from src/index.ts, by relative imports.
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const specifier of imports(readFileSync(file, 'utf8'))) {
        // Text embedded at build time (`?raw`, as train.py is) imports nothing.
        if (specifier.startsWith('.') && !specifier.includes('?')) visit(resolve(dirname(file), specifier));
      }
    };
    visit(resolve('src/index.ts'));
    const nodeOnly = [...seen].flatMap((file) => imports(readFileSync(file, 'utf8')).filter((s) => s.startsWith('node:') || s === 'webgpu').map((s) => `${relative('.', file)} imports ${s}`));
    expect(nodeOnly).toEqual([]);
  });
});

// A user reads the API in its doc comments (and in the pages TypeDoc makes of them): every
// export of both entry points has one, and every type an export names is exported too.
// TypeDoc checks both (typedoc.json's validation); here any warning of its fails the test.
describe('the public API is documented', () => {
  it('TypeDoc finds every export of both entry points documented, with no warning', () => {
    const typedoc = spawnSync(process.execPath, [join('node_modules', 'typedoc', 'bin', 'typedoc'), '--emit', 'none', '--treatWarningsAsErrors'], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    const output = `${typedoc.stdout}${typedoc.stderr}`.trim();
    expect(typedoc.status, `TypeDoc exited with ${typedoc.status ?? typedoc.signal}:\n${output}`).toBe(0);
  }, 120_000);
});
