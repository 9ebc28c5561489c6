// The package as a user gets it: `npm pack`, installed into a fresh Node project and a
// fresh Vite vanilla-ts project outside the checkout. The README's quick starts run there
// verbatim: in plain `node`, and in headless Chromium from `vite build` and from the Vite
// dev server. Both projects type-check with strict settings and `skipLibCheck: false`.
// The built page carries what it uses: at most half of what the same page weighed when
// the package was one bundle, none of the file formats' libraries, and error names that
// survive minification.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch } from './support/browser.ts';

/** What `auto` may choose in a browser or Node: WebGPU, or WebAssembly where WebGPU is slower here (SwiftShader) or missing. */
const AUTO_BACKENDS = ['webgpu', 'wasm'];

const ROOT = resolve('.');
const work = mkdtempSync(join(tmpdir(), 'webgpu-backprop-package-'));
const ours = JSON.parse(readFileSync('package.json', 'utf8'));
/** The same create-vite every run: a fresh project, reproducibly. */
const CREATE_VITE = 'create-vite@9.3.0';

/** Runs a command to completion; rejects with its output if it fails. */
function run(command: string, args: string[], cwd: string, timeoutMs = 300_000): Promise<string> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, npm_config_update_notifier: 'false' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) done(output);
      else fail(new Error(`${command} ${args.join(' ')} (in ${cwd}) exited ${code}:\n${output}`));
    });
  });
}

/** A code block of the README, found by the marker comment above it. */
function quickStart(name: 'browser' | 'node' | 'worker'): string {
  const readme = readFileSync('README.md', 'utf8');
  const match = new RegExp(`<!-- quickstart:${name}[^>]*-->\\s*\`\`\`\\w*\\n([\\s\\S]*?)\`\`\``).exec(readme);
  if (!match) throw new Error(`README.md has no quickstart:${name} block`);
  return match[1];
}

function freePort(): Promise<number> {
  return new Promise((done) => {
    const server = createServer();
    server.listen(0, 'localhost', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => done(port));
    });
  });
}

/** Starts a server and waits until it answers. */
async function serve(command: string, args: string[], cwd: string, url: string): Promise<ChildProcess> {
  const child = spawn(command, args, { cwd, stdio: 'ignore', detached: true });
  for (let k = 0; k < 120; k++) {
    try {
      if ((await fetch(url)).ok) return child;
    } catch {
      // not up yet
    }
    await new Promise((wait) => setTimeout(wait, 500));
  }
  throw new Error(`${command} ${args.join(' ')} did not answer at ${url}`);
}

/** The #result a page writes once it is done (the browser quick start: once it has trained), and the scripts it loaded on the way. */
async function runInBrowser<T>(url: string, screenshotName: string): Promise<{ result: T; scripts: string[] }> {
  const browser = await launch();
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    const scripts: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
    page.on('request', (request) => request.resourceType() === 'script' && scripts.push(new URL(request.url()).pathname));
    await page.goto(url);
    await page.waitForSelector('#result', { timeout: 120_000 });
    mkdirSync('test-results/screenshots', { recursive: true });
    await page.screenshot({ path: `test-results/screenshots/${screenshotName}.png` });
    expect(errors).toEqual([]);
    return { result: JSON.parse((await page.textContent('#result'))!), scripts };
  } finally {
    await browser.close();
  }
}

interface QuickStartResult {
  backend: string;
  epochs: number;
  losses: number[];
  loss: number;
  accuracy: number;
}

async function trainInBrowser(url: string, screenshotName: string): Promise<QuickStartResult> {
  return (await runInBrowser<QuickStartResult>(url, screenshotName)).result;
}

/** The quick start's page built by Vite when the package was one bundle: 108.49 kB of gzipped JavaScript. */
const ONE_BUNDLE_GZIP_BYTES = 108_490;

/** Gzipped bytes of built files (Vite's own measure: gzip at the default level). */
function gzipBytes(paths: string[]): number {
  return paths.reduce((sum, path) => sum + gzipSync(readFileSync(path)).length, 0);
}

/** What marks each library the page should not carry, in built code. */
const FORMAT_LIBRARIES = {
  zod: /\$ZodType|ZodError/,
  papaparse: /papaparse|Papa\.parse|RECORD_SEP/,
  'the protobuf codec': /ModelProtoSchema|@bufbuild|protobuf/,
  'the PyTorch template': /DistributedDataParallel/,
};

/** The least TypeScript the declarations need (typed arrays generic over their buffer came in 5.7), as the README states it. */
const MINIMUM_TYPESCRIPT = /TypeScript (\d+\.\d+) or later/.exec(readFileSync(join(ROOT, 'README.md'), 'utf8'))![1];

