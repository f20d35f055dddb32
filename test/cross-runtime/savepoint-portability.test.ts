/**
 * Savepoints are portable across runtimes, backends and parallelism (issue 21): a job
 * runs in Chromium on IndexedDB at parallelism 2 and stops with a savepoint in S3 (a
 * moto_server on loopback); Node starts from it on SQLite-WASM at parallelism 3 and stops
 * with another; Deno finishes from that one on the in-memory backend at parallelism 1. The three legs' committed output
 * together (transactions by id: a leg recommits its savepoint's pending one) equals a run
 * without stops: nothing lost, nothing repeated, keyed state (value and map) and source
 * positions carried across.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStateBackend } from '../../src/backends/sqlite/index.ts';
import { openChromium, type ChromiumSession } from '../helpers/chromium-page.ts';
import { createBucket, motoMissing, startMoto, type Moto } from '../helpers/moto.ts';
import { BROWSER_CORS, browserPolicy } from '../helpers/moto-global-setup.ts';
import { expectedOutput, RECORDS, runLeg } from './job.ts';
import type { BrowserLeg } from './page.ts';
import { BUCKET, storageAt, type S3Place } from './s3.ts';

const REPO = new URL('../..', import.meta.url).pathname;

const missing = motoMissing();

describe.skipIf(missing !== undefined)(
  `a savepoint in S3 carried Chromium (IndexedDB, p=2) → Node (SQLite, p=3) → Deno (memory, p=1)${missing ? ` — skipped: ${missing}` : ''}`,
  () => {
    let session: ChromiumSession;
    let moto: Moto;
    let place: S3Place;
    beforeAll(async () => {
      moto = await startMoto();
      await createBucket(moto.endpoint, BUCKET, BROWSER_CORS, browserPolicy(BUCKET));
      place = { endpoint: moto.endpoint, prefix: `run-${Date.now().toString(36)}` };
      session = await openChromium();
    }, 120_000);
    afterAll(async () => {
      await session?.close();
      await moto?.stop();
    });

    it('the three legs together commit exactly the output of a run without stops', async () => {
      const { page, origin } = session;
      await page.goto(`${origin}/test/cross-runtime/page.html`);
      await page.waitForFunction(() => 'eddyPortable' in globalThis, undefined, { timeout: 60_000 });
      const browser = await page.evaluate(
        ({ place, stopAt }) => (globalThis as unknown as { eddyPortable: { run(p: S3Place, n: number): Promise<BrowserLeg> } }).eddyPortable.run(place, stopAt),
        { place, stopAt: 300 },
      );
      expect(browser.savepoint).toMatch(/\/savepoint-\d+$/);
      expect(Object.keys(browser.committed).length).toBeGreaterThan(0);

      // Node: from the browser's savepoint, on SQLite at parallelism 3.
      const storage = storageAt(place);
      const node: Record<string, string[]> = {};
      const nodeSavepoint = await runLeg({
        parallelism: 3,
        backend: new SqliteStateBackend({ vfs: 'memory' }),
        storage,
        fromSavepoint: browser.savepoint,
        stopAt: 650,
        onCommit: (id, records) => void (node[id] = records),
      });
      expect(nodeSavepoint).toMatch(/\/savepoint-\d+$/);
      // Node committed the browser's pending transaction again (idempotent by id) and its own.
      expect(Object.keys(node).filter((id) => !(id in browser.committed)).length).toBeGreaterThan(0);

      // Deno: from Node's savepoint, to the end.
      const { stdout } = await promisify(execFile)(
        join(REPO, 'node_modules', '.bin', 'deno'),
        [
          'run',
          '--allow-read',
          '--allow-env',
          '--allow-net=127.0.0.1',
          join(REPO, 'test/cross-runtime/deno-leg.ts'),
          place.endpoint,
          place.prefix,
          nodeSavepoint!,
        ],
        { cwd: REPO, env: { ...process.env, NO_COLOR: '1' } },
      );
      const deno = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, string[]>;
      expect(Object.keys(deno).filter((id) => !(id in node)).length).toBeGreaterThan(0);

      const all = Object.values({ ...browser.committed, ...node, ...deno })
        .flat()
        .sort();
      expect(all).toHaveLength(RECORDS * 2);
      expect(all).toEqual(expectedOutput());
    }, 240_000);
  },
);
