// The command line's numeric flags at their real ranges, and the seed: every seed the
// flag takes is one a checkpoint holds and gives back, so a run can always resume.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nonNegativeInteger, positiveInteger, positiveNumber } from '../src/cli/flags.ts';
import { BatchSchedule, MAX_SEED } from '../src/data/batches.ts';
import { datasetFromRows } from '../src/data/dataset.ts';
import { checkpointToJson } from '../src/io/checkpoint.ts';
import { parseCheckpoint } from '../src/io/checkpoint-read.ts';
import { modelFromJson } from '../src/io/model-file.ts';
import { DEFAULT_OPTIMIZERS } from '../src/model/optimizer.ts';

const refused = (parse: (text: string) => number, text: string) => () => parse(text);

describe('integer flags (steps, epochs, batch size, checkpoint interval)', () => {
  it.each([
    ['1', 1],
    ['2000', 2000],
    ['1e3', 1000],
    [' 12 ', 12],
    ['9007199254740991', 9007199254740991],
  ])('%j reads as %d', (text, value) => expect(positiveInteger(text)).toBe(value));

  it.each(['0', '-4', '1.5', '0x10', '1_000', 'Infinity', 'NaN', '', 'ten'])('%j is refused', (text) => {
    expect(refused(positiveInteger, text)).toThrow(`expected a positive integer, got ${JSON.stringify(text)}`);
  });

  it.each(['9007199254740992', '9007199254740993', '1e300'])('%j is past 2^53 − 1, where a number is no longer the integer typed, and refused', (text) => {
    expect(refused(positiveInteger, text)).toThrow(`expected a positive integer up to 9007199254740991, got ${JSON.stringify(text)}`);
  });
});

describe('the learning rate', () => {
  it.each([
    ['0.01', 0.01],
    ['1e-3', 1e-3],
    ['3.4e38', 3.4e38],
    ['1.2e-38', 1.2e-38],
  ])('%j reads as %d', (text, value) => expect(positiveNumber(text)).toBe(value));

  it.each(['0', '-1', 'NaN', '0x1', 'Infinity', ''])('%j is refused', (text) => {
    expect(refused(positiveNumber, text)).toThrow(`expected a positive number, got ${JSON.stringify(text)}`);
  });

  it.each(['1e39', '1e-46', '1.5e-45', '1e-39'])('%j, beyond float32 or subnormal in it (Infinity, 0, or flushed to 0 on the GPU), is refused', (text) => {
    expect(refused(positiveNumber, text)).toThrow(`expected a positive number float32 can hold (1.1754943508222875e-38 to 3.4028234663852886e+38), got ${JSON.stringify(text)}`);
  });
});

describe('the seed', () => {
  const model = modelFromJson({ loss: 'mse', layers: [{ activation: 'linear', weights: [[0.5, -0.25]], biases: [0.1] }] }, 'model.json');
  const dataset = datasetFromRows([[1, 2], [3, 4]], [[1], [0]]);
  const checkpointOf = (seed: number) => {
    const options = { learningRate: 0.1, batchSize: 1, shuffle: true, seed, optimizer: DEFAULT_OPTIMIZERS.sgd };
    const text = JSON.stringify(checkpointToJson(model, options, { step: 3, params: model.params, optimizerState: [] }, dataset));
    return () => parseCheckpoint(text, 'run.checkpoint.json', model, options, dataset);
  };

  it('every seed the flag takes, up to 2^53 − 1, is one a checkpoint holds and gives back', () => {
    expect(nonNegativeInteger(String(MAX_SEED))).toBe(MAX_SEED);
    expect(checkpointOf(MAX_SEED)().step).toBe(3);
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: BigInt(MAX_SEED) }), (seed) => {
        const value = nonNegativeInteger(String(seed));
        expect(value).toBe(Number(seed));
        expect(checkpointOf(value)().step).toBe(3);
      }),
      { numRuns: 200 },
    );
  });

  it('a seed past 2^53 − 1 is refused by the flag, by the schedule and by the checkpoint alike', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: BigInt(MAX_SEED) + 1n, max: 2n ** 70n }), (seed) => {
        expect(refused(nonNegativeInteger, String(seed))).toThrow(`expected a whole number ≥ 0 up to ${MAX_SEED}, got "${seed}"`);
        expect(() => new BatchSchedule(4, 2, true, Number(seed))).toThrow(/^seed: expected a whole number from 0 to 9007199254740991, got \d/);
        expect(checkpointOf(Number(seed))).toThrow(/^run\.checkpoint\.json: options\.seed: Too big: expected int to be <=9007199254740991$/);
      }),
      { numRuns: 100 },
    );
    expect(refused(nonNegativeInteger, '-1')).toThrow('expected a whole number ≥ 0, got "-1"');
    expect(() => new BatchSchedule(4, 2, true, 0.5)).toThrow('seed: expected a whole number from 0 to 9007199254740991, got 0.5');
  });
});

describe('the number of steps', () => {
  it('a run may take as many steps as keep step × batch size within 2^53, where the schedule counts rows exactly', () => {
    const schedule = new BatchSchedule(10, 8, false, 1);
    expect(schedule.maxSteps).toBe(2 ** 50);
    expect(() => schedule.checkSteps(2 ** 50)).not.toThrow();
    expect(() => schedule.checkSteps(2 ** 50 + 1)).toThrow('steps: expected a whole number up to 1125899906842624 (steps × batch size 8 must stay within 2^53), got 1125899906842625');
    // The last step the schedule allows still takes the rows exact arithmetic gives.
    const last = 2n ** 50n - 1n;
    expect(Array.from(schedule.indices(Number(last)))).toEqual(Array.from({ length: 8 }, (_, k) => Number((last * 8n + BigInt(k)) % 10n)));
  });
});
