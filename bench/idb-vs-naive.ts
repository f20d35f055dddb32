/**
 * idb-vs-naive: a keyed-count job on IndexedDbStateBackend in real Chromium, against
 * one IndexedDB transaction per event (naive) and hand-batched transactions of 1,000
 * events (raw). The page (bench/browser/idb-page.ts) is served by Vite and driven by
 * Playwright; the sides are timed inside the page, interleaved, and every side ends with
 * all final counts in IndexedDB (the engine's backend is flushed before it is disposed).
 *
 * Two workloads:
 * - `hot` (the floors apply): 100,000 events over 1,000 keys, which fit the cache: the
 *   write-behind cache absorbs repeated writes of a key, so the engine writes each key
 *   rarely, while naive pays a transaction and raw a get and a put per event;
 * - `cold` (reported, no floor): 30,000 events round-robin over 10,000 keys with a
 *   2,000-entry cache, so every event misses the cache: the engine does a prefetched read
 *   and a write per event, like raw. It shows what batching alone is worth.
 * Events per second are compared; naive gets fewer events (same events per key) since at
 * one transaction per event it would run for minutes.
 */
import { openChromium } from '../test/helpers/chromium-page.ts';
import { median, report, round } from './common.ts';
import type { BenchConfig } from './browser/idb-page.ts';

const HOT: Omit<BenchConfig, 'runs'> = { events: 100_000, naiveEvents: 2_000, keys: 1_000, naiveKeys: 20, cacheSize: 100_000 };
const COLD: Omit<BenchConfig, 'runs'> = { events: 30_000, naiveEvents: 0, keys: 10_000, naiveKeys: 0, cacheSize: 2_000 };
const FLOOR_NAIVE = 30;
const FLOOR_RAW = 0.5;

type Ms = Record<'engine' | 'naive' | 'raw', number[]>;

export async function idbVsNaive(runs: number): Promise<void> {
  const session = await openChromium();
  try {
    const { page, origin } = session;
    await page.goto(`${origin}/bench/browser/idb.html`);
    await page.waitForFunction(() => 'runIdbBench' in globalThis, undefined, { timeout: 60_000 });
    const measure = (c: BenchConfig) =>
      page.evaluate((x) => (globalThis as unknown as { runIdbBench(c: BenchConfig): Promise<Ms> }).runIdbBench(x), c) as Promise<Ms>;
    const eps = (events: number, xs: number[]) => events / (median(xs) / 1000);
    const hot = await measure({ ...HOT, runs });
    const cold = await measure({ ...COLD, runs: Math.max(1, Math.floor(runs / 3)) });
    const engine = eps(HOT.events, hot.engine);
    const naive = eps(HOT.naiveEvents, hot.naive);
    const raw = eps(HOT.events, hot.raw);
    const vsNaive = engine / naive;
    const vsRaw = engine / raw;
    report({
      bench: 'idb-vs-naive',
      browser: 'Chromium (installed, headless), main thread',
      workload: `hot: ${HOT.events} events round-robin over ${HOT.keys} keys (fit the cache); naive: ${HOT.naiveEvents} events over ${HOT.naiveKeys} keys`,
      stat: `median of ${runs} interleaved runs after 1 warm-up each, timed in the page`,
      engineEventsPerSec: Math.round(engine),
      naiveEventsPerSec: Math.round(naive),
      rawBatchedEventsPerSec: Math.round(raw),
      baseline: 'naive: one readwrite transaction per event (get + put); raw: 1,000 events per relaxed transaction (get + put per distinct key)',
      ratio: round(vsNaive, 2),
      ratioVsRaw: round(vsRaw, 3),
      engineMs: hot.engine.map((x) => round(x, 1)),
      naiveMs: hot.naive.map((x) => round(x, 1)),
      rawMs: hot.raw.map((x) => round(x, 1)),
      cold: {
        workload: `${COLD.events} events round-robin over ${COLD.keys} keys, cacheSize ${COLD.cacheSize}: every event misses the cache`,
        engineEventsPerSec: Math.round(eps(COLD.events, cold.engine)),
        rawBatchedEventsPerSec: Math.round(eps(COLD.events, cold.raw)),
        ratioVsRaw: round(eps(COLD.events, cold.engine) / eps(COLD.events, cold.raw), 3),
        engineMs: cold.engine.map((x) => round(x, 1)),
        rawMs: cold.raw.map((x) => round(x, 1)),
      },
      floor: { vsNaive: FLOOR_NAIVE, vsRaw: FLOOR_RAW },
      pass: vsNaive >= FLOOR_NAIVE && vsRaw >= FLOOR_RAW,
    });
  } finally {
    await session.close();
  }
}
