/** Where the three legs of the cross-runtime test keep their checkpoints: one moto bucket. */
import { S3CheckpointStorage } from '../../src/storages/s3/index.ts';

export const BUCKET = 'portable';

/** The test's S3 location, the same in Chromium, Node and Deno. */
export interface S3Place {
  readonly endpoint: string;
  /** A fresh prefix per run, so that no earlier run's checkpoints are met. */
  readonly prefix: string;
}

/** The storage every leg uses (moto accepts any credentials; these are the tests' own). */
export function storageAt({ endpoint, prefix }: S3Place): S3CheckpointStorage {
  return new S3CheckpointStorage({
    endpoint,
    bucket: BUCKET,
    region: 'us-east-1',
    prefix,
    credentials: { accessKeyId: 'AKIAEDDYTESTKEY12345', secretAccessKey: 'eddyTestSecret/9f8e7d6c5b4a3928171605ZZ' },
  });
}
