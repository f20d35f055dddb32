/**
 * `eddy/cloudflare`: what a Cloudflare Worker with Durable Objects imports. Keyed state in
 * the object's own SQLite (`DurableObjectStateBackend`) and timers on its alarm
 * (`DurableObjectTimers`).
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
