/**
 * Takes the README's screenshot of the demo (docs/demo.png): builds the demo, serves it
 * statically, lets a job run in headless Chromium, kills a worker, and shoots the page
 * once the recovery shows. `node --import tsx scripts/demo-screenshot.ts [out.png]`
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDemo, openBrowser, serveStatic } from '../test/demo/demo-site.ts';

const out = process.argv[2] ?? new URL('../docs/demo.png', import.meta.url).pathname;
const dir = await mkdtemp(join(tmpdir(), 'eddy-demo-shot-'));
await buildDemo(dir);
const site = await serveStatic(dir);
const session = await openBrowser(site.origin);
try {
  const { page } = session;
  await page.setViewportSize({ width: 1200, height: 1000 });
  await page.goto(`${site.origin}/index.html`);
  await page.waitForFunction(() => Number(document.getElementById('windows')?.dataset.value) >= 4, undefined, { timeout: 120_000 });
  await page.click('#kill');
  await page.waitForFunction(() => document.getElementById('recovery')?.dataset.done === 'true', undefined, { timeout: 60_000 });
  await page.waitForTimeout(4000);
  await page.click('#inspect button[type=submit]');
  await page.waitForTimeout(500);
  // A chart out of view skips its drawing until it scrolls back (demo/src/charts.ts): with
  // the whole page in the viewport every chart is in view and draws on its next sample.
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  await page.setViewportSize({ width: 1200, height });
  await page.waitForTimeout(1500);
  await page.screenshot({ path: out, fullPage: true });
  console.log(`wrote ${out}`);
} finally {
  await session.close();
  await site.close();
  await rm(dir, { recursive: true, force: true });
}
