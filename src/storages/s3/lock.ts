/**
 * The S3 storage's write lock: the lease protocol of `lease-lock.ts` on HTTP
 * preconditions (`If-None-Match: *` to create, `If-Match: <ETag>` to replace; a refused
 * write answers 412).
 */
import type { StorageLock } from '../../format/checkpoint-storage.ts';
import { type LeaseObject, takeLeaseLock } from '../../format/lease-lock.ts';
import type { S3Client } from './client.ts';

/** Lease settings of the S3 lock. */
export interface LeaseSettings {
  /** How long a lock stays valid without renewal (a crashed holder blocks the scope this long). */
  readonly leaseMs: number;
  /** Shown to a refused taker: who holds the lock (no secrets: it is stored in the bucket). */
  readonly owner: string;
  /** The clock (ms since the epoch). */
  readonly now: () => number;
}

/** Takes the lock at `key` for `scope`, or throws STORAGE_LOCKED naming the holder and until when its lease runs. */
export function takeS3Lock(client: S3Client, key: string, scope: string, lease: LeaseSettings): Promise<StorageLock> {
  const object: LeaseObject = {
    async put(body, condition, what) {
      const precondition: Record<string, string> = 'create' in condition ? { 'if-none-match': '*' } : { 'if-match': condition.etag };
      const response = await client.send('PUT', key, what, { body, headers: { 'content-type': 'application/json', ...precondition }, accept: [412] });
      if (response.status === 412) return { ambiguous: response.ambiguous };
      const etag = response.headers.get('ETag');
      if (etag === null) throw client.error('STORAGE_FAILURE', `${what}: the server sent no ETag (a browser needs the bucket's CORS to expose ETag)`);
      return { etag };
    },
    async get(what) {
      const response = await client.send('GET', key, what, { readBody: true, accept: [404] });
      return response.status === 404 ? null : { bytes: response.bytes ?? new Uint8Array(), etag: response.headers.get('ETag') ?? undefined };
    },
  };
  return takeLeaseLock(object, key, scope, { ...lease, component: 'storage:s3', error: (code, message) => client.error(code, message) });
}
