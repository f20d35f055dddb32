/**
 * opfs-checkpoint: writing and reading back a 100 MiB checkpoint (4 parts of 25 MiB plus a
 * manifest) through OpfsCheckpointStorage in real Chromium, against IndexedDB used as a
 * blob store (one transaction per object). Timed in the page (bench/browser/opfs-page.ts),
 * driven through Playwright. No floor: it tells which browser store suits checkpoints.
 * Also measured (after the interleaved runs): the same through sync access handles in a
 * dedicated worker.
 */
import { openChromium } from '../test/helpers/chromium-page.ts';
import { median, report, round } from './common.ts';
import type { OpfsBenchConfig } from './browser/opfs-page.ts';

const MiB = 1024 * 1024;
const CONFIG = { partBytes: 25 * MiB, parts: 4 };

export async function opfsCheckpoint(runs: number): Promise<void> {
  const session = await openChromium();
  try {
    const { page, origin } = session;
    await page.goto(`${origin}/bench/browser/opfs.html`);
    await page.waitForFunction(() => 'runOpfsBench' in globalThis, undefined, { timeout: 60_000 });
    const c: OpfsBenchConfig = { ...CONFIG, runs };
    const ms = (await page.evaluate(
      (x) =>
        (globalThis as unknown as { runOpfsBench(c: OpfsBenchConfig): Promise<{ opfs: number[]; idb: number[]; workerSyncAccess: number[] }> }).runOpfsBench(x),
      c,
    )) as { opfs: number[]; idb: number[]; workerSyncAccess: number[] };
    const mib = (CONFIG.partBytes * CONFIG.parts) / MiB;
    const opfsRate = mib / (median(ms.opfs) / 1000);
    const idbRate = mib / (median(ms.idb) / 1000);
    report({
      bench: 'opfs-checkpoint',
      browser: 'Chromium (installed, headless), main thread',
      checkpointMiB: mib,
      parts: CONFIG.parts,
      stat: `median of ${runs} interleaved runs after 1 warm-up each; write (parts in parallel, then the manifest) + read back + verify`,
      opfsMiBPerSec: round(opfsRate, 1),
      baselineMiBPerSec: round(idbRate, 1),
      baseline: 'IndexedDB as a blob store: one readwrite transaction per object, same bytes',
      ratio: round(opfsRate / idbRate, 3),
      opfsMs: ms.opfs.map((x) => round(x, 1)),
      workerSyncAccessMiBPerSec: round(mib / (median(ms.workerSyncAccess) / 1000), 1),
      workerSyncAccess:
        'dedicated worker, createSyncAccessHandle on a temp name + move() (not what OpfsCheckpointStorage does; measured to decide whether to add it)',
      workerSyncAccessMs: ms.workerSyncAccess.map((x) => round(x, 1)),
      baselineMs: ms.idb.map((x) => round(x, 1)),
      floor: null,
      pass: true,
    });
  } finally {
    await session.close();
  }
}
