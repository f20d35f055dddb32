/**
 * The short chaos run of `npm test` (about 100 injected faults; `npm run chaos` injects
 * over 1,000): every family of fault, each run's committed output compared with the
 * failure-free run's. Nothing may be duplicated, lost or hang; a run may only stop early
 * with a typed error that says why it cannot continue exactly-once.
 */
import { describe, expect, it } from 'vitest';
import { runInProcessChaos } from './in-process.ts';
import { runPageReloadChaos } from './page-reloads.ts';
import { runProcessKillChaos } from './process-kills.ts';
import type { Tally } from './tally.ts';
import { runWorkerKillChaos } from './worker-kills.ts';

function expectClean(t: Tally, minFaults: number): void {
  expect(t.problems.filter((p) => !p.includes('"refused"'))).toEqual([]);
  expect({ duplicates: t.duplicates, losses: t.losses, hangs: t.hangs, errors: t.errors }).toEqual({ duplicates: 0, losses: 0, hangs: 0, errors: 0 });
  expect(t.faults).toBeGreaterThanOrEqual(minFaults);
  expect(t.identical).toBeGreaterThan(0);
}

describe('chaos (short run; npm run chaos for the full one)', () => {
  it('user code failures, failed, torn and corrupt checkpoint writes and reads in one process: committed output equals the failure-free run', {
    timeout: 300_000,
  }, async () => {
    const t = await runInProcessChaos({
      seed: 4,
      userFailures: 30,
      failedPartWrites: 10,
      failedManifestWrites: 5,
      tornParts: 8,
      corruptReads: 8,
      sqliteEvery: 6,
    });
    expectClean(t, 50);
  });

  it('worker threads terminated from outside: committed output equals the failure-free run', { timeout: 300_000 }, async () => {
    expectClean(await runWorkerKillChaos(3, 4), 3);
  });

  it('a process killed with SIGKILL and restarted by the same command: committed output equals the failure-free run', { timeout: 300_000 }, async () => {
    expectClean(await runProcessKillChaos(2, 2, 4), 2);
  });

  it('a Chromium tab reloaded mid-job: committed output equals the failure-free run', { timeout: 300_000 }, async () => {
    expectClean(await runPageReloadChaos(1, 2, 4), 1);
  });
});
