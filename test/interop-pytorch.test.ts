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
import { applyInputScaling } from '../src/data/scaling.ts';
import { datasetFromRows, splitRows, type Dataset } from '../src/data/dataset.ts';
import { importOnnx } from '../src/interop/onnx-import.ts';
import { exportPytorch, PYTORCH_DEFAULTS_FILE, PYTORCH_MODEL_FILE, type PytorchExportOptions } from '../src/interop/pytorch.ts';
import { parseModelFile } from '../src/io/model-file.ts';
import { seededRandom } from '../src/data/random.ts';
import { ACTIVATIONS, LOSSES, type ModelSpec } from '../src/model/model.ts';
import type { Model } from '../src/model/network.ts';
import { DEFAULT_OPTIMIZERS, OPTIMIZER_KINDS, type OptimizerKind } from '../src/model/optimizer.ts';
import { OPTIMIZER_OPS } from '../src/model/ops/optimizers.ts';
import { ACTIVATION_OPS } from '../src/model/ops/activations.ts';
import type { Decay } from '../src/model/schedule.ts';
import { CpuTrainer } from '../src/reference/trainer.ts';
import { asFloat32, firstDifference, NETWORK_CASES, referencePredict, seededInputs, seededModel } from './support/interop.ts';

/** Debian's python3-torch installs for Debian's interpreter; another python3 may come first on PATH. */
const PYTHON = '/usr/bin/python3';
/** The script every export carries. */
const TRAIN_PY = 'src/interop/train.py';
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
  weightDecay?: number;
  clipNorm?: number;
  /** --lr-schedule's text, and the same as the library's decay. */
  decay?: [string, Decay];
  warmup?: number;
}

