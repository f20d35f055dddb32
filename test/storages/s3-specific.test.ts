/**
 * What S3CheckpointStorage promises beyond the conformance suite, against a real
 * moto_server: the manifest commit race, retries through a fault-injecting proxy,
 * multipart uploads, lock leases, and credentials that never leak.
 */
import { inspect } from 'node:util';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { AwsClient } from 'aws4fetch';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { EddyError } from '../../src/api/errors.ts';
import { S3CheckpointStorage, type S3CheckpointStorageOptions } from '../../src/storages/s3/index.ts';
import { createBucket, freePort, MOTO_CREDENTIALS, MOTO_REGION, motoMissing, startMoto, type Moto } from '../helpers/moto.ts';
import { startFaultProxy, type FaultProxy } from '../helpers/s3-fault-proxy.ts';

const missing = motoMissing();
const BUCKET = 'specific';
let moto: Moto | undefined;
let proxy: FaultProxy | undefined;
let n = 0;
beforeAll(async () => {
  if (missing) return;
  moto = await startMoto();
  await createBucket(moto.endpoint, BUCKET);
  proxy = await startFaultProxy(moto.endpoint, (method, url) => method === 'PUT' && url.includes('partNumber='));
}, 60_000);
afterAll(async () => {
  await proxy?.close();
  await moto?.stop();
});
afterEach(() => {
  if (proxy) {
    proxy.plan = () => 'pass';
    proxy.seen.length = 0;
    proxy.maxInFlight = 0;
  }
  vi.restoreAllMocks();
});

/** A storage under a fresh prefix, straight to moto or through the fault proxy. */
function storage(over: Partial<S3CheckpointStorageOptions> & { viaProxy?: boolean } = {}): S3CheckpointStorage {
  const endpoint = over.viaProxy ? proxy!.endpoint : moto!.endpoint;
  return new S3CheckpointStorage({ endpoint, bucket: BUCKET, region: MOTO_REGION, prefix: `p${++n}`, credentials: MOTO_CREDENTIALS, retryBaseMs: 1, ...over });
}

function bytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed * 2654435761 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Every text an error exposes: message, stack, its causes' messages and stacks, and a deep inspection. */
function everything(error: unknown): string {
  const parts: string[] = [inspect(error, { depth: 8, showHidden: true })];
  for (let e: unknown = error, i = 0; e instanceof Error && i < 6; e = e.cause, i++) parts.push(e.message, String(e.stack));
  return parts.join('\n');
}

async function failure(promise: Promise<unknown>): Promise<EddyError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(EddyError);
  return error as EddyError;
}

