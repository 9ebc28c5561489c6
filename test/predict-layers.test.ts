// A hidden layer's outputs through `predict({ layer })`, as a model cut at that layer would
// give them: on WebGPU within the float32 bound of the float64 reference's forward pass,
// on the reference exactly; several layers from one pass; misuse refused by name.

import { describe, expect, it } from 'vitest';
import { InputError, Network } from '../src/node.ts';
import { modelToJson } from '../src/io/model-format.ts';
import { testDevice } from './support/gpu.ts';
import { float32PredictionTolerance, NETWORK_CASES, referencePredict, seededInputs, seededModel, worstRatio } from './support/interop.ts';

const ROWS = 37;

describe('predict with a layer', () => {
  for (const [c, { name, spec }] of NETWORK_CASES.entries()) {
    it(`gives each layer's outputs on WebGPU within float32 tolerance of the reference, and exactly on the reference: ${name}`, async () => {
      const model = seededModel(spec, c + 1);
      const inputs = seededInputs(spec.inputSize, ROWS, c);
      const gpu = await Network.create(modelToJson(model), { device: await testDevice() });
      const cpu = await Network.create(modelToJson(model), { backend: 'cpu' });
      const layers = spec.layers.map((_, l) => l);
      // Every layer from one pass, and each on its own.
      const all = await gpu.predict(inputs, { layer: layers });
      expect(all).toHaveLength(layers.length);
      let worst = 0;
      for (const l of layers) {
        const want = referencePredict(model, inputs, ROWS, l);
        const tolerance = float32PredictionTolerance(model, inputs, ROWS, l);
        const alone = (await gpu.predict(inputs, { layer: l })).flat();
        expect(alone).toHaveLength(ROWS * spec.layers[l].units);
        expect(all[l].flat()).toEqual(alone);
        worst = Math.max(worst, worstRatio(alone, want, tolerance));
        expect((await cpu.predict(inputs, { layer: l })).flat()).toEqual(Array.from(want));
      }
      console.log(`${name}: worst |gpu − reference| / tolerance over every layer ${worst.toExponential(2)}`);
      expect(worst).toBeLessThanOrEqual(1);
      // -1 is the output layer: what predict gives without a layer.
      expect(await gpu.predict(inputs, { layer: -1 })).toEqual(await gpu.predict(inputs));
      gpu.dispose();
      cpu.dispose();
    });
  }

  it('refuses a layer the network does not have, naming it', async () => {
    const net = await Network.create({ inputSize: 2, seed: 1, loss: 'mse', layers: [{ units: 3, activation: 'tanh' }, { units: 1, activation: 'linear' }] }, { backend: 'cpu' });
    const cases: [unknown, RegExp][] = [
      [2, /^layer: expected a layer index from 0 to 1 \(or -2 to -1, counting from the end\), got 2$/],
      [-3, /^layer: expected a layer index from 0 to 1 \(or -2 to -1, counting from the end\), got -3$/],
      [0.5, /^layer: expected a layer index from 0 to 1 .*got 0\.5$/],
      ['0', /^layer: expected a layer index .*got 0$/],
      [[0, 7], /^layer\[1\]: expected a layer index from 0 to 1 .*got 7$/],
      [[], /^layer: expected a layer index or a non-empty array of them$/],
    ];
    for (const [layer, message] of cases) {
      const error = await net.predict([[0, 1]], { layer: layer as number }).then(() => undefined, (e: unknown) => e);
      expect(error, String(layer)).toBeInstanceOf(InputError);
      expect((error as Error).message, String(layer)).toMatch(message);
    }
  });
});
