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
    viewport: { width: 1280, height: 1000 },
  });
}

/** Saves a screenshot under test-results/screenshots/ for a person to look at. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}
