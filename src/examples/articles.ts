// The worked examples of the five seed articles, with every number they print.
//
// Their notations differ. Where each article's weight w_n sits in our layout
// (weights[j][i]: from input i into neuron j) is read off the article's own formulas and
// confirmed by its printed numbers; docs/errata.md records where an article's text and
// its numbers part ways.

import type { StepRecord, WorkedExample } from './worked-example.ts';

const mazurSymbols = { net: 'net_{n}', out: 'out_{n}', error: 'E_{n}', gradient: '∂E_total/∂{w}', updated: '{w}⁺' };

/**
 * Article 001, Matt Mazur, "A Step by Step Backpropagation Example" (2015).
 * net_h1 = w1·i1 + w2·i2 + b1: the weights are numbered row by row (w2 runs from i2 into h1).
 * One bias per layer, shared by its neurons, never updated. Learning rate 0.5.
 */
export const mazur: WorkedExample = {
  name: 'mazur',
  article: '001',
  aliases: ['001', 'mattmazur'],
  title: 'A Step by Step Backpropagation Example',
  author: 'Matt Mazur',
  cases: [
    {
      title: '2-2-2 sigmoid network with biases, one training sample',
      model: {
        loss: 'half-sse',
        trainBiases: false,
        layers: [
          { activation: 'sigmoid', weights: [[0.15, 0.2], [0.25, 0.3]], biases: [0.35, 0.35] },
          { activation: 'sigmoid', weights: [[0.4, 0.45], [0.5, 0.55]], biases: [0.6, 0.6] },
        ],
      },
      inputs: [0.05, 0.1],
      targets: [0.01, 0.99],
      learningRate: 0.5,
      rounding: 'round',
      longRun: 10000,
      notation: {
        inputs: ['i1', 'i2'],
        neurons: [['h1', 'h2'], ['o1', 'o2']],
        weights: [
          [['w1', 'w2'], ['w3', 'w4']],
          [['w5', 'w6'], ['w7', 'w8']],
        ],
        biases: [['b1', 'b1'], ['b2', 'b2']],
        symbols: mazurSymbols,
      },
      printed: [
        { symbol: 'net_h1', printed: '0.3775' },
        { symbol: 'out_h1', printed: '0.593269992' },
        { symbol: 'out_h2', printed: '0.596884378' },
        { symbol: 'net_o1', printed: '1.105905967' },
        { symbol: 'out_o1', printed: '0.75136507' },
        { symbol: 'out_o2', printed: '0.772928465' },
        { symbol: 'E_o1', printed: '0.274811083' },
        { symbol: 'E_o2', printed: '0.023560026' },
        { symbol: 'E_total', printed: '0.298371109' },
        { symbol: '∂E_total/∂out_o1', printed: '0.74136507' },
        { symbol: '∂out_o1/∂net_o1', printed: '0.186815602' },
        { symbol: '∂net_o1/∂w5', printed: '0.593269992', value: (s) => s.out[0][0] },
        { symbol: '∂E_total/∂w5', printed: '0.082167041' },
        { symbol: 'w5⁺', printed: '0.35891648' },
        { symbol: 'w6⁺', printed: '0.408666186' },
        { symbol: 'w7⁺', printed: '0.511301270' },
        { symbol: 'w8⁺', printed: '0.561370121' },
        { symbol: '∂E_o1/∂net_o1', printed: '0.138498562', row: 'δ_o1' },
        { symbol: '∂net_o1/∂out_h1', printed: '0.40', value: (s) => s.weight(1, 0, 0) },
        { symbol: '∂E_o1/∂out_h1', printed: '0.055399425', value: (s) => s.delta[1][0] * s.weight(1, 0, 0) },
        { symbol: '∂E_o2/∂out_h1', printed: '-0.019049119', value: (s) => s.delta[1][1] * s.weight(1, 1, 0), erratum: 'mazur-rounded-delta' },
        { symbol: '∂E_total/∂out_h1', printed: '0.036350306', value: dEdOutHidden(0) },
        { symbol: '∂out_h1/∂net_h1', printed: '0.241300709', value: (s) => s.slope(0, 0) },
        { symbol: '∂net_h1/∂w1', printed: '0.05', value: (s) => s.input[0] },
        { symbol: '∂E_total/∂w1', printed: '0.000438568' },
        { symbol: 'w1⁺', printed: '0.149780716' },
        { symbol: 'w2⁺', printed: '0.19956143' },
        { symbol: 'w3⁺', printed: '0.24975114' },
        { symbol: 'w4⁺', printed: '0.29950229' },
        { symbol: 'E_total (after 1 update)', printed: '0.291027924', erratum: 'mazur-update-order' },
        { symbol: 'E_total (after 10000 updates)', printed: '0.0000351085', erratum: 'mazur-off-by-one' },
        { symbol: 'out_o1 (after 10000 updates)', printed: '0.015912196', erratum: 'mazur-update-order' },
        { symbol: 'out_o2 (after 10000 updates)', printed: '0.984065734', erratum: 'mazur-update-order' },
      ],
    },
  ],
};

