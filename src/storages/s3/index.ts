/**
 * `eddy/s3`: checkpoints in an S3-compatible bucket (AWS S3, Cloudflare R2, MinIO, …)
 * over `fetch`, for browsers, Deno, Node and workerd. A separate entry so that the root
 * bundle does not carry the signing library.
 */
export { S3CheckpointStorage, type S3CheckpointStorageOptions } from './storage.ts';
export type { S3Credentials, S3Presign, S3UnsignedRequest } from './client.ts';
