import { launch, startApp } from '/work/wt/app/test/support/browser.ts';
const { server, url } = await startApp();
const browser = await launch();
const page = await browser.newPage();
page.on('pageerror', (e) => console.log('PAGEERROR', e.message));
page.on('console', (m) => console.log('CONSOLE', m.type(), m.text()));
await page.goto(url + '#playground?dataset=xor&layers=8,8&lr=0.01');
await page.waitForSelector('#app[data-phase="ready"]', { timeout: 120000 });
const [worker] = page.workers();
worker.on('console', (m) => console.log('WORKER', m.text()));
await worker.evaluate(`(() => { const devices = (self.devices = new Set()); const encoder = GPUDevice.prototype.createCommandEncoder; GPUDevice.prototype.createCommandEncoder = function (...args) { devices.add(this); return encoder.apply(this, args); }; })()`);
await page.click('#train');
await page.waitForFunction(() => Number(document.getElementById('status')?.dataset.step) >= 300, null, { timeout: 60_000 });
await worker.evaluate(`[...self.devices][0].destroy()`);
for (let k = 0; k < 12; k++) { await page.waitForTimeout(2000); console.log(await page.textContent('#status'), '|', await page.textContent('#notice'), '|', await page.textContent('#error'), '|', await page.getAttribute('#app', 'data-phase')); }
await browser.close(); await server.close();
