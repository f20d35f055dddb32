/**
 * The R2 storage's write lock: the lease protocol of `lease-lock.ts` on the binding's
 * preconditions (`onlyIf: { etagDoesNotMatch: '*' }` to create, `{ etagMatches }` to
 * replace; a refused put returns `null`) instead of HTTP headers.
 */
import type { StorageLock } from '../format/checkpoint-storage.ts';
import { type LeaseObject, takeLeaseLock } from '../format/lease-lock.ts';
import { type R2BucketLike, type RetrySettings, r2Error, withRetries } from './r2-bucket.ts';

/** Lease settings of the R2 lock. */
export interface R2LeaseSettings extends RetrySettings {
  /** How long a lock stays valid without renewal (a crashed holder blocks the scope this long). */
  readonly leaseMs: number;
  /** Shown to a refused taker: who holds the lock (stored in the bucket: no secrets). */
  readonly owner: string;
}

/** Takes the lock at `key` for `scope`, or throws STORAGE_LOCKED naming the holder and until when its lease runs. */
export function takeR2Lock(bucket: R2BucketLike, key: string, scope: string, lease: R2LeaseSettings): Promise<StorageLock> {
  const object: LeaseObject = {
    put: (body, condition, what) =>
      withRetries(what, lease, async (ambiguous) => {
        const onlyIf = 'create' in condition ? { etagDoesNotMatch: '*' } : { etagMatches: condition.etag };
        const written = await bucket.put(key, body, { onlyIf });
        return { etag: written?.etag, ambiguous };
      }),
    get: (what) =>
      withRetries(what, lease, async () => {
        const found = await bucket.get(key);
        return found === null ? null : { bytes: new Uint8Array(await found.arrayBuffer()), etag: found.etag };
      }),
  };
  return takeLeaseLock(object, key, scope, { leaseMs: lease.leaseMs, owner: lease.owner, now: Date.now, component: 'storage:r2', error: r2Error });
}