/** The reference trained on the schedule: its parameters and its predictions for the data. */
async function reference(model: Model, data: Dataset, s: Schedule): Promise<{ params: Float64Array; predictions: Float64Array }> {
  const optimizer = { ...DEFAULT_OPTIMIZERS[s.optimizer], ...(s.weightDecay !== undefined ? { weightDecay: s.weightDecay } : {}) };
  const schedule = s.decay || s.warmup ? { decay: s.decay?.[1], warmup: s.warmup } : undefined;
  const trainer = new CpuTrainer(model, data, { learningRate: s.learningRate, batchSize: s.batchSize, shuffle: s.shuffle, seed: s.seed, optimizer, schedule, clipNorm: s.clipNorm });
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
  const tools = [
    ...(s.weightDecay !== undefined ? ['--weight-decay', String(s.weightDecay)] : []),
    ...(s.clipNorm !== undefined ? ['--clip-norm', String(s.clipNorm)] : []),
    ...(s.decay ? ['--lr-schedule', s.decay[0]] : []),
    ...(s.warmup ? ['--lr-warmup', String(s.warmup)] : []),
  ];
  return ['--optimizer', s.optimizer, '--lr', String(s.learningRate), '--batch-size', String(s.batchSize), s.shuffle ? '--shuffle' : '--no-shuffle', '--seed', String(s.seed), '--steps', String(s.steps), ...tools];
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
  {
    name: 'AdamW with weight decay 0.05, clipping to 0.05, step:4:0.5 after a warmup of 3; silu, leaky-relu (0.2), huber',
    spec: spec(3, [{ units: 6, activation: 'silu' }, { units: 4, activation: 'leaky-relu', negativeSlope: 0.2 }, { units: 2, activation: 'linear' }], 'huber'),
    schedule: { optimizer: 'adamw', learningRate: 0.02, batchSize: 6, shuffle: true, seed: 3, steps: 12, weightDecay: 0.05, clipNorm: 0.05, decay: ['step:4:0.5', { kind: 'step', every: 4, gamma: 0.5 }], warmup: 3 },
  },
  {
    name: 'RMSprop with weight decay 0.01, cosine:12; gelu, elu, softplus, softmax cross-entropy',
    spec: spec(3, [{ units: 5, activation: 'gelu' }, { units: 5, activation: 'elu' }, { units: 4, activation: 'softplus' }, { units: 3, activation: 'softmax' }], 'cross-entropy'),
    schedule: { optimizer: 'rmsprop', learningRate: 0.01, batchSize: 5, shuffle: true, seed: 2, steps: 12, weightDecay: 0.01, decay: ['cosine:12', { kind: 'cosine', steps: 12 }] },
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
    // A checkpoint whose state does not fit the network, or whose Adam second moments are negative: one line, exit status 2, no traceback.
    const broken = (name: string, edit: string) => {
      const run = python(folder, ['-c', `import torch; c = torch.load("part.json.checkpoint.pt"); ${edit}; torch.save(c, "${name}")`]);
      expect(run.status, run.stderr).toBe(0);
      return python(folder, ['train.py', ...flags(schedule), '--resume', '--checkpoint', name]);
    };
    const shapes = broken('shapes.pt', 'c["network"]["0.weight"] = torch.zeros(2, 2, dtype=torch.float64)');
    expect(shapes.stderr).toMatch(/^train\.py: shapes\.pt: its state does not fit this network \(.*size mismatch.*\)\n$/);
    expect(shapes.status).toBe(2);
    const velocity = broken('velocity.pt', 'c["optimizer"]["state"][0]["momentum_buffer"] = torch.zeros(3, dtype=torch.float64)');
    expect(velocity.stderr).toBe('train.py: velocity.pt: optimizer.state[0].momentum_buffer: expected shape (6, 3), got (3,)\n');
    expect(velocity.status).toBe(2);
    const infinite = broken('infinite.pt', 'c["network"]["2.bias"][1] = float("inf")');
    expect(infinite.stderr).toBe('train.py: infinite.pt: network.2.bias: expected finite numbers\n');
    expect(infinite.status).toBe(2);
    // And by a run of another network on the same data.
    const narrower = spec(3, [{ units: 4, activation: 'sigmoid' }, { units: 3, activation: 'softmax' }], 'cross-entropy');
    writeFileSync(join(folder, 'narrower.json'), exportPytorch(seededModel(narrower, 22))['model.json']);
    const otherNetwork = python(folder, ['train.py', ...flags(schedule), '--model', 'narrower.json', '--resume', '--checkpoint', 'part.json.checkpoint.pt']);
    expect(otherNetwork.status).toBe(2);
    expect(otherNetwork.stderr).toBe(
      "train.py: part.json.checkpoint.pt: settings.network is '3-6 sigmoid, 3 softmax, cross-entropy'; this run has '3-4 sigmoid, 3 softmax, cross-entropy' (resume with the flags the run began with)\n",
    );
  });
});

describe('a model with class names', () => {
  it('keeps them through train.py: its --out writes them back; a list that does not fit the outputs, or names one twice, is refused', () => {
    const networkSpec = spec(2, [{ units: 4, activation: 'tanh' }, { units: 3, activation: 'softmax' }], 'cross-entropy');
    const model: Model = { ...seededModel(networkSpec, 41), classes: ['cat', 'dog', 'emu'] };
    const folder = handOff('named', model, seededData(networkSpec, 41));
    trainPy(folder, ['--steps', '2', '--batch-size', '4', '--out', 'trained.json']);
    expect(parseModelFile(readFileSync(join(folder, 'trained.json'), 'utf8'), 'trained.json').classes).toEqual(['cat', 'dog', 'emu']);
    const exported = JSON.parse(readFileSync(join(folder, 'model.json'), 'utf8'));
    for (const classes of [['cat', 'dog'], ['cat', 'dog', 'cat']]) {
      writeFileSync(join(folder, 'misfit.json'), JSON.stringify({ ...exported, classes }));
      const refused = python(folder, ['train.py', '--model', 'misfit.json', '--steps', '1']);
      expect(refused.status).toBe(2);
      expect(refused.stderr).toBe('train.py: misfit.json: classes: expected 3 distinct class names (one per unit of the output layer)\n');
    }
  });
});