/** Strict settings a careful consumer uses: the library's declarations are checked too. */
const STRICT = { strict: true, noUncheckedIndexedAccess: true, erasableSyntaxOnly: true, skipLibCheck: false };

let tarball: string;
let packed: { size: number; unpackedSize: number; files: { path: string; size: number }[] };

beforeAll(async () => {
  // The tarball of this checkout, built afresh (npm pack runs `prepare`, which builds dist/).
  const output = await run('npm', ['pack', '--json', '--pack-destination', work], ROOT);
  [packed] = JSON.parse(output.slice(output.indexOf('[')));
  tarball = join(work, `webgpu-backprop-${ours.version}.tgz`);
}, 300_000);

describe('the packed tarball', () => {
  it('holds the built library, its declarations, the command line and nothing of the checkout besides', () => {
    const paths = packed.files.map((file) => file.path);
    console.log(`webgpu-backprop-${ours.version}.tgz: ${(packed.size / 1024).toFixed(0)} KiB packed, ${(packed.unpackedSize / 1024).toFixed(0)} KiB unpacked, ${paths.length} files:\n  ${paths.join('\n  ')}`);
    for (const needed of ['package.json', 'README.md', 'dist/index.js', 'dist/index.d.ts', 'dist/node.js', 'dist/node.d.ts', 'dist/cli.js', 'bin/webgpu-backprop.js']) expect(paths).toContain(needed);
    expect(paths.filter((path) => /^(src|test|bench|scripts|node_modules|dist-app)\//.test(path) || path.endsWith('.map'))).toEqual([]);
    expect(packed.size).toBeLessThan(1024 * 1024);
  });

  it('declares webgpu as an optional peer, and none of the app\'s or the command line\'s own packages', () => {
    expect(ours.peerDependenciesMeta.webgpu.optional).toBe(true);
    expect(Object.keys(ours.dependencies).sort()).toEqual(['@bufbuild/protobuf', '@streamparser/json', '@webgpu/types', 'onnx-buf', 'papaparse', 'seedrandom', 'zod']);
  });

  it('holds one module per source module, importing its dependencies rather than a copy of them; the worker script is whole, importing nothing but its own chunks', () => {
    // The worker script (vite.worker.config.ts) is the one bundle: a dev server serves it as it is.
    const isWorkerScript = (path: string) => /^dist\/worker\/script[-.]/.test(path);
    const workerScript = packed.files.map((file) => file.path).filter((path) => isWorkerScript(path) && path.endsWith('.js'));
    expect(workerScript).toContain('dist/worker/script.js');
    const reaches = workerScript.flatMap((path) => [...readFileSync(path, 'utf8').matchAll(/^(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']|\bimport\s*\(\s*["']([^"']+)["']/gm)].map((m) => m[1] ?? m[2]).filter((specifier) => !/^\.\/script-[\w-]+\.js$/.test(specifier)));
    expect(reaches).toEqual([]);
    const dist = packed.files.map((file) => file.path).filter((path) => path.startsWith('dist/') && path.endsWith('.js') && path !== 'dist/cli.js' && !isWorkerScript(path));
    expect(dist).toEqual(expect.arrayContaining(['dist/network.js', 'dist/train/fit.js', 'dist/interop/onnx.js']));
    const bundled = dist.filter((path) => /node_modules|@bufbuild|onnx-buf|zod/.test(path) || /\bfunction create\(schema|ModelProtoSchema =/.test(readFileSync(path, 'utf8')));
    expect(bundled).toEqual([]);
  });
});

describe('a fresh Node project', () => {
  const project = join(work, 'node-project');

  beforeAll(async () => {
    mkdirSync(project);
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({
        name: 'node-project',
        private: true,
        type: 'module',
        dependencies: { 'webgpu-backprop': `file:${tarball}`, webgpu: ours.devDependencies.webgpu },
        devDependencies: { typescript: ours.devDependencies.typescript, '@types/node': ours.devDependencies['@types/node'] },
      }),
    );
    writeFileSync(join(project, 'main.mjs'), quickStart('node'));
    writeFileSync(join(project, 'main.ts'), quickStart('node'));
    // Every tier resolves, with its declarations, for a TypeScript user.
    writeFileSync(
      join(project, 'tiers.ts'),
      [
        "import type { FitOptions, Network } from 'webgpu-backprop';",
        "import { readDataFile } from 'webgpu-backprop/node';",
        "import { CpuTrainer, type Trainer } from 'webgpu-backprop/trainers';",
        "import { runSuite, type Workload } from 'webgpu-backprop/bench';",
        "import { WORKED_EXAMPLES, type WorkedExample } from 'webgpu-backprop/examples';",
        "import { WorkerNetwork, type WorkerNetworkOptions } from 'webgpu-backprop/worker';",
        'export type Used = [FitOptions, Network, Trainer, Workload, WorkedExample, WorkerNetworkOptions, typeof readDataFile, typeof CpuTrainer, typeof runSuite, typeof WORKED_EXAMPLES, typeof WorkerNetwork];',
      ].join('\n'),
    );
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'nodenext', moduleResolution: 'nodenext', types: ['node'], noEmit: true, ...STRICT }, files: ['main.ts', 'tiers.ts'] }),
    );
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], project);
  }, 300_000);

  // auto measures: on a GPU it takes WebGPU; on SwiftShader (a software adapter slower per step) WebAssembly, or
  // for so small a network WebAssembly before asking for an adapter. Either way it says why.
  it('runs the README quick start in plain node: XOR trained to 100% on the backend auto measures faster, saying why', async () => {
    const output = await run(process.execPath, ['main.mjs'], project);
    expect(output).toMatch(/^(webgpu \(auto chose WebGPU|wasm \(auto chose WebAssembly( without asking for WebGPU)?): .+\): 500 epochs, loss 0\.\d{4}, accuracy 1$/m);
  });

  it('type-checks the quick start, and an import of every entry point, with strict settings, the library\'s declarations included', async () => {
    expect(await run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', '.'], project)).toBe('');
  });

  it(`type-checks where users' settings are stricter still, from the least TypeScript the README states (${MINIMUM_TYPESCRIPT}): a description written as const, options given as undefined under exactOptionalPropertyTypes, and Node without the DOM library (skipLibCheck, as the README says)`, async () => {
    writeFileSync(
      join(project, 'exact.ts'),
      [
        "import { Network, type FitOptions, type ModelFile } from 'webgpu-backprop';",
        "import 'webgpu-backprop/node';",
        "const description = { inputSize: 2, seed: 1, loss: 'cross-entropy', layers: [{ units: 4, activation: 'tanh' }, { units: 1, activation: 'sigmoid' }] } as const;",
        'const net = await Network.create(description, { backend: undefined, seed: undefined });',
        "const options: FitOptions = { epochs: 2, learningRate: undefined, metrics: ['accuracy'] as const, callbacks: { onEpochEnd: undefined }, earlyStopping: { patience: undefined } };",
        'await net.fit([[0, 0], [1, 1]] as const, [[0], [1]] as const, options);',
        'const saved: ModelFile = net.toJSON();',
        'await Network.fromJSON(saved, { source: undefined });',
      ].join('\n'),
    );
    // STRICT without erasableSyntaxOnly, which came in TypeScript 5.8.
    const { erasableSyntaxOnly: _, ...strict } = STRICT;
    const config = (name: string, lib: string[], skipLibCheck: boolean) =>
      writeFileSync(join(project, name), JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'nodenext', moduleResolution: 'nodenext', lib, types: ['node'], noEmit: true, ...strict, exactOptionalPropertyTypes: true, skipLibCheck }, files: ['exact.ts'] }));
    config('tsconfig.exact.json', ['ES2022', 'DOM'], false);
    config('tsconfig.no-dom.json', ['ES2022'], true);
    const minimum = join(work, 'typescript-minimum');
    mkdirSync(minimum, { recursive: true });
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--no-save', `typescript@${MINIMUM_TYPESCRIPT}`], minimum);
    for (const tsc of [join('node_modules', 'typescript', 'bin', 'tsc'), join(minimum, 'node_modules', 'typescript', 'bin', 'tsc')]) {
      for (const tsconfig of ['tsconfig.exact.json', 'tsconfig.no-dom.json']) expect(await run(process.execPath, [tsc, '-p', tsconfig], project), `${tsc} -p ${tsconfig}`).toBe('');
    }
  });

  it('runs the command line from the installed package', async () => {
    expect(await run('npx', ['webgpu-backprop', 'examples'], project)).toMatch(/^mazur\s+article 001/m);
    expect(await run('npx', ['webgpu-backprop', 'trace', 'mazur', '--backend', 'cpu'], project)).toMatch(/E_total\s+0\.298371109 ✓/);
  });

  it("exports a PyTorch folder from the installed package: train.py is the checkout's, embedded in dist/", async () => {
    writeFileSync(join(project, 'xor.json'), JSON.stringify({ inputSize: 2, seed: 1, loss: 'half-sse', layers: [{ units: 3, activation: 'tanh' }, { units: 1, activation: 'sigmoid' }] }));
    await run('npx', ['webgpu-backprop', 'export', '--model', 'xor.json', '--format', 'pytorch', '--out', 'run'], project);
    expect(readFileSync(join(project, 'run', 'train.py'), 'utf8')).toBe(readFileSync('src/interop/train.py', 'utf8'));
    expect(JSON.parse(readFileSync(join(project, 'run', 'defaults.json'), 'utf8')).optimizer).toBe('sgd');
  });
});

