// Fuzz and property tests of the model, data and checkpoint loaders: whatever the input,
// a loader returns a value or throws an InputError with a one-line message; valid files
// round-trip exactly; nothing is allocated for a file that asks for too much.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { datasetFromRows } from '../src/data/dataset.ts';
import { FLOAT32_MAX } from '../src/data/values.ts';
import { InputError } from '../src/errors.ts';
import { parseCheckpoint } from '../src/io/checkpoint-read.ts';
import { parseDataCsv, parseDataJson } from '../src/io/data-file.ts';
import { checkDataFits, parseDataTable } from '../src/io/data-file.ts';
import { modelFromJson, modelToJson, parseModelDeclaration, parseModelFile, type ModelFile } from '../src/io/model-file.ts';
import { declareDescription } from '../src/io/model-declaration.ts';
import { checkTrainingMemory, trainingBytes } from '../src/node/memory.ts';
import { ACTIVATIONS, LOSSES, type Activation } from '../src/model/model.ts';
import { createModel } from '../src/model/network.ts';
import { DEFAULT_OPTIMIZERS } from '../src/model/optimizer.ts';

/** Runs `load`; it may succeed or throw an InputError with a one-line message, nothing else. */
function loadsOrRefuses(load: () => unknown): void {
  try {
    load();
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).not.toContain('\n');
  }
}

const VALID_MODEL = { loss: 'half-sse', trainBiases: false, layers: [{ activation: 'sigmoid', weights: [[0.15, 0.2], [0.25, 0.3]], biases: [0.35, 0.35] }, { activation: 'sigmoid', weights: [[0.4, 0.45], [0.5, 0.55]], biases: [0.6, 0.6] }] };

