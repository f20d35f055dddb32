/**
 * `DurableObjectStateBackend`: keyed state in a Cloudflare Durable Object's own SQLite
 * (`ctx.storage.sql`), and {@link DurableObjectTimers}, timers on the object's alarm.
 * Published through the `eddy/cloudflare` subpath.
 *
 * ```ts
 * export class Subtask extends DurableObject {
 *   backend = new DurableObjectStateBackend(this.ctx.storage);
 *   timers = new DurableObjectTimers(this.ctx.storage, { scope: 'counter' });
 * }
 * ```
 *
 * One row per value, list element and map entry (`schema.ts`); every table method answers
 * synchronously. The object's storage is durable: a backend opened again after the object
 * was evicted finds its states (per scope) and carries on; `restore()` replaces them.
 * Snapshots are canonical, so savepoints move between workerd and every other runtime, at
 * any parallelism. A row over the platform's limit (about 2 MiB: an encoded value with its
 * key, or one list element or map entry) is refused with `VALUE_TOO_LARGE` and nothing of
 * that write is stored.
 */
import type { KeyedStateBackendOptions, StateBackend } from '../../state/backend.ts';
import { DurableObjectKeyedStateBackend } from './keyed.ts';
import { Tables } from './schema.ts';
import { sqlFailure, type DurableObjectStorageLike } from './storage.ts';

/** The keyed backend of one subtask (what `createKeyedStateBackend` returns). */
export { DurableObjectKeyedStateBackend } from './keyed.ts';
/** Timers on the object's alarm, their options and what a fired timer carries. */
export { DurableObjectTimers, type DurableObjectTimer, type DurableObjectTimersOptions } from './timers.ts';
/** The members of `ctx.storage` used (structural: no Cloudflare types needed). */
export type { DurableObjectStorageLike, SqlStorageLike, SqlCursorLike, SqlValue } from './storage.ts';

/** Options of {@link DurableObjectStateBackend}. */
export interface DurableObjectStateBackendOptions {
  /**
   * Names a subtask's states among everything the object stores. Default
   * `<jobId>/<operatorId>/<subtaskIndex>`: an object hosting the same subtask again (after
   * eviction, or a new deployment of the same job) finds its states.
   */
  scope?: (subtask: KeyedStateBackendOptions) => string;
  /**
   * A write-behind cache of value rows (Value/Reducing/AggregatingState), per subtask:
   * reads of cached rows cost no SQL, and a row written many times reaches SQLite once, at
   * the next `flush()`, `snapshot()`, `keys()`, `dispose()` or when more than `maxRows` are
   * cached. Off by default: without it every write is in SQLite when the call returns.
   * With it, the host flushes before it acknowledges a batch, and calls
   * `afterRollback()` after rolling back a transaction the backend wrote in. An encoded key
   * and value over 2,000,000 bytes is refused at the write (`VALUE_TOO_LARGE`).
   */
  valueCache?: { readonly maxRows: number };
}

/** The default scope of a subtask's states. */
export function defaultScope(o: KeyedStateBackendOptions): string {
  return `${o.jobId}/${o.operatorId}/${o.subtaskIndex}`;
}

/** Keyed state in a Durable Object's SQLite; see the module comment. */
export class DurableObjectStateBackend implements StateBackend {
  readonly name = 'durable-object';

  /** @param storage the object's `ctx.storage` (SQLite-backed: `new_sqlite_classes` in wrangler). */
  constructor(
    private readonly storage: DurableObjectStorageLike,
    private readonly options: DurableObjectStateBackendOptions = {},
  ) {}

  /** Opens a subtask's state (creating the tables on first use); synchronous. */
  createKeyedStateBackend(o: KeyedStateBackendOptions): DurableObjectKeyedStateBackend {
    let tables: Tables;
    try {
      tables = new Tables(this.storage.sql);
    } catch (e) {
      throw sqlFailure(e, { component: 'backend:durable-object', operator: o.operatorName }, 'creating the state tables (is the class SQLite-backed?)');
    }
    return new DurableObjectKeyedStateBackend(this.storage, tables, o, (this.options.scope ?? defaultScope)(o), this.options.valueCache?.maxRows ?? 0);
  }
}
