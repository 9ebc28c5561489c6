// Mutation testing by hand-picked mutants: `npm run mutate` applies each small change
// below to the kernels, the reference or the loaders, one at a time, runs the tests that
// should notice it, restores the file, and prints which mutants survived. A survivor is a
// bug the tests would let through.
//
//   npm run mutate                     every mutant, then docs/mutation-report.md
//   npm run mutate -- T1 R4            only these (no report written)
//   npm run mutate -- --report M1 W2   only these, their rows of docs/mutation-report.md
//                                      replaced (the others' rows kept from their last run)
//   npm run mutate -- --list           the list, checked against the sources, nothing run
//
// Each mutant names its file, the exact text it changes and the replacement. A mutant
// whose text is not in its file exactly once stops the script before anything runs, so
// the list stays honest as the code changes. Not part of CI: a full run takes about as
// long as the test suite several times over, on SwiftShader.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface Mutant {
  id: string;
  /** What the mutant does, in words. */
  change: string;
  file: string;
  original: string;
  replacement: string;
  /** Test files to run, and optionally a test-name pattern (vitest -t) to narrow them. */
  tests: string[];
  only?: string;
}

const MUTANTS: Mutant[] = [
  // T: softmax stability, the fused kernel's fourth layer, momentum.
  {
    id: 'T1',
    change: 'fused kernel: layer 3 reads DELTA_2 instead of DELTA_3',
    file: 'shaders/train_tiny.wgsl',
    original: 'return LayerInfo(UNITS_3, ACTIVATION_3, PARAMETER_3, DROPOUT_THRESHOLD_3, DROPOUT_SCALE_3, WEIGHTS_3, BIASES_3, NET_3, OUT_3, DELTA_3, OUT_2, UNITS_2);',
    replacement: 'return LayerInfo(UNITS_3, ACTIVATION_3, PARAMETER_3, DROPOUT_THRESHOLD_3, DROPOUT_SCALE_3, WEIGHTS_3, BIASES_3, NET_3, OUT_3, DELTA_2, OUT_2, UNITS_2);',
    tests: ['test/fused-limits.test.ts'],
  },
  {
    id: 'T2',
    change: 'softmax.wgsl without subtracting the row maximum',
    file: 'shaders/softmax.wgsl',
    original: 'let e = exp(net[row + k] - largest);',
    replacement: 'let e = exp(net[row + k]);',
    tests: ['test/softmax.test.ts'],
  },
  {
    id: 'T3',
    change: "the output stage's softmax (fused kernel and layered output_delta.wgsl) without the row maximum",
    file: 'shaders/output_stage.wgsl',
    original: 'let e = exp(output_net(b, k) - largest);',
    replacement: 'let e = exp(output_net(b, k));',
    tests: ['test/softmax.test.ts'],
  },
  {
    id: 'T4',
    change: 'reference softmax without the row maximum',
    file: 'src/model/ops/activations.ts',
    original: 'out[k] = Math.exp(net[k] - max);',
    replacement: 'out[k] = Math.exp(net[k]);',
    tests: ['test/softmax.test.ts'],
    only: 'reference',
  },
  {
    id: 'T5',
    change: 'output stage: softmax cross-entropy δ = out − t instead of out·Σt − t (the target sum of a sigmoid output passed for softmax)',
    file: 'shaders/output_stage.wgsl',
    original: 'let distribution_sum = select(1.0, target_sum, activation == SOFTMAX);',
    replacement: 'let distribution_sum = 1.0;',
    tests: ['test/softmax.test.ts'],
  },
  {
    id: 'T6',
    change: 'reference momentum as an exponential average, v ← μv + (1 − μ)g (caught without a GPU)',
    file: 'src/model/ops/optimizers.ts',
    original: 'velocity[k] = momentum * velocity[k] + grad;',
    replacement: 'velocity[k] = momentum * velocity[k] + (1 - momentum) * grad;',
    tests: ['test/independent-optimizers.test.ts'],
    only: 'float64 reference',
  },

  // Kernels.
  {
    id: 'K1',
    change: 'ops.wgsl: cross-entropy δ = out − t, the target sum left out (both paths share it)',
    file: 'shaders/ops.wgsl',
    original: 'return out * target_sum - t;',
    replacement: 'return out - t;',
    tests: ['test/softmax.test.ts'],
  },
  {
    id: 'K2',
    change: 'ops.wgsl: momentum as an exponential average (both paths share it)',
    file: 'shaders/ops.wgsl',
    original: '*s0 = MOMENTUM_FACTOR * *s0 + grad;',
    replacement: '*s0 = MOMENTUM_FACTOR * *s0 + (1.0 - MOMENTUM_FACTOR) * grad;',
    tests: ['test/independent-optimizers.test.ts'],
    only: 'GPU',
  },
  {
    id: 'K3',
    change: "fused kernel: Adam's second moment read from the first moment's place",
    file: 'shaders/train_tiny.wgsl',
    original: 's1 = state[STATE1_OFFSET + index];',
    replacement: 's1 = state[index];',
    tests: ['test/gpu-crosscheck.test.ts'],
  },
  {
    id: 'K4',
    change: "ops.wgsl: Adam's first moment corrected by 1 − β2ᵗ",
    file: 'shaders/ops.wgsl',
    original: 'let m_hat = *s0 / step.correction1;',
    replacement: 'let m_hat = *s0 / step.correction2;',
    tests: ['test/independent-optimizers.test.ts'],
    only: 'GPU',
  },
  {
    id: 'K5',
    change: 'ops.wgsl: the ReLU derivative is 1 at out = 0',
    file: 'shaders/ops.wgsl',
    original: 'return select(0.0, 1.0, out > 0.0);',
    replacement: 'return select(0.0, 1.0, out >= 0.0);',
    tests: ['test/gpu-crosscheck.test.ts'],
    only: 'relu',
  },
  {
    id: 'K6',
    change: "output_delta.wgsl: each workgroup's share of the mean loss divided by the workgroup size",
    file: 'shaders/output_delta.wgsl',
    original: 'loss_history[step.loss_slot * groups.x + group.x] = share / f32(layer.batch);',
    replacement: 'loss_history[step.loss_slot * groups.x + group.x] = share / f32(THREADS);',
    tests: ['test/softmax.test.ts'],
  },
  {
    id: 'K7',
    change: "gather_batch.wgsl: every step of a chunk takes the chunk's first batch",
    file: 'shaders/gather_batch.wgsl',
    original: 'let row = batch_rows[step.rows_offset + b];',
    replacement: 'let row = batch_rows[b];',
    tests: ['test/independent-optimizers.test.ts'],
    only: 'GPU',
  },
  {
    id: 'K8',
    change: 'fused kernel: layer 3 takes its input from layer 1',
    file: 'shaders/train_tiny.wgsl',
    original: 'return LayerInfo(UNITS_3, ACTIVATION_3, PARAMETER_3, DROPOUT_THRESHOLD_3, DROPOUT_SCALE_3, WEIGHTS_3, BIASES_3, NET_3, OUT_3, DELTA_3, OUT_2, UNITS_2);',
    replacement: 'return LayerInfo(UNITS_3, ACTIVATION_3, PARAMETER_3, DROPOUT_THRESHOLD_3, DROPOUT_SCALE_3, WEIGHTS_3, BIASES_3, NET_3, OUT_3, DELTA_3, OUT_1, UNITS_2);',
    tests: ['test/fused-limits.test.ts'],
  },
  {
    id: 'K9',
    change: "forward.wgsl: the first layer reads the chunk's first batch at every step (no gathered copy to catch it)",
    file: 'shaders/forward.wgsl',
    original: 'row = batch_rows[step.rows_offset + b];',
    replacement: 'row = batch_rows[b];',
    tests: ['test/gpu-kernels.test.ts'],
    only: 'without capturing',
  },
  {
    id: 'K10',
    change: "tile_product.wgsl: a split product's finish pass leaves out the first split (the gradients' among them)",
    file: 'shaders/tile_product.wgsl',
    original: 'for (var z = 0u; z < SPLIT_K; z++) {',
    replacement: 'for (var z = 1u; z < SPLIT_K; z++) {',
    tests: ['test/gpu-kernels.test.ts'],
    only: 'every kernel variant',
  },
  {
    id: 'K11',
    change: "weight_update.wgsl: every thread of a bias sum starts at the share's first sample",
    file: 'shaders/weight_update.wgsl',
    original: 'for (var b = k_begin + slot / TILE_M; b < k_end; b += phases) {',
    replacement: 'for (var b = k_begin; b < k_end; b += phases) {',
    tests: ['test/gpu-kernels.test.ts'],
    only: 'every kernel variant',
  },
  {
    id: 'K12',
    change: 'tile_product.wgsl: the second fill job prefetches the current k-tile again, not the next',
    file: 'shaders/tile_product.wgsl',
    original: 'quad1 = load_job(job1, next, k_end);',
    replacement: 'quad1 = load_job(job1, k0, k_end);',
    tests: ['test/gpu-kernels.test.ts'],
    only: 'every kernel variant',
  },
  {
    id: 'K13',
    change: "tile_product.wgsl: a thread's far rows multiply the near rows' A values",
    file: 'shaders/tile_product.wgsl',
    original: '(*acc).c10_0 = fma(vec4f(a1.x), b0, (*acc).c10_0);',
    replacement: '(*acc).c10_0 = fma(vec4f(a0.x), b0, (*acc).c10_0);',
    tests: ['test/gpu-kernels.test.ts'],
    only: 'every kernel variant',
  },
  {
    id: 'K14',
    change: 'reduce_workgroup.wgsl: the tree starts at a quarter of the threads (half the losses dropped)',
    file: 'shaders/reduce_workgroup.wgsl',
    original: 'for (var stride = threads / 2u; stride > 0u; stride /= 2u) {',
    replacement: 'for (var stride = threads / 4u; stride > 0u; stride /= 2u) {',
    tests: ['test/gpu-kernels.test.ts'],
    only: 'workgroup-memory reduction',
  },
  {
    id: 'K15',
    change: "output_stage.wgsl: the output stage's softmax takes 0 for the row maximum",
    file: 'shaders/output_stage.wgsl',
    original: 'var largest = output_net(b, 0u);\n  for (var k = 1u; k < K; k++) {',
    replacement: 'var largest = 0.0;\n  for (var k = 1u; k < 0u; k++) {',
    tests: ['test/softmax.test.ts'],
    only: 'layered kernels',
  },
  {
    id: 'K16',
    change: "reduce_subgroups.wgsl: every lane leaves its subgroup's sum (the loss counted once per lane)",
    file: 'shaders/reduce_subgroups.wgsl',
    original: 'reduce_scratch[thread] = select(0.0, subgroup_sum, thread == first_lane);',
    replacement: 'reduce_scratch[thread] = subgroup_sum;',
    tests: ['test/gpu-kernels.test.ts'],
    only: 'every kernel variant',
  },
  {
    id: 'K17',
    change: 'tile_product.wgsl: double-buffered, every k-tile is multiplied from the first copy of the tiles, not its own',
    file: 'shaders/tile_product.wgsl',
    original: 'multiply_tile(&acc, tx, ty, buffer);',
    replacement: 'multiply_tile(&acc, tx, ty, 0u);',
    tests: ['test/gpu-kernels.test.ts'],
    only: 'large-GPU plans',
  },
  {
    id: 'K18',
    change: "tiles.ts: a thread's register count leaves out the prefetched fill jobs, so 128×128×32 looks within a GPU's budget",
    file: 'src/gpu/tiles.ts',
    original: 'const jobs = Math.ceil(((plan.tileM + plan.tileN) * plan.tileK) / 16 / threads);',
    replacement: 'const jobs = 0 * Math.ceil(((plan.tileM + plan.tileN) * plan.tileK) / 16 / threads);',
    tests: ['test/gpu-kernels.test.ts'],
    only: 'the tile choice',
  },
  {
    id: 'K19',
    change: "forward.wgsl: a row's four results at once all take the layer's first four biases",
    file: 'shaders/forward.wgsl',
    original: 'let value = sums + params[(layer.biases_offset + j) / 4u];',
    replacement: 'let value = sums + params[layer.biases_offset / 4u];',
    tests: ['test/gpu-kernels.test.ts'],
    only: 'widths multiples of 4',
  },
  {
    id: 'K20',
    change: "hidden_delta.wgsl: a row's four results at once read the outputs of the row's first four units",
    file: 'shaders/hidden_delta.wgsl',
    original: 'outs = out[index / 4u];',
    replacement: 'outs = out[b * layer.units / 4u];',
    tests: ['test/gpu-kernels.test.ts'],
    only: 'widths multiples of 4',
  },
  {
    id: 'K21',
    change: "tile_product.wgsl: a tile job's third row also lands in its fourth (set_quad_row), in every product's loads",
    file: 'shaders/tile_product.wgsl',
    original: '(*quad).v3 = select((*quad).v3, row, r == 3u);',
    replacement: '(*quad).v3 = select((*quad).v3, row, r == 2u);',
    tests: ['test/gpu-kernels.test.ts'],
    only: 'every kernel variant',
  },
  {
    id: 'K22',
    change: "tile_product.wgsl: pick swaps its third and fourth: a thread's third and fourth column blocks, and each block's third and fourth rows, handed to the epilogue in each other's place",
    file: 'shaders/tile_product.wgsl',
    original: 'return select(select(x0, x1, j == 1u), select(x2, x3, j == 3u), j >= 2u);',
    replacement: 'return select(select(x0, x1, j == 1u), select(x2, x3, j == 2u), j >= 2u);',
    tests: ['test/gpu-kernels.test.ts'],
    only: 'plans for a 2-core CPU',
  },
  {
    id: 'K23',
    change: "every layer's uniform says it reads the dataset's rows (gather), not the layer below's outputs",
    file: 'src/gpu/abi.ts',
    original: '    gather: l === 0 ? 1 : 0,',
    replacement: '    gather: 1,',
    tests: ['test/gpu-crosscheck.test.ts'],
  },
  {
    id: 'K24',
    change: "the Layer uniform's f32 fields (the activation's parameter, dropout's scale) packed as integers",
    file: 'src/gpu/abi.ts',
    original: "    if (type === 'f32') floats[k] = fields[name as keyof LayerFields];",
    replacement: "    if (false && type === 'f32') floats[k] = fields[name as keyof LayerFields];",
    tests: ['test/activations.test.ts'],
  },
  {
    id: 'K25',
    change: 'a layer with dropout keeps no net: its δ takes the slope at 0 rather than at its net input',
    file: 'src/gpu/abi.ts',
    original: "    keep_net: ACTIVATION_OPS[layer.activation].derivativeNeedsNet || dropout !== undefined ? 1 : 0,",
    replacement: "    keep_net: ACTIVATION_OPS[layer.activation].derivativeNeedsNet ? 1 : 0,",
    tests: ['test/dropout.test.ts'],
    only: 'layered',
  },
  {
    id: 'K26',
    change: 'the weight update reads every layer\'s δ and inputs as vec4s where any layer\'s widths are multiples of 4, not every layer\'s',
    file: 'src/gpu/constants.ts',
    original: '  const every = (width: (l: number) => number) => (spec.layers.every((_, l) => vec4Loads(width(l)) === 1) ? 1 : 0);',
    replacement: '  const every = (width: (l: number) => number) => (spec.layers.some((_, l) => vec4Loads(width(l)) === 1) ? 1 : 0);',
    tests: ['test/weight-update-dispatch.test.ts'],
    only: 'every buffer after 2 steps',
  },
  {
    id: 'K27',
    change: 'the weight update\'s VEC4_A by every layer\'s inputs rather than its units',
    file: 'src/gpu/constants.ts',
    original: '    VEC4_A: every((l) => spec.layers[l].units),',
    replacement: '    VEC4_A: every((l) => layerInputs(spec, l)),',
    tests: ['test/weight-update-dispatch.test.ts'],
    only: 'vec4 loads are constants',
  },

  // The reference.
  {
    id: 'R1',
    change: 'reference log-sum-exp without the maximum',
    file: 'src/reference/activations.ts',
    original: 'for (let k = 0; k < net.length; k++) sum += Math.exp(net[k] - max);\n  return max + Math.log(sum);',
    replacement: 'for (let k = 0; k < net.length; k++) sum += Math.exp(net[k]);\n  return Math.log(sum);',
    tests: ['test/softmax.test.ts'],
    only: 'reference',
  },
  {
    id: 'R2',
    change: 'reference softmax cross-entropy δ = out − t',
    file: 'src/reference/losses.ts',
    original: "delta[k] = op.delta(out[k], target[k], layer.activation === 'softmax' ? targetSum : 1);",
    replacement: 'delta[k] = op.delta(out[k], target[k], 1);',
    tests: ['test/softmax.test.ts'],
    only: 'float64 reference',
  },
  {
    id: 'R3',
    change: "reference Adam's bias corrections one step late (β^(t+1))",
    file: 'src/model/ops/optimizers.ts',
    original: '({ beta1, beta2 }, t) => ({ correction1: 1 - beta1 ** t, correction2: 1 - beta2 ** t });',
    replacement: '({ beta1, beta2 }, t) => ({ correction1: 1 - beta1 ** (t + 1), correction2: 1 - beta2 ** (t + 1) });',
    tests: ['test/independent-optimizers.test.ts'],
    only: 'float64 reference',
  },
  {
    id: 'R4',
    change: "reference Adam's ε under the square root",
    file: 'src/model/ops/optimizers.ts',
    original: 'return param - (learningRate * mHat) / (Math.sqrt(vHat) + epsilon);',
    replacement: 'return param - (learningRate * mHat) / Math.sqrt(vHat + epsilon);',
    tests: ['test/independent-optimizers.test.ts'],
    only: 'float64 reference',
  },
  {
    id: 'R5',
    change: 'reference momentum steps by the gradient, not the velocity',
    file: 'src/model/ops/optimizers.ts',
    original: 'return param - learningRate * velocity[k];',
    replacement: 'return param - learningRate * grad;',
    tests: ['test/independent-optimizers.test.ts'],
    only: 'float64 reference',
  },

  // The loaders and flags.
  {
    id: 'L1',
    change: 'CSV numbers read by Number() (hex, binary, empty cells become numbers)',
    file: 'src/io/numbers.ts',
    original: 'return match ? Number(match[1]) : NaN;',
    replacement: 'return match ? Number(text) : Number(text);',
    tests: ['test/data-files.test.ts'],
  },
  {
    id: 'L2',
    change: 'values up to float64 range accepted (float32 overflow let through)',
    file: 'src/data/values.ts',
    original: 'if (Math.abs(value) <= FLOAT32_MAX) return undefined;',
    replacement: 'if (Math.abs(value) <= Number.MAX_VALUE) return undefined;',
    tests: ['test/data-files.test.ts'],
  },
  {
    id: 'L3',
    change: 'JSON reader names refused text without waiting for the rest of a cut-short chunk (NaN split across chunks)',
    file: 'src/io/data-json.ts',
    original: 'if (word.length < WORD_BYTES) {',
    replacement: 'if (word.length < 0) {',
    tests: ['test/data-files.test.ts'],
  },
  {
    id: 'L4',
    change: 'CSV line numbers ignore line breaks inside quoted cells',
    file: 'src/io/data-csv.ts',
    original: "for (const cell of cells) for (let k = cell.indexOf('\\n'); k >= 0; k = cell.indexOf('\\n', k + 1)) this.line++;",
    replacement: '',
    tests: ['test/data-files.test.ts'],
  },
  {
    id: 'L5',
    change: "a table's first block drops its last value when it doubles",
    file: 'src/io/data-table.ts',
    original: 'larger.set(this.block);',
    replacement: 'larger.set(this.block.subarray(0, this.block.length - 1));',
    tests: ['test/data-files.test.ts'],
  },
  {
    id: 'L6',
    change: "JSON reader's line count skips the previous chunk's line breaks",
    file: 'src/io/data-json.ts',
    original: 'for (let k = previous.bytes.indexOf(NEWLINE); k >= 0; k = previous.bytes.indexOf(NEWLINE, k + 1)) {\n        lines++;',
    replacement: 'for (let k = previous.bytes.indexOf(NEWLINE); k >= 0; k = previous.bytes.indexOf(NEWLINE, k + 1)) {\n        lines += 0;',
    tests: ['test/data-files.test.ts'],
  },
  {
    id: 'L7',
    change: 'integer flags read by Number() (--steps 0x10 becomes 16)',
    file: 'src/cli/flags.ts',
    original: 'function integerFlag(min: number, max: number, what: string): (text: string) => number {\n  return (text) => {\n    const value = parseDecimal(text);',
    replacement: 'function integerFlag(min: number, max: number, what: string): (text: string) => number {\n  return (text) => {\n    const value = Number(text);',
    tests: ['test/flags.test.ts'],
  },
  {
    id: 'L8',
    change: 'the seed flag takes seeds past what a checkpoint holds',
    file: 'src/cli/flags.ts',
    original: "integerFlag(0, MAX_SEED, 'a whole number ≥ 0')",
    replacement: "integerFlag(0, 2 ** 60, 'a whole number ≥ 0')",
    tests: ['test/flags.test.ts'],
  },
  {
    id: 'L9',
    change: 'a model declaration allocates its weights at once',
    file: 'src/io/model-declaration.ts',
    original: 'return declaration(spec, paramCount, create, file.classes);',
    replacement: 'const model = create();\n  return declaration(spec, paramCount, () => model, file.classes);',
    tests: ['test/loaders.test.ts'],
    only: 'declared size',
  },
  {
    id: 'L10',
    change: "the training-memory estimate leaves out the trainer's copy of the parameters",
    file: 'src/node/memory.ts',
    original: 'return 8 * paramLayout(spec).size * (3 + optimizerSlots);',
    replacement: 'return 8 * paramLayout(spec).size * (2 + optimizerSlots);',
    tests: ['test/loaders.test.ts'],
    only: 'declared size',
  },
  {
    id: 'L11',
    change: 'a dataset made through the API is not checked for values float32 cannot hold',
    file: 'src/data/dataset.ts',
    original: 'if (problem) throw new InputError(`${name}[${Math.floor(k / width)}][${k % width}]`, problem);',
    replacement: 'if (problem && Number.isNaN(values[k])) throw new InputError(`${name}[${Math.floor(k / width)}][${k % width}]`, problem);',
    tests: ['test/data-files.test.ts'],
  },
  {
    id: 'L12',
    change: 'the schedule counts steps past 2^53 rows',
    file: 'src/data/batches.ts',
    original: 'steps > this.maxSteps) {',
    replacement: 'steps > 2 * this.maxSteps) {',
    tests: ['test/flags.test.ts'],
  },
  // L13 on: class names in a label column and the model file's classes.
  {
    id: 'L13',
    change: "class names compared by UTF-16 unit (JavaScript's < on strings) instead of code point, as LabelEncoder sorts",
    file: 'src/data/labels.ts',
    original: "return [...names].sort(byCodePoint);",
    replacement: "return [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : byCodePoint(a, b)));",
    tests: ['test/class-names.test.ts'],
    only: 'code point',
  },
  {
    id: 'L14',
    change: "a label column is names only if its first cell is not a number",
    file: 'src/io/label-column.ts',
    original: "if (Number.isNaN(value)) this.names = true;",
    replacement: "if (Number.isNaN(value) && seen.index === 0) this.names = true;",
    tests: ['test/class-names.test.ts'],
    only: 'any cell is not a number',
  },
  {
    id: 'L15',
    change: "names map by their own sorted order even where the model has classes",
    file: 'src/io/label-column.ts',
    original: "const classes = this.known ? [...this.known] : sortClassNames(texts);",
    replacement: "const classes = sortClassNames(texts);",
    tests: ['test/class-names.test.ts'],
    only: "model's classes where",
  },
  {
    id: 'L16',
    change: "a name the model lacks is taken as class 0",
    file: 'src/io/label-column.ts',
    original: "const id = ids.get(text);",
    replacement: "const id = ids.get(text) ?? 0;",
    tests: ['test/class-names.test.ts'],
    only: 'a name the model does not have',
  },
  {
    id: 'L17',
    change: "a bad class id comes after a later error of the file, once ids are checked at the end",
    file: 'src/io/data-csv.ts',
    original: "throw this.labels?.pendingProblem() ?? error;",
    replacement: "throw error;",
    tests: ['test/class-names.test.ts'],
    only: 'before a later bad input',
  },
  {
    id: 'L18',
    change: "a label cell of spaces is taken as a name (the cell tested untrimmed)",
    file: 'src/io/label-column.ts',
    original: "if (text === '') throw",
    replacement: "if (cell === '') throw",
    tests: ['test/class-names.test.ts'],
    only: 'refuses an empty cell,',
  },
  {
    id: 'L19',
    change: "the model file written back without its classes",
    file: 'src/io/model-format.ts',
    original: "if (model.classes) file.classes = [...model.classes];",
    replacement: "",
    tests: ['test/class-names.test.ts'],
    only: 'round-trip',
  },
  {
    id: 'L20',
    change: "a model's classes may name one twice",
    file: 'src/data/labels.ts',
    original: "first.set(name, k);",
    replacement: "",
    tests: ['test/class-names.test.ts'],
    only: 'a name twice',
  },
  {
    id: 'L21',
    change: "a model's classes may be fewer than its output units",
    file: 'src/data/labels.ts',
    original: "if (classes.length !== units) throw",
    replacement: "if (classes.length > units) throw",
    tests: ['test/class-names.test.ts'],
    only: 'one name short',
  },
  {
    id: 'L22',
    change: "train --out leaves out the names the label column gave",
    file: 'src/cli/train.ts',
    original: "const declared = table.classes && !file.classes ? file.withClasses(table.classes, `${flags.data}: column ${flags.labels}`) : file;",
    replacement: "const declared = file;",
    tests: ['test/class-names.test.ts'],
    only: 'sorted-name order',
  },
  {
    id: 'L23',
    change: "predict names each row's class by the wrong unit (the list reversed)",
    file: 'src/cli/train.ts',
    original: "(id) => classes[id]",
    replacement: "(id) => classes[classes.length - 1 - id]",
    tests: ['test/class-names.test.ts'],
    only: 'predict gives',
  },
  {
    id: 'L24',
    change: "a label column may hold one distinct label more than an output layer may have units",
    file: 'src/io/label-column.ts',
    original: "if (this.texts.size === MODEL_LIMITS.units) {",
    replacement: "if (this.texts.size === MODEL_LIMITS.units + 1) {",
    tests: ['test/class-names.test.ts'],
    only: 'more distinct labels',
  },
  {
    id: 'L25',
    change: "a network in a worker forgets its model file's classes",
    file: 'src/worker/host.ts',
    original: "classes: made.classes, ",
    replacement: "",
    tests: ['test/worker.test.ts'],
    only: 'class names',
  },
  {
    id: 'L26',
    change: "train.py's --out leaves out the model file's classes",
    file: 'src/interop/train.py',
    original: 'if spec.classes is not None:\n        file["classes"] = spec.classes',
    replacement: 'if spec.classes is not None:\n        pass',
    tests: ['test/interop-pytorch.test.ts'],
    only: 'class names',
  },

  // G: the GPU trainer's buffers, chunks and loss read-back.
  {
    id: 'G1',
    change: "a step's loss read back from the first output workgroup's share only",
    file: 'src/gpu/submit.ts',
    original: 'for (let g = 0; g < S; g++) sum += shares[k * S + g];',
    replacement: 'for (let g = 0; g < 1; g++) sum += shares[k * S + g];',
    tests: ['test/gpu-kernels.test.ts'],
    only: 'batch 1,000',
  },
  {
    id: 'G2',
    change: "a streamed chunk's batch rows left as dataset rows, not renumbered into the uploaded chunk",
    file: 'src/gpu/submit.ts',
    original: 'for (let k = 0; k < rows.length; k++) rows[k] = k;',
    replacement: '',
    tests: ['test/robustness.test.ts'],
    only: 'streamed batch by batch',
  },
  {
    id: 'G3',
    change: "the split gradient product's partial sums sized without the bias column",
    file: 'src/gpu/buffers.ts',
    original: 'if (update.splitK > 1) updates += alignUp(update.splitK * layer.units * (layerInputs(spec, l) + 1));',
    replacement: 'if (update.splitK > 1) updates += alignUp(update.splitK * layer.units * layerInputs(spec, l));',
    tests: ['test/gpu-kernels.test.ts'],
    only: 'every buffer after 2 steps',
  },
  {
    id: 'G4',
    change: "writeState puts Adam's v into m's slot (a trainer rebuilt on a new device)",
    file: 'src/gpu/buffers.ts',
    original: 'queue.writeBuffer(this.buffers.state, 4 * this.stateRegion(slot as 0 | 1).offset, new Float32Array(values));',
    replacement: 'queue.writeBuffer(this.buffers.state, 0, new Float32Array(values));',
    tests: ['test/robustness.test.ts'],
    only: 'resumes from the last checkpoint on a new device',
  },

  // P: train.py, the PyTorch hand-off.
  {
    id: 'P1',
    change: "train.py scales each process's loss by 1/B instead of processes/B",
    file: 'src/interop/train.py',
    original: 'scale = world / args.batch_size',
    replacement: 'scale = 1 / args.batch_size',
    tests: ['test/interop-pytorch.test.ts'],
    only: "reference's weights",
  },
  {
    id: 'P2',
    change: 'train.py takes cross-entropy after sigmoid outputs as after softmax',
    file: 'src/interop/train.py',
    original: 'if output.activation == "softmax":',
    replacement: 'if output.activation in ("softmax", "sigmoid"):',
    tests: ['test/interop-pytorch.test.ts'],
    only: 'every activation and loss',
  },
  {
    id: 'P3',
    change: "train.py reads a model file whose layers' weights do not chain",
    file: 'src/interop/train.py',
    original: 'if shape is None or (shapes and shape[1] != shapes[-1][0]):',
    replacement: 'if shape is None:',
    tests: ['test/interop-pytorch.test.ts'],
    only: 'cannot train from',
  },

  // A: the API's shape and the fit engine.
  {
    id: 'A1',
    change: 'a resumed run starts its optimizer from zero instead of the checkpoint\'s state',
    file: 'src/train/fit.ts',
    original: '  if (resumed) await trainer.writeState(resumed);',
    replacement: '  if (resumed) await trainer.writeState({ ...resumed, optimizerState: [] });',
    tests: ['test/fit.test.ts'],
  },
  {
    id: 'A2',
    change: 'a resumed run counts its length from the checkpoint, not from the start of the run it resumes',
    file: 'src/train/fit.ts',
    original: 'const start = resumed ? resumed.start : trainer.step;',
    replacement: 'const start = trainer.step;',
    tests: ['test/fit.test.ts'],
  },
  {
    id: 'A3',
    change: 'an error class takes its name from the class, which a minifier renames',
    file: 'src/errors.ts',
    original: "  override name = 'InputError';",
    replacement: '  override name = this.constructor.name;',
    tests: ['test/package.test.ts'],
    only: 'minified',
  },
  {
    id: 'A4',
    change: 'createModel refuses a wrong parameter count with a plain Error',
    file: 'src/model/network.ts',
    original: "throw new InputError('params', `expected ${layout.size} parameters, got ${params.length}`);",
    replacement: 'throw new Error(`expected ${layout.size} parameters, got ${params.length}`) as InputError;',
    tests: ['test/public-api.test.ts'],
    only: 'plain Error|wrong argument',
  },
  {
    id: 'A5',
    change: 'the data folder imports the training folder, which imports it',
    file: 'src/data/validate.ts',
    original: "import type { Dataset } from './dataset.ts';",
    replacement: "import type { Dataset } from './dataset.ts';\nimport type { Metric } from '../train/metrics.ts';\nexport type MetricName = Metric;",
    tests: ['test/public-api.test.ts'],
    only: 'without a cycle',
  },
  {
    id: 'A6',
    change: 'a description handed to Network.create is not checked for layers that are not objects',
    file: 'src/io/model-declaration.ts',
    original: "    if (typeof layer !== 'object' || layer === null) fail(`layers[${l}]`, 'expected an object with activation, and units or weights');",
    replacement: '',
    tests: ['test/loaders.test.ts'],
    only: 'without the schema',
  },

  // N: the training toolkit, one mutant or more per op, each in the kernels or the reference.
  {
    id: 'N1',
    change: "silu's slope in ops.wgsl with s where 1 − s belongs",
    file: 'shaders/ops.wgsl',
    original: 'return s * (1.0 + net * (1.0 - s));',
    replacement: 'return s * (1.0 + net * s);',
    tests: ['test/activations.test.ts'],
    only: 'silu',
  },
  {
    id: 'N2',
    change: "gelu's slope in ops.wgsl without the 3 of d(x³)/dx",
    file: 'shaders/ops.wgsl',
    original: '(1.0 + 3.0 * GELU_K * x * x)',
    replacement: '(1.0 + GELU_K * x * x)',
    tests: ['test/activations.test.ts'],
    only: 'gelu',
  },
  {
    id: 'N3',
    change: "the reference's elu slope below 0 as e^x − 1 instead of e^x",
    file: 'src/model/ops/activations.ts',
    original: 'derivative: (net) => (net > 0 ? 1 : Math.exp(net)),',
    replacement: 'derivative: (net) => (net > 0 ? 1 : Math.expm1(net)),',
    tests: ['test/activations.test.ts'],
    only: 'elu',
  },
  {
    id: 'N4',
    change: "softplus in ops.wgsl linear from 0.5 instead of PyTorch's threshold 20",
    file: 'shaders/ops.wgsl',
    original: 'return select(log(1.0 + exp(net)), net, net > 20.0);',
    replacement: 'return select(log(1.0 + exp(net)), net, net > 0.5);',
    tests: ['test/activations.test.ts'],
    only: 'softplus',
  },
  {
    id: 'N5',
    change: "leaky-relu's slope in ops.wgsl 0 below 0 (relu's), not its negative slope",
    file: 'shaders/ops.wgsl',
    original: 'return select(parameter, 1.0, out > 0.0);',
    replacement: 'return select(0.0, 1.0, out > 0.0);',
    tests: ['test/activations.test.ts'],
    only: 'leaky-relu',
  },
  {
    id: 'N6',
    change: "huber's gradient in ops.wgsl unclipped (the squared error's beyond δ = 1)",
    file: 'shaders/ops.wgsl',
    original: 'return clamp(out - t, -1.0, 1.0) / f32(outputs);',
    replacement: 'return (out - t) / f32(outputs);',
    tests: ['test/pytorch.test.ts'],
    only: 'huber, tanh',
  },
  {
    id: 'N7',
    change: "rmsprop in ops.wgsl averages |g| instead of g²",
    file: 'shaders/ops.wgsl',
    original: '*s0 = RMSPROP_ALPHA * *s0 + (1.0 - RMSPROP_ALPHA) * grad * grad;',
    replacement: '*s0 = RMSPROP_ALPHA * *s0 + (1.0 - RMSPROP_ALPHA) * abs(grad);',
    tests: ['test/pytorch.test.ts'],
    only: 'RMSprop, sigmoid',
  },
  {
    id: 'N8',
    change: "adamw's decoupled decay in ops.wgsl not scaled by the learning rate",
    file: 'shaders/ops.wgsl',
    original: 'param * (1.0 - step.learning_rate * WEIGHT_DECAY)',
    replacement: 'param * (1.0 - WEIGHT_DECAY)',
    tests: ['test/pytorch.test.ts'],
    only: 'AdamW .its weight decay',
  },
  {
    id: 'N9',
    change: "L2 weight decay in common.wgsl subtracted from the gradient",
    file: 'shaders/common.wgsl',
    original: 'select(grad + WEIGHT_DECAY * param, grad, DECOUPLED_DECAY)',
    replacement: 'select(grad - WEIGHT_DECAY * param, grad, DECOUPLED_DECAY)',
    tests: ['test/pytorch.test.ts'],
    only: 'weight decay 0.05, SGD',
  },
  {
    id: 'N10',
    change: "clipping's factor from Σ g², not its square root",
    file: 'shaders/common.wgsl',
    original: 'return min(1.0, CLIP_NORM / (sqrt(squares) + 1e-6));',
    replacement: 'return min(1.0, CLIP_NORM / (squares + 1e-6));',
    tests: ['test/clipping.test.ts'],
  },
  {
    id: 'N11',
    change: "grad_norm.wgsl's workgroups each stride over the whole gradient (squares counted several times)",
    file: 'shaders/grad_norm.wgsl',
    original: 'for (var k = id.x; k < range.y; k += groups.x * THREADS) {',
    replacement: 'for (var k = thread; k < range.y; k += THREADS) {',
    tests: ['test/clipping.test.ts'],
    only: 'several workgroups',
  },
  {
    id: 'N12',
    change: "the warmup's factor s/W instead of (s + 1)/W (a first step of rate 0)",
    file: 'src/model/schedule.ts',
    original: 'Math.min(1, (s + 1) / schedule.warmup)',
    replacement: 'Math.min(1, s / schedule.warmup)',
    tests: ['test/pytorch.test.ts'],
    only: 'schedule step:3:0.5 with a warmup',
  },
  {
    id: 'N13',
    change: "the GPU trainer's Step carries the first step's rate at every step",
    file: 'src/gpu/submit.ts',
    original: 'const learningRate = learningRateAt(this.options.learningRate, this.options.schedule, step);',
    replacement: 'const learningRate = learningRateAt(this.options.learningRate, this.options.schedule, 0);',
    tests: ['test/schedule.test.ts'],
    only: 'WebGPU',
  },
  {
    id: 'N14',
    change: "dropout.wgsl draws its mask from the generator's second word, not the first the reference uses",
    file: 'shaders/dropout.wgsl',
    original: 'return select(0.0, kept, draw.x >= threshold);',
    replacement: 'return select(0.0, kept, draw.y >= threshold);',
    tests: ['test/dropout.test.ts'],
    only: 'WebGPU',
  },
  {
    id: 'N15',
    change: "hidden_delta.wgsl's δ not masked where the forward pass dropped",
    file: 'shaders/hidden_delta.wgsl',
    original: 'return sum * keep * derivative(ACTIVATION, net_input, activated, layer.activation_parameter);',
    replacement: 'return sum * derivative(ACTIVATION, net_input, activated, layer.activation_parameter);',
    tests: ['test/dropout.test.ts'],
    only: 'layered',
  },
  {
    id: 'N16',
    change: "the reference's dropout keeps values unscaled, not times 1/(1 − p)",
    file: 'src/model/dropout.ts',
    original: 'const kept = 1 / (1 - p);',
    replacement: 'const kept = 1;',
    tests: ['test/pytorch.test.ts'],
    only: 'dropout 0.5',
  },
  {
    id: 'N17',
    change: 'class id c one-hot at the last unit but c',
    file: 'src/data/labels.ts',
    original: 'rows[r * classes + id] = 1;',
    replacement: 'rows[r * classes + classes - 1 - id] = 1;',
    tests: ['test/labels.test.ts'],
    only: 'through the API',
  },
  {
    id: 'N18',
    change: 'a class id equal to the number of outputs let through',
    file: 'src/data/labels.ts',
    original: 'id >= 0 && id < classes)',
    replacement: 'id >= 0 && id <= classes)',
    tests: ['test/labels.test.ts'],
    only: 'through the API',
  },
  // M: what a mutation audit found every test let through (early stopping, the metrics,
  // shuffling, steps per epoch, carrying a fit on, optimizer state across fits and resume,
  // resume's checks, the size of prediction passes, the profiler's steps). W: no wrong
  // number (one verdict, rollback, error scopes, recovery) and the API's sharp edges.
  {
    id: 'M1',
    change: 'early stopping one epoch late for patience ≥ 1 (as it was: stop only after patience + 1 epochs without improvement)',
    file: 'src/train/fit-options.ts',
    original: 'return { improved: false, stop: this.wait >= Math.max(patience, 1) };',
    replacement: 'return { improved: false, stop: this.wait > patience };',
    tests: ['test/keras-semantics.test.ts'],
    only: 'early stopping',
  },
  {
    id: 'M2',
    change: 'restoreBestWeights never restores',
    file: 'src/train/fit.ts',
    original: 'if (improved && early.restoreBestWeights) bestParams',
    replacement: 'if (improved && early.restoreBestWeights && bestParams) bestParams',
    tests: ['test/keras-semantics.test.ts'],
    only: 'restoreBestWeights',
  },
  {
    id: 'M3',
    change: 'early stopping takes a mean absolute error as higher-is-better',
    file: 'src/train/fit-options.ts',
    original: 'this.lowerIsBetter = settings.monitor.endsWith(\'loss\') || settings.monitor.endsWith(\'mae\');',
    replacement: 'this.lowerIsBetter = settings.monitor.endsWith(\'loss\');',
    tests: ['test/keras-semantics.test.ts'],
    only: 'any run',
  },
  {
    id: 'M4',
    change: 'binary accuracy counts an output of exactly 0.5 as class 1',
    file: 'src/train/metrics.ts',
    original: 'classes[r] = outputs[r] > 0.5 ? 1 : 0;',
    replacement: 'classes[r] = outputs[r] >= 0.5 ? 1 : 0;',
    tests: ['test/audit.test.ts'],
    only: 'metrics',
  },
  {
    id: 'M5',
    change: 'categorical accuracy takes the last of equal largest outputs',
    file: 'src/train/metrics.ts',
    original: 'if (outputs[r * width + k] > outputs[r * width + best]) best = k;',
    replacement: 'if (outputs[r * width + k] >= outputs[r * width + best]) best = k;',
    tests: ['test/audit.test.ts'],
    only: 'metrics',
  },
  {
    id: 'M6',
    change: 'the mean absolute error divides by one value fewer',
    file: 'src/train/metrics.ts',
    original: 'return sum / targets.length;',
    replacement: 'return sum / Math.max(1, targets.length - 1);',
    tests: ['test/audit.test.ts'],
    only: 'metrics',
  },
  {
    id: 'M7',
    change: 'R² of several outputs against column means scaled by the column count',
    file: 'src/train/metrics.ts',
    original: 'for (let k = 0; k < targets.length; k++) means[k % width] += targets[k] / rows;',
    replacement: 'for (let k = 0; k < targets.length; k++) means[k % width] += targets[k] / (rows * width);',
    tests: ['test/audit.test.ts'],
    only: 'metrics',
  },
  {
    id: 'M8',
    change: 'shuffling draws every epoch\'s order from the same seed',
    file: 'src/data/batches.ts',
    original: 'const random = seededRandom(`${this.seed}:epoch${epoch}`);',
    replacement: 'const random = seededRandom(`${this.seed}:epoch${epoch * 0}`);',
    tests: ['test/audit.test.ts'],
    only: 'shuffling',
  },
  {
    id: 'M9',
    change: 'shuffling by Sattolo\'s algorithm (only cyclic orders)',
    file: 'src/data/batches.ts',
    original: 'const pick = Math.floor(random() * (k + 1));',
    replacement: 'const pick = Math.floor(random() * k);',
    tests: ['test/audit.test.ts'],
    only: 'shuffling',
  },
  {
    id: 'M10',
    change: 'epochs take ⌊E·N/B⌋ steps: the last rows of the last epoch go unvisited',
    file: 'src/data/batches.ts',
    original: 'return Math.ceil((epochs * this.datasetSize) / this.batchSize);',
    replacement: 'return Math.floor((epochs * this.datasetSize) / this.batchSize);',
    tests: ['test/audit.test.ts'],
    only: 'steps per epoch',
  },
  {
    id: 'M11',
    change: 'fit ends each epoch a step early where the batch does not divide the rows',
    file: 'src/train/fit.ts',
    original: 'const epochEnd = (e: number) => Math.min(end, start + Math.ceil(((e + 1) * training.size) / train.batchSize));',
    replacement: 'const epochEnd = (e: number) => Math.min(end, start + Math.max(1, Math.floor(((e + 1) * training.size) / train.batchSize)));',
    tests: ['test/audit.test.ts'],
    only: 'steps per epoch',
  },
  {
    id: 'M12',
    change: 'a fit on other inputs of the same shape carries on the last trainer (and its data)',
    file: 'src/network.ts',
    original: 'for (let k = 0; k < a.inputs.length; k++) if (a.inputs[k] !== b.inputs[k]) return false;',
    replacement: '',
    tests: ['test/audit.test.ts'],
    only: 'other data',
  },
  {
    id: 'M13',
    change: 'a fit on other targets carries on the last trainer (and its data)',
    file: 'src/network.ts',
    original: 'for (let k = 0; k < a.targets.length; k++) if (a.targets[k] !== b.targets[k]) return false;',
    replacement: '',
    tests: ['test/audit.test.ts'],
    only: 'other data',
  },
  {
    id: 'M14',
    change: 'a fit with other options starts the optimizer\'s state from zero',
    file: 'src/network.ts',
    original: 'if (carried && JSON.stringify(carried.optimizer) === JSON.stringify(options.optimizer)) {',
    replacement: 'if (carried && JSON.stringify(carried.optimizer) === JSON.stringify(options.optimizer) && Number.isNaN(0)) {',
    tests: ['test/audit.test.ts'],
    only: 'carries Adam',
  },
  {
    id: 'M15',
    change: 'a fit with another optimizer takes the last one\'s state',
    file: 'src/network.ts',
    original: 'if (carried && JSON.stringify(carried.optimizer) === JSON.stringify(options.optimizer)) {',
    replacement: 'if (carried) {',
    tests: ['test/audit.test.ts'],
    only: 'carries Adam',
  },
  {
    id: 'M16',
    change: 'the GPU trainer writes Adam\'s second moments over its first (a resume on WebGPU)',
    file: 'src/gpu/buffers.ts',
    original: 'queue.writeBuffer(this.buffers.state, 4 * this.stateRegion(slot as 0 | 1).offset',
    replacement: 'queue.writeBuffer(this.buffers.state, 4 * this.stateRegion(0).offset',
    tests: ['test/fit.test.ts'],
    only: 'webgpu',
  },
  {
    id: 'M17',
    change: 'a checkpoint of other data is taken',
    file: 'src/io/checkpoint-read.ts',
    original: 'if (file.data !== fingerprint) {',
    replacement: 'if (file.data !== fingerprint && !fingerprint) {',
    tests: ['test/fit.test.ts'],
    only: 'refused',
  },
  {
    id: 'M18',
    change: 'a checkpoint of another seed is taken',
    file: 'src/io/checkpoint-read.ts',
    original: 'if (was === is) continue;',
    replacement: 'if (was === is || key === \'seed\') continue;',
    tests: ['test/fit.test.ts'],
    only: 'refused',
  },
  {
    id: 'M19',
    change: 'a checkpoint at the last step of its run is refused as past it',
    file: 'src/train/fit.ts',
    original: 'if (state.step - state.start > steps)',
    replacement: 'if (state.step - state.start >= steps)',
    tests: ['test/audit.test.ts'],
    only: 'last step',
  },
  {
    id: 'M20',
    change: 'a checkpoint of another network is taken',
    file: 'src/io/checkpoint-read.ts',
    original: 'if (JSON.stringify(saved.spec) !== JSON.stringify(model.spec)) {',
    replacement: 'if (JSON.stringify(saved.spec) !== JSON.stringify(model.spec) && Number.isNaN(0)) {',
    tests: ['test/fit.test.ts'],
    only: 'refused',
  },
  {
    id: 'M21',
    change: 'a prediction pass dispatches past the adapter\'s workgroups per dimension',
    file: 'src/gpu/predict.ts',
    original: 'device.limits.maxComputeWorkgroupsPerDimension * smallestTile',
    replacement: 'device.limits.maxComputeWorkgroupsPerDimension * smallestTile * 64',
    tests: ['test/audit.test.ts'],
    only: 'passes of a prediction',
  },
  {
    id: 'M22',
    change: 'a prediction pass sized by elements, not bytes: four times the binding',
    file: 'src/gpu/predict.ts',
    original: 'Math.floor(setting.maxBinding / (4 * widest))',
    replacement: 'Math.floor(setting.maxBinding / widest)',
    tests: ['test/robustness.test.ts'],
    only: 'prediction too large',
  },
  {
    id: 'M23',
    change: 'a profiled step is not counted',
    file: 'src/gpu/trainer.ts',
    original: '      this.step += 1;\n      return profiled;',
    replacement: '      return profiled;',
    tests: ['test/audit.test.ts'],
    only: 'profiler',
  },
  {
    id: 'M24',
    change: 'a profiled step\'s loss is dropped',
    file: 'src/gpu/trainer.ts',
    original: 'this.chunks.keepLosses(1);',
    replacement: 'this.chunks.dropLosses();',
    tests: ['test/audit.test.ts'],
    only: 'profiler',
  },
  {
    id: 'W1',
    change: 'the reference takes a value beyond float32\'s range as finite (two verdicts)',
    file: 'src/reference/trainer.ts',
    original: 'this.losses.push(finite ? mean(loss) : NaN);',
    replacement: 'this.losses.push(finite || !finite ? mean(loss) : NaN);',
    tests: ['test/divergence.test.ts'],
  },
  {
    id: 'W2',
    change: 'the GPU\'s finite check is not read back (a last update past float32 resolves the fit)',
    file: 'src/gpu/submit.ts',
    original: 'if (new Uint32Array(mapped, 4 * chunk.count * S, 1)[0] !== 0) losses[chunk.count - 1] = NaN;',
    replacement: '',
    tests: ['test/divergence.test.ts'],
  },
  {
    id: 'W3',
    change: 'a divergence at a chunk\'s first step rolls back no further than the chunk\'s start',
    file: 'src/train/loop.ts',
    original: 'await trainer.rewind(kept < marked ? \'previous\' : \'last\');',
    replacement: 'await trainer.rewind();',
    tests: ['test/divergence.test.ts'],
    only: 'after a divergence',
  },
  {
    id: 'W4',
    change: 'a divergence leaves the network where it diverged',
    file: 'src/train/loop.ts',
    original: 'const kept = !found ? marked : inForwardPass(found) ? Math.max(0, found.step - 1) : found.step;',
    replacement: 'const kept = until + (found && inForwardPass(found) ? 0 : 0);',
    tests: ['test/divergence.test.ts'],
    only: 'after a divergence',
  },
  {
    id: 'W5',
    change: 'a recovered device hands back the losses of steps already taken',
    file: 'src/gpu/resilient.ts',
    original: 'if (this.taken > inner.step) {',
    replacement: 'if (this.taken > inner.step && !this.taken) {',
    tests: ['test/gpu-faults.test.ts'],
    only: 'device lost',
  },
  {
    id: 'W6',
    change: 'a trainer\'s buffers allocated outside error scopes',
    file: 'src/gpu/trainer.ts',
    original: '    (log) => new TrainerMemory(device, model, dataset, options, placement, kernels, room, log),',
    replacement: '    () => new TrainerMemory(device, model, dataset, options, placement, kernels, room),',
    tests: ['test/gpu-faults.test.ts'],
    only: 'trainer\'s buffer',
  },
  {
    id: 'W7',
    change: 'a prediction pass the GPU has no memory for is not split',
    file: 'src/gpu/predict.ts',
    original: 'if (!(error instanceof LimitError && error.limit === \'GPU memory\') || rows === 1) throw error;',
    replacement: 'if (error instanceof LimitError || rows === 1) throw error;',
    tests: ['test/gpu-faults.test.ts'],
    only: 'prediction pass',
  },
  {
    id: 'W8',
    change: 'validationSplit rounds the held-out rows down (as it did: 0.25 of 10 rows trains on 8)',
    file: 'src/train/fit-options.ts',
    original: 'const trained = Math.floor(all.size * (1 - split));',
    replacement: 'const trained = all.size - Math.floor(all.size * split);',
    tests: ['test/keras-semantics.test.ts'],
    only: 'validationSplit',
  },
  {
    id: 'W9',
    change: 'a batch larger than the data is taken as it is',
    file: 'src/train/options.ts',
    original: 'const batchSize = Math.min(input.batchSize === undefined ? DEFAULT_BATCH_SIZE : positiveInteger(input.batchSize, name(\'batchSize\')), samples);',
    replacement: 'const batchSize = input.batchSize === undefined ? Math.min(DEFAULT_BATCH_SIZE, samples) : positiveInteger(input.batchSize, name(\'batchSize\'));',
    tests: ['test/keras-semantics.test.ts'],
    only: 'larger than the data',
  },
  {
    id: 'W10',
    change: 'toJSON in a callback gives the weights from before the fit (the model not kept up chunk by chunk)',
    file: 'src/train/fit.ts',
    original: '    await sync();\n    if (!callbacks.onBatchEnd) return;',
    replacement: '    if (!callbacks.onBatchEnd) return;',
    tests: ['test/keras-semantics.test.ts'],
    only: 'toJSON',
  },
  {
    id: 'W11',
    change: 'dispose() during a fit rejects with what the freed trainer said',
    file: 'src/network.ts',
    original: 'throw this.disposed ? new DisposedError(\'network\') : error;',
    replacement: 'throw error;',
    tests: ['test/keras-semantics.test.ts'],
    only: 'dispose',
  },
  {
    id: 'W12',
    change: 'option keys nobody reads pass',
    file: 'src/option-keys.ts',
    original: 'if (known.includes(key) || (options as Record<string, unknown>)[key] === undefined) continue;',
    replacement: 'if (known.includes(key) || key.length > 0) continue;',
    tests: ['test/keras-semantics.test.ts'],
    only: 'option keys',
  },
  {
    id: 'W13',
    change: 'options the GPU rounds to 0 (or holds as a subnormal) are taken',
    file: 'src/data/values.ts',
    original: 'if (typeof value === \'number\' && value >= FLOAT32_MIN_NORMAL && value <= FLOAT32_MAX) return undefined;',
    replacement: 'if (typeof value === \'number\' && value > 0 && value <= FLOAT32_MAX) return undefined;',
    tests: ['test/divergence.test.ts'],
    only: 'float32 cannot hold',
  },
  {
    id: 'W14',
    change: 'cross-entropy takes targets outside [0, 1]',
    file: 'src/model/model.ts',
    original: 'if (LOSS_OPS[spec.loss].kind !== \'logits\') return;',
    replacement: 'if (LOSS_OPS[spec.loss].kind !== \'logits\' || Number.isFinite(0)) return;',
    tests: ['test/divergence.test.ts'],
    only: 'cross-entropy',
  },
  {
    id: 'W15',
    change: 'a checkpoint\'s negative second moments are taken',
    file: 'src/io/checkpoint-read.ts',
    original: 'const nonNegative = new Set(OPTIMIZER_OPS[options.optimizer.kind].nonNegativeSlots ?? []);',
    replacement: 'const nonNegative = new Set<number>(OPTIMIZER_OPS[options.optimizer.kind].nonNegativeSlots?.slice(9));',
    tests: ['test/fit.test.ts'],
    only: 'checked in full',
  },
  {
    id: 'W16',
    change: 'a checkpoint\'s arrays of another network are ignored',
    file: 'src/io/checkpoint-read.ts',
    original: 'if (extra !== undefined) throw',
    replacement: 'if (extra !== undefined && !extra) throw',
    tests: ['test/fit.test.ts'],
    only: 'checked in full',
  },
  {
    id: 'W17',
    change: 'the next write removes the temporary files of running writers, not of dead ones',
    file: 'src/node/files.ts',
    original: 'pid !== process.pid && !running(pid)',
    replacement: 'pid !== process.pid && running(pid)',
    tests: ['test/robustness.test.ts'],
    only: 'temporary',
  },
  {
    id: 'W18',
    change: 'an ONNX file cut after its graph is read',
    file: 'src/interop/onnx-import.ts',
    original: 'if (proto.opsetImport.length === 0) throw',
    replacement: 'if (proto.opsetImport.length < 0) throw',
    tests: ['test/interop-onnx.test.ts'],
    only: 'cut short',
  },
  {
    id: 'W19',
    change: 'a TensorFlow.js weights path out of the model\'s folder is read',
    file: 'src/interop/tfjs.ts',
    original: 'const outside = path === \'\' ||',
    replacement: 'const outside = path === \'\' && ',
    tests: ['test/interop-tfjs.test.ts'],
    only: 'weights path',
  },
  {
    id: 'W20',
    change: 'useBias false imports with trained biases',
    file: 'src/interop/tfjs.ts',
    original: 'biased.push(useBias);',
    replacement: 'biased.push(useBias || true);',
    tests: ['test/interop-tfjs.test.ts'],
    only: 'useBias',
  },
  {
    id: 'W21',
    change: 'a stop asked for while the kernels compile waits for them',
    file: 'src/train/fit.ts',
    original: 'const trainer = await unlessAborted(subject.trainer(training, train), options.signal);',
    replacement: 'const trainer = await unlessAborted(subject.trainer(training, train), undefined);',
    tests: ['test/keras-semantics.test.ts'],
    only: 'compile',
  },
  {
    id: 'W22',
    change: 'a CSV header naming two columns alike is taken',
    file: 'src/io/data-csv.ts',
    original: '    checkColumnNames(names, `${this.source}: line ${line}`);\n',
    replacement: '    void checkColumnNames;\n',
    tests: ['test/bad-input.test.ts'],
    only: 'CSV header',
  },
  {
    id: 'W23',
    change: 'a message spells out an array value in full',
    file: 'src/errors.ts',
    original: 'if (Array.isArray(value)) return `an array of ${value.length}`;',
    replacement: '',
    tests: ['test/bad-input.test.ts'],
    only: 'bounded',
  },
  {
    id: 'W24',
    change: 'an ONNX Identity of an initializer is not taken as one',
    file: 'src/interop/onnx-import.ts',
    original: 'const aliased = node.opType === \'Identity\' &&',
    replacement: 'const aliased = node.opType === \'Identiti\' &&',
    tests: ['test/interop-onnx.test.ts'],
    only: 'Identity',
  },
  {
    id: 'W25',
    change: 'train.py leaves out the input scaling',
    file: 'src/interop/train.py',
    original: 'modules, inputs = ([Standardize(spec.input_scaling)] if spec.input_scaling else []), spec.input_size',
    replacement: 'modules, inputs = [], spec.input_size',
    tests: ['test/interop-pytorch.test.ts'],
    only: 'input scaling',
  },
  // H: the app's library needs: a hidden layer's outputs, the worker, target checks.
  {
    id: 'H1',
    change: "prediction reads a hidden layer's net input instead of its out",
    file: 'src/gpu/predict.ts',
    original: "...read.layers.map((l) => readRegion(device, { ...layers[l].out, length: count * spec.layers[l].units }, 'reading back the predictions')),",
    replacement: "...read.layers.map((l) => readRegion(device, { ...(l < spec.layers.length - 1 ? layers[l].net : layers[l].out), length: count * spec.layers[l].units }, 'reading back the predictions')),",
    tests: ['test/predict-layers.test.ts'],
  },
  {
    id: 'H2',
    change: "a diverging chunk's losses never reach onBatchEnd",
    file: 'src/train/loop.ts',
    original: '      await options.onDiverged?.({ firstStep: step, losses: losses.slice(0, bad + 1), step: step + bad + 1 });',
    replacement: '',
    tests: ['test/network.test.ts'],
    only: 'diverges',
  },
  {
    id: 'H3',
    change: "the worker sends each step's number where its loss belongs",
    file: 'src/worker/host.ts',
    original: 'loss: column((k) => batches[k].loss)',
    replacement: 'loss: column((k) => batches[k].step)',
    tests: ['test/worker.test.ts'],
  },
  {
    id: 'H4',
    change: 'each call that meets a lost device recovers on its own (a prediction beside the steps opens a second device)',
    file: 'src/gpu/resilient.ts',
    original: '        if (trainer === this.inner) this.recovering ??= this.recover(error).finally(() => (this.recovering = undefined));\n        await this.recovering;',
    replacement: '        void this.recovering;\n        await this.recover(error);',
    tests: ['test/robustness.test.ts'],
    only: 'recovers once for both',
  },
  // S: the WebAssembly trainer (src/wasm): its products, threads, output stage and host ops.
  {
    id: 'S1',
    change: 'wasm product: the forward product packs Wᵀ with the column stride one float short',
    file: 'src/wasm/assembly/gemm.ts',
    original: 'let src = base + <usize>c * csB * 4;',
    replacement: 'let src = base + <usize>c * (csB - 1) * 4;',
    tests: ['test/wasm.test.ts'],
    only: 'threads|every op',
  },
  {
    id: 'S2',
    change: "wasm threads: a thread's share of the columns ends one panel early",
    file: 'src/wasm/assembly/gemm.ts',
    original: 'const j1 = min(p.n, ((panels * (part + 1)) / parts) * NR);',
    replacement: 'const j1 = min(p.n, ((panels * (part + 1)) / parts - 1) * NR);',
    tests: ['test/wasm.test.ts'],
    only: 'threads',
  },
  {
    id: 'S3',
    change: 'wasm: the bias gradients not divided by the batch',
    file: 'src/wasm/assembly/step.ts',
    original: 'load<f32>(layer.gradBiases + (<usize>j << 2)) / <f32>B);',
    replacement: 'load<f32>(layer.gradBiases + (<usize>j << 2)));',
    tests: ['test/wasm.test.ts'],
    only: 'every op',
  },
  {
    id: 'S4',
    change: "wasm output stage: softmax with an element-wise loss loses the Jacobian's coupling term",
    file: 'src/wasm/assembly/step.ts',
    original: "K) - weighted));",
    replacement: "K) - 0));",
    tests: ['test/wasm.test.ts'],
    only: 'after softmax',
  },
  {
    id: 'S5',
    change: "wasm op switch: an activation's case dispatched by its place in the table, not its code",
    file: 'src/wasm/op-switch.ts',
    original: 'const activationCode = (op: string) => ACTIVATION_OPS[op as keyof typeof ACTIVATION_OPS].code;',
    replacement: 'const activationCode = (op: string) => ACTIVATION_NAMES.indexOf(op as (typeof ACTIVATION_NAMES)[number]);',
    tests: ['test/wasm.test.ts'],
    only: 'by code|every op',
  },
  {
    id: 'S6',
    change: "wasm host ops: δ replaced by the activation's slope rather than multiplied by it",
    file: 'src/wasm/hooks.ts',
    original: 'delta[k] *= derivative(layer.activation, net[k], out[k], parameter);',
    replacement: 'delta[k] = derivative(layer.activation, net[k], out[k], parameter);',
    tests: ['test/wasm.test.ts'],
    only: 'host',
  },
  {
    id: 'S7',
    change: 'a network asked for WebGPU opens a device of its own rather than sharing one (and its compiled pipelines)',
    file: 'src/network.ts',
    original: "    if (choice === 'webgpu') {\n      const keeper = await sharedDevice();",
    // sharedDevice still read, or the unused import would fail the build before any test ran.
    replacement: "    if (choice === 'webgpu') {\n      void sharedDevice;\n      const keeper = await DeviceKeeper.open();",
    tests: ['test/compile.test.ts'],
  },
  {
    id: 'S8',
    change: "wasm leaky-relu: the slope below 0 is 0 rather than the layer's negative slope",
    file: 'src/wasm/assembly/ops.ts',
    original: 'return out > 0 ? 1 : parameter;',
    replacement: 'return out > 0 ? 1 : 0;',
    tests: ['test/wasm.test.ts', 'test/wasm-toolkit.test.ts'],
    only: 'by code|every op|every part',
  },
  {
    id: 'S9',
    change: "wasm gelu: the slope's second term at half its size",
    file: 'src/wasm/assembly/ops.ts',
    original: 'return s + 2 * net * s * logistic(-2 * u)',
    replacement: 'return s + net * s * logistic(-2 * u)',
    tests: ['test/wasm.test.ts'],
    only: 'by code|every op',
  },
  {
    id: 'S10',
    change: "wasm huber: the gradient not clamped to [−1, 1] where |out − t| > 1",
    file: 'src/wasm/assembly/ops.ts',
    original: 'return min(max(out - t, -1), 1) / <f32>outputs;',
    replacement: 'return (out - t) / <f32>outputs;',
    tests: ['test/wasm.test.ts'],
    only: 'by code',
  },
  {
    id: 'S11',
    change: "wasm RMSprop: v ← α·v + g², the (1 − α) left out (the state, then the parameters)",
    file: 'src/wasm/assembly/ops.ts',
    original: 'const v = alpha * load<f32>(s0) + (1 - alpha) * grad * grad;',
    replacement: 'const v = alpha * load<f32>(s0) + grad * grad;',
    tests: ['test/wasm-toolkit.test.ts'],
    only: 'weight decay',
  },
  {
    id: 'S12',
    change: "wasm AdamW: its decoupled decay left out",
    file: 'src/wasm/assembly/ops.ts',
    original: 'return adam_update(param * (1 - changetype<Rates>(step).learningRate * weightDecay), grad, s0, s1, constants, step);',
    replacement: 'return adam_update(param, grad, s0, s1, constants, step);',
    tests: ['test/wasm-toolkit.test.ts'],
    only: 'weight decay',
  },
  {
    id: 'S13',
    change: 'wasm op switch: L2 weight decay λ·w not added to the gradient',
    file: 'src/wasm/op-switch.ts',
    original: 'return record.decoupledDecay ? clipped :',
    replacement: 'return true ? clipped :',
    tests: ['test/wasm-toolkit.test.ts'],
    only: 'weight decay',
  },
  {
    id: 'S14',
    change: "wasm clipping: the factor from the sum of squares rather than the norm",
    file: 'src/wasm/assembly/step.ts',
    original: 'return <f32>min(1, <f64>net.clipNorm / (Math.sqrt(squares) + 1e-6));',
    replacement: 'return <f32>min(1, <f64>net.clipNorm / (squares + 1e-6));',
    tests: ['test/wasm-toolkit.test.ts'],
    only: 'clipping',
  },
  {
    id: 'S15',
    change: "wasm trainer: the schedule's rate counted from each call to train rather than from the start of training",
    file: 'src/wasm/trainer.ts',
    original: 'rates[3 * s] = learningRateAt(options.learningRate, options.schedule, this.step + s);',
    replacement: 'rates[3 * s] = learningRateAt(options.learningRate, options.schedule, s);',
    tests: ['test/wasm-toolkit.test.ts'],
    only: 'schedules',
  },
  {
    id: 'S16',
    change: "wasm dropout: the generator's counter takes the unit before the sample",
    file: 'src/wasm/assembly/dropout.ts',
    original: 'i32x4.splat(b), i32x4.add(i32x4.splat(j), lanes)',
    replacement: 'i32x4.add(i32x4.splat(j), lanes), i32x4.splat(b)',
    tests: ['test/wasm-toolkit.test.ts'],
    only: 'dropout',
  },
  {
    id: 'S17',
    change: "wasm dropout: a dropped layer's δ not multiplied by its mask (the slope of its dropped output instead)",
    file: 'src/wasm/assembly/step.ts',
    original: 'const dropped = layer.dropoutThreshold != 0;',
    replacement: 'const dropped = false;',
    tests: ['test/wasm-toolkit.test.ts'],
    only: 'dropout',
  },
  {
    id: 'S18',
    change: "wasm Philox: the key's second increment off by one",
    file: 'src/wasm/assembly/dropout.ts',
    original: 'k1 += 0xbb67ae85;',
    replacement: 'k1 += 0xbb67ae84;',
    tests: ['test/wasm-toolkit.test.ts'],
    only: 'dropout',
  },
  {
    id: 'S19',
    change: "a host trainer's mark() forgets the mark before it (rewinding to the previous one goes to the start)",
    file: 'src/model/trainer.ts',
    original: '    this.previous = this.last;\n',
    replacement: '',
    tests: ['test/wasm-toolkit.test.ts'],
    only: 'rewind',
  },
  {
    id: 'S20',
    change: "wasm: the optimizer's constants in the order the specification gives them, not the record's",
    file: 'src/wasm/buffers.ts',
    original: 'const constants = [...Object.keys(op.constants).map((name) => given[name]), weightDecayOf(optimizer)];',
    replacement: 'const constants = [...Object.values(given), weightDecayOf(optimizer)];',
    tests: ['test/wasm-toolkit.test.ts'],
    only: 'by name',
  },
  {
    id: 'S21',
    change: 'wasm trainer: targets not checked at creation',
    file: 'src/wasm/trainer.ts',
    original: '    checkTargets(model.spec, dataset.targets);\n',
    replacement: '    checkTargets(model.spec, []);\n',
    tests: ['test/wasm-toolkit.test.ts'],
    only: 'refuses targets',
  },
  {
    id: 'S22',
    change: "wasm trainer: the rows it predicts with are made as training rows, so prediction drops",
    file: 'src/wasm/trainer.ts',
    original: 'new Rows(this.parameters, PREDICT_ROWS, hostOps, false)',
    replacement: 'new Rows(this.parameters, PREDICT_ROWS, hostOps, true)',
    tests: ['test/wasm-toolkit.test.ts'],
    only: 'never drop',
  },
  {
    id: 'S23',
    change: "wasm host ops: a dropped layer's slope taken from its dropped output rather than from f(net)",
    file: 'src/wasm/hooks.ts',
    original: 'delta[k] *= mask[k] * derivative(activation, net[k], activate(activation, net[k], parameter), parameter);',
    // f(net) still called, so that its import stays used and the package builds.
    replacement: 'delta[k] *= mask[k] * derivative(activation, net[k], out[k] + 0 * activate(activation, net[k], parameter), parameter);',
    tests: ['test/wasm-toolkit.test.ts'],
    only: 'host',
  },
  {
    id: 'S24',
    change: "wasm dropout: a row's last draw of three units takes its third unit's mask from the second lane",
    file: 'src/wasm/assembly/dropout.ts',
    original: ': f32x4.extract_lane(keep, 2);',
    replacement: ': f32x4.extract_lane(keep, 1);',
    tests: ['test/wasm-toolkit.test.ts'],
    only: 'masks',
  },
  {
    id: 'S25',
    change: 'auto asks for an adapter even where WebAssembly finishes its whole run first',
    file: 'src/train/auto.ts',
    original: 'if (run.totalMs >= askMs) return undefined;',
    replacement: 'if (run.totalMs >= 0) return undefined;',
    tests: ['test/auto.test.ts'],
  },
  {
    id: 'S26',
    change: "wasm threads: a thread's share of shared element-wise work (a slope, an update) ends one element early",
    file: 'src/wasm/assembly/elementwise.ts',
    original: 'min(work.count, <i32>((<i64>work.count * (part + 1)) / parts) & ~(ELEMENT_ALIGN - 1));',
    replacement: 'min(work.count, <i32>((<i64>work.count * (part + 1)) / parts) & ~(ELEMENT_ALIGN - 1)) - 1;',
    tests: ['test/wasm-toolkit.test.ts'],
    only: 'threads',
  },
  {
    id: 'S27',
    change: "wasm threads: a thread's rows of a shared activation end one row early",
    file: 'src/wasm/assembly/elementwise.ts',
    original: 'const r1 = <i32>((<i64>work.count * (part + 1)) / parts);',
    replacement: 'const r1 = <i32>((<i64>work.count * (part + 1)) / parts) - (parts - 1 - part);',
    tests: ['test/wasm-toolkit.test.ts'],
    only: 'threads',
  },
  {
    id: 'S28',
    change: 'auto asks for an adapter even on a machine with no GPU device, whose software adapter it has measured',
    file: 'src/train/auto-backend.ts',
    original: 'const software = certainlyNoGpu() ? keptSoftwareAdapter() : undefined;',
    replacement: 'const software = certainlyNoGpu() && false ? keptSoftwareAdapter() : undefined;',
    tests: ['test/auto.test.ts'],
  },
  {
    id: 'S29',
    change: 'the adapter an ask finds is not kept: a machine with no GPU device has nothing to choose by',
    file: 'src/train/auto-backend.ts',
    original: '  keepAdapterFound(adapter, adapterName(adapter));\n',
    replacement: '  void keepAdapterFound;\n',
    tests: ['test/auto.test.ts'],
  },
  // C: compiling only what a call needs: split K from the uniform K, plans reused across
  // batch sizes, prediction on training's forward kernels, gather_batch only to capture.
  {
    id: 'C1',
    change: "tile_product.wgsl: k per split rounded down, so a split product's last k are summed by no split",
    file: 'shaders/tile_product.wgsl',
    original: '  return (K + SPLIT_K * TILE_K - 1u) / (SPLIT_K * TILE_K) * TILE_K;',
    replacement: '  return K / (SPLIT_K * TILE_K) * TILE_K;',
    tests: ['test/gpu-kernels.test.ts'],
    only: 'split|another batch size',
  },
  {
    id: 'C2',
    change: "a training step takes no compiled plan that costs more than the best: a new batch size compiles the plans it changes",
    file: 'src/gpu/tiles.ts',
    original: '    if (extra > room) break;',
    replacement: '    if (extra > 0) break;',
    tests: ['test/compile.test.ts'],
  },
  {
    id: 'C3',
    change: "prediction's softmax output layer is not net-only (netOnly): its forward product is compiled with softmax's code, apart from the hidden layer's",
    file: 'src/gpu/abi.ts',
    original: "  return l === spec.layers.length - 1 && (training || spec.layers[l].activation === 'softmax');",
    replacement: '  return l === spec.layers.length - 1 && training;',
    tests: ['test/compile.test.ts'],
  },
  {
    id: 'C4',
    change: 'a step that does not capture still compiles gather_batch',
    file: 'src/gpu/kernels.ts',
    original: "    capture ? kernel(device, 'gather_batch', { WORKGROUP_SIZE: GATHER_THREADS }) : undefined,",
    replacement: "    kernel(device, 'gather_batch', { WORKGROUP_SIZE: GATHER_THREADS }),",
    tests: ['test/compile.test.ts'],
  },
  {
    id: 'C5',
    change: "the plans compiled for a product are looked up by a key they are not kept under: none is offered again",
    file: 'src/gpu/kernels.ts',
    original: '  return deviceCache(device).plans.get(`${name} ${constantsKey(constants)}`) ?? [];',
    replacement: '  return deviceCache(device).plans.get(`${name}:${constantsKey(constants)}`) ?? [];',
    tests: ['test/compile.test.ts'],
  },
  {
    id: 'C6',
    change: "prediction's first layer reads the first row for every row (its batch rows all 0)",
    file: 'src/gpu/predict.ts',
    original: '      device.queue.writeBuffer(rows.buffer, 0, Uint32Array.from({ length: count }, (_, k) => k));',
    replacement: '      device.queue.writeBuffer(rows.buffer, 0, Uint32Array.from({ length: count }, () => 0));',
    tests: ['test/softmax.test.ts'],
    only: 'prediction',
  },
  {
    id: 'C7',
    change: "no product is offered the plan of its kernel's costliest product: every layer's forward product compiles its own",
    file: 'src/gpu/tiles.ts',
    original: '...(anchor !== undefined && anchor !== r ? chosen[anchor] : [])',
    replacement: '...(anchor !== undefined && anchor === -1 ? chosen[anchor] : [])',
    tests: ['test/compile.test.ts'],
  },
  {
    id: 'C8',
    change: "a layer that leaves its out to another kernel is compiled with its own activation: the output layer's forward product compiles a pipeline of its own",
    file: 'src/gpu/constants.ts',
    original: '  const applied = spec.layers[netOnly(spec, l, training) ? 0 : l];',
    // netOnly still called: an unused import would fail the build before any test ran.
    replacement: '  const applied = spec.layers[netOnly(spec, l, training) ? l : l];',
    tests: ['test/compile.test.ts'],
  },
  // V: tile plans by measurement (src/gpu/tune.ts), kept per adapter.
  {
    id: 'V1',
    change: 'tune.ts: the key of a kept plan leaves the adapter out, so another adapter takes this one\'s plans',
    file: 'src/gpu/tune.ts',
    original: "const name = info ? [info.vendor, info.architecture, info.device, info.description].join('/') : 'unknown adapter';",
    replacement: "const name = info ? 'an adapter' : 'unknown adapter';",
    tests: ['test/gpu-tune.test.ts'],
  },
  {
    id: 'V2',
    change: 'tune.ts: a kept entry is taken without its check, a corrupt one included',
    file: 'src/gpu/tune.ts',
    original: 'return typeof value === \'object\' && value !== null && constants(kept.plan)',
    replacement: 'return value !== undefined || constants(kept.plan)',
    tests: ['test/gpu-tune.test.ts'],
  },
  {
    id: 'V3',
    change: 'kernels.ts: the tuned plans are passed over, the cost model\'s taken',
    file: 'src/gpu/kernels.ts',
    original: "setting ? product.constants() : {}, tuned?.get(product.label)));",
    replacement: "setting ? product.constants() : {}, tuned?.get(product.name)));",
    tests: ['test/gpu-tune.test.ts'],
  },
  {
    id: 'V4',
    change: 'measurements.ts: nothing kept is ever read back, so every run measures again',
    file: 'src/measurements.ts',
    original: 'return found !== undefined && valid(found) ? found : undefined;',
    replacement: "return found !== undefined && valid(found) && key === '' ? found : undefined;",
    tests: ['test/gpu-tune.test.ts'],
  },
  {
    id: 'V5',
    change: 'tune.ts: the slower candidate taken',
    file: 'src/gpu/tune.ts',
    original: 'if (runs !== undefined && clearlyFaster(runs, rounds[0]!) && ms[c]! < ms[best]!) best = c;',
    replacement: 'if (runs !== undefined && ms[c]! > ms[0]! * TUNE_MARGIN && ms[c]! > ms[best]!) best = c;',
    tests: ['test/gpu-tune.test.ts'],
  },
  {
    id: 'V6',
    change: 'tune.ts: a candidate faster at the median replaces the cost model\'s plan however many rounds it lost',
    file: 'src/gpu/tune.ts',
    original: '  return median(runs) * TUNE_MARGIN < median(model) && won >= runs.length - Math.floor(runs.length * ROUNDS_LOST);',
    // ROUNDS_LOST still read, or the build would fail before any test ran.
    replacement: '  return median(runs) * TUNE_MARGIN < median(model) && (won >= 0 || ROUNDS_LOST > 0);',
    tests: ['test/gpu-tune.test.ts'],
    only: 'clearly faster',
  },
  // U: every layer's weight update in one dispatch, its bias sums in a_tile.
  {
    id: 'U1',
    change: "the weight update's dispatch is one layer short along z: the last layer is never updated",
    file: 'src/gpu/layered.ts',
    original: 'Math.max(...plans.map((plan) => plan.groups[1])), layers.length * splitK];',
    replacement: 'Math.max(...plans.map((plan) => plan.groups[1])), (layers.length - 1) * splitK];',
    tests: ['test/weight-update-dispatch.test.ts'],
    only: 'against the reference',
  },
  {
    id: 'U2',
    change: 'tile_product.wgsl: workgroup z reads the next layer\'s sizes and regions (z → layer off by one)',
    file: 'shaders/tile_product.wgsl',
    original: '  product = group.z / SPLIT_K;',
    replacement: '  product = (group.z + 1u) / SPLIT_K;',
    tests: ['test/weight-update-dispatch.test.ts'],
    only: 'against the reference',
  },
  {
    id: 'U3',
    change: "every layer's gradient partial sums start at the same place: the layers' splits overwrite each other",
    file: 'src/gpu/buffers.ts',
    original: '    updatePartials.push(updates);',
    replacement: '    updatePartials.push(0);',
    tests: ['test/weight-update-dispatch.test.ts'],
    only: 'split over the batch',
  },
  {
    id: 'U4',
    change: "weight_update.wgsl: the first layer reads the first step's dataset rows at every step (the step's offset into the batch rows left out)",
    file: 'shaders/weight_update.wgsl',
    original: '    return batch_rows[step.rows_offset + b];',
    replacement: '    return batch_rows[b];',
    tests: ['test/weight-update-dispatch.test.ts'],
    only: 'against the reference',
  },
  {
    id: 'U5',
    change: "a layer's input for its weight update is its own out, not the out of the layer below",
    file: 'src/gpu/buffers.ts',
    original: '          input_offset: l === 0 ? 0 : this.region(`layer${l - 1}.out`).offset,',
    replacement: '          input_offset: l === 0 ? 0 : this.region(`layer${l}.out`).offset,',
    tests: ['test/weight-update-dispatch.test.ts'],
    only: 'against the reference',
  },
  {
    id: 'U6',
    change: "the tile choice forgets the bias sums kept in a_tile: plans whose a_tile is too small are taken",
    file: 'src/gpu/tiles.ts',
    original: '  return !options.aTileFloats || plan.tileK * plan.tileM >= options.aTileFloats(plan.tileM, plan.wgX * plan.wgY);',
    replacement: '  return !options.aTileFloats || plan.tileK * plan.tileM >= 0;',
    tests: ['test/abi.test.ts'],
  },
  {
    id: 'U7',
    change: 'weight_update.wgsl: the bias sums written to one float of each vec4 of a_tile, so phases overwrite each other',
    file: 'shaders/weight_update.wgsl',
    original: '  a_tile[slot / 4u][slot % 4u] = sum;',
    replacement: '  a_tile[slot / 4u][0u] = sum;',
    tests: ['test/weight-update-dispatch.test.ts'],
    only: 'against the reference',
  },
];