describe('model files', () => {
  it('any text loads as a model or is refused with an InputError', () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (text) => loadsOrRefuses(() => parseModelFile(text, 'fuzz.json'))), { numRuns: 2000 });
  });

  it('any JSON value loads as a model or is refused with an InputError', () => {
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 5 }), (json) => loadsOrRefuses(() => modelFromJson(json, 'fuzz.json'))), { numRuns: 2000 });
  });

  it('a description handed to Network.create, checked without the schema, loads or is refused with an InputError, whatever it holds', () => {
    const mutated = fc.record({ path: fc.constantFrom(['loss'], ['trainBiases'], ['seed'], ['inputSize'], ['inputScaling'], ['layers'], ['layers', 0], ['layers', 0, 'units'], ['layers', 0, 'weights'], ['layers', 0, 'weights', 1], ['layers', 0, 'weights', 1, 0], ['layers', 1, 'biases', 0]), value: fc.jsonValue({ maxDepth: 3 }) });
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue({ maxDepth: 5 }), mutated), (input) => {
        let description: unknown = input;
        if (input && typeof input === 'object' && 'path' in input && 'value' in input) {
          const file = structuredClone(VALID_MODEL) as Record<string | number, unknown>;
          let node = file;
          const path = input.path as (string | number)[];
          for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
          node[path[path.length - 1]] = input.value;
          description = file;
        }
        loadsOrRefuses(() => declareDescription(description as ModelFile, 'model').create());
      }),
      { numRuns: 2000 },
    );
    expect(() => declareDescription({ ...VALID_MODEL, layers: [{ activation: 'linear', weights: [[1, 1e39]] }] } as ModelFile, 'model')).toThrow(/^model: layers\[0\]\.weights\[0\]\[1\]: expected a number float32 can hold/);
    // A value whose conversion to text throws is still named, not a TypeError.
    const unprintable = { toString: false } as unknown as number;
    expect(() => declareDescription({ inputSize: 2, loss: 'mse', layers: [{ units: unprintable, activation: 'linear' }] }, 'model')).toThrow(InputError);
    expect(() => declareDescription({ ...VALID_MODEL, inputScaling: { mean: [unprintable, 0], std: [1, 1] } } as ModelFile, 'model')).toThrow(/^model: inputScaling\.mean\[0\]: expected a finite number, got an object$/);
    expect(() => declareDescription({ inputSize: 2, loss: 'mse', layers: [{ units: 1e9, activation: 'linear' }] }, 'model')).toThrow(/^model: layers\[0\]\.units: expected a whole number from 1 to 65536, got 1000000000$/);
  });

  it('a valid file with one field changed to anything loads or is refused with an InputError naming a field', () => {
    const paths = [['loss'], ['trainBiases'], ['layers'], ['layers', 0], ['layers', 0, 'activation'], ['layers', 0, 'weights'], ['layers', 0, 'weights', 1], ['layers', 0, 'weights', 1, 0], ['layers', 1, 'biases'], ['layers', 1, 'biases', 0]] as const;
    fc.assert(
      fc.property(fc.constantFrom(...paths), fc.jsonValue({ maxDepth: 3 }), (path, value) => {
        const file = structuredClone(VALID_MODEL) as Record<string | number, unknown>;
        let node = file;
        for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
        node[path[path.length - 1]] = value;
        loadsOrRefuses(() => modelFromJson(file, 'mutated.json'));
      }),
      { numRuns: 2000 },
    );
  });

  it('round-trips: a model written out and read back has the same network and the same float64 weights', () => {
    const architecture = fc.record({
      sizes: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 2, maxLength: 5 }),
      hidden: fc.constantFrom(...ACTIVATIONS.filter((a) => a !== 'softmax')),
      output: fc.constantFrom(...ACTIVATIONS),
      loss: fc.constantFrom(...LOSSES),
      trainBiases: fc.boolean(),
      seed: fc.integer(),
    });
    fc.assert(
      fc.property(architecture, (a) => {
        const loss = a.loss === 'cross-entropy' && a.output !== 'softmax' && a.output !== 'sigmoid' ? 'mse' : a.loss;
        // Softmax over one output is refused (it is always 1): give it two.
        if (a.output === 'softmax' && a.sizes[a.sizes.length - 1] === 1) a.sizes[a.sizes.length - 1] = 2;
        const spec = {
          inputSize: a.sizes[0],
          layers: a.sizes.slice(1).map((units, l) => ({ units, activation: (l === a.sizes.length - 2 ? a.output : a.hidden) as Activation })),
          loss,
          trainBiases: a.trainBiases,
        };
        const model = createModel(spec, { seed: a.seed });
        const reread = parseModelFile(JSON.stringify(modelToJson(model)), 'roundtrip.json');
        expect(reread.spec).toEqual(spec);
        expect(Array.from(reread.params)).toEqual(Array.from(model.params));
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a network too large to allocate before allocating anything for it', () => {
    const huge = { inputSize: 60_000, seed: 1, loss: 'mse', layers: [{ units: 60_000, activation: 'linear' }] };
    expect(() => modelFromJson(huge, 'huge.json')).toThrow(/^huge\.json: layers: the network has 3600060000 parameters; at most 268435456 are allowed$/);
    expect(() => modelFromJson({ ...huge, layers: [{ units: 1e9, activation: 'linear' }] }, 'units.json')).toThrow(/^units\.json: layers\[0\]\.units: Too big: expected number to be <=65536$/);
  });
});

