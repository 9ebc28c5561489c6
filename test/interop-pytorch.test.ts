// The PyTorch hand-off: the train.py that exportPytorch writes, run by Debian's PyTorch with
// two processes over gloo in float64, ends with the weights our float64 reference reaches on
// the same schedule, within 1e-10 relative; the model it writes back loads here and predicts
// the same; a run resumed from its checkpoint ends where the uninterrupted one does.
//
// Why 1e-10: both sides compute the same float64 operations on the same rows, the sums in
// another order (PyTorch's kernels, each process's share, DistributedDataParallel's
// average), so each step differs by a few units of roundoff (1e-16) relative, amplified by
// at most the steps' conditioning over a dozen steps. Measured: about 1e-15. A wrong loss
// scale, optimizer rule, batch row or weight is off by far more than 1e-10.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchSchedule } from '../src/data/batches.ts';
import { datasetFromRows, splitRows, type Dataset } from '../src/data/dataset.ts';
import { importOnnx } from '../src/interop/onnx.ts';
import { exportPytorch, type PytorchExportOptions } from '../src/interop/pytorch.ts';
import { parseModelFile } from '../src/io/model-file.ts';
import { seededRandom } from '../src/data/random.ts';
import type { ModelSpec } from '../src/model/model.ts';
import type { Model } from '../src/model/network.ts';
import { DEFAULT_OPTIMIZERS, type OptimizerKind } from '../src/model/optimizer.ts';
import { CpuTrainer } from '../src/reference/trainer.ts';
import { asFloat32, firstDifference, NETWORK_CASES, referencePredict, seededInputs, seededModel } from './support/interop.ts';

/** Debian's python3-torch installs for Debian's interpreter; another python3 may come first on PATH. */
const PYTHON = '/usr/bin/python3';
const RELATIVE = 1e-10;
const ROWS = 20;

let workspace: string;
let pytorchProblem: string | undefined;

beforeAll(() => {
  const probe = spawnSync(PYTHON, ['-c', 'import torch, torch.distributed as d; assert d.is_gloo_available()'], { encoding: 'utf8' });
  if (probe.status !== 0) pytorchProblem = probe.error?.message ?? probe.stderr.trim().split('\n').pop();
  workspace = mkdtempSync(join(tmpdir(), 'webgpu-backprop-pytorch-'));
});

/** Every test fails, none is skipped, where PyTorch is missing: the set-up installs it. */
function requirePytorch(): void {
  if (pytorchProblem !== undefined) throw new Error(`PyTorch with gloo is missing for ${PYTHON}: run \`npm run setup\` (it installs Debian's python3-torch). ${pytorchProblem}`);
}

afterAll(() => {
  if (workspace) rmSync(workspace, { recursive: true, force: true });
});

/** Targets the output activation can reach: one-hot after softmax, 0/1 after sigmoid, (−1, 1) otherwise. */
function seededData(spec: ModelSpec, seed: number): Dataset {
  const inputs = splitRows(seededInputs(spec.inputSize, ROWS, seed), spec.inputSize);
  const last = spec.layers[spec.layers.length - 1];
  const random = seededRandom(`targets ${seed}`);
  const targets = inputs.map(() => {
    if (last.activation === 'softmax') {
      const hot = Math.floor(random() * last.units);
      return Array.from({ length: last.units }, (_, k) => (k === hot ? 1 : 0));
    }
    return Array.from({ length: last.units }, () => (last.activation === 'sigmoid' ? Math.round(random()) : 2 * random() - 1));
  });
  return datasetFromRows(inputs, targets);
}

/** Writes the export and the data into a fresh folder. */
function handOff(name: string, model: Model, data: Dataset, options: PytorchExportOptions = {}): string {
  const folder = join(workspace, name);
  mkdirSync(folder);
  for (const [file, text] of Object.entries(exportPytorch(model, { data: 'data.json', dtype: 'float64', ...options }))) writeFileSync(join(folder, file), text);
  const json = { inputs: splitRows(data.inputs, data.inputSize), targets: splitRows(data.targets, data.outputSize) };
  writeFileSync(join(folder, 'data.json'), JSON.stringify(json));
  return folder;
}