describe.skipIf(missing !== undefined)(`S3CheckpointStorage specifics against moto_server${missing ? ` (skipped: ${missing})` : ''}`, () => {
  describe('the manifest is the commit point', () => {
    it('two writers committing the same manifest at once: exactly one wins, the other gets STORAGE_LOCKED, and the stored manifest is the winner’s', async () => {
      for (let round = 0; round < 5; round++) {
        const a = storage();
        const prefix = `p${n}`;
        const b = new S3CheckpointStorage({ endpoint: moto!.endpoint, bucket: BUCKET, region: MOTO_REGION, prefix, credentials: MOTO_CREDENTIALS });
        const [ra, rb] = await Promise.allSettled([a.put('job/chk-7/_metadata', bytes(300, 1)), b.put('job/chk-7/_metadata', bytes(300, 2))]);
        const won = [ra, rb].filter((r) => r.status === 'fulfilled');
        expect(won.length).toBe(1);
        const lost = (ra.status === 'rejected' ? ra : rb) as PromiseRejectedResult;
        expect(lost.reason).toMatchObject({ code: 'STORAGE_LOCKED', message: expect.stringContaining('another writer committed this checkpoint first') });
        expect(lost.reason.message).toContain('[storage:s3]');
        expect(lost.reason.message).toContain('job/chk-7/_metadata');
        const stored = await a.get('job/chk-7/_metadata');
        expect(Array.from(stored!)).toEqual(Array.from(bytes(300, ra.status === 'fulfilled' ? 1 : 2)));
      }
    });

    it('a manifest that already exists is never overwritten; other objects are replaced as the contract says', async () => {
      const s = storage();
      await s.put('job/chk-1/_metadata', bytes(10, 1));
      await expect(s.put('job/chk-1/_metadata', bytes(10, 2))).rejects.toMatchObject({ code: 'STORAGE_LOCKED' });
      expect(Array.from((await s.get('job/chk-1/_metadata'))!)).toEqual(Array.from(bytes(10, 1)));
      await s.put('job/chk-1/op-0', bytes(10, 3));
      await s.put('job/chk-1/op-0', bytes(5, 4));
      expect(Array.from((await s.get('job/chk-1/op-0'))!)).toEqual(Array.from(bytes(5, 4)));
    });

    it('a manifest whose first PUT landed but whose answer was lost (connection reset) is recognised as ours on the retry', async () => {
      const s = storage({ viaProxy: true });
      let first = true;
      proxy!.plan = (method, url) => (method === 'PUT' && url.endsWith('_metadata') && first ? ((first = false), 'reset-after') : 'pass');
      await s.put('job/chk-2/_metadata', bytes(64, 5));
      const puts = proxy!.seen.filter((r) => r.method === 'PUT');
      expect(puts.map((r) => r.fate)).toEqual(['reset-after', 'pass']);
      expect(Array.from((await s.get('job/chk-2/_metadata'))!)).toEqual(Array.from(bytes(64, 5)));
    });
  });

  describe('retries', () => {
    it('503, 500, 429 and connection resets before every request are retried, and puts, gets, lists and deletes still succeed', async () => {
      const s = storage({ viaProxy: true });
      const faults = [{ status: 503, code: 'SlowDown' }, { status: 500 }, { status: 429, code: 'TooManyRequests' }, 'reset-before'] as const;
      // Every request fails once per fault in turn before it passes: 4 faults, then the real answer.
      let streak = 0;
      proxy!.plan = () => (streak < faults.length ? faults[streak++]! : ((streak = 0), 'pass'));
      await s.put('job/chk-1/op-0', bytes(1000, 7));
      expect(Array.from((await s.get('job/chk-1/op-0'))!)).toEqual(Array.from(bytes(1000, 7)));
      expect(await s.list('job/')).toEqual(['job/chk-1/op-0']);
      await s.delete('job/chk-1/op-0');
      expect(await s.get('job/chk-1/op-0')).toBeUndefined();
      expect(proxy!.seen.filter((r) => r.fate !== 'pass').length).toBe(4 * 5);
    });

    it('a response body cut short is detected by its recorded size and fetched again', async () => {
      const s = storage({ viaProxy: true });
      await s.put('job/chk-1/op-0', bytes(5000, 8));
      let cut = 0;
      proxy!.plan = (method) => (method === 'GET' && cut < 2 ? (cut++, 'short') : 'pass');
      const got = await s.get('job/chk-1/op-0');
      expect(got!.byteLength).toBe(5000);
      expect(Array.from(got!)).toEqual(Array.from(bytes(5000, 8)));
      expect(proxy!.seen.filter((r) => r.method === 'GET').map((r) => r.fate)).toEqual(['short', 'short', 'pass']);
    });

    it('a server that keeps failing gives a STORAGE_FAILURE after maxAttempts, naming the operation, the status and the attempts', async () => {
      const s = storage({ viaProxy: true, maxAttempts: 4 });
      proxy!.plan = () => ({ status: 503, code: 'ServiceUnavailable' });
      const error = await failure(s.put('job/chk-1/op-0', bytes(10, 9)));
      expect(error.code).toBe('STORAGE_FAILURE');
      expect(error.message).toMatch(/\[storage:s3\] put "job\/chk-1\/op-0" failed after 4 attempts: HTTP 503 ServiceUnavailable/);
      expect(proxy!.seen.length).toBe(4);
    });

    it('409 ConditionalRequestConflict on a manifest commit (AWS: a concurrent conditional write in progress) is retried, then the commit lands', async () => {
      const s = storage({ viaProxy: true });
      let conflicts = 0;
      proxy!.plan = (method, url) =>
        method === 'PUT' && url.endsWith('_metadata') && conflicts < 2 ? (conflicts++, { status: 409, code: 'ConditionalRequestConflict' }) : 'pass';
      await s.put('job/chk-3/_metadata', bytes(32, 6));
      expect(proxy!.seen.filter((r) => r.method === 'PUT').map((r) => (typeof r.fate === 'object' ? r.fate.status : r.fate))).toEqual([409, 409, 'pass']);
      expect(Array.from((await s.get('job/chk-3/_metadata'))!)).toEqual(Array.from(bytes(32, 6)));
    });

    it('a non-transient error (403) is not retried', async () => {
      const s = storage({ viaProxy: true });
      proxy!.plan = () => ({ status: 403, code: 'AccessDenied' });
      const error = await failure(s.get('x'));
      expect(error.message).toMatch(/get "x" failed: HTTP 403 AccessDenied.*check the credentials/);
      expect(proxy!.seen.length).toBe(1);
    });
  });

  describe('multipart uploads', () => {
    it('an object above the threshold goes up as a multipart upload, its parts in parallel (bounded), and round-trips exactly', async () => {
      const MiB = 1024 * 1024;
      const s = storage({ viaProxy: true, multipartThreshold: 5 * MiB, partSize: 5 * MiB, uploadConcurrency: 3 });
      const data = bytes(23 * MiB + 17, 10);
      await s.put('job/chk-1/big', data);
      const parts = proxy!.seen.filter((r) => r.method === 'PUT' && r.url.includes('partNumber='));
      expect(parts.length).toBe(5);
      expect(parts.map((p) => p.bodyBytes)).toEqual([5 * MiB, 5 * MiB, 5 * MiB, 5 * MiB, 3 * MiB + 17]);
      expect(proxy!.seen.filter((r) => r.method === 'POST').map((r) => r.url.replace(/uploadId=[^&]+/, 'uploadId=…'))).toEqual([
        `/${BUCKET}/p${n}/job/chk-1/big?uploads`,
        `/${BUCKET}/p${n}/job/chk-1/big?uploadId=…`,
      ]);
      expect(proxy!.maxInFlight).toBeGreaterThan(1);
      expect(proxy!.maxInFlight).toBeLessThanOrEqual(3);
      const back = await s.get('job/chk-1/big');
      expect(back!.byteLength).toBe(data.byteLength);
      expect(Buffer.compare(Buffer.from(back!), Buffer.from(data))).toBe(0);
    });

    it('a part upload that fails transiently is retried alone, and the object is still whole', async () => {
      const MiB = 1024 * 1024;
      const s = storage({ viaProxy: true, multipartThreshold: 5 * MiB, partSize: 5 * MiB });
      const data = bytes(11 * MiB, 11);
      let failed = 0;
      proxy!.plan = (method, url) =>
        method === 'PUT' && url.includes('partNumber=2') && failed < 2 ? (failed++, failed === 1 ? 'reset-before' : { status: 500 }) : 'pass';
      await s.put('job/chk-1/big', data);
      expect(proxy!.seen.filter((r) => r.url.includes('partNumber=2')).length).toBe(3);
      expect(Buffer.compare(Buffer.from((await s.get('job/chk-1/big'))!), Buffer.from(data))).toBe(0);
    });

    it('a multipart upload that cannot complete is aborted and reported; no object appears', async () => {
      const MiB = 1024 * 1024;
      const s = storage({ viaProxy: true, multipartThreshold: 5 * MiB, partSize: 5 * MiB, maxAttempts: 2 });
      proxy!.plan = (method, url) => (method === 'PUT' && url.includes('partNumber=1') ? { status: 500 } : 'pass');
      const error = await failure(s.put('job/chk-1/big', bytes(6 * MiB, 12)));
      expect(error.message).toMatch(/put "job\/chk-1\/big" \(part 1 of 2\) failed after 2 attempts/);
      expect(proxy!.seen.some((r) => r.method === 'DELETE' && r.url.includes('uploadId='))).toBe(true);
      expect(await s.list('job/')).toEqual([]);
    });
  });

  describe('locks are leases', () => {
    it('a held lock is renewed, so it outlives its lease; once released it can be taken again', async () => {
      const a = storage({ lockLeaseMs: 300 });
      const lock = await a.lock('job');
      await new Promise((r) => setTimeout(r, 900));
      await expect(a.lock('job')).rejects.toMatchObject({ code: 'STORAGE_LOCKED', message: expect.stringContaining('lease runs until') });
      await lock.release();
      await (await a.lock('job')).release();
    });

    it('a lock whose holder stopped renewing (crashed) is taken over after its lease, with one warning', async () => {
      const a = storage({ lockLeaseMs: 60_000 });
      const prefix = `p${n}`;
      // What a crashed holder leaves: a lease record nobody renews, already expired.
      const aws = new AwsClient({ ...MOTO_CREDENTIALS, service: 's3', region: MOTO_REGION, retries: 0 });
      const record = { token: 'dead', owner: 'a crashed writer', acquiredAt: '2020-01-01T00:00:00.000Z', expiresAt: Date.now() - 1, released: false };
      await aws.fetch(`${moto!.endpoint}/${BUCKET}/${prefix}/job/.~lock`, { method: 'PUT', body: JSON.stringify(record) });
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
      const lock = await a.lock('job');
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]![0])).toMatch(/\[storage:s3\] took over the lock of scope "job" from a crashed writer/);
      await expect(a.lock('job')).rejects.toMatchObject({ code: 'STORAGE_LOCKED' });
      await lock.release();
    });
  });

  describe('credentials never leak', () => {
    const { accessKeyId, secretAccessKey } = MOTO_CREDENTIALS;
    const clean = (text: string) => {
      expect(text).not.toContain(accessKeyId);
      expect(text).not.toContain(secretAccessKey);
      expect(text).not.toContain('sessionTok3nSecret');
    };

    it('errors from a missing bucket, an unreachable server, an error body echoing the keys, and a failing presign name none of them', async () => {
      const errors: EddyError[] = [];
      const creds = { ...MOTO_CREDENTIALS, sessionToken: 'sessionTok3nSecret' };
      errors.push(
        await failure(
          new S3CheckpointStorage({ endpoint: moto!.endpoint, bucket: 'no-such-bucket', region: MOTO_REGION, credentials: creds }).put('a', bytes(1, 1)),
        ),
      );
      const closed = `http://127.0.0.1:${await freePort()}`;
      errors.push(
        await failure(
          new S3CheckpointStorage({ endpoint: closed, bucket: BUCKET, region: MOTO_REGION, credentials: creds, maxAttempts: 2, retryBaseMs: 1 }).get('a'),
        ),
      );
      const s = storage({ viaProxy: true, credentials: creds });
      // What AWS sends on a bad signature: the access key id and the string to sign, here also the secret.
      const echo = `<Error><Code>SignatureDoesNotMatch</Code><Message>bad signature for ${accessKeyId} / ${secretAccessKey}</Message><AWSAccessKeyId>${accessKeyId}</AWSAccessKeyId><StringToSign>${secretAccessKey}</StringToSign></Error>`;
      proxy!.plan = () => ({ status: 403, body: echo });
      errors.push(await failure(s.put('job/x', bytes(3, 1))));
      proxy!.plan = () => ({ status: 503, body: echo });
      errors.push(await failure(storage({ viaProxy: true, credentials: creds, maxAttempts: 2 }).get('job/x')));
      proxy!.plan = () => 'pass';
      const presigned = new S3CheckpointStorage({
        endpoint: closed,
        bucket: BUCKET,
        region: MOTO_REGION,
        maxAttempts: 2,
        retryBaseMs: 1,
        presign: async (request) => ({
          url: `${request.url}${request.url.includes('?') ? '&' : '?'}X-Amz-Credential=${accessKeyId}%2Fscope&X-Amz-Signature=${secretAccessKey}`,
        }),
      });
      errors.push(await failure(presigned.get('job/x')));
      const throwing = new S3CheckpointStorage({
        endpoint: closed,
        bucket: BUCKET,
        region: MOTO_REGION,
        presign: async () =>
          Promise.reject(new Error(`cannot fetch https://signer.example/?X-Amz-Credential=${accessKeyId}&X-Amz-Signature=${secretAccessKey}`)),
      });
      errors.push(await failure(throwing.get('job/x')));
      expect(errors.map((e) => e.code)).toEqual([
        'STORAGE_FAILURE',
        'STORAGE_FAILURE',
        'STORAGE_FAILURE',
        'STORAGE_FAILURE',
        'STORAGE_FAILURE',
        'STORAGE_FAILURE',
      ]);
      expect(errors[0]!.message).toMatch(/NoSuchBucket/);
      expect(errors[1]!.message).toMatch(/failed after 2 attempts: network error/);
      expect(errors[2]!.message).toMatch(/SignatureDoesNotMatch: bad signature for \*\*\* \/ \*\*\*/);
      for (const error of errors) clean(everything(error));
    });

    it('no stored object — parts, manifest, lock — contains the access key id or the secret', async () => {
      const s = storage();
      const lock = await s.lock('job');
      await s.put('job/chk-1/op-0', bytes(100, 1));
      await s.put('job/chk-1/_metadata', bytes(100, 2));
      await lock.release();
      const aws = new AwsClient({ ...MOTO_CREDENTIALS, service: 's3', region: MOTO_REGION, retries: 0 });
      const listing = await (await aws.fetch(`${moto!.endpoint}/${BUCKET}?list-type=2&prefix=p${n}/`)).text();
      const keys = [...listing.matchAll(/<Key>([^<]+)<\/Key>/g)].map((m) => m[1]!);
      expect(keys.sort()).toEqual([`p${n}/job/.~lock`, `p${n}/job/chk-1/_metadata`, `p${n}/job/chk-1/op-0`]);
      for (const key of keys) {
        const response = await aws.fetch(`${moto!.endpoint}/${BUCKET}/${key}`);
        const headers = JSON.stringify([...response.headers]);
        clean(Buffer.from(await response.arrayBuffer()).toString('latin1') + headers);
      }
    });
  });

  describe('options and packaging', () => {
    it('bad options are refused with INVALID_ARGUMENT naming the option', () => {
      const base = { endpoint: 'http://127.0.0.1:1', bucket: 'b-1', region: 'us-east-1', credentials: MOTO_CREDENTIALS };
      const cases: Array<[Partial<S3CheckpointStorageOptions>, RegExp]> = [
        [{ endpoint: 'ftp://x' }, /endpoint/],
        [{ bucket: 'Bad_Bucket' }, /bucket/],
        [{ region: '' }, /region/],
        [{ credentials: undefined }, /exactly one of credentials and presign/],
        [{ presign: async () => ({ url: '' }) }, /exactly one of credentials and presign/],
        [{ prefix: 'a/../b' }, /prefix/],
        [{ credentials: { accessKeyId: '', secretAccessKey: 'x' } }, /accessKeyId/],
      ];
      for (const [over, message] of cases) {
        expect(() => new S3CheckpointStorage({ ...base, ...over } as S3CheckpointStorageOptions)).toThrow(message);
      }
    });

    it('S3 storage is published as eddy/s3, not from the root entry (which stays free of the signing library)', async () => {
      const pkg = JSON.parse(await readFile(fileURLToPath(new URL('../../package.json', import.meta.url)), 'utf8'));
      expect(pkg.exports['./s3']).toEqual({ types: './dist/src/storages/s3/index.d.ts', import: './dist/src/storages/s3/index.js' });
      const root = await import('../../src/index.ts');
      expect('S3CheckpointStorage' in root).toBe(false);
      const index = await readFile(fileURLToPath(new URL('../../src/index.ts', import.meta.url)), 'utf8');
      expect(index).not.toMatch(/storages\/s3|aws4fetch/);
    });
  });
});
