import { afterAll, beforeAll, describe } from 'vitest';
import { S3CheckpointStorage } from '../../src/storages/s3/index.ts';
import { checkpointStorageSuite } from '../conformance/checkpoint-storage.suite.ts';
import { createBucket, MOTO_CREDENTIALS, MOTO_RACY_CONDITIONAL_WRITES, MOTO_REGION, motoMissing, startMoto, type Moto } from '../helpers/moto.ts';

const missing = motoMissing();
let moto: Moto | undefined;
beforeAll(async () => {
  if (missing) return;
  moto = await startMoto();
  await createBucket(moto.endpoint, 'suite');
}, 60_000);
afterAll(() => moto?.stop());

describe.skipIf(missing !== undefined)(`S3CheckpointStorage against moto_server${missing ? ` (skipped: ${missing})` : ''}`, () => {
  checkpointStorageSuite(
    's3 (moto_server)',
    () => new S3CheckpointStorage({ endpoint: moto!.endpoint, bucket: 'suite', region: MOTO_REGION, prefix: 'conformance', credentials: MOTO_CREDENTIALS }),
    { sharedBetweenInstances: true, racyConditionalWrites: MOTO_RACY_CONDITIONAL_WRITES },
  );
});