function python(folder: string, args: string[]) {
  requirePytorch();
  const run = spawnSync(PYTHON, args, { cwd: folder, encoding: 'utf8', timeout: 110_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

function trainPy(folder: string, args: string[]) {
  const run = python(folder, ['train.py', ...args]);
  if (run.status !== 0) throw new Error(`train.py ${args.join(' ')} exited with ${run.status}: ${run.stderr}`);
  return run;
}

/** Runs commands side by side, as on separate machines; resolves with each one's exit status and output. */
function together(commands: { folder: string; args: string[]; env?: Record<string, string> }[]) {
  requirePytorch();
  return Promise.all(
    commands.map(
      ({ folder, args, env }) =>
        new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
          const child = spawn(PYTHON, args, { cwd: folder, env: { ...process.env, ...env } });
          let stdout = '';
          let stderr = '';
          child.stdout.on('data', (chunk) => (stdout += chunk));
          child.stderr.on('data', (chunk) => (stderr += chunk));
          child.on('close', (status) => resolve({ status, stdout, stderr }));
        }),
    ),
  );
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface Schedule {
  optimizer: OptimizerKind;
  learningRate: number;
  batchSize: number;
  shuffle: boolean;
  seed: number;
  steps: number;
}

/** The reference trained on the schedule: its parameters and its predictions for the data. */
async function reference(model: Model, data: Dataset, s: Schedule): Promise<{ params: Float64Array; predictions: Float64Array }> {
  const trainer = new CpuTrainer(model, data, { learningRate: s.learningRate, batchSize: s.batchSize, shuffle: s.shuffle, seed: s.seed, optimizer: DEFAULT_OPTIMIZERS[s.optimizer] });
  await trainer.train(s.steps);
  return { params: await trainer.read('params'), predictions: await trainer.predict(data.inputs, data.size) };
}

/** The largest |got − want| / |want| (a zero must be met exactly), and where. */
function worstRelative(got: Float64Array, want: Float64Array): { worst: number; at: number } {
  expect(got.length).toBe(want.length);
  let worst = 0;
  let at = -1;
  for (let k = 0; k < want.length; k++) {
    const relative = want[k] === 0 ? (got[k] === 0 ? 0 : Infinity) : Math.abs(got[k] - want[k]) / Math.abs(want[k]);
    if (!(relative <= worst)) [worst, at] = [relative, k];
  }
  return { worst, at };
}

function flags(s: Schedule): string[] {
  return ['--optimizer', s.optimizer, '--lr', String(s.learningRate), '--batch-size', String(s.batchSize), s.shuffle ? '--shuffle' : '--no-shuffle', '--seed', String(s.seed), '--steps', String(s.steps)];
}

const spec = (inputSize: number, layers: ModelSpec['layers'], loss: ModelSpec['loss'], trainBiases = true): ModelSpec => ({ inputSize, layers, loss, trainBiases });

const CASES: { name: string; spec: ModelSpec; schedule: Schedule }[] = [
  {
    name: 'plain SGD, data order, batches of 6 split 3 + 3',
    spec: spec(3, [{ units: 5, activation: 'tanh' }, { units: 4, activation: 'relu' }, { units: 2, activation: 'sigmoid' }], 'half-sse'),
    schedule: { optimizer: 'sgd', learningRate: 0.5, batchSize: 6, shuffle: false, seed: 1, steps: 12 },
  },
  {
    name: 'momentum, data order, batches of 5 split 2 + 3',
    spec: spec(3, [{ units: 6, activation: 'sigmoid' }, { units: 3, activation: 'softmax' }], 'cross-entropy'),
    schedule: { optimizer: 'momentum', learningRate: 0.1, batchSize: 5, shuffle: false, seed: 1, steps: 12 },
  },
  {
    name: 'Adam, shuffled, frozen biases, batches of 7 split 3 + 4',
    spec: spec(3, [{ units: 4, activation: 'tanh' }, { units: 2, activation: 'linear' }], 'mse', false),
    schedule: { optimizer: 'adam', learningRate: 0.01, batchSize: 7, shuffle: true, seed: 5, steps: 12 },
  },
];

/** The uninterrupted runs' outputs, for the resume test. */
const uninterrupted = new Map<string, { folder: string; text: string }>();

describe('train.py with 2 processes over gloo, float64, against the float64 reference', () => {
  for (const [c, { name, spec: networkSpec, schedule }] of CASES.entries()) {
    it(`ends with the reference's weights within ${RELATIVE} relative, and predicts the same: ${name}`, async () => {
      const model = seededModel(networkSpec, 20 + c);
      const data = seededData(networkSpec, c);
      const folder = handOff(`case${c}`, model, data, c === 0 ? { ...schedule, optimizer: DEFAULT_OPTIMIZERS[schedule.optimizer] } : {});
      // The first case runs on the defaults baked in at export, the others on flags.
      const run = trainPy(folder, [...(c === 0 ? [] : flags(schedule)), '--procs', '2', '--out', 'trained.json']);
      expect(run.stdout).toContain(`training ${schedule.steps} steps of ${schedule.batchSize} rows on 2 processes over gloo, float64`);

      const text = readFileSync(join(folder, 'trained.json'), 'utf8');
      uninterrupted.set(name, { folder, text });
      const trained = parseModelFile(text, 'trained.json'); // as the command line loads it
      expect(trained.spec).toEqual(model.spec);
      const want = await reference(model, data, schedule);
      const weights = worstRelative(trained.params, want.params);
      expect(weights.worst, `worst at params[${weights.at}]`).toBeLessThanOrEqual(RELATIVE);
      // Training moved the weights: the comparison is not of two untouched copies.
      expect(worstRelative(want.params, model.params).worst).toBeGreaterThan(1e-3);
      const predictions = worstRelative(referencePredict(trained, data.inputs, data.size), want.predictions);
      expect(predictions.worst).toBeLessThanOrEqual(RELATIVE);
    });
  }

  it('resumes from a checkpoint (torch.save) and ends where the uninterrupted run does', async () => {
    const { name, spec: networkSpec, schedule } = CASES[1];
    const model = seededModel(networkSpec, 21);
    const data = seededData(networkSpec, 1);
    const folder = handOff('resume', model, data);
    trainPy(folder, [...flags({ ...schedule, steps: 5 }), '--procs', '2', '--checkpoint-every', '5', '--out', 'part.json']);
    const resumed = trainPy(folder, [...flags(schedule), '--procs', '2', '--resume', '--checkpoint', 'part.json.checkpoint.pt', '--out', 'resumed.json']);
    expect(resumed.stdout).toContain('resuming from step 5');
    const text = readFileSync(join(folder, 'resumed.json'), 'utf8');
    const want = await reference(model, data, schedule);
    expect(worstRelative(parseModelFile(text, 'resumed.json').params, want.params).worst).toBeLessThanOrEqual(RELATIVE);
    // The same operations in the same order as without the stop: the same bits.
    expect(text).toBe(uninterrupted.get(name)?.text);
    // A checkpoint is refused by a run with other settings, naming the setting.
    const other = python(folder, ['train.py', ...flags({ ...schedule, learningRate: 0.2 }), '--resume', '--checkpoint', 'part.json.checkpoint.pt']);
    expect(other.status).toBe(2);
    expect(other.stderr.trim()).toBe("train.py: part.json.checkpoint.pt: settings.lr is 0.1; this run has 0.2 (resume with the flags the run began with)");
  });
});

describe('train.py on several machines', () => {
  // Two commands side by side on this machine stand for two machines: the same code paths.
  const { name, spec: networkSpec, schedule } = CASES[0];

  it('trains across machines through spawn (--nnodes 2 --node-rank R) as on one', async () => {
    const model = seededModel(networkSpec, 20);
    const data = seededData(networkSpec, 0);
    const folder = handOff('nodes', model, data);
    const port = String(await freePort());
    const node = (rank: number) => ['train.py', ...flags(schedule), '--nnodes', '2', '--node-rank', String(rank), '--procs', '1', '--master-addr', '127.0.0.1', '--master-port', port, '--out', `node${rank}.json`];
    const runs = await together([0, 1].map((rank) => ({ folder, args: node(rank) })));
    expect(runs.map((r) => r.status), runs.map((r) => r.stderr).join('\n')).toEqual([0, 0]);
    expect(runs[0].stdout).toContain('on 2 processes over gloo');
    expect(existsSync(join(folder, 'node1.json'))).toBe(false); // the first process writes the result
    const text = readFileSync(join(folder, 'node0.json'), 'utf8');
    expect(worstRelative(parseModelFile(text, 'node0.json').params, (await reference(model, data, schedule)).params).worst).toBeLessThanOrEqual(RELATIVE);
    expect(text).toBe(uninterrupted.get(name)?.text); // two shares, the same sums, however started
  });

  it('trains as torchrun starts it (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT: env://)', async () => {
    const model = seededModel(networkSpec, 20);
    const data = seededData(networkSpec, 0);
    const folder = handOff('torchrun', model, data);
    const port = String(await freePort());
    const env = (rank: number) => ({ RANK: String(rank), WORLD_SIZE: '2', LOCAL_RANK: '0', LOCAL_WORLD_SIZE: '1', MASTER_ADDR: '127.0.0.1', MASTER_PORT: port });
    const runs = await together([0, 1].map((rank) => ({ folder, args: ['train.py', ...flags(schedule), '--out', 'trained.json'], env: env(rank) })));
    expect(runs.map((r) => r.status), runs.map((r) => r.stderr).join('\n')).toEqual([0, 0]);
    const text = readFileSync(join(folder, 'trained.json'), 'utf8');
    expect(text).toBe(uninterrupted.get(name)?.text);
  });
});

describe('train.py', () => {
  it('trains every activation and loss as the reference does (one process, 3 steps each)', async () => {
    const runs = NETWORK_CASES.map(({ name, spec: networkSpec }, c) => {
      const model = seededModel(networkSpec, 40 + c);
      const data = seededData(networkSpec, 40 + c);
      const schedule: Schedule = { optimizer: 'sgd', learningRate: 0.1, batchSize: 8, shuffle: true, seed: c, steps: 3 };
      return { name, model, data, schedule, folder: handOff(`all${c}`, model, data) };
    });
    // One Python process runs them all, to keep the test quick: PyTorch takes a while to import.
    const script = [
      'import importlib.util, sys',
      'for k, (folder, args) in enumerate(zip(sys.argv[1::2], sys.argv[2::2])):',
      '    spec = importlib.util.spec_from_file_location(f"train{k}", f"{folder}/train.py")',
      '    module = importlib.util.module_from_spec(spec)',
      '    spec.loader.exec_module(module)',
      '    assert module.main(args.split() + ["--data", f"{folder}/data.json", "--out", f"{folder}/trained.json"]) == 0',
    ].join('\n');
    const run = python(workspace, ['-c', script, ...runs.flatMap((r) => [r.folder, flags(r.schedule).join(' ')])]);
    expect(run.status, run.stderr).toBe(0);
    for (const { name, model, data, schedule, folder } of runs) {
      const trained = parseModelFile(readFileSync(join(folder, 'trained.json'), 'utf8'), name);
      const want = await reference(model, data, schedule);
      const weights = worstRelative(trained.params, want.params);
      expect(weights.worst, `${name}: worst at params[${weights.at}]`).toBeLessThanOrEqual(RELATIVE);
    }
  });

  it("picks each step's rows as BatchSchedule does, shuffled (seedrandom's generator) or in data order", () => {
    const folder = handOff('schedule', seededModel(CASES[0].spec, 1), seededData(CASES[0].spec, 1));
    const settings: [number, number, boolean, number, number][] = [
      [20, 6, true, 1, 12],
      [7, 3, true, 42, 11],
      [1000, 64, true, 123456, 40],
      [20, 6, false, 1, 12],
    ];
    const script = [
      'import json, sys, train',
      'settings = json.loads(sys.argv[1])',
      'print(json.dumps([[train.BatchSchedule(n, b, shuffle, seed).rows(s) for s in range(steps)] for n, b, shuffle, seed, steps in settings]))',
    ].join('\n');
    const run = python(folder, ['-c', script, JSON.stringify(settings)]);
    expect(run.status, run.stderr).toBe(0);
    const want = settings.map(([n, b, shuffle, seed, steps]) => {
      const schedule = new BatchSchedule(n, b, shuffle, seed);
      return Array.from({ length: steps }, (_, s) => Array.from(schedule.indices(s)));
    });
    expect(JSON.parse(run.stdout)).toEqual(want);
  });

  it('is generated readably for the network: nn.Sequential(Linear, activation, …) and its loss', () => {
    const script = exportPytorch(seededModel(CASES[0].spec, 1))['train.py'];
    expect(script).toContain(
      [
        '    return nn.Sequential(',
        '        nn.Linear(3, 5),  # layers[0]',
        '        nn.Tanh(),',
        '        nn.Linear(5, 4),  # layers[1]',
        '        nn.ReLU(),',
        '        nn.Linear(4, 2),  # layers[2]',
        '        nn.Sigmoid(),',
        '    )',
      ].join('\n'),
    );
    expect(script).toContain('    out = torch.sigmoid(net)\n');
    expect(script).toContain('    return 0.5 * ((target - out) ** 2).sum(dim=1)\n');
    expect(script).not.toMatch(/# @\w+@/);
  });

  it("reads the ONNX file torch.onnx.export writes for train.py's network: our weights, exactly as float32", () => {
    const model = seededModel(NETWORK_CASES[1].spec, 3); // tanh, softmax
    const folder = handOff('torch-onnx', model, seededData(NETWORK_CASES[1].spec, 3));
    const script = [
      'import torch, train',
      'network = train.build_network().double()',
      'train.load_model_file(network, "model.json")',
      'torch.onnx.export(network.float(), torch.zeros(1, train.INPUT_SIZE), "torch.onnx", input_names=["x"], output_names=["y"], dynamic_axes={"x": {0: "n"}, "y": {0: "n"}}, opset_version=13)',
    ].join('\n');
    const run = python(folder, ['-c', script]);
    expect(run.status, run.stderr).toBe(0);
    const imported = importOnnx(readFileSync(join(folder, 'torch.onnx')), 'torch.onnx', { loss: model.spec.loss });
    expect(imported.spec).toEqual(model.spec);
    expect(firstDifference(imported.params, asFloat32(model.params))).toBeUndefined();
  });

  it('refuses bad input with one line and exit status 2, before starting any process', () => {
    const folder = handOff('bad', seededModel(CASES[0].spec, 1), seededData(CASES[0].spec, 1));
    writeFileSync(join(folder, 'narrow.json'), JSON.stringify({ inputs: [[1, 2], [3, 4]], targets: [[0, 1], [1, 0]] }));
    const run = python(folder, ['train.py', '--data', 'narrow.json', '--procs', '2']);
    expect(run.status).toBe(2);
    expect(run.stderr).toBe('train.py: narrow.json: inputs: expected 3 values per row (the model\'s inputs), got 2\n');
  });
});
