// The browser app in Debian's Chromium, driven by playwright-core: WebGPU on SwiftShader
// (or the machine's GPU), served by Vite's dev server.

import { mkdirSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { createServer, type ViteDevServer } from 'vite';

export const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOTS = 'test-results/screenshots';
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

export async function startApp(): Promise<{ url: string; server: ViteDevServer }> {
  const server = await createServer({ configFile: 'vite.config.ts', logLevel: 'error', server: { port: 0, host: 'localhost' } });
  await server.listen();
  return { url: server.resolvedUrls!.local[0], server };
}

/** A fresh headless Chromium; `webgpu: false` leaves WebGPU off, as on a browser without it. */
export async function launch(webgpu = true): Promise<BrowserContext> {
  const args = ['--no-sandbox', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
  if (webgpu) args.push('--enable-unsafe-webgpu');
  return chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'webgpu-backprop-chromium-')), {
    executablePath: CHROMIUM,
    headless: true,
    args,
    acceptDownloads: true,
    viewport: DESKTOP,
  });
}

/** Waits until layout has settled: two animation frames, for resize observers and charts. */
async function settled(page: Page): Promise<void> {
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
}

/**
 * Saves full-page screenshots at 1280 × 800 and at 390 × 844 (a phone) under
 * test-results/screenshots/, for a person to look at, and fails if the page scrolls
 * sideways on the phone. Leaves the page at 1280 × 800.
 */
export async function screenshots(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.setViewportSize(DESKTOP);
  await settled(page);
  await page.screenshot({ path: join(SCREENSHOTS, `${name}-1280.png`), fullPage: true });
  await page.setViewportSize(PHONE);
  await settled(page);
  await page.screenshot({ path: join(SCREENSHOTS, `${name}-390.png`), fullPage: true });
  const overflow = await page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const wide = [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > width + 0.5 && !e.closest('.table-scroll, .trace-box'));
    return { scrollWidth: document.documentElement.scrollWidth, width, wide: wide.slice(0, 5).map((e) => `${e.tagName.toLowerCase()}#${e.id}.${[...e.classList].join('.')}`) };
  });
  if (overflow.scrollWidth > overflow.width) throw new Error(`${name}: the page scrolls sideways at ${PHONE.width} px (${overflow.scrollWidth} px wide: ${overflow.wide.join(', ')})`);
  await page.setViewportSize(DESKTOP);
  await settled(page);
}