interface Outcome {
  mutant: Mutant;
  /** A mutant the package does not build with tells nothing of the tests: its text is to be mended, not counted as killed. */
  result: 'killed' | 'survived' | 'does not build';
  /** The first failing test, or why the run failed. */
  by: string;
  seconds: number;
}

/** Checks every mutant's text is in its file exactly once; returns the problems. */
function checkList(mutants: Mutant[]): string[] {
  const problems: string[] = [];
  const ids = new Set<string>();
  for (const m of mutants) {
    if (ids.has(m.id)) problems.push(`${m.id}: the id is used twice`);
    ids.add(m.id);
    let text: string;
    try {
      text = readFileSync(m.file, 'utf8');
    } catch {
      problems.push(`${m.id}: ${m.file} does not exist`);
      continue;
    }
    const count = text.split(m.original).length - 1;
    if (count !== 1) problems.push(`${m.id}: its original text occurs ${count} times in ${m.file}, expected once: ${JSON.stringify(m.original)}`);
    if (m.original === m.replacement) problems.push(`${m.id}: the replacement is the original`);
  }
  return problems;
}

const workDir = mkdtempSync(join(tmpdir(), 'webgpu-backprop-mutate-'));

/** Runs vitest on `files` (narrowed by `only`); returns whether the package built, whether the tests passed, and the first failing test. */
function runTests(files: string[], only: string | undefined): { builds: boolean; passed: boolean; failure: string } {
  // The command line's tests run the built package: build it from the (mutated) sources first.
  const build = spawnSync('npm', ['run', 'build', '--silent'], { encoding: 'utf8', timeout: 300_000 });
  if (build.status !== 0) {
    // The line that says why: a slow build's timing warning may come first.
    const lines = `${build.stdout}\n${build.stderr}`.split('\n').map((line) => line.trim());
    return { builds: false, passed: false, failure: `the package does not build: ${lines.find((line) => /error/i.test(line)) ?? lines.find(Boolean)}` };
  }
  const report = join(workDir, 'vitest.json');
  rmSync(report, { force: true });
  const args = ['vitest', 'run', ...files, ...(only ? ['-t', only] : []), '--reporter=json', `--outputFile=${report}`];
  const run = spawnSync('npx', args, { encoding: 'utf8', timeout: 900_000, maxBuffer: 64 * 2 ** 20 });
  if (run.error || run.signal) return { builds: true, passed: false, failure: `the tests did not finish (${run.error?.message ?? run.signal}): counted as killed` };
  let failure = '';
  try {
    const json = JSON.parse(readFileSync(report, 'utf8')) as { testResults: { name: string; message?: string; assertionResults: { fullName: string; status: string }[] }[] };
    for (const file of json.testResults) {
      const failed = file.assertionResults.find((a) => a.status === 'failed');
      if (failed) {
        failure = failed.fullName;
        break;
      }
      if (file.message) {
        failure = `${file.name}: ${file.message.split('\n')[0]}`;
        break;
      }
    }
  } catch {
    failure = (run.stderr || run.stdout).trim().split('\n').slice(-1)[0] ?? 'no report';
  }
  return { builds: true, passed: run.status === 0, failure };
}

