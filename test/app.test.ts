// The browser app end to end, in headless Chromium with WebGPU (SwiftShader where the
// machine has no GPU). Each test leaves a screenshot in test-results/screenshots/.

import { readFileSync } from 'node:fs';
import type { BrowserContext, Page } from 'playwright-core';
import type { ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch, screenshot, startApp } from './support/browser.ts';

let server: ViteDevServer;
let url: string;
let browser: BrowserContext;

beforeAll(async () => {
  ({ server, url } = await startApp());
  browser = await launch();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function open(hash: string): Promise<Page> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${url}#${hash}`);
  await page.waitForFunction(() => document.body.dataset.webgpu !== undefined);
  expect(errors).toEqual([]);
  return page;
}

const status = (page: Page, key: 'step' | 'loss' | 'accuracy') => page.$eval('#status', (element, k) => Number((element as HTMLElement).dataset[k]), key);

/** Trains until the accuracy reaches `target`, then pauses. */
async function trainUntil(page: Page, target: number, timeout: number): Promise<void> {
  await page.click('#train');
  await page.waitForFunction((t) => Number(document.getElementById('status')?.dataset.accuracy) >= t, target, { timeout, polling: 250 });
  await page.click('#train');
  await page.waitForFunction(() => document.querySelector('section.playground')?.parentElement?.dataset.running === 'false');
}

describe('worked example explorer', () => {
  it("shows article 001's values after one step, the article, the reference and WebGPU side by side", async () => {
    const page = await open('explorer');
    await page.waitForSelector('#app[data-state="ready"]', { timeout: 60_000 });
    expect(await page.textContent('#adapter')).toMatch(/WebGPU: /);

    // One value at a time: the first two rows are net_h1 and out_h1.
    await page.click('#next');
    expect(await page.textContent('#current .big-symbol')).toBe('out_h1');

    await page.click('#show-all');
    const row = (symbol: string) => page.locator(`#trace tr[data-symbol="${symbol}"]`);
    expect(await row('w5⁺').locator('td').nth(2).textContent()).toBe('0.35891648 ✓');
    expect(await row('w5⁺').locator('td.reference').textContent()).toBe('0.358916480');
    const gpu = Number(await row('w5⁺').locator('td.webgpu').textContent());
    expect(Math.abs(gpu - 0.358916479718)).toBeLessThan(1e-6);
    expect(await row('net_h1').locator('td').nth(2).textContent()).toBe('0.3775 ✓');
    expect(await row('E_total (after 1 update)').locator('td').nth(2).textContent()).toBe('0.291027924 ✗');
    await screenshot(page, 'explorer-mazur');

    const download = page.waitForEvent('download');
    await page.click('#export-json');
    const exported = JSON.parse(readFileSync((await (await download).path())!, 'utf8'));
    expect(exported.cases[0].lines.find((l: { symbol: string }) => l.symbol === 'w5⁺').article).toBe('0.35891648');

    const markdown = page.waitForEvent('download');
    await page.click('#export-markdown');
    expect(readFileSync((await (await markdown).path())!, 'utf8')).toContain('| Update | w5⁺ | 0.35891648 ✓ | 0.35891647971788');
    await page.close();
  });

  it('recomputes when a weight is edited, and the article column empties', async () => {
    const page = await open('explorer');
    await page.waitForSelector('#app[data-state="ready"]', { timeout: 60_000 });
    await page.click('#show-all');
    await page.fill('input[aria-label="w5"]', '0.5');
    await page.press('input[aria-label="w5"]', 'Tab'); // leaving the field commits the edit
    await page.waitForSelector('#app[data-state="ready"]', { timeout: 60_000 });
    const w5 = Number(await page.locator('#trace tr[data-symbol="w5⁺"] td.reference').textContent());
    expect(w5).not.toBeCloseTo(0.35891648, 6);
    expect(await page.locator('#trace tr[data-symbol="w5⁺"] td').nth(2).textContent()).toBe('');
    await screenshot(page, 'explorer-edited');
    await page.close();
  });
});

describe('training playground', () => {
  it('trains XOR to 100% accuracy; a saved model, loaded again, gives the same predictions', async () => {
    const page = await open('playground');
    await page.waitForFunction(() => document.getElementById('status')?.dataset.step === '0', null, { timeout: 60_000 });
    await trainUntil(page, 1, 120_000);
    expect(await status(page, 'accuracy')).toBe(1);
    await screenshot(page, 'playground-xor');
    const trainedLoss = await status(page, 'loss');

    const download = page.waitForEvent('download');
    await page.click('#save');
    const saved = (await (await download).path())!;
    expect(JSON.parse(readFileSync(saved, 'utf8')).layers).toHaveLength(3);

    await page.click('#reset');
    await page.waitForFunction((loss) => Number(document.getElementById('status')?.dataset.loss) !== loss && document.getElementById('status')?.dataset.step === '0', trainedLoss);
    await page.setInputFiles('#load', saved);
    await page.waitForFunction(() => document.getElementById('status')?.textContent?.startsWith('loaded'), null, { timeout: 60_000 });
    expect(await status(page, 'loss')).toBe(trainedLoss);
    expect(await status(page, 'accuracy')).toBe(1);
    await page.close();
  });

  it('trains two spirals to at least 95% accuracy', async () => {
    const page = await open('playground');
    await page.waitForFunction(() => document.getElementById('status')?.dataset.step === '0', null, { timeout: 60_000 });
    await page.selectOption('#dataset', 'spirals');
    await page.waitForFunction(() => document.getElementById('status')?.dataset.dataset === 'spirals', null, { timeout: 60_000 });
    await trainUntil(page, 0.95, 240_000);
    expect(await status(page, 'accuracy')).toBeGreaterThanOrEqual(0.95);
    await screenshot(page, 'playground-spirals');
    await page.close();
  });

  it('trains on the MNIST digits from the mnist package', async () => {
    const page = await open('playground');
    await page.waitForFunction(() => document.getElementById('status')?.dataset.step === '0', null, { timeout: 60_000 });
    await page.fill('#layers', '32');
    await page.selectOption('#dataset', 'mnist');
    await page.waitForFunction(() => document.getElementById('status')?.dataset.dataset === 'mnist', null, { timeout: 120_000 });
    expect(await page.textContent('#status')).toContain('of 10000 samples');
    await trainUntil(page, 0.5, 240_000);
    expect(await status(page, 'step')).toBeGreaterThan(0);
    await screenshot(page, 'playground-mnist');
    await page.close();
  });

  it("trains on the user's own CSV file, with the target columns named", async () => {
    const page = await open('playground');
    await page.waitForFunction(() => document.getElementById('status')?.dataset.step === '0', null, { timeout: 60_000 });
    // Points inside (class a) or outside (class b) a circle, as one-hot target columns.
    const rows = ['x,y,a,b'];
    for (let k = 0; k < 200; k++) {
      const angle = k * 2.399963;
      const r = k % 2 === 0 ? 0.35 * ((k % 7) / 7) : 0.65 + 0.3 * ((k % 5) / 5);
      rows.push(`${(r * Math.cos(angle)).toFixed(4)},${(r * Math.sin(angle)).toFixed(4)},${k % 2 === 0 ? 1 : 0},${k % 2 === 0 ? 0 : 1}`);
    }
    await page.selectOption('#dataset', 'csv');
    await page.fill('#csv-targets', 'a,b');
    await page.press('#csv-targets', 'Tab');
    await page.setInputFiles('#csv-file', { name: 'ring.csv', mimeType: 'text/csv', buffer: Buffer.from(rows.join('\n')) });
    await page.waitForFunction(() => document.getElementById('status')?.dataset.dataset === 'csv', null, { timeout: 60_000 });
    await trainUntil(page, 0.95, 120_000);
    expect(await status(page, 'accuracy')).toBeGreaterThanOrEqual(0.95);
    await screenshot(page, 'playground-csv');
    await page.close();
  });

  it('says what is wrong with a bad model file and keeps training the model it had', async () => {
    const page = await open('playground');
    await page.waitForFunction(() => document.getElementById('status')?.dataset.step === '0', null, { timeout: 60_000 });
    await page.setInputFiles('#load', { name: 'bad.json', mimeType: 'application/json', buffer: Buffer.from('{"loss": "half-sse", "layers": [{"activation": "sigmoidal", "weights": [[1, 2]]}]}') });
    await page.waitForFunction(() => document.getElementById('error')?.textContent !== '');
    expect(await page.textContent('#error')).toBe('bad.json: layers[0].activation: Invalid option: expected one of "sigmoid"|"linear"|"tanh"|"relu"|"softmax"');
    await page.close();
  });
});

describe('benchmark page', () => {
  it('runs the workloads on WebGPU, the reference and TensorFlow.js, and reports figures', async () => {
    const page = await open('benchmark');
    expect(await page.textContent('section.benchmark p')).toMatch(/Adapter: /);
    await page.click('#run');
    await page.waitForSelector('#app[data-state="done"]', { timeout: 300_000 });
    const rows = await page.$$eval('#results tbody tr', (trs) => trs.map((tr) => ({ backend: tr.getAttribute('data-backend'), workload: tr.getAttribute('data-workload'), ms: Number(tr.querySelector('td.ms')?.textContent), check: tr.children[2].textContent })));
    expect(rows.map((r) => r.workload)).toEqual(['W1', 'W1', 'W1', 'W2', 'W2', 'W2']);
    for (const row of rows) {
      expect(row.check === 'passed' || row.check === 'reference', `${row.workload} on ${row.backend}: ${row.check}`).toBe(true);
      expect(row.ms).toBeGreaterThan(0);
    }
    await screenshot(page, 'benchmark');
    await page.close();
  });
});

describe('without WebGPU', () => {
  it('says so plainly, and the worked examples still run on the reference', async () => {
    const noWebgpu = await launch(false);
    const page = await noWebgpu.newPage();
    await page.goto(`${url}#explorer`);
    await page.waitForSelector('#no-webgpu:not([hidden])');
    expect(await page.textContent('#no-webgpu')).toMatch(/^WebGPU is not available: /);
    await page.waitForSelector('#app[data-state="ready"]', { timeout: 60_000 });
    await page.click('#show-all');
    expect(await page.locator('#trace tr[data-symbol="w5⁺"] td.reference').textContent()).toBe('0.358916480');
    await screenshot(page, 'no-webgpu-explorer');
    await page.goto(`${url}#playground`);
    await page.waitForSelector('section.playground .message');
    expect(await page.textContent('section.playground .message')).toBe('Training needs WebGPU, which this browser does not offer.');
    await screenshot(page, 'no-webgpu-playground');
    await noWebgpu.close();
  });
});

describe('a lost GPU device', () => {
  it('is announced, and training resumes on a new device from its last checkpoint', async () => {
    const page = await browser.newPage();
    // Keep a hand on every device the app opens, so the test can lose one as a driver reset would.
    await page.addInitScript(() => {
      const requestDevice = GPUAdapter.prototype.requestDevice;
      GPUAdapter.prototype.requestDevice = async function (this: GPUAdapter, ...args: Parameters<GPUAdapter['requestDevice']>) {
        const device = await requestDevice.apply(this, args);
        ((window as unknown as { devices: GPUDevice[] }).devices ??= []).push(device);
        return device;
      };
    });
    await page.goto(`${url}#playground`);
    await page.waitForFunction(() => document.getElementById('status')?.dataset.step === '0', null, { timeout: 60_000 });
    await page.click('#train');
    await page.waitForFunction(() => Number(document.getElementById('status')?.dataset.step) >= 300, null, { timeout: 60_000 });
    await page.evaluate(() => (window as unknown as { devices: GPUDevice[] }).devices[0].destroy());
    await page.waitForFunction(() => document.getElementById('notice')?.textContent?.startsWith('The GPU device was lost'), null, { timeout: 60_000 });
    expect(await page.textContent('#no-webgpu')).toMatch(/^The GPU device was lost \(.*\)\. Training resumes from its last checkpoint on a new device\.$/);
    expect(await page.textContent('#notice')).toMatch(/^The GPU device was lost \(.*\): resuming from step \d+ on a new device\.$/);
    const resumedAt = Number(/step (\d+)/.exec((await page.textContent('#notice'))!)![1]);
    await page.waitForFunction((from) => Number(document.getElementById('status')?.dataset.step) > from + 200, resumedAt, { timeout: 60_000 });
    await page.waitForFunction(() => Number(document.getElementById('status')?.dataset.accuracy) === 1, null, { timeout: 120_000 });
    expect(await page.evaluate(() => (window as unknown as { devices: GPUDevice[] }).devices.length)).toBeGreaterThanOrEqual(2);
    expect(await page.textContent('#error')).toBe('');
    await page.click('#train');
    await screenshot(page, 'playground-device-lost');
    await page.close();
  });
});
