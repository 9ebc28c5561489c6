// XOR, the tests' smallest classification: four rows, one 0/1 target each, and a network
// that learns it (8 tanh units, a sigmoid output, cross-entropy).

import type { ModelFile } from '../../src/index.ts';

export const XOR_INPUTS = [
  [0, 0],
  [0, 1],
  [1, 0],
  [1, 1],
];
export const XOR_TARGETS = [[0], [1], [1], [0]];
export const XOR: ModelFile = { inputSize: 2, seed: 3, loss: 'cross-entropy', layers: [{ units: 8, activation: 'tanh' }, { units: 1, activation: 'sigmoid' }] };