function applyMutant(m: Mutant, run: () => void): void {
  const original = readFileSync(m.file, 'utf8');
  const restore = () => writeFileSync(m.file, original);
  const onSignal = () => {
    restore();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    writeFileSync(m.file, original.replace(m.original, () => m.replacement));
    run();
  } finally {
    restore();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
  if (readFileSync(m.file, 'utf8') !== original) throw new Error(`${m.file} was not restored`);
}

/** A mutant's row of the report's table. */
function reportRow(o: Outcome): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  return `| ${o.mutant.id} | ${cell(o.mutant.change)} | \`${o.mutant.file}\` | ${o.mutant.tests.map((t) => `\`${t}\``).join(', ')}${o.mutant.only ? ` (-t "${o.mutant.only}")` : ''} | ${o.result === 'killed' ? `killed: ${cell(o.by)}` : o.result === 'survived' ? '**survived**' : `**does not build**: ${cell(o.by)}`} | ${o.seconds.toFixed(0)} |`;
}

/**
 * The report: a row per mutant, in the list's order: this run's outcome where it ran, else
 * the row of `previous` (the report as it was), else "not run". `runs` says which ran when.
 */
function markdownReport(outcomes: Outcome[], baselineSeconds: number, previous: string, all: boolean): string {
  const earlier = new Map([...previous.matchAll(/^\| (\w+) \|.*$/gm)].map((m) => [m[1], m[0]]));
  const now = new Map(outcomes.map((o) => [o.mutant.id, reportRow(o)]));
  const rows = MUTANTS.map((m) => now.get(m.id) ?? earlier.get(m.id) ?? `| ${m.id} | ${m.change.replace(/\|/g, '\\|')} | \`${m.file}\` | | not run | |`);
  const killed = rows.filter((row) => /\| killed: /.test(row)).length;
  const survived = rows.filter((row) => /\*\*survived\*\*/.test(row)).length;
  const unbuilt = rows.filter((row) => /\*\*does not build\*\*/.test(row)).length;
  const notRun = rows.length - killed - survived - unbuilt;
  const run = all
    ? `This run tried every mutant; the unmutated tests passed first (${baselineSeconds.toFixed(0)} s).`
    : `The last run tried ${outcomes.map((o) => o.mutant.id).join(', ')} (the unmutated tests of those passed first, ${baselineSeconds.toFixed(0)} s); the other rows are kept from the runs that last tried them, and a row whose file changed since is to be run again.`;
  const lines = [
    '# Mutation report',
    '',
    'Written by `npm run mutate` (scripts/mutate.ts): each mutant below is applied on its own, the',
    'tests named beside it are run (narrowed by a test-name pattern where one is given), and the',
    'file is restored. A mutant is killed when a test fails; one the package does not build with',
    'tests nothing, and is mended rather than counted. T1–T6 target softmax stability, the',
    "fused kernel's fourth layer and momentum; K, R and L are mutants of the kernels, the reference",
    "and the loaders; G of the GPU trainer's buffers and loss read-back, P of train.py, A of the API;",
    "N of the training toolkit's ops (activations, huber, the optimizers, weight decay, clipping,",
    'schedules, dropout, class ids); M of what a mutation audit found unguarded (early stopping, the',
    "metrics, shuffling, steps per epoch, carrying a fit on, optimizer state across fits and resume,",
    "resume's checks, the size of prediction passes, the profiler's steps), W of the guards against a",
    "wrong number and of the API's sharp edges; H of what the app needs of the library (a hidden",
    "layer's outputs, the worker); S of the WebAssembly trainer and the shared pipelines; C of",
    "compiling only what a call needs; L13 on of class names. WebGPU runs on SwiftShader here.",
    '',
    `**${killed} of ${rows.length} mutants killed, ${survived} survived${unbuilt > 0 ? `, ${unbuilt} do not build` : ''}${notRun > 0 ? `, ${notRun} not run` : ''}.** ${run}`,
    '',
    '| id | mutant | file | tests | result | s |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
    'Hand-picked rather than generated (as StrykerJS generates them for TypeScript): a generator',
    'cannot mutate WGSL, where most of the risk lies, and each of its many TypeScript mutants would',
    'rerun GPU test files that take tens of seconds on SwiftShader. The list targets the paths',
    'easiest to leave untested, and fails loudly when a mutant\'s text no longer matches the code.',
    '',
  ];
  return lines.join('\n');
}

