/**
 * sqlite-opfs: SqliteStateBackend in headless Chromium, in a dedicated worker (the page
 * bench/browser/sqlite.html starts bench/browser/sqlite-worker.ts; Vite + Playwright).
 *
 * - Keyed count (the `ratio`): the keyed-count job over `EVENTS` events and `KEYS` keys on
 *   the `opfs-sahpool` VFS against the in-memory VFS in the same worker, interleaved,
 *   backend flushed before disposal, counts verified.
 * - Larger than the heap: `LARGE_KEYS` keys of ValueState<{ count, last, tag }> written
 *   through the backend API on opfs-sahpool in a second browser whose V8 heap is capped
 *   (`--js-flags=--max-old-space-size=HEAP_MB`); a sample is read back and the row count
 *   checked. Reported: the database file's size, the heap limit and their ratio.
 */
import { openChromium } from '../test/helpers/chromium-page.ts';
import { median, report, round } from './common.ts';

const EVENTS = 200_000;
const KEYS = 20_000;
const LARGE_KEYS = Number(process.env.SQLITE_OPFS_KEYS ?? 2_000_000);
const HEAP_MB = 32;
const MiB = 1024 * 1024;

interface Large {
  keys: number;
  writeMs: number;
  checked: number;
  rows: number;
  fileBytes: number;
  wasmBytes: number;
  heapHighWater: number;
  heapLimit: number;
}

async function inWorker<T>(op: 'count' | 'large', config: unknown, args: string[]): Promise<T> {
  const session = await openChromium(args);
  try {
    const { page, origin } = session;
    page.on('console', (m) => {
      if (m.text().startsWith('sqlite-opfs:')) console.error(m.text());
    });
    await page.goto(`${origin}/bench/browser/sqlite.html`);
    await page.waitForFunction(() => 'runSqliteBench' in globalThis, undefined, { timeout: 60_000 });
    return (await page.evaluate(
      ([o, c]) => (globalThis as unknown as { runSqliteBench(op: string, c: unknown): Promise<unknown> }).runSqliteBench(o as string, c),
      [op, config] as const,
    )) as T;
  } finally {
    await session.close();
  }
}

/** Runs the bench and prints its JSON line. */
export async function sqliteOpfs(runs: number): Promise<void> {
  const ms = await inWorker<Record<'memory' | 'opfs', number[]>>('count', { events: EVENTS, keys: KEYS, runs }, []);
  const large = await inWorker<Large>('large', { keys: LARGE_KEYS }, [`--js-flags=--max-old-space-size=${HEAP_MB}`, '--enable-precise-memory-info']);
  const opfsRate = EVENTS / (median(ms.opfs) / 1000);
  const memRate = EVENTS / (median(ms.memory) / 1000);
  report({
    bench: 'sqlite-opfs',
    browser: 'Chromium (installed, headless), dedicated module worker',
    events: EVENTS,
    keys: KEYS,
    stat: `median of ${runs} interleaved runs after 1 warm-up each; counts verified; backend flushed before disposal`,
    engineEventsPerSec: Math.round(opfsRate),
    baselineEventsPerSec: Math.round(memRate),
    baseline: "the same job on SqliteStateBackend({ vfs: 'memory' }) in the same worker",
    ratio: round(opfsRate / memRate, 3),
    engineMs: ms.opfs.map((x) => round(x, 1)),
    baselineMs: ms.memory.map((x) => round(x, 1)),
    largeKeys: large.keys,
    largeRowsChecked: large.rows,
    largeSampleReadBack: large.checked,
    largeKeysPerSec: Math.round(large.keys / (large.writeMs / 1000)),
    largeWriteMs: round(large.writeMs, 0),
    largeDbFileMB: round(large.fileBytes / MiB, 1),
    largeWasmMemoryMB: round(large.wasmBytes / MiB, 1),
    heapFlag: `--max-old-space-size=${HEAP_MB}`,
    heapLimitMB: HEAP_MB,
    heapHighWaterMB: Number.isNaN(large.heapHighWater) ? null : round(large.heapHighWater / MiB, 1),
    heapNote:
      'the flag caps every V8 heap of the browser, the worker included (exceeding it would crash the worker); Chromium has no performance.memory in workers, so no high-water mark',
    stateToHeapLimit: round(large.fileBytes / (HEAP_MB * MiB), 2),
    floor: null,
    floorRule: 'none (informative); the large part must complete with every row present',
    pass: large.rows === large.keys,
  });
}
