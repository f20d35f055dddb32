/**
 * The checkpoint-storage conformance suite, unchanged, on `S3CheckpointStorage` under
 * `deno test` — Deno's own fetch and Web Crypto against a moto_server started here — one
 * Deno test per case through the portable runner (see conformance.deno.ts). Where
 * moto_server is missing, one ignored test says why.
 */
import { S3CheckpointStorage } from '../../src/storages/s3/index.ts';
import { checkpointStorageSuite } from '../conformance/checkpoint-storage.suite.ts';
import { createBucket, MOTO_CREDENTIALS, MOTO_RACY_CONDITIONAL_WRITES, MOTO_REGION, motoMissing, startMoto } from '../helpers/moto.ts';
import { denoTests } from '../portable/deno.ts';

interface DenoLike {
  test(options: { name: string; ignore: boolean; fn: () => void }): void;
}
const Deno = (globalThis as unknown as { Deno: DenoLike }).Deno;

const missing = motoMissing();
if (missing !== undefined) {
  Deno.test({ name: `checkpoint storage conformance: s3 (moto_server) (skipped: ${missing})`, ignore: true, fn: () => {} });
} else {
  const moto = await startMoto();
  // The run's end stops moto (SIGTERM is sent at once; the process needs no awaiting).
  globalThis.addEventListener('unload', () => void moto.stop());
  await createBucket(moto.endpoint, 'deno-suite');
  denoTests(() =>
    checkpointStorageSuite(
      's3 (moto_server)',
      () =>
        new S3CheckpointStorage({ endpoint: moto.endpoint, bucket: 'deno-suite', region: MOTO_REGION, prefix: 'conformance', credentials: MOTO_CREDENTIALS }),
      {
        sharedBetweenInstances: true,
        racyConditionalWrites: MOTO_RACY_CONDITIONAL_WRITES,
        // moto (Python) takes ~30 s for these two at full size; Node's vitest run (test/storages/s3.test.ts) keeps them full.
        largeObject: { value: 8 * 1024 * 1024, reason: 'moto_server; full size in the Node run' },
        manyObjects: { value: 200, reason: 'moto_server; 1,000 in the Node run' },
      },
    ),
  );
}