describe("a model file's declared size, checked before anything is allocated", () => {
  // A hundred bytes that ask for 16000 × 16001 parameters: 2 GB of float64, and seconds
  // of seeded initialisation.
  const text = JSON.stringify({ inputSize: 16000, seed: 1, loss: 'mse', layers: [{ units: 16000, activation: 'linear' }] });

  it('is read as a declaration that allocates nothing, and checked against the data before the weights exist', () => {
    expect(text.length).toBeLessThan(110);
    const before = process.memoryUsage().arrayBuffers;
    const declared = parseModelDeclaration(text, 'big.json');
    expect(declared.spec).toEqual({ inputSize: 16000, layers: [{ units: 16000, activation: 'linear' }], loss: 'mse', trainBiases: true });
    expect(declared.paramCount).toBe(16000 * 16001);
    const data = parseDataTable('{"inputs": [[0, 1]], "targets": [[1]]}', 'xor.json');
    expect(() => checkDataFits(data, 'xor.json', declared.spec.inputSize, 16000)).toThrow("xor.json: inputs: expected 16000 values per row (the model's inputs), got 2");
    // 2 GB of weights would show here; the data and the parser's own buffers are kilobytes.
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 2 ** 20);
  });

  it('is refused where training it needs more memory than there is, naming the file and the figures', () => {
    const { spec } = parseModelDeclaration(text, 'big.json');
    // Parameters, the trainer's copy and the gradients (SGD), float64, in the layout's padded size.
    expect(trainingBytes(spec, 0)).toBe(8 * 3 * (256_000_000 + 16_000));
    expect(trainingBytes(spec, 2)).toBe(8 * 5 * (256_000_000 + 16_000));
    expect(() => checkTrainingMemory(spec, 'adam', 'big.json', 8e9)).toThrow(
      'big.json: layers: training this network needs about 10.2 GB of memory (float64 parameters, gradients and optimizer state); 8.00 GB is available',
    );
    expect(() => checkTrainingMemory(spec, 'sgd', 'big.json', 8e9)).not.toThrow();
  });

  it('past 2^28 parameters is refused by the schema limits alone', () => {
    const tooBig = JSON.stringify({ inputSize: 16385, seed: 1, loss: 'mse', layers: [{ units: 16384, activation: 'linear' }] });
    expect(() => parseModelDeclaration(tooBig, 'big.json')).toThrow('big.json: layers: the network has 268468224 parameters; at most 268435456 are allowed');
  });
});

describe('data files', () => {
  it('any text loads as JSON data or is refused with an InputError', () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (text) => loadsOrRefuses(() => parseDataJson(text, 'fuzz.json'))), { numRuns: 2000 });
  });

  it('any text loads as CSV data or is refused with an InputError', () => {
    const csvish = fc.array(fc.constantFrom('a', 'b', 'y', ',', '\n', '1', '-2.5', '1e3', ' ', '"', 'NaN', 'Infinity', ''), { maxLength: 60 }).map((parts) => parts.join(''));
    fc.assert(fc.property(fc.oneof(fc.string({ maxLength: 120 }), csvish), (text) => loadsOrRefuses(() => parseDataCsv(text, 'fuzz.csv', ['y']))), { numRuns: 3000 });
  });

  it('round-trips: numbers float32 can hold, written as CSV, read back exactly, targets separated by name', () => {
    const finite = fc.double({ noNaN: true, min: -FLOAT32_MAX, max: FLOAT32_MAX });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.array(fc.tuple(finite, finite, finite, finite, finite), { minLength: 1, maxLength: 20 }), (inputs, rows) => {
        const width = inputs + 1;
        const names = [...Array.from({ length: inputs }, (_, k) => `x${k}`), 'label'];
        const write = (v: number) => (Object.is(v, -0) ? '-0' : String(v)); // String(-0) is "0"
        const text = [names.join(','), ...rows.map((row) => row.slice(0, width).map(write).join(','))].join('\n');
        const parsed = parseDataCsv(text, 'roundtrip.csv', ['label']);
        expect(parsed.inputs).toEqual(rows.map((row) => row.slice(0, inputs)));
        expect(parsed.targets).toEqual(rows.map((row) => [row[inputs]]));
      }),
      { numRuns: 300 },
    );
  });
});

describe('checkpoints', () => {
  const model = modelFromJson(VALID_MODEL, 'model.json');
  const dataset = datasetFromRows([[0.05, 0.1]], [[0.01, 0.99]]);
  const options = { learningRate: 0.5, batchSize: 1, shuffle: false, seed: 1, optimizer: DEFAULT_OPTIMIZERS.sgd };

  it('any JSON value loads as a checkpoint for this run or is refused with an InputError', () => {
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 4 }), (json) => loadsOrRefuses(() => parseCheckpoint(JSON.stringify(json), 'fuzz.json', model, options, dataset))), { numRuns: 1000 });
  });
});
