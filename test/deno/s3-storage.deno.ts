/**
 * Deno smoke test of `S3CheckpointStorage` (the conformance suite runs under vitest in
 * Node and Chromium): the same `src/` against a moto_server started here, over Deno's own
 * fetch and Web Crypto. Skips, saying why, where moto_server is missing.
 *
 *   npm run test:deno
 */
import assert from 'node:assert/strict';
import { EddyError } from '../../src/api/errors.ts';
import { S3CheckpointStorage } from '../../src/storages/s3/index.ts';
import { createBucket, MOTO_CREDENTIALS, MOTO_REGION, motoMissing, startMoto } from '../helpers/moto.ts';

interface DenoLike {
  test(options: { name: string; ignore?: boolean; sanitizeResources?: boolean; sanitizeOps?: boolean; fn: () => Promise<void> }): void;
}
const Deno = (globalThis as unknown as { Deno: DenoLike }).Deno;
const missing = motoMissing();

Deno.test({
  name: `S3CheckpointStorage in Deno against moto_server: objects, the manifest commit race, locks${missing ? ` (skipped: ${missing})` : ''}`,
  ignore: missing !== undefined,
  // moto's child process and its pipes outlive single awaits; they are stopped in finally.
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const moto = await startMoto();
    try {
      await createBucket(moto.endpoint, 'deno');
      const make = () =>
        new S3CheckpointStorage({ endpoint: moto.endpoint, bucket: 'deno', region: MOTO_REGION, prefix: 'smoke', credentials: MOTO_CREDENTIALS });
      const storage = make();
      const bytes = new Uint8Array(256).map((_, i) => i);
      await storage.put('job/chk-1/op-0', bytes);
      assert.deepEqual(Array.from((await storage.get('job/chk-1/op-0'))!), Array.from(bytes));
      assert.equal(await storage.get('job/chk-1/missing'), undefined);
      const results = await Promise.allSettled([
        storage.put('job/chk-1/_metadata', new Uint8Array([1])),
        make().put('job/chk-1/_metadata', new Uint8Array([2])),
      ]);
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      assert.ok(lost.reason instanceof EddyError && lost.reason.code === 'STORAGE_LOCKED');
      assert.deepEqual(await storage.list('job/'), ['job/chk-1/_metadata', 'job/chk-1/op-0']);
      const lock = await storage.lock('job');
      await assert.rejects(make().lock('job'), (e: unknown) => e instanceof EddyError && e.code === 'STORAGE_LOCKED');
      await lock.release();
      await (await make().lock('job')).release();
      await storage.delete('job/chk-1/op-0');
      assert.deepEqual(await storage.list('job/'), ['job/chk-1/_metadata']);
    } finally {
      await moto.stop();
    }
  },
});
