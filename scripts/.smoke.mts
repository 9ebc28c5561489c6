import { launch, startApp } from '/work/wt/app/test/support/browser.ts';
const { server, url } = await startApp();
const browser = await launch();
const page = await browser.newPage();
page.on('pageerror', (e) => console.log('PAGEERROR', e.message));
page.on('console', (m) => m.type() === 'error' && console.log('CONSOLE', m.text()));
const hash = process.argv[2] ?? '#playground?dataset=spirals&layers=8,8&lr=0.03&features=x2,y2';
await page.goto(url + hash);
await page.waitForSelector('#app[data-phase="ready"]', { timeout: 120000 }).catch(async (e) => { console.log('not ready', await page.textContent('#error'), await page.textContent('#status')); });
console.log('status', await page.textContent('#status'), 'err', await page.textContent('#error'), 'link', await page.textContent('#link-problems'));
if (process.argv[3] !== 'notrain') {
  await page.click('#train');
  await page.waitForTimeout(Number(process.argv[4] ?? 8000));
  await page.click('#train');
  await page.waitForSelector('#app[data-phase="ready"]', { timeout: 60000 });
}
console.log('status', await page.textContent('#status'), await page.$eval('#status', (e) => JSON.stringify((e as HTMLElement).dataset)));
console.log('loss chart', await page.$eval('#loss-chart-box', (e) => JSON.stringify((e as HTMLElement).dataset)).catch(() => 'none'));
await page.screenshot({ path: '/tmp/shots/a-1280.png', fullPage: true });
await page.setViewportSize({ width: 390, height: 844 });
await page.waitForTimeout(300);
await page.screenshot({ path: '/tmp/shots/a-390.png', fullPage: true });
await browser.close();
await server.close();