/** ∂E_total/∂out_h = Σ_o δ_o · w_oh, for hidden neuron h of a two-layer network. */
function dEdOutHidden(h: number) {
  return (s: StepRecord) => {
    let sum = 0;
    s.delta[1].forEach((delta, o) => (sum += delta * s.weight(1, o, h)));
    return sum;
  };
}

/**
 * Articles 000 and 002 (the same post, twice), hmkcode, "Backpropagation Step by Step".
 * A 2-2-1 network with no activation and no bias; h1 = i1·w1 + i2·w2, so weights are
 * numbered row by row; prediction = h1·w5 + h2·w6. Learning rate 0.05.
 */
export const hmkcode: WorkedExample = {
  name: 'hmkcode',
  article: '000',
  aliases: ['000', '002', 'netflow'],
  title: 'Backpropagation Step by Step',
  author: 'hmkcode',
  cases: [
    {
      title: '2-2-1 linear network without biases, one training sample',
      model: {
        loss: 'half-sse',
        trainBiases: false,
        layers: [
          { activation: 'linear', weights: [[0.11, 0.21], [0.12, 0.08]] },
          { activation: 'linear', weights: [[0.14, 0.15]] },
        ],
      },
      inputs: [2, 3],
      targets: [1],
      learningRate: 0.05,
      rounding: 'round',
      notation: {
        inputs: ['i1', 'i2'],
        neurons: [['h1', 'h2'], ['o']],
        weights: [[['w1', 'w2'], ['w3', 'w4']], [['w5', 'w6']]],
        symbols: { net: 'net_{n}', out: 'out_{n}', error: 'E', gradient: '∂E/∂{w}', updated: '{w}⁺' },
      },
      printed: [
        { symbol: 'prediction', printed: '0.191', row: 'out_o' },
        { symbol: 'prediction (after 1 update)', printed: '0.26', row: 'out_o (after 1 update)' },
      ],
    },
  ],
};

/**
 * Article 003, Rabindra Lamsal (theneuralblog), "a step by step forward pass and
 * backpropagation example". sum_h1 = i1·w1 + i2·w3 + b1: the hidden weights are
 * numbered column by column (w2 runs from i1 into h2), the output weights row by row
 * (sum_o1 = out_h1·w5 + out_h2·w6 + b2). Shared, frozen biases; learning rate 0.6.
 * Every printed number is truncated, not rounded, to five decimals.
 */
export const lamsal: WorkedExample = {
  name: 'lamsal',
  article: '003',
  aliases: ['003', 'theneuralblog'],
  title: 'A step by step forward pass and backpropagation example',
  author: 'Rabindra Lamsal (theneuralblog.com)',
  cases: [
    {
      title: '2-2-2 sigmoid network with biases, one training sample',
      model: {
        loss: 'half-sse',
        trainBiases: false,
        layers: [
          { activation: 'sigmoid', weights: [[0.1, 0.3], [0.2, 0.4]], biases: [0.25, 0.25] },
          { activation: 'sigmoid', weights: [[0.5, 0.6], [0.7, 0.8]], biases: [0.35, 0.35] },
        ],
      },
      inputs: [0.1, 0.5],
      targets: [0.05, 0.95],
      learningRate: 0.6,
      rounding: 'truncate',
      notation: {
        inputs: ['i1', 'i2'],
        neurons: [['h1', 'h2'], ['o1', 'o2']],
        weights: [
          [['w1', 'w3'], ['w2', 'w4']],
          [['w5', 'w6'], ['w7', 'w8']],
        ],
        biases: [['b1', 'b1'], ['b2', 'b2']],
        symbols: { net: 'sum_{n}', out: 'output_{n}', error: 'E_{k}', gradient: '∂E_total/∂{w}', updated: 'new_{w}' },
      },
      printed: [
        { symbol: 'sum_h1', printed: '0.41' },
        { symbol: 'output_h1', printed: '0.60108' },
        { symbol: 'sum_h2', printed: '0.47' },
        { symbol: 'output_h2', printed: '0.61538' },
        { symbol: 'sum_o1', printed: '1.01977' },
        { symbol: 'output_o1', printed: '0.73492' },
        { symbol: 'sum_o2', printed: '1.26306' },
        { symbol: 'output_o2', printed: '0.77955' },
        { symbol: 'E_1', printed: '0.23456' },
        { symbol: 'E_2', printed: '0.01452' },
        { symbol: 'E_total', printed: '0.24908' },
        { symbol: '∂E_total/∂output_o1', printed: '0.68492' },
        { symbol: '∂output_o1/∂sum_o1', printed: '0.19480' },
        { symbol: '∂E_total/∂w5', printed: '0.08020' },
        { symbol: 'new_w5', printed: '0.45187' },
        { symbol: '∂E_total/∂w6', printed: '0.08211' },
        { symbol: 'new_w6', printed: '0.55073' },
        { symbol: '∂E_total/∂output_o2', printed: '-0.17044' },
        { symbol: '∂output_o2/∂sum_o2', printed: '0.17184' },
        { symbol: '∂E_total/∂w7', printed: '-0.01760' },
        { symbol: 'new_w7', printed: '0.71056' },
        { symbol: '∂E_total/∂w8', printed: '-0.01802' },
        { symbol: 'new_w8', printed: '0.81081' },
        { symbol: '∂output_h1/∂sum_h1', printed: '0.23978', value: (s) => s.slope(0, 0) },
        {
          symbol: '∂E_1/∂w1',
          printed: '0.00159',
          value: (s) => s.delta[1][0] * s.weight(1, 0, 0) * s.slope(0, 0) * s.input[0],
        },
        {
          symbol: '∂E_2/∂w1',
          printed: '-0.00049',
          value: (s) => s.delta[1][1] * s.weight(1, 1, 0) * s.slope(0, 0) * s.input[0],
        },
        { symbol: '∂E_total/∂w1', printed: '0.00110' },
        { symbol: 'new_w1', printed: '0.09933' },
        { symbol: 'new_w2', printed: '0.19919' },
        { symbol: 'new_w3', printed: '0.29667' },
        { symbol: 'new_w4', printed: '0.39597' },
      ],
    },
  ],
};