function main(): number {
  const args = process.argv.slice(2);
  const listOnly = args.includes('--list');
  const ids = args.filter((a) => !a.startsWith('--'));
  const unknown = ids.filter((id) => !MUTANTS.some((m) => m.id === id));
  if (unknown.length > 0) {
    console.error(`mutate: no mutant ${unknown.join(', ')}`);
    return 2;
  }
  const problems = checkList(MUTANTS);
  if (problems.length > 0) {
    console.error(`mutate: the list does not match the code:\n  ${problems.join('\n  ')}`);
    return 2;
  }
  const chosen = ids.length > 0 ? MUTANTS.filter((m) => ids.includes(m.id)) : MUTANTS;
  if (listOnly) {
    for (const m of chosen) console.log(`${m.id.padEnd(4)} ${m.file.padEnd(32)} ${m.change}`);
    return 0;
  }

  const files = [...new Set(chosen.flatMap((m) => m.tests))];
  console.log(`mutate: the unmutated tests first (${files.join(' ')})`);
  const started = performance.now();
  const baseline = runTests(files, undefined);
  const baselineSeconds = (performance.now() - started) / 1000;
  if (!baseline.passed) {
    console.error(`mutate: the tests fail without any mutant (${baseline.failure}); fix them first`);
    return 1;
  }

  const outcomes: Outcome[] = [];
  for (const m of chosen) {
    const start = performance.now();
    let run = { builds: true, passed: true, failure: '' };
    applyMutant(m, () => (run = runTests(m.tests, m.only)));
    const result = !run.builds ? 'does not build' : run.passed ? 'survived' : 'killed';
    const outcome: Outcome = { mutant: m, result, by: run.failure, seconds: (performance.now() - start) / 1000 };
    outcomes.push(outcome);
    const word = { killed: 'killed  ', survived: 'SURVIVED', 'does not build': 'UNBUILT ' }[result];
    console.log(`${m.id.padEnd(4)} ${word} ${m.change}${result === 'survived' ? '' : ` (${result === 'killed' ? 'by: ' : ''}${outcome.by})`}`);
  }
  rmSync(workDir, { recursive: true, force: true });
  spawnSync('npm', ['run', 'build', '--silent']); // dist/ as the restored sources build it

  const survivors = outcomes.filter((o) => o.result === 'survived');
  const unbuilt = outcomes.filter((o) => o.result === 'does not build');
  const named = (list: Outcome[]) => list.map((o) => o.mutant.id).join(', ');
  console.log(`\n${outcomes.length - survivors.length - unbuilt.length} of ${outcomes.length} mutants killed${survivors.length > 0 ? `; survived: ${named(survivors)}` : ''}${unbuilt.length > 0 ? `; do not build (mend their text): ${named(unbuilt)}` : ''}`);
  if (ids.length === 0 || args.includes('--report')) {
    const previous = existsSync('docs/mutation-report.md') ? readFileSync('docs/mutation-report.md', 'utf8') : '';
    writeFileSync('docs/mutation-report.md', markdownReport(outcomes, baselineSeconds, previous, ids.length === 0));
    console.log('wrote docs/mutation-report.md');
  }
  return survivors.length + unbuilt.length > 0 ? 1 : 0;
}

process.exitCode = main();
