/**
 * R2CheckpointStorage's handling of a misbehaving binding, which real R2 in miniflare
 * cannot be made to do (test/cloudflare/r2.test.ts runs the conformance suite on the real
 * binding): retries of thrown calls, a manifest commit whose answer was lost, short bodies,
 * a short store, paging, and bad arguments. The double keeps objects in a Map with ETags
 * and honours `onlyIf` as R2 does (null when the condition fails).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EddyError } from '../../src/api/errors.ts';
import { type R2BucketLike, R2CheckpointStorage, type R2ObjectBodyLike, type R2ObjectLike } from '../../src/storages/r2.ts';

interface Stored {
  bytes: Uint8Array;
  etag: string;
  customMetadata: Record<string, string>;
}

/** An in-memory R2 bucket; `fault(op, key)` may throw before (or, returning 'after', after) the operation. */
function bucketDouble(fault: (op: string, key: string) => 'before' | 'after' | 'short' | undefined = () => undefined) {
  const objects = new Map<string, Stored>();
  let version = 0;
  const meta = (key: string, o: Stored): R2ObjectLike => ({ key, size: o.bytes.byteLength, etag: o.etag, customMetadata: o.customMetadata });
  const listCalls: Array<string | undefined> = [];
  const bucket: R2BucketLike = {
    async put(key, value, options) {
      const f = fault('put', key);
      if (f === 'before') throw new Error('We encountered an internal error. Please try again.');
      const existing = objects.get(key);
      const c = options?.onlyIf;
      if (c?.etagDoesNotMatch === '*' && existing) return null;
      if (c?.etagMatches !== undefined && existing?.etag !== c.etagMatches) return null;
      const bytes = typeof value === 'string' ? new TextEncoder().encode(value) : new Uint8Array((value as Uint8Array).slice());
      const o = { bytes: f === 'short' ? bytes.subarray(1) : bytes, etag: `e${++version}`, customMetadata: { ...options?.customMetadata } };
      objects.set(key, o);
      if (f === 'after') throw new Error('Network connection lost.');
      return meta(key, o);
    },
    async get(key) {
      const f = fault('get', key);
      if (f === 'before') throw new Error('We encountered an internal error. Please try again.');
      const o = objects.get(key);
      if (!o) return null;
      const bytes = f === 'short' ? o.bytes.subarray(0, o.bytes.byteLength - 1) : o.bytes;
      return { ...meta(key, o), arrayBuffer: async () => bytes.slice().buffer } satisfies R2ObjectBodyLike;
    },
    async head(key) {
      const o = objects.get(key);
      return o ? meta(key, o) : null;
    },
    async list({ prefix = '', cursor, limit = 1000 }) {
      listCalls.push(cursor);
      const keys = [...objects.keys()].filter((k) => k.startsWith(prefix)).sort();
      const from = cursor === undefined ? 0 : Number(cursor);
      const page = keys.slice(from, from + limit);
      const truncated = from + limit < keys.length;
      return { objects: page.map((k) => meta(k, objects.get(k)!)), truncated, cursor: truncated ? String(from + limit) : undefined };
    },
    async delete(key) {
      if (fault('delete', String(key)) === 'before') throw new Error('We encountered an internal error. Please try again.');
      objects.delete(String(key));
    },
  };
  return { bucket, objects, listCalls };
}

async function failure(promise: Promise<unknown>): Promise<EddyError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(EddyError);
  return error as EddyError;
}

