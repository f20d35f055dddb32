/**
 * DOM events appended to a durable IndexedDB log and counted by a keyed job, with the
 * page reloaded mid-stream several times (Playwright + Chromium, page
 * test/reload/log-page.ts): every event is counted exactly once — the committed output
 * equals a failure-free run. Each reload drops the page's Web Lock and IndexedDB
 * connection; the next load opens the log again as its single writer. The page reloads
 * itself from a commit, while the job runs and events are still being dispatched.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openChromium, type ChromiumSession } from '../helpers/chromium-page.ts';
import { expectedRunningCounts } from '../helpers/running-count.ts';
import type { LogReloadRun, ReloadPoint } from './log-page.ts';

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
    /** Loads the page and starts it; with `reloadAfter`, resolves once the page reloaded itself. */
    const start = async (reloadAfter?: number) => {
      await page.goto(`${origin}/test/reload/log-page.html`);
      await page.waitForFunction(() => 'eddyLogReload' in globalThis, undefined, { timeout: 60_000 });
      // Listening from here on: goto's own load event has fired.
      const reloaded = reloadAfter === undefined ? undefined : page.waitForEvent('load', { timeout: 60_000 });
      reloaded?.catch(() => {}); // awaited below, unless run() failed first
      const started = await page.evaluate(
        (x) => (globalThis as unknown as { eddyLogReload: { run(r: LogReloadRun): Promise<{ first: number; next: number }> } }).eddyLogReload.run(x),
        { ...r, reloadAfter },
      );
      await reloaded;
      return started;
    };
    const starts: { first: number; next: number }[] = [];
    // The page reloads itself once 50 more results committed (checkpoints completed, events still arriving).
    for (let reload = 0; reload < RELOADS; reload++) starts.push(await start(50));
    starts.push(await start());
    await page.waitForFunction(() => (globalThis as { finished?: boolean }).finished === true, undefined, { timeout: 120_000 });
    // Each load found more of the input already logged, and the log truncated behind checkpoints.
    expect(starts.map((s) => s.next)).toEqual([...starts.map((s) => s.next)].sort((a, b) => a - b));
    expect(starts.at(-1)!.next).toBeGreaterThan(0);
    expect(starts.at(-1)!.next).toBeLessThan(EVENTS);
    expect(starts.at(-1)!.first).toBeGreaterThan(0);
    const points = await page.evaluate((name) => JSON.parse(sessionStorage.getItem(`${name}:reloads`) ?? '[]') as ReloadPoint[], r.name);
    if (process.env.LOG_RELOAD_DEBUG) console.log(JSON.stringify({ starts, points }));
    // Every reload came from a commit of a running job, with events dispatched but not committed.
    expect(points).toHaveLength(RELOADS);
    expect(points.every((p) => !p.finished && p.committed < p.dispatched && p.dispatched < EVENTS)).toBe(true);
    const output = (await committed()).sort();
    expect(output).toEqual(expectedRunningCounts(EVENTS, 7));
  }, 300_000);
});
