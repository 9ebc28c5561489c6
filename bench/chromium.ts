// `npm run bench:chromium`: the benchmark page's W2 and W3 in headless Chromium (Debian's,
// driven by playwright-core), on this project's WebGPU and WebAssembly backends and
// TensorFlow.js's WebGPU and wasm backends in the same browser, where no Node-side
// polling distorts the peer. The page is served cross-origin isolated by Vite's dev
// server, so WebAssembly (ours and TensorFlow.js's) may run threads. The measuring is the
// page's (the library's measureWorkload, interleaved, each timed run checked); this
// command builds the app, serves it cross-origin isolated (Vite's preview server), sets
// the page up, runs it, and writes its results as `npm run bench` does:
// bench/results/<date>-chromium-<adapter kind>.{json,md}.

import { Command, Option } from 'commander';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { build, preview } from 'vite';
import { markdownTable, speedRatios, type BenchReport } from 'webgpu-backprop/bench';
import { namesFrom } from './flags.ts';

const CHROMIUM = '/usr/bin/chromium';
/** SwiftShader's Vulkan driver in Debian's chromium package: WebGPU where there is no GPU. */
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
const WORKLOADS = ['W1', 'W2', 'W3'];

const program = new Command('bench:chromium')
  .addOption(new Option('--workloads <names>', `comma-separated: ${WORKLOADS.join(', ')}`).argParser(namesFrom(WORKLOADS)).default(['W2', 'W3'], 'W2,W3'))
  .option('--quick', "the page's quick mode: three repetitions of a quarter second")
  .option('--reference', 'the float64 reference too (minutes on W3)')
  .option('--out-dir <dir>', 'where to write the results', 'bench/results')
  .option('--timeout-minutes <n>', 'give up after this long', (text) => Number(text), 60)
  .parse();
const flags = program.opts<{ workloads: string[]; quick?: boolean; reference?: boolean; outDir: string; timeoutMinutes: number }>();

if (!process.env.VK_ICD_FILENAMES && !process.env.VK_DRIVER_FILES) process.env.VK_ADD_DRIVER_FILES = [process.env.VK_ADD_DRIVER_FILES, SWIFTSHADER_ICD].filter(Boolean).join(':');
// The built app, as a user gets it (the dev server does not serve TensorFlow.js's wasm files as the build does).
const outDir = mkdtempSync(join(tmpdir(), 'webgpu-backprop-app-'));
await build({ configFile: 'vite.config.ts', logLevel: 'error', build: { outDir } });
const server = await preview({ configFile: 'vite.config.ts', logLevel: 'error', build: { outDir }, preview: { port: 0, host: 'localhost' } });
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--enable-unsafe-webgpu', '--no-first-run', '--disable-background-networking'] });
const loadBefore = loadavg();
try {
  const page = await browser.newPage({ acceptDownloads: true });
  page.on('console', (message) => message.type() === 'error' && console.error(`page: ${message.text()}`));
  await page.goto(`${server.resolvedUrls!.local[0]}#benchmark`);
  await page.waitForSelector('#run:not([disabled])', { timeout: 120_000 });
  const isolated = await page.evaluate(() => globalThis.crossOriginIsolated);
  if (!isolated) throw new Error('the page is not cross-origin isolated: WebAssembly would run one thread');
  for (const name of WORKLOADS) await page.setChecked(`#workload-${name}`, flags.workloads.includes(name));
  await page.setChecked('#workload-sweep', false);
  for (const id of ['backend-webgpu', 'backend-wasm', 'backend-tfjs-webgpu', 'backend-tfjs-wasm']) await page.setChecked(`#${id}`, true);
  await page.setChecked('#backend-reference', Boolean(flags.reference));
  await page.setChecked('#quick', Boolean(flags.quick));
  await page.click('#run');
  const done = await page.waitForFunction(() => ['done', 'stopped', 'error'].includes(document.querySelector<HTMLElement>('.benchmark')?.parentElement?.dataset.state ?? ''), undefined, { timeout: flags.timeoutMinutes * 60_000, polling: 1000 });
  await done.dispose();
  console.error(await page.locator('#log').textContent());
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-json')]);
  const report = JSON.parse(readFileSync(await download.path(), 'utf8')) as BenchReport;
  const loadAfter = loadavg();
  report.environment = { ...report.environment, cpu: `${cpus()[0]?.model ?? 'unknown'} × ${cpus().length}`, 'load average (1 min) before and after': `${loadBefore[0].toFixed(2)}, ${loadAfter[0].toFixed(2)}` };
  const ours = report.measurements.map((m) => m.backend).filter((name) => name.startsWith('webgpu-backprop'));
  const peers = [...new Set(report.measurements.map((m) => m.backend).filter((name) => name.startsWith('TensorFlow.js')))];
  const summary = [...new Set(ours)].flatMap((of) => peers.flatMap((against) => speedRatios(report.measurements, of, against).map((r) => `${r.workload}: ${of} ${r.ratio.toFixed(2)}× the speed of ${against}`)));
  const text = [markdownTable(report), summary.join('\n')].join('\n\n');
  console.log(text);
  mkdirSync(flags.outDir, { recursive: true });
  const software = report.environment.software === 'true' ? 'swiftshader' : 'webgpu';
  const stem = join(flags.outDir, `${report.date.slice(0, 19).replace(/[:T]/g, '-')}-chromium-${software}${flags.quick ? '-quick' : ''}`);
  for (const [path, content] of [
    [`${stem}.json`, JSON.stringify(report, null, 2)],
    [`${stem}.md`, `${text}\n`],
  ]) {
    writeFileSync(`${path}.tmp`, content);
    renameSync(`${path}.tmp`, path);
  }
  console.error(`wrote ${stem}.json and ${stem}.md`);
  const failed = report.measurements.filter((m) => m.check === 'failed');
  for (const m of failed) console.error(`bench:chromium: ${m.workload} on ${m.backend}: ${m.error ?? m.checkMessage}`);
  process.exitCode = failed.length > 0 ? 1 : 0;
} finally {
  await browser.close();
  await server.close();
  rmSync(outDir, { recursive: true, force: true });
}
