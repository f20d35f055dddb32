/**
 * What the conformance suites run on inside workerd (test/cloudflare/conformance.test.ts):
 * adding a state backend or a checkpoint storage to the workerd run is one line here. Each
 * factory gets the Durable Object the suite runs in and the Worker's bindings, and is
 * called before every suite case.
 */
import { DurableObjectStateBackend, type DurableObjectStorageLike } from '../../../src/backends/durable-object/index.ts';
import { HashMapStateBackend } from '../../../src/backends/memory.ts';
import type { CheckpointStorage } from '../../../src/format/checkpoint-storage.ts';
import type { StateBackend } from '../../../src/state/backend.ts';
import { R2CheckpointStorage, type R2BucketLike } from '../../../src/storages/r2.ts';
import type { CheckpointStorageCapabilities } from '../../conformance/checkpoint-storage.suite.ts';
import type { InPlaceCapabilities } from '../../ttl/in-place.suite.ts';

/** The Durable Object a suite runs in (its `ctx`), and the Worker's bindings. */
export interface WorkerdHost {
  readonly ctx: { readonly storage: unknown };
  readonly env: { readonly BUCKET: R2BucketLike };
}

/** State backends that run the state-backend and TTL suites in workerd. */
export const STATE_BACKENDS: Record<string, (host: WorkerdHost) => StateBackend> = {
  hashmap: () => new HashMapStateBackend(),
  'durable-object': ({ ctx }) => new DurableObjectStateBackend(ctx.storage as DurableObjectStorageLike),
  // A small cache, so that the suites' many-keys cases go through eviction and write-back, not only the cache.
  'durable-object-cached': ({ ctx }) => new DurableObjectStateBackend(ctx.storage as DurableObjectStorageLike, { valueCache: { maxRows: 64 } }),
};

/**
 * What the TTL in-place cases (test/ttl/in-place.suite.ts) adapt to on each state backend: the
 * Durable Object backend takes full snapshots only, and refuses a row over about 2 MiB.
 */
export const IN_PLACE_CAPABILITIES: Record<string, InPlaceCapabilities> = {
  hashmap: { incremental: true },
  'durable-object': { incremental: false, valueLimit: 2_300_000 },
  'durable-object-cached': { incremental: false, valueLimit: 2_300_000 },
};

/** Checkpoint storages that run the checkpoint-storage suite in workerd, with what they declare. */
export const CHECKPOINT_STORAGES: Record<string, { make: (host: WorkerdHost) => CheckpointStorage; capabilities?: CheckpointStorageCapabilities }> = {
  r2: { make: ({ env }) => new R2CheckpointStorage(env.BUCKET, { prefix: 'conformance' }), capabilities: { sharedBetweenInstances: true } },
};
