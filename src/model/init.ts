// Seeded weight initialisation, as TensorFlow.js and Keras do it: Glorot (Xavier) uniform
// for sigmoid, tanh, linear and softmax layers, He normal for the relu family (each
// activation's record says which, src/model/ops/activations.ts); biases start at zero.

import { seededRandom, type Random } from '../data/random.ts';
import type { ModelSpec } from './model.ts';
import { ACTIVATION_OPS } from './ops/activations.ts';
import { paramLayout, paramView, type ParamLayout } from './layout.ts';

/** A standard normal sample (Box–Muller). */
function normal(random: Random): number {
  const u = 1 - random(); // (0, 1]: log(u) stays finite
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

export function initParams(spec: ModelSpec, seed: number | string, layout: ParamLayout = paramLayout(spec)): Float64Array {
  const random = seededRandom(seed);
  const params = new Float64Array(layout.size);
  spec.layers.forEach((layer, l) => {
    const weights = paramView(layout, params, l, 'weights');
    const fanIn = weights.length / layer.units;
    const fanOut = layer.units;
    if (ACTIVATION_OPS[layer.activation].init === 'he') {
      const std = Math.sqrt(2 / fanIn);
      for (let k = 0; k < weights.length; k++) weights[k] = std * normal(random);
    } else {
      const limit = Math.sqrt(6 / (fanIn + fanOut));
      for (let k = 0; k < weights.length; k++) weights[k] = (2 * random() - 1) * limit;
    }
  });
  return params;
}
