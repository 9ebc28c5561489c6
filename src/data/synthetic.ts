// Two-dimensional classification datasets in the manner of TensorFlow Playground, from a
// seed: XOR, two interleaved spirals, a circle inside a ring. Points lie in [−1, 1]²;
// targets are one-hot over two classes.

import { seededRandom, type Random } from './random.ts';
import type { Dataset } from './dataset.ts';

/** The two-dimensional datasets TensorFlow Playground users know. */
export const SYNTHETIC_DATASETS = ['xor', 'spirals', 'circles'] as const;
/** A synthetic dataset: `xor`, `spirals` or `circles`. */
export type SyntheticName = (typeof SYNTHETIC_DATASETS)[number];

function toDataset(points: [number, number, number][]): Dataset {
  const inputs = new Float64Array(points.length * 2);
  const targets = new Float64Array(points.length * 2);
  points.forEach(([x, y, label], n) => {
    inputs[2 * n] = x;
    inputs[2 * n + 1] = y;
    targets[2 * n + label] = 1;
  });
  return { inputs, targets, size: points.length, inputSize: 2, outputSize: 2 };
}

/** Class 0 where x and y share a sign, class 1 where they differ; kept 0.1 away from the axes. */
function xor(size: number, random: Random): [number, number, number][] {
  const points: [number, number, number][] = [];
  while (points.length < size) {
    const x = 2 * random() - 1;
    const y = 2 * random() - 1;
    if (Math.abs(x) < 0.1 || Math.abs(y) < 0.1) continue;
    points.push([x, y, x * y > 0 ? 0 : 1]);
  }
  return points;
}

/** Two spirals of 1.75 turns each, the second the first turned by half a circle, a little noise. */
function spirals(size: number, random: Random): [number, number, number][] {
  const points: [number, number, number][] = [];
  const perClass = Math.floor(size / 2);
  for (let label = 0; label < 2; label++) {
    for (let n = 0; n < perClass; n++) {
      const r = (n / perClass) * 0.95;
      const angle = 1.75 * 2 * Math.PI * (n / perClass) + label * Math.PI;
      const noise = () => (random() - 0.5) * 0.04;
      points.push([r * Math.sin(angle) + noise(), r * Math.cos(angle) + noise(), label]);
    }
  }
  return points;
}

/** Class 0 inside radius 0.4, class 1 in the ring from 0.6 to 1. */
function circles(size: number, random: Random): [number, number, number][] {
  const points: [number, number, number][] = [];
  for (let n = 0; n < size; n++) {
    const label = n % 2;
    const r = label === 0 ? 0.4 * Math.sqrt(random()) : 0.6 + 0.4 * random();
    const angle = 2 * Math.PI * random();
    points.push([r * Math.cos(angle), r * Math.sin(angle), label]);
  }
  return points;
}

/** `size` points of a synthetic dataset in [−1, 1]², one-hot targets over two classes, from `seed`. */
export function syntheticDataset(name: SyntheticName, size: number, seed: number | string): Dataset {
  const random = seededRandom(`${name}:${seed}`);
  const generate = { xor, spirals, circles }[name];
  return toDataset(generate(size, random));
}
