import { launch, startApp } from '/work/wt/app/test/support/browser.ts';
const { server, url } = await startApp();
const browser = await launch();
const page = await browser.newPage();
page.on('pageerror', (e) => console.log('PAGEERROR', e.message));
await page.goto(url + '#playground?dataset=mnist');
await page.waitForSelector('#app[data-phase="ready"]', { timeout: 120000 });
await page.click('#train');
await page.waitForTimeout(3000);
await page.evaluate(`(() => {
  const w = window;
  w.frames = []; w.longTasks = []; w.clicks = [];
  const loop = (t) => { w.frames.push(t); if (w.frames.length < 100000) requestAnimationFrame(loop); };
  requestAnimationFrame(loop);
  w.loaf = []; new PerformanceObserver((list) => { for (const e of list.getEntries()) w.longTasks.push(e.duration); }).observe({ type: 'longtask' }); new PerformanceObserver((list) => { for (const e of list.getEntries()) w.loaf.push({ d: Math.round(e.duration), render: Math.round(e.startTime + e.duration - e.renderStart), style: Math.round(e.startTime + e.duration - e.styleAndLayoutStart), block: Math.round(e.blockingDuration), scripts: e.scripts.map((s) => [s.invoker, Math.round(s.duration), s.sourceFunctionName, (s.sourceURL||'').split('/').pop(), s.sourceCharPosition, Math.round(s.forcedStyleAndLayoutDuration)]) }); }).observe({ type: 'long-animation-frame' });
  document.addEventListener('click', (e) => { const t0 = e.timeStamp; const h0 = performance.now(); requestAnimationFrame(() => w.clicks.push({ delay: h0 - t0, toFrame: performance.now() - t0 })); }, { capture: true });
})()`);
for (let k = 0; k < 20; k++) { await page.waitForTimeout(2000); await page.click('#draw-clear'); }
const r = await page.evaluate(`(() => { const w = window; const gaps = w.frames.slice(1).map((t, k) => t - w.frames[k]); return { n: gaps.length, max: Math.max(...gaps), p99: gaps.sort((a, b) => a - b)[Math.floor(gaps.length * 0.99)], longTasks: w.longTasks, loaf: w.loaf.filter((l) => l.d > 45), clicks: w.clicks.length }; })()`);
console.log(JSON.stringify(r));
console.log(await page.textContent('#status'));
await browser.close();
await server.close();
