// A model file that carries input scaling (the app writes one for standardised CSV data)
// trains and predicts on the command line on scaled inputs, as Network does.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { Network, type ModelFile } from '../src/node.ts';
import { cli } from './support/cli.ts';

it('train and predict apply the model file\'s input scaling, as Network.fit and predict do', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'webgpu-backprop-scaling-'));
  const description: ModelFile = {
    loss: 'mse',
    inputScaling: { mean: [100, -3], std: [20, 0.5] },
    layers: [{ activation: 'tanh', weights: [[0.2, -0.1], [0.05, 0.3]], biases: [0, 0.1] }, { activation: 'linear', weights: [[0.5, -0.4]], biases: [0.2] }],
  };
  const inputs = [[90, -2.5], [130, -3.2], [100, -3], [75, -2.9]];
  const targets = [[1], [-1], [0.5], [0]];
  writeFileSync(join(dir, 'model.json'), JSON.stringify(description));
  writeFileSync(join(dir, 'data.json'), JSON.stringify({ inputs, targets }));

  const trained = cli('train', '--model', join(dir, 'model.json'), '--data', join(dir, 'data.json'), '--backend', 'cpu', '--steps', '5', '--batch-size', '4', '--no-shuffle', '--lr', '0.1', '--out', join(dir, 'out.json'));
  expect(trained.stderr).toBe('');
  const network = await Network.create(description, { backend: 'cpu' });
  await network.fit(inputs, targets, { epochs: 5, batchSize: 4, shuffle: false, learningRate: 0.1 });
  const written = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8'));
  expect(written.inputScaling).toEqual(description.inputScaling);
  expect(written.layers).toEqual(network.toJSON().layers);

  const predicted = cli('predict', '--model', join(dir, 'out.json'), '--data', join(dir, 'data.json'), '--backend', 'cpu');
  expect(JSON.parse(predicted.stdout).outputs).toEqual(await network.predict(inputs));
});