describe('a model with input scaling', () => {
  it("goes to PyTorch with its scaling as a fixed first step that train.py does not train, and ends with the reference's weights (2 processes, float64)", async () => {
    const networkSpec = spec(2, [{ units: 5, activation: 'tanh' }, { units: 1, activation: 'linear' }], 'mse');
    const model: Model = { ...seededModel(networkSpec, 31), inputScaling: { mean: [100, -3], std: [20, 0.5] } };
    // Raw inputs far from the scaled ones: x₀ near 100, x₁ near −3.
    const raw = seededData(networkSpec, 31);
    const data: Dataset = { ...raw, inputs: raw.inputs.map((v, k) => (k % 2 === 0 ? 100 + 20 * v : -3 + 0.5 * v)) };
    const schedule: Schedule = { optimizer: 'adam', learningRate: 0.05, batchSize: 6, shuffle: true, seed: 3, steps: 12 };
    const folder = handOff('scaled', model, data);
    const exported = JSON.parse(readFileSync(join(folder, 'model.json'), 'utf8'));
    // Not folded into the first layer: the weights are the model's own.
    expect(exported.inputScaling).toEqual(model.inputScaling);
    expect(exported.layers[0].weights.flat()).toEqual(Array.from(model.params.subarray(0, 10)));
    const printed = python(folder, ['-c', 'import train; spec, p = train.read_model_file("model.json"); n = train.build_network(spec, p); print(n[0]); print(sum(x.numel() for x in n.parameters()))']);
    // The scaling first, and no parameter of its own: 2·5 + 5 + 5·1 + 1 = 21 are the layers'.
    expect(printed.stdout).toBe('Standardize()\n21\n');

    trainPy(folder, [...flags(schedule), '--procs', '2', '--out', 'trained.json']);
    const trained = parseModelFile(readFileSync(join(folder, 'trained.json'), 'utf8'), 'trained.json');
    expect(trained.inputScaling).toEqual(model.inputScaling);
    // The reference trains on the scaled inputs, as Network.fit gives them to it.
    const scaled: Dataset = { ...data, inputs: applyInputScaling(data.inputs.slice(), model.inputScaling!) };
    const want = await reference(model, scaled, schedule);
    const weights = worstRelative(trained.params, want.params);
    expect(weights.worst, `worst at params[${weights.at}]`).toBeLessThanOrEqual(RELATIVE);
    expect(worstRelative(want.params, model.params).worst).toBeGreaterThan(1e-3);
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
      // The network comes back as it went (its activations' parameters and its dropout too).
      expect(trained.spec, name).toEqual(model.spec);
      // With dropout, train.py draws PyTorch's own masks (nn.Dropout): the weights differ from ours, as they should.
      if (model.spec.layers.some((layer) => layer.dropout)) continue;
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

  it("is a Python file, the same for every network and export, which Python's own parser reads as it is", () => {
    const source = readFileSync(TRAIN_PY, 'utf8');
    const exports = [exportPytorch(seededModel(CASES[0].spec, 1)), exportPytorch(seededModel(CASES[2].spec, 2), { optimizer: DEFAULT_OPTIMIZERS.adam, steps: 5, dtype: 'float64' })];
    for (const files of exports) expect(files['train.py']).toBe(source);
    // The parser alone: no PyTorch needed.
    const parsed = spawnSync(PYTHON, ['-c', 'import ast, sys; ast.parse(open(sys.argv[1], encoding="utf-8").read(), sys.argv[1])', TRAIN_PY], { encoding: 'utf8' });
    expect(parsed.stderr).toBe('');
    expect(parsed.status).toBe(0);
  });

  it('builds the network of model.json readably, as nn.Sequential(Linear, activation, …)', () => {
    const folder = handOff('readable', seededModel(CASES[0].spec, 1), seededData(CASES[0].spec, 1));
    const script = ['import train', 'spec, parameters = train.read_model_file("model.json")', 'print(train.build_network(spec, parameters))', 'print(train.describe(spec))'].join('\n');
    const run = python(folder, ['-c', script]);
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe(
      [
        'Sequential(',
        '  (0): Linear(in_features=3, out_features=5, bias=True)',
        '  (1): Tanh()',
        '  (2): Linear(in_features=5, out_features=4, bias=True)',
        '  (3): ReLU()',
        '  (4): Linear(in_features=4, out_features=2, bias=True)',
        '  (5): Sigmoid()',
        ')',
        '3-5 tanh, 4 relu, 2 sigmoid, half-sse',
        '',
      ].join('\n'),
    );
  });

  it("names the library's ops in its tables: every activation, loss and optimizer, with the optimizers' constants", () => {
    const folder = handOff('names', seededModel(CASES[0].spec, 1), seededData(CASES[0].spec, 1));
    const script = [
      'import json, train',
      'print(json.dumps({',
      '    "activations": sorted(train.ACTIVATIONS), "losses": sorted(train.LOSSES),',
      '    "optimizers": {name: sorted(optimizer.hyperparameters) for name, optimizer in train.OPTIMIZERS.items()},',
      '    "modules": {name: type(a.module(a.parameter and a.parameter[1])).__name__ for name, a in train.ACTIVATIONS.items() if a.module},',
      '    "files": [train.MODEL_FILE, train.DEFAULTS_FILE],',
      '}))',
    ].join('\n');
    const run = python(folder, ['-c', script]);
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      activations: [...ACTIVATIONS].sort(),
      losses: [...LOSSES].sort(),
      optimizers: Object.fromEntries(OPTIMIZER_KINDS.map((kind) => [kind, Object.keys(OPTIMIZER_OPS[kind].constants).sort()])),
      // Each activation's nn module, as its record names it.
      modules: Object.fromEntries(ACTIVATIONS.flatMap((name) => {
        const module = ACTIVATION_OPS[name].names.pytorch.module;
        return module ? [[name, /^nn\.(\w+)\(/.exec(module)![1]]] : [];
      })),
      files: [PYTORCH_MODEL_FILE, PYTORCH_DEFAULTS_FILE],
    });
  });

  it("writes the export's settings as the flags' defaults (defaults.json), each optimizer's constants and learning rate among them", () => {
    const model = seededModel(CASES[0].spec, 1);
    const defaults = (options: PytorchExportOptions) => JSON.parse(exportPytorch(model, options)['defaults.json']);
    expect(defaults({})).toEqual({
      data: null,
      targets: null,
      optimizer: 'sgd',
      lr: null,
      learning_rates: { sgd: 0.01, momentum: 0.01, adam: 0.001, rmsprop: 0.001, adamw: 0.001 },
      momentum: 0.9,
      beta1: 0.9,
      beta2: 0.999,
      epsilon: 1e-8,
      alpha: 0.99,
      weight_decay: null,
      clip_norm: null,
      lr_schedule: null,
      lr_warmup: null,
      batch_size: null,
      steps: null,
      epochs: 1,
      shuffle: true,
      seed: 1,
      dtype: 'float32',
    });
    const given = defaults({ data: 'd.csv', targets: ['y'], optimizer: { kind: 'momentum', momentum: 0.5 }, learningRate: 0.2, batchSize: 4, steps: 9, shuffle: false, seed: 7, dtype: 'float64' });
    expect(given).toMatchObject({ data: 'd.csv', targets: ['y'], optimizer: 'momentum', lr: 0.2, momentum: 0.5, beta1: 0.9, batch_size: 4, steps: 9, epochs: null, shuffle: false, seed: 7, dtype: 'float64' });
    const trainingTools = defaults({ optimizer: { ...DEFAULT_OPTIMIZERS.adamw, weightDecay: 0.05 }, clipNorm: 0.5, schedule: { decay: { kind: 'step', every: 3, gamma: 0.5 }, warmup: 2 } });
    expect(trainingTools).toMatchObject({ optimizer: 'adamw', weight_decay: 0.05, clip_norm: 0.5, lr_schedule: 'step:3:0.5', lr_warmup: 2 });
  });

  it("reads the ONNX file torch.onnx.export writes for train.py's network: our weights, exactly as float32", () => {
    const model = seededModel(NETWORK_CASES[1].spec, 3); // tanh, softmax
    const folder = handOff('torch-onnx', model, seededData(NETWORK_CASES[1].spec, 3));
    const script = [
      'import torch, train',
      'spec, parameters = train.read_model_file("model.json")',
      'network = train.build_network(spec, parameters)',
      'torch.onnx.export(network.float(), torch.zeros(1, spec.input_size), "torch.onnx", input_names=["x"], output_names=["y"], dynamic_axes={"x": {0: "n"}, "y": {0: "n"}}, opset_version=13)',
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

  it('refuses a model file or defaults.json it cannot train from with one line naming the file and field, and exit status 2', () => {
    const model = seededModel(CASES[0].spec, 1);
    const folder = handOff('bad-model', model, seededData(CASES[0].spec, 1));
    const file = JSON.parse(exportPytorch(model)['model.json']);
    const edited = (name: string, edit: (copy: typeof file) => void) => {
      const copy = structuredClone(file);
      edit(copy);
      writeFileSync(join(folder, name), JSON.stringify(copy));
      return name;
    };
    const cases: [string, string][] = [
      [edited('selu.json', (m) => (m.layers[1].activation = 'selu')), `selu.json: layers[1].activation: expected one of ${ACTIVATIONS.join(', ')}, got 'selu'`],
      [edited('slope.json', (m) => Object.assign(m.layers[1], { activation: 'leaky-relu', negativeSlope: -1 })), 'slope.json: layers[1].negativeSlope: expected a number >= 0, got -1'],
      [edited('dropout.json', (m) => (m.layers[1].dropout = 1)), 'dropout.json: layers[1].dropout: expected a probability p with 0 <= p < 1, got 1'],
      [edited('ragged.json', (m) => m.layers[1].weights[2].pop()), 'ragged.json: layers[1].weights: expected rows of 5 finite numbers (out x in: a row per unit, a column per unit of layers[0])'],
      [edited('unchained.json', (m) => m.layers[2].weights.forEach((row: number[]) => row.push(0))), 'unchained.json: layers[2].weights: expected rows of 4 finite numbers (out x in: a row per unit, a column per unit of layers[1])'],
      [edited('biases.json', (m) => m.layers[0].biases.pop()), 'biases.json: layers[0].biases: expected 5 finite numbers, one per unit'],
      [edited('loss.json', (m) => Object.assign(m, { loss: 'cross-entropy' }).layers[2].activation = 'tanh'), 'loss.json: layers[2].activation: cross-entropy needs a softmax or sigmoid output layer, got tanh'],
      [edited('hidden-softmax.json', (m) => (m.layers[0].activation = 'softmax')), 'hidden-softmax.json: layers[0].activation: softmax is allowed on the output layer only'],
    ];
    for (const [name, message] of cases) {
      const run = python(folder, ['train.py', '--model', name, '--procs', '2']);
      expect(run.stderr, name).toBe(`train.py: ${message}\n`);
      expect(run.status).toBe(2);
    }
    // A model file with null in its weights or an input scaling float32 cannot hold, a flag of the wrong kind.
    const more: [string[], string][] = [
      [['--model', edited('null.json', (m) => (m.layers[0].weights[1][2] = null))], 'null.json: layers[0].weights: expected rows of finite numbers, all as long (out x in: a row per unit, a column per input)'],
      [['--model', edited('scaling.json', (m) => (m.inputScaling = { mean: [0, 0, 0], std: [1, 1e-45, 1] }))], 'scaling.json: inputScaling.std[1]: expected a positive number float32 can hold (1.1754943508222875e-38 to 3.4028234663852886e+38), got 1e-45'],
      [['--steps', 'ten'], "argument --steps: invalid int value: 'ten' (train.py --help lists the flags)"],
      [['--frobnicate'], 'unrecognized arguments: --frobnicate (train.py --help lists the flags)'],
    ];
    for (const [args, message] of more) {
      const run = python(folder, ['train.py', ...args, '--procs', '2']);
      expect(run.stderr, args.join(' ')).toBe(`train.py: ${message}\n`);
      expect(run.status).toBe(2);
    }
    writeFileSync(join(folder, 'defaults.json'), JSON.stringify({ ...JSON.parse(exportPytorch(model)['defaults.json']), lr: '0.1' }));
    const run = python(folder, ['train.py']);
    expect(run.stderr).toBe(`train.py: ${join(folder, 'defaults.json')}: lr: expected a positive number or null, got "0.1"\n`);
    expect(run.status).toBe(2);
  });
});
