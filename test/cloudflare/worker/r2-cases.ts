/**
 * What R2CheckpointStorage promises beyond the checkpoint-storage suite, on a real R2
 * binding: the manifest commit race, where objects land in the bucket, and lock leases.
 * Written against `vitest` like the conformance suites, so it runs inside workerd through
 * the portable runner (test/cloudflare/conformance.test.ts, suite `r2-specific`).
 */
import { describe, expect, it } from 'vitest';
import { EddyError } from '../../../src/api/errors.ts';
import { type R2BucketLike, R2CheckpointStorage } from '../../../src/storages/r2.ts';

let n = 0;
const RUN = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

async function failure(promise: Promise<unknown>): Promise<EddyError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(EddyError);
  return error as EddyError;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Declares the R2-specific cases on `bucket` (every case below a prefix of its own). */
export function r2SpecificCases(bucket: R2BucketLike): void {
  const fresh = (options: { lockLeaseMs?: number; owner?: string } = {}) => {
    const prefix = `specific-${RUN}-${++n}`;
    return { prefix, make: () => new R2CheckpointStorage(bucket, { prefix, retryBaseMs: 1, ...options }) };
  };

  describe('R2CheckpointStorage specifics', () => {
    it('ten writers committing the same manifest at once: exactly one wins, the others get STORAGE_LOCKED, and the stored manifest is the winner’s', async () => {
      const { make } = fresh();
      const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => make().put('job/chk-1/_metadata', new Uint8Array([i, i, i]))));
      const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
      expect(won).toHaveLength(1);
      for (const r of results) {
        if (r.status === 'fulfilled') continue;
        expect(r.reason).toBeInstanceOf(EddyError);
        expect((r.reason as EddyError).code).toBe('STORAGE_LOCKED');
        expect((r.reason as EddyError).message).toContain('[storage:r2]');
        expect((r.reason as EddyError).message).toContain('another writer committed this checkpoint first');
      }
      expect(Array.from((await make().get('job/chk-1/_metadata'))!)).toEqual([won[0], won[0], won[0]]);
    });

    it('a committed manifest is never replaced (not even by its own writer); parts are replaced', async () => {
      const storage = fresh().make();
      await storage.put('job/chk-1/_metadata', new Uint8Array([1]));
      const e = await failure(storage.put('job/chk-1/_metadata', new Uint8Array([2])));
      expect(e.code).toBe('STORAGE_LOCKED');
      expect(Array.from((await storage.get('job/chk-1/_metadata'))!)).toEqual([1]);
      await storage.put('job/chk-1/op-0', new Uint8Array([1]));
      await storage.put('job/chk-1/op-0', new Uint8Array([2, 2]));
      expect(Array.from((await storage.get('job/chk-1/op-0'))!)).toEqual([2, 2]);
    });

    it('objects land at <prefix>/<path> with their size recorded; keys outside the prefix or no valid path can have are not listed', async () => {
      const { prefix, make } = fresh();
      const storage = make();
      await storage.put('job/chk-1/op-0', new Uint8Array(5));
      const raw = await bucket.head(`${prefix}/job/chk-1/op-0`);
      expect(raw?.size).toBe(5);
      expect(raw?.customMetadata?.['eddy-size']).toBe('5');
      await bucket.put(`${prefix}/job/not a path`, 'x');
      await bucket.put(`${prefix}x/job/chk-1/op-0`, 'x');
      expect(await storage.list('')).toEqual(['job/chk-1/op-0']);
    });

    it('a held lock is refused naming its owner; a lease renewed by its holder outlives its length', async () => {
      // The holder renews every third of the lease; a loaded machine may delay a renewal by
      // hundreds of ms, so the lease is long enough for that and still outlived 2.5 times.
      const { make } = fresh({ lockLeaseMs: 1_000, owner: 'writer A' });
      const lock = await make().lock('job');
      await sleep(2_500);
      const e = await failure(make().lock('job'));
      expect(e.code).toBe('STORAGE_LOCKED');
      expect(e.message).toContain('held by writer A');
      await lock.release();
      await (await make().lock('job')).release();
    });

    it('the lease of a crashed writer (not renewed, run out) is taken over with a warning naming it', async () => {
      const { prefix, make } = fresh();
      const record = { token: 'dead', owner: 'writer that crashed', acquiredAt: '2020-01-01T00:00:00.000Z', expiresAt: Date.now() - 1, released: false };
      await bucket.put(`${prefix}/job/.~lock`, JSON.stringify(record));
      const warn = console.warn;
      const warnings: string[] = [];
      console.warn = (message: unknown) => void warnings.push(String(message));
      try {
        const lock = await make().lock('job');
        await lock.release();
      } finally {
        console.warn = warn;
      }
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain('took over the lock of scope "job" from writer that crashed');
    });
  });
}
