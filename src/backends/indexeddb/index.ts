/**
 * `IndexedDbStateBackend`: keyed state in the browser's IndexedDB, for state larger than
 * the heap should hold or a tab should lose on a crash of its worker. One database per
 * job (`eddy-<jobId>`), a bounded write-behind cache flushed many keys per transaction,
 * reads of missing keys batched, snapshots in the canonical format (full and
 * incremental), native TTL cleanup through an expiry index.
 *
 * The database is a working copy: a new keyed backend always clears its key-group range
 * and the job restores from its checkpoint (local reuse of a database that is provably
 * at the restored checkpoint is not implemented).
 */
import type { ErrorContext } from '../../api/errors.ts';
import { ConfigurationError } from '../../api/errors.ts';
import type { KeyedStateBackendOptions, StateBackend } from '../../state/backend.ts';
import { IdbKeyedStateBackend } from './backend.ts';
import { COMPONENT, ENTRIES, openDatabase, resolveEnvironment, SCHEMA_VERSION, transactionDone } from './database.ts';

/** Options of {@link IndexedDbStateBackend}. */
export interface IndexedDbStateBackendOptions {
  /** Database name; default `eddy-<jobId>`. All operators and subtasks of a job share it. */
  readonly databaseName?: string;
  /** Dirty entries buffered before a flush transaction (default 4,096); a flush writes them all at once, and rewrites of a dirty entry cost nothing more. */
  readonly writeBehind?: number;
  /** Cached cells (clean and dirty) before the cache is dropped after a flush (default 100,000). */
  readonly cacheSize?: number;
  /**
   * Keys per state whose presence in the database is tracked in memory (default 1,000,000),
   * so that reading a key that was never stored needs no database read; beyond it, every
   * cache miss is read (batched).
   */
  readonly trackedKeys?: number;
  /** Records per transaction when restoring (default 5,000). */
  readonly restoreBatch?: number;
  /** The IndexedDB factory; default the global `indexedDB` (pass fake-indexeddb's in Node). */
  readonly indexedDB?: IDBFactory;
  /** The matching `IDBKeyRange`; default the global one. */
  readonly IDBKeyRange?: typeof IDBKeyRange;
}

/** Keeps keyed state in IndexedDB (browsers; Node with fake-indexeddb). */
export class IndexedDbStateBackend implements StateBackend {
  /** Shows up in error messages as `[backend:indexeddb]`. */
  readonly name = 'indexeddb';
  private readonly limits: { writeBehind: number; cacheSize: number; restoreBatch: number; trackedKeys: number };

  /** Touches no platform global: IndexedDB is looked up when a keyed backend is created. */
  constructor(private readonly options: IndexedDbStateBackendOptions = {}) {
    const positive = (name: string, v: number | undefined, dflt: number) => {
      if (v === undefined) return dflt;
      if (!Number.isInteger(v) || v < 1)
        throw new ConfigurationError(`IndexedDbStateBackend option ${name} must be a positive integer, got ${v}`, { component: COMPONENT });
      return v;
    };
    this.limits = {
      writeBehind: positive('writeBehind', options.writeBehind, 4096),
      cacheSize: positive('cacheSize', options.cacheSize, 100_000),
      restoreBatch: positive('restoreBatch', options.restoreBatch, 5000),
      trackedKeys: positive('trackedKeys', options.trackedKeys, 1_000_000),
    };
  }

  /** Opens the job's database and clears this subtask's key-group range (it starts empty, and is then restored). */
  async createKeyedStateBackend(options: KeyedStateBackendOptions): Promise<IdbKeyedStateBackend> {
    const ctx: ErrorContext = { component: COMPONENT, operator: options.operatorName };
    const env = resolveEnvironment(this.options.indexedDB, this.options.IDBKeyRange, ctx);
    const name = this.options.databaseName ?? `eddy-${options.jobId}`;
    const db = await openDatabase(env, name, SCHEMA_VERSION, ctx);
    try {
      const { start, end, size } = options.keyGroupRange;
      if (size === 0) return new IdbKeyedStateBackend(db, env, options, this.limits, name);
      const tx = db.transaction(ENTRIES, 'readwrite', { durability: 'relaxed' });
      tx.objectStore(ENTRIES).delete(env.keyRange.bound([options.operatorId, start], [options.operatorId, end, []]));
      await transactionDone(tx, ctx, 'clear the working copy');
    } catch (e) {
      db.close();
      throw e;
    }
    return new IdbKeyedStateBackend(db, env, options, this.limits, name);
  }
}

export { IdbKeyedStateBackend } from './backend.ts';