describe('a fresh Vite vanilla-ts project', () => {
  const project = join(work, 'vite-project');
  const servers: ChildProcess[] = [];

  beforeAll(async () => {
    await run('npm', ['exec', '--yes', CREATE_VITE, '--', 'vite-project', '--template', 'vanilla-ts', '--no-interactive'], work);
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], project);
    writeFileSync(join(project, 'src', 'main.ts'), quickStart('browser'));
    const config = JSON.parse(readFileSync(join(project, 'tsconfig.json'), 'utf8').replace(/\/\*[\s\S]*?\*\//g, ''));
    Object.assign(config.compilerOptions, STRICT);
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify(config, null, 2));
  }, 300_000);

  afterAll(() => {
    for (const server of servers) process.kill(-server.pid!, 'SIGKILL');
  });

  it('installs without the webgpu package (a browser needs no Dawn)', () => {
    expect(existsSync(join(project, 'node_modules', 'webgpu-backprop', 'dist', 'index.js'))).toBe(true);
    expect(existsSync(join(project, 'node_modules', 'webgpu'))).toBe(false);
  });

  it('builds with its own `tsc && vite build`, and the built page trains XOR with fit in Chromium, loading at most half the old bundle and none of the file formats\' libraries', async () => {
    await run('npm', ['run', 'build'], project);
    const port = await freePort();
    servers.push(await serve('npx', ['vite', 'preview', '--port', String(port), '--strictPort', '--host', 'localhost'], project, `http://localhost:${port}/`));
    const { result, scripts } = await runInBrowser<QuickStartResult>(`http://localhost:${port}/`, 'package-vite-build');
    expect(AUTO_BACKENDS).toContain(result.backend);
    expect(result.epochs).toBe(500);
    expect(result.losses).toHaveLength(500);
    expect(result.losses.at(-1)!).toBeLessThan(result.losses[0]! / 10);
    expect(result.accuracy).toBe(1);

    // What the page loads at start (its entry chunk and the chunks Vite preloads with it),
    // and everything it loaded by the time it had trained (the model-file reader comes with `create`).
    const html = readFileSync(join(project, 'dist', 'index.html'), 'utf8');
    const atStart = [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+\.js)"/g)].map((m) => join(project, 'dist', m[1]));
    const loaded = [...new Set(scripts)].map((path) => join(project, 'dist', path));
    const all = readdirSync(join(project, 'dist', 'assets')).filter((name) => name.endsWith('.js')).map((name) => join(project, 'dist', 'assets', name));
    const kB = (bytes: number) => `${(bytes / 1000).toFixed(2)} kB`;
    console.log(`the quick start's page, gzipped: ${kB(gzipBytes(atStart))} at start, ${kB(gzipBytes(loaded))} loaded by the end of training, ${kB(gzipBytes(all))} built in all (${all.length} chunks; ${kB(ONE_BUNDLE_GZIP_BYTES)} as one bundle)`);
    expect(atStart.length).toBeGreaterThan(0);
    expect(loaded).toEqual(expect.arrayContaining(atStart));
    expect(gzipBytes(atStart)).toBeLessThanOrEqual(ONE_BUNDLE_GZIP_BYTES / 2);
    // auto measures WebAssembly against WebGPU, so the page loads one build of the
    // WebAssembly module (the whole module, embedded): counted apart, and the rest bounded as before.
    const wasmModules = loaded.filter((path) => /\/(single|threaded)-[\w-]+\.js$/.test(path));
    expect(wasmModules).toHaveLength(1);
    console.log(`of which the WebAssembly module ${kB(gzipBytes(wasmModules))}`);
    expect(gzipBytes(loaded.filter((path) => !wasmModules.includes(path)))).toBeLessThanOrEqual(ONE_BUNDLE_GZIP_BYTES / 2);
    for (const [library, mark] of Object.entries(FORMAT_LIBRARIES)) {
      expect(loaded.filter((path) => mark.test(readFileSync(path, 'utf8'))), library).toEqual([]);
    }
    // Papaparse reads data files: no page of Network's needs it, even on demand.
    expect(all.filter((path) => FORMAT_LIBRARIES.papaparse.test(readFileSync(path, 'utf8')))).toEqual([]);
  });

  it('keeps the error classes\' names in a minified build: err.name is InputError', async () => {
    const page = join(work, 'vite-errors');
    mkdirSync(join(page, 'src'), { recursive: true });
    symlinkSync(join(project, 'node_modules'), join(page, 'node_modules'));
    writeFileSync(join(page, 'index.html'), '<!doctype html><html><head><link rel="icon" href="data:,"></head><body><script type="module" src="/src/main.ts"></script></body></html>\n');
    writeFileSync(
      join(page, 'src', 'main.ts'),
      [
        "import { InputError, Network } from 'webgpu-backprop';",
        "const error = await Network.create({ inputSize: 2, loss: 'mse', layers: [{ units: 1, activation: 'swish' as 'linear' }] }, { backend: 'cpu' }).then(() => undefined, (e: Error) => e);",
        "const result = document.createElement('pre');",
        "result.id = 'result';",
        'result.textContent = JSON.stringify({ name: error?.name, isInputError: error instanceof InputError, className: error?.constructor.name, message: error?.message });',
        'document.body.append(result);',
      ].join('\n'),
    );
    await run(join(project, 'node_modules', '.bin', 'vite'), ['build'], page);
    const port = await freePort();
    servers.push(await serve(join(project, 'node_modules', '.bin', 'vite'), ['preview', '--port', String(port), '--strictPort', '--host', 'localhost'], page, `http://localhost:${port}/`));
    const { result } = await runInBrowser<{ name: string; isInputError: boolean; className: string; message: string }>(`http://localhost:${port}/`, 'package-vite-errors');
    console.log(`in the minified build: err.name ${result.name}, its class's own name ${result.className}`);
    expect(result.name).toBe('InputError');
    expect(result.isInputError).toBe(true);
    expect(result.message).toMatch(/^model: layers\[0\]\.activation: expected one of sigmoid, /);
  });

  it('trains in a Worker: the worker quick start type-checks, builds and runs built and under the dev server, its worker bundled by Vite', async () => {
    const page = join(work, 'vite-worker');
    mkdirSync(join(page, 'src'), { recursive: true });
    symlinkSync(join(project, 'node_modules'), join(page, 'node_modules'));
    writeFileSync(join(page, 'index.html'), '<!doctype html><html><head><link rel="icon" href="data:,"></head><body><script type="module" src="/src/main.ts"></script></body></html>\n');
    writeFileSync(join(page, 'src', 'main.ts'), quickStart('worker'));
    writeFileSync(join(page, 'tsconfig.json'), readFileSync(join(project, 'tsconfig.json')));
    // node_modules is the other project's, through a symlink: the dev server may serve from there.
    writeFileSync(join(page, 'vite.config.js'), "export default { server: { fs: { allow: ['..'] } } };\n");
    await run(join(project, 'node_modules', '.bin', 'tsc'), ['-p', '.'], page);
    await run(join(project, 'node_modules', '.bin', 'vite'), ['build'], page);
    const workers = readdirSync(join(page, 'dist', 'assets')).filter((name) => /^script-.*\.js$/.test(name));
    expect(workers).toHaveLength(1);
    for (const [mode, args] of [['built', ['preview']], ['dev', []]] as const) {
      const port = await freePort();
      servers.push(await serve(join(project, 'node_modules', '.bin', 'vite'), [...args, '--port', String(port), '--strictPort', '--host', 'localhost'], page, `http://localhost:${port}/`));
      const { result } = await runInBrowser<QuickStartResult & { hidden: number }>(`http://localhost:${port}/`, `package-vite-worker-${mode}`);
      expect(AUTO_BACKENDS, mode).toContain(result.backend);
      expect(result.losses, mode).toHaveLength(500);
      expect(result.accuracy, mode).toBe(1);
      expect(result.hidden, mode).toBe(8);
    }
  }, 300_000);

  it('trains the same page under the Vite dev server', async () => {
    const port = await freePort();
    servers.push(await serve('npx', ['vite', '--port', String(port), '--strictPort', '--host', 'localhost'], project, `http://localhost:${port}/`));
    const result = await trainInBrowser(`http://localhost:${port}/`, 'package-vite-dev');
    expect(AUTO_BACKENDS).toContain(result.backend);
    expect(result.accuracy).toBe(1);
  });
});
