/**
 * demo: the demo page's job (demo/, built and served statically) in headless Chromium,
 * driven like a visitor: on each state backend a new job at parallelism 2 (2 eddy
 * workers) with 1-s checkpoints, the rate slider at its top (100,000 transactions/s).
 * After a warm-up, transactions generated and committed are counted over a measured span.
 * The source is paced and back-pressured, so the generated rate is what the job sustains.
 * Also reported: the longest main-thread task (Long Tasks API) while the job ran, and the
 * invariant at the end (a broken one throws).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright';
import { buildDemo, openBrowser, serveStatic } from '../test/demo/demo-site.ts';
import { report, round } from './common.ts';

const WARMUP_MS = Number(process.env.BENCH_DEMO_WARMUP_MS ?? 5000);
const MEASURE_MS = Number(process.env.BENCH_DEMO_MEASURE_MS ?? 10_000);

/** What the page shows (a string expression: tsx would wrap a function's inner helpers in `__name`, which the page lacks). */
const read = (page: Page) =>
  page.evaluate(`(() => {
    const v = (id) => Number(document.getElementById(id).dataset.value);
    return {
      job: document.body.dataset.job,
      generated: v('generated'),
      committed: v('committed'),
      longestTaskMs: v('longtask'),
      checkpoints: Number(document.getElementById('checkpoints').dataset.completed),
      ok: document.getElementById('invariant').dataset.ok,
      invariant: document.getElementById('invariant').textContent,
    };
  })()`) as Promise<{ job?: string; generated: number; committed: number; longestTaskMs: number; checkpoints: number; ok?: string; invariant: string }>;

export async function demo(_runs: number): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'eddy-demo-bench-'));
  await buildDemo(dir);
  const site = await serveStatic(dir);
  const session = await openBrowser(site.origin);
  try {
    const { page } = session;
    await page.goto(`${site.origin}/index.html`);
    await page.waitForFunction(() => document.getElementById('status')?.dataset.value === 'RUNNING', undefined, { timeout: 120_000 });
    for (const backend of ['memory', 'indexeddb', 'sqlite']) {
      await page.selectOption('#backend', backend);
      await page.selectOption('#parallelism', '2');
      await page.fill('#interval', '1000');
      await page.setChecked('#incremental', true);
      await page.setChecked('#checkpointing', true);
      const before = (await read(page)).job;
      await page.click('#start');
      await page.waitForFunction((b) => document.body.dataset.job !== b && document.getElementById('status')?.dataset.value === 'RUNNING', before, {
        timeout: 120_000,
      });
      await page.locator('#rate').fill('100');
      await page.waitForTimeout(WARMUP_MS);
      const a = await read(page);
      const t0 = Date.now();
      await page.waitForTimeout(MEASURE_MS);
      const b = await read(page);
      const seconds = (Date.now() - t0) / 1000;
      if (b.ok !== 'true') throw new Error(`demo bench (${backend}): the invariant broke: ${b.invariant}`);
      report({
        bench: 'demo',
        backend,
        browser: 'Chromium (installed, headless); job in a host worker + 2 eddy workers',
        stat: `one ${MEASURE_MS / 1000}-s span after a ${WARMUP_MS / 1000}-s warm-up; rate slider at 100,000/s; 1-s incremental checkpoints to OPFS`,
        eventsPerSecond: round((b.generated - a.generated) / seconds, 0),
        committedPerSecond: round((b.committed - a.committed) / seconds, 0),
        checkpointsCompleted: b.checkpoints - a.checkpoints,
        longestMainThreadTaskMs: round(b.longestTaskMs, 0),
        invariant: 'holds',
        floor: null,
        pass: true,
      });
    }
    if (session.errors.length > 0) throw new Error(`demo bench: the page logged errors: ${session.errors.join('\n')}`);
  } finally {
    await session.close();
    await site.close();
    await rm(dir, { recursive: true, force: true });
  }
}
