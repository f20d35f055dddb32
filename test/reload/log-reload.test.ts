/**
 * DOM events appended to a durable IndexedDB log and counted by a keyed job, with the
 * page reloaded mid-stream several times (Playwright + Chromium, page
 * test/reload/log-page.ts): every event is counted exactly once — the committed output
 * equals a failure-free run. Each reload drops the page's Web Lock and IndexedDB
 * connection; the next load opens the log again as its single writer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openChromium, type ChromiumSession } from '../helpers/chromium-page.ts';
import { expectedRunningCounts } from '../helpers/running-count.ts';
import type { LogReloadRun } from './log-page.ts';

const EVENTS = 1500;
const RELOADS = 3;

describe('the durable log across real page reloads (Playwright + Chromium)', () => {
  let session: ChromiumSession;
  beforeAll(async () => {
    session = await openChromium();
  }, 120_000);
  afterAll(async () => {
    await session?.close();
  });

  it(`DOM events in an IndexedDB log, ${RELOADS} reloads mid-stream: every event counted exactly once`, async () => {
    const { page, origin } = session;
    const r: LogReloadRun = { name: `log-reload-${Date.now().toString(36)}`, events: EVENTS };
    const committed = () =>
      page.evaluate(
        (prefix) =>
          Object.keys(localStorage)
            .filter((k) => k.startsWith(`${prefix}:`))
            .flatMap((k) => JSON.parse(localStorage.getItem(k)!) as string[]),
        r.name,
      );
    const start = async () => {
      await page.goto(`${origin}/test/reload/log-page.html`);
      await page.waitForFunction(() => 'eddyLogReload' in globalThis, undefined, { timeout: 60_000 });
      return page.evaluate(
        (x) => (globalThis as unknown as { eddyLogReload: { run(r: LogReloadRun): Promise<{ first: number; next: number }> } }).eddyLogReload.run(x),
        r,
      );
    };
    const starts: { first: number; next: number }[] = [];
    for (let reload = 0; reload < RELOADS; reload++) {
      starts.push(await start());
      const before = (await committed()).length;
      // Let some output commit (checkpoints complete) and some events arrive, then reload.
      await expect.poll(async () => (await committed()).length, { timeout: 60_000, interval: 50 }).toBeGreaterThan(before + 50);
      expect(await page.evaluate(() => (globalThis as { finished?: boolean }).finished === true)).toBe(false);
      await page.reload();
    }
    starts.push(await start());
    await page.waitForFunction(() => (globalThis as { finished?: boolean }).finished === true, undefined, { timeout: 120_000 });
    // Each load found more of the input already logged, and the log truncated behind checkpoints.
    expect(starts.map((s) => s.next)).toEqual([...starts.map((s) => s.next)].sort((a, b) => a - b));
    expect(starts.at(-1)!.next).toBeGreaterThan(0);
    expect(starts.at(-1)!.next).toBeLessThan(EVENTS);
    expect(starts.at(-1)!.first).toBeGreaterThan(0);
    if (process.env.LOG_RELOAD_DEBUG) console.log(JSON.stringify(starts));
    const output = (await committed()).sort();
    expect(output).toEqual(expectedRunningCounts(EVENTS, 7));
  }, 300_000);
});