describe('R2CheckpointStorage against a misbehaving binding', () => {
  it('a call that throws is retried, and succeeds when the binding recovers', async () => {
    let failures = 2;
    const { bucket } = bucketDouble((op) => (op === 'put' && failures-- > 0 ? 'before' : undefined));
    const storage = new R2CheckpointStorage(bucket, { retryBaseMs: 1 });
    await storage.put('job/chk-1/op-0', new Uint8Array([7]));
    expect(failures).toBe(-1);
    expect(Array.from((await storage.get('job/chk-1/op-0'))!)).toEqual([7]);
  });

  it('after maxAttempts the failure is a STORAGE_FAILURE naming the storage, the operation and the cause', async () => {
    let calls = 0;
    const { bucket } = bucketDouble((op) => (op === 'get' && ++calls > 0 ? 'before' : undefined));
    const storage = new R2CheckpointStorage(bucket, { retryBaseMs: 1, maxAttempts: 3 });
    const e = await failure(storage.get('job/chk-1/op-0'));
    expect(e.code).toBe('STORAGE_FAILURE');
    expect(e.message).toContain('[storage:r2]');
    expect(e.message).toContain('get "job/chk-1/op-0" failed after 3 attempts: We encountered an internal error');
    expect(e.cause).toBeInstanceOf(Error);
    expect(calls).toBe(3);
  });

  it('a manifest commit that landed but whose answer was lost is ours on retry, not STORAGE_LOCKED', async () => {
    let lost = true;
    const { bucket } = bucketDouble((op, key) => {
      if (op !== 'put' || !key.endsWith('_metadata') || !lost) return undefined;
      lost = false;
      return 'after';
    });
    const storage = new R2CheckpointStorage(bucket, { retryBaseMs: 1 });
    await storage.put('job/chk-1/_metadata', new Uint8Array([1, 2]));
    expect(Array.from((await storage.get('job/chk-1/_metadata'))!)).toEqual([1, 2]);
    // Another writer's manifest is still refused after such a retry.
    const e = await failure(new R2CheckpointStorage(bucket, { retryBaseMs: 1 }).put('job/chk-1/_metadata', new Uint8Array([3])));
    expect(e.code).toBe('STORAGE_LOCKED');
  });

  it('a body shorter than the recorded size is read again; one that stays short is a STORAGE_FAILURE', async () => {
    let shortReads = 1;
    const { bucket } = bucketDouble((op) => (op === 'get' && shortReads-- > 0 ? 'short' : undefined));
    const storage = new R2CheckpointStorage(bucket, { retryBaseMs: 1, maxAttempts: 2 });
    await storage.put('p', new Uint8Array([1, 2, 3]));
    expect(Array.from((await storage.get('p'))!)).toEqual([1, 2, 3]);
    shortReads = 5;
    const e = await failure(storage.get('p'));
    expect(e.code).toBe('STORAGE_FAILURE');
    expect(e.message).toContain('the body was 2 bytes, the object holds 3');
  });

  it('a put that R2 stored short is a STORAGE_FAILURE, not a silent success', async () => {
    const { bucket } = bucketDouble((op) => (op === 'put' ? 'short' : undefined));
    const e = await failure(new R2CheckpointStorage(bucket).put('job/chk-1/op-0', new Uint8Array(10)));
    expect(e.code).toBe('STORAGE_FAILURE');
    expect(e.message).toContain('R2 stored 9 instead of 10 bytes');
  });

  it('list follows the cursor through every page', async () => {
    const { bucket, listCalls } = bucketDouble();
    const storage = new R2CheckpointStorage(bucket, { prefix: 'x' });
    const paths = Array.from({ length: 2500 }, (_, i) => `job/o-${String(i).padStart(4, '0')}`);
    await Promise.all(paths.map((p) => storage.put(p, new Uint8Array(0))));
    expect(await storage.list('job/')).toEqual(paths);
    expect(listCalls).toEqual([undefined, '1000', '2000']);
  });

  it('a held lock does not keep a Node process alive (its renewal timer is unref’d)', () => {
    const storage = fileURLToPath(new URL('../../src/storages/r2.ts', import.meta.url));
    const script = [
      `const { R2CheckpointStorage } = await import(${JSON.stringify(storage)});`,
      'const objects = new Map();',
      "const meta = (key, o) => ({ key, size: o.length, etag: 'e' + o.length });",
      'const bucket = {',
      '  put: async (key, v) => (objects.set(key, new TextEncoder().encode(String(v))), meta(key, objects.get(key))),',
      '  get: async () => null, head: async () => null, list: async () => ({ objects: [], truncated: false }), delete: async () => {},',
      '};',
      "await new R2CheckpointStorage(bucket, { lockLeaseMs: 300 }).lock('job');",
      "console.log('held');",
    ].join('\n');
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(child.stderr).toBe('');
    expect(child.stdout.trim()).toBe('held');
    expect(child.status, 'the process ended on its own while the lock was held').toBe(0);
  });

  it('refuses what is not a bucket binding and a bad prefix with INVALID_ARGUMENT', () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return `${(e as EddyError).code}: ${(e as Error).message}`;
      }
      return 'no error';
    };
    expect(code(() => new R2CheckpointStorage({} as R2BucketLike))).toBe(
      'INVALID_ARGUMENT: [eddy] [storage:r2] invalid options: bucket must be an R2 bucket binding (it has no put())',
    );
    expect(code(() => new R2CheckpointStorage(bucketDouble().bucket, { prefix: 'a/../b' }))).toContain(
      'INVALID_ARGUMENT: [eddy] [storage:r2] invalid options: prefix:',
    );
  });
});
