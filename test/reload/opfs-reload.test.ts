/**
 * A job that checkpoints to OPFS, is stopped by a real page reload mid-way, and is started
 * again in the new page resumes with exactly-once output. vitest's browser mode cannot
 * reload its own page, so this Node test drives Chromium through Playwright, with the page
 * (test/reload/page.ts) served by Vite.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openChromium, type ChromiumSession } from '../helpers/chromium-page.ts';
import type { ReloadRun } from './page.ts';
import { expectedRunningCounts } from '../helpers/running-count.ts';

const RECORDS = 1200;

describe('OPFS checkpoints across a real page reload (Playwright + Chromium)', () => {
  let session: ChromiumSession;
  beforeAll(async () => {
    session = await openChromium();
  }, 120_000);
  afterAll(async () => {
    await session?.close();
  });

  it('a job stopped by a reload resumes in the new page from its OPFS checkpoint: committed output equals a failure-free run', async () => {
    const { page, origin } = session;
    const r: ReloadRun = {
      job: `reload-${Date.now().toString(36)}`,
      directory: `eddy-reload-${Math.random().toString(36).slice(2, 8)}`,
      records: RECORDS,
      resume: false,
    };
    const load = async () => {
      await page.goto(`${origin}/test/reload/page.html`);
      await page.waitForFunction(() => 'eddyReload' in globalThis, undefined, { timeout: 60_000 });
    };
    const committed = () =>
      page.evaluate(
        (prefix) =>
          Object.keys(localStorage)
            .filter((k) => k.startsWith(`${prefix}:`))
            .flatMap((k) => JSON.parse(localStorage.getItem(k)!) as string[]),
        r.job,
      );

    await load();
    // First load: start the job and do not wait for it.
    await page.evaluate((x) => {
      const g = globalThis as unknown as { eddyReload: { run(r: ReloadRun): Promise<unknown> }; finished?: boolean };
      void g.eddyReload.run(x).then(() => (g.finished = true));
    }, r);
    // Wait until some output was committed (so checkpoints completed), then reload mid-job.
    await expect.poll(async () => (await committed()).length, { timeout: 60_000, interval: 50 }).toBeGreaterThan(100);
    const finishedBeforeReload = await page.evaluate(() => (globalThis as { finished?: boolean }).finished === true);
    const before = (await committed()).length;
    await page.reload();
    await page.waitForFunction(() => 'eddyReload' in globalThis, undefined, { timeout: 60_000 });
    expect(finishedBeforeReload).toBe(false);
    expect(before).toBeLessThan(RECORDS);

    // Second load: resume from the newest complete checkpoint in OPFS and run to the end.
    const resumedFrom = await page.evaluate((x) => (globalThis as unknown as { eddyReload: { run(r: ReloadRun): Promise<string | null> } }).eddyReload.run(x), {
      ...r,
      resume: true,
    });
    expect(resumedFrom).toMatch(new RegExp(`^${r.job}/chk-\\d+$`));
    const output = (await committed()).sort();
    expect(output).toHaveLength(RECORDS);
    expect(output).toEqual(expectedRunningCounts(RECORDS, 7));
  }, 180_000);
});
