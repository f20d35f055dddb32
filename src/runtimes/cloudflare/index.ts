/**
 * `eddy/cloudflare`: what eddy offers on Cloudflare Workers, gathered in one entry (a plain
 * list of re-exports). Import it only from a Worker: its storages and backends talk to
 * bindings (R2, Durable Objects) that exist only there.
 */
export {
  defaultScope,
  DurableObjectKeyedStateBackend,
  DurableObjectStateBackend,
  DurableObjectTimers,
  type DurableObjectStateBackendOptions,
  type DurableObjectStorageLike,
  type DurableObjectTimer,
  type DurableObjectTimersOptions,
  type SqlCursorLike,
  type SqlStorageLike,
  type SqlValue,
} from '../../backends/durable-object/index.ts';
export {
  R2CheckpointStorage,
  type R2BucketLike,
  type R2CheckpointStorageOptions,
  type R2ConditionalLike,
  type R2ObjectBodyLike,
  type R2ObjectLike,
} from '../../storages/r2.ts';
export { keyedJob, type KeyedJob, type KeyedJobObjectClass } from './keyed-job.ts';
export type { KeyedJobOptions, SubtaskBatch, SubtaskResult } from './job-config.ts';
export { JobRouter, type JobBatch, type JobBatchResult } from './job-worker.ts';
export type { JobObjectState, JobObjectStorage, JobObjectNamespace } from './job-platform.ts';
