/**
 * The state-TTL conformance suite: Flink's TTL semantics over one state backend, reached
 * only through the backend contract and the five user-facing states (as the state-backend
 * suite does, on the same harness, `../harness.ts`). It runs for every backend from
 * `test/ttl/backends.test.ts`, and in the browser entries:
 *
 *   runTtlSuite('hashmap', () => new HashMapStateBackend());
 *
 * Time is a ManualClock. Nothing here is platform-specific, so it runs in every runtime.
 * Backends with native cleanup (`nativeTtlCleanup`) are given a `flush()` before entries
 * are counted, which is when the contract says they clean up at the latest.
 */
import { describe } from 'vitest';
import type { ManualClock } from '../../../src/api/clock.ts';
import type { StateBackend } from '../../../src/state/backend.ts';
import { collect, useBackend, type BackendFactory } from '../harness.ts';
import { cleanupCases } from './cleanup.ts';
import { jobCases } from './job.ts';
import type { TtlSubtask, TtlSuite } from './kinds.ts';
import { expiryMatrixCases } from './matrix.ts';
import { perElementCases } from './per-element.ts';
import { snapshotCases } from './snapshots.ts';
import { syncCases } from './sync.ts';

/** Declares the TTL suite for one backend; `makeBackend` is called before every test. */
export function runTtlSuite(name: string, makeBackend: BackendFactory): void {
  describe(`state TTL conformance: ${name}`, () => {
    const h = useBackend('ttl', name, makeBackend, 'Ttl');
    const open = async (clock: ManualClock, backend?: StateBackend): Promise<TtlSubtask> => {
      const t = await h.open({ clock, backend });
      return {
        ...t,
        count: async (state: string, namespace = '') => {
          if (t.kb.nativeTtlCleanup) await t.kb.flush?.();
          return (await collect(t.kb.keys(state, namespace))).length;
        },
      };
    };
    const suite: TtlSuite = {
      get backend() {
        return h.backend;
      },
      get jobId() {
        return h.jobId;
      },
      get testSeq() {
        return h.testSeq;
      },
      open,
      restored: async (snapshot, clock, backend) => {
        const t = await open(clock, backend);
        await t.kb.restore([snapshot]);
        return t;
      },
    };
    expiryMatrixCases(suite);
    perElementCases(suite);
    cleanupCases(suite);
    jobCases(suite);
    snapshotCases(suite);
    syncCases(suite);
  });
}