/**
 * Article 004, MissingLink, "Backpropagation in Neural Networks: Process, Example & Code".
 * It computes one hidden neuron, then assumes the outputs (0.735, 0.455) instead of
 * computing them, and takes the error of those against targets (0.5, 0.5). The text
 * names w3 the weight from i2 into h1 and then writes i2·w2 in the formula.
 */
export const missinglink: WorkedExample = {
  name: 'missinglink',
  article: '004',
  aliases: ['004'],
  title: 'Backpropagation in Neural Networks: Process, Example & Code',
  author: 'MissingLink',
  cases: [
    {
      title: 'The net input and output of hidden neuron h1',
      model: {
        loss: 'half-sse',
        trainBiases: false,
        layers: [{ activation: 'sigmoid', weights: [[0.27, 0.57]], biases: [0.4] }],
      },
      inputs: [0.1, 0.2],
      targets: [0.5],
      learningRate: 1,
      rounding: 'round',
      sections: ['Forward pass'],
      notation: {
        inputs: ['i1', 'i2'],
        neurons: [['h1']],
        weights: [[['w1', 'w3']]],
        symbols: { net: 'net_{n}', out: 'f(net_{n})', error: 'E_{n}', gradient: '∂E/∂{w}', updated: '{w}⁺' },
      },
      printed: [
        { symbol: '(i1 * w1) + (i2 * w2) + b1', printed: '0.541', row: 'net_h1' },
        { symbol: 'f(0.541)', printed: '0.632', row: 'f(net_h1)' },
      ],
    },
    {
      title: 'The error of the outputs the article assumes (0.735, 0.455), targets (0.5, 0.5)',
      // The article gives no weights for the output layer, only its outputs; an identity
      // layer fed those outputs lets both backends compute the error from them.
      model: {
        loss: 'half-sse',
        trainBiases: false,
        layers: [{ activation: 'linear', weights: [[1, 0], [0, 1]], biases: [0, 0] }],
      },
      inputs: [0.735, 0.455],
      targets: [0.5, 0.5],
      learningRate: 1,
      rounding: 'round',
      sections: ['Forward pass', 'Error'],
      notation: {
        inputs: ['o1', 'o2'],
        neurons: [['o1', 'o2']],
        weights: [[['1', '0'], ['0', '1']]],
        symbols: { net: 'net_{n}', out: 'out_{n}', error: 'MSE({n})', gradient: '∂E/∂{w}', updated: '{w}⁺' },
      },
      printed: [
        { symbol: '0.5 - 0.735', printed: '-0.235', value: (s) => s.target[0] - s.out[0][0] },
        { symbol: '0.5 - 0.455', printed: '0.045', value: (s) => s.target[1] - s.out[0][1] },
        { symbol: 'MSE(o1)', printed: '0.0276' },
        { symbol: 'MSE(o2)', printed: '0.001' },
        { symbol: 'Total Error', printed: '0.0286', row: 'E_total' },
      ],
    },
  ],
};

/** The articles' worked examples: Mazur (001), hmkcode (000, 002), Lamsal (003), MissingLink (004). */
export const WORKED_EXAMPLES: WorkedExample[] = [mazur, hmkcode, lamsal, missinglink];

/** Finds an example by its short name or an alias ('mazur', '001', …). */
export function findExample(name: string): WorkedExample | undefined {
  const key = name.toLowerCase();
  return WORKED_EXAMPLES.find((e) => e.name === key || e.aliases.includes(key));
}
