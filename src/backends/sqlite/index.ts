/**
 * `SqliteStateBackend`: keyed state in SQLite-WASM (eddy's RocksDB backend), published as
 * the `eddy/sqlite` subpath so that only jobs that use it load the WASM module.
 *
 * ```ts
 * import { SqliteStateBackend } from 'eddy/sqlite';
 * env.setStateBackend(new SqliteStateBackend({ cacheBytes: 16 << 20 }));
 * ```
 *
 * Working state lives in SQLite, one database per operator subtask: on OPFS in a
 * dedicated worker (`opfs-sahpool`, or `opfs` when cross-origin isolated), else in memory
 * (Node, Deno, a browser main thread), where it is bounded by WASM memory (2 GiB), not by
 * the JS heap. The JS heap holds only a bounded write-behind cache of value rows. The
 * database is a working copy: state comes back from checkpoints (`restore`); a file left
 * by an earlier run is reused only when it provably holds the restored checkpoint
 * (`reuseLocalCopy`), else it is emptied.
 *
 * Snapshots capture a frozen page copy of the database inside `snapshot()` (C-level, tens
 * of ms for a million rows) and encode it afterwards in slices (`frozen-copy.ts`).
 */
import type { KeyedStateBackend, KeyedStateBackendOptions, StateBackend } from '../../state/backend.ts';
import { SqliteKeyedStateBackend } from './keyed.ts';
import { loadSqlite, wasmMemoryBytes, type Sqlite3Static } from './loader.ts';
import { chooseVfs, DEFAULT_POOL_DIRECTORY, openDatabase, openError, sahPool, type SqliteVfs, type SqliteVfsChoice } from './open.ts';
import { Statements } from './schema.ts';
import { WasmHeap } from './fast-stmt.ts';

/** One scratch heap per sqlite3 module (one per realm). */
const heaps = new WeakMap<Sqlite3Static, WasmHeap>();
function heapOf(sqlite3: Sqlite3Static): WasmHeap {
  let h = heaps.get(sqlite3);
  if (h === undefined) heaps.set(sqlite3, (h = new WasmHeap(sqlite3)));
  return h;
}

/** The VFS names: what to ask for, and what a backend ended up with. */
export type { SqliteVfs, SqliteVfsChoice } from './open.ts';
/** The keyed backend of one subtask (what `createKeyedStateBackend` returns), for `stats()`. */
export { SqliteKeyedStateBackend, type SqliteBackendStats } from './keyed.ts';

/** Options of {@link SqliteStateBackend}; every field has a default. */
export interface SqliteStateBackendOptions {
  /** Where the working copy lives; `auto` (default) picks opfs-sahpool in a worker with OPFS, else opfs if available, else memory. */
  vfs?: SqliteVfsChoice;
  /**
   * The database file of a subtask on a persistent VFS. Default:
   * `/eddy/<jobId>/<operatorId>-<subtaskIndex>.sqlite3`. Ignored in memory.
   */
  fileName?: (subtask: KeyedStateBackendOptions) => string;
  /** OPFS directory of the opfs-sahpool VFS (one worker at a time may hold it). Default `.eddy-sqlite`. */
  poolDirectory?: string;
  /** Byte budget of the write-behind cache of value rows, per subtask. Default 8 MiB. */
  cacheBytes?: number;
  /** Row writes per SQLite transaction before it is committed. Default 20,000. */
  batchRows?: number;
  /** SQLite page cache per database in KiB (`PRAGMA cache_size`). Default 8192 (8 MiB). */
  pageCacheKiB?: number;
  /**
   * Delete a subtask's database file when its backend is disposed (opfs-sahpool only).
   * Default false: the file stays as the working copy of the last run. Short-lived jobs
   * and tests set it so the pool does not fill up with files nobody reopens.
   */
  removeOnDispose?: boolean;
  /**
   * Reuse a subtask's file after a restart when it provably holds exactly the restored
   * checkpoint (persistent VFSes only; default false). The backend records a SHA-256
   * fingerprint of each full snapshot it takes (without TTL filtering) while nothing is
   * written during it; the first later write of state clears it, in the same transaction.
   * A restore whose snapshots have the recorded fingerprint skips loading them.
   */
  reuseLocalCopy?: boolean;
  /** Told once which VFS `auto` chose (e.g. `console.info`). */
  onVfsChosen?: (vfs: SqliteVfs) => void;
}

/** Default file name of a subtask's database: one per job, operator and subtask. */
export function defaultFileName(o: KeyedStateBackendOptions): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, '_');
  return `/eddy/${safe(o.jobId)}/${safe(o.operatorId)}-${o.subtaskIndex}.sqlite3`;
}

/** Keyed state in SQLite-WASM; see the module comment. */
export class SqliteStateBackend implements StateBackend {
  readonly name = 'sqlite';
  private readonly options: SqliteStateBackendOptions;
  private ready: Promise<{ sqlite3: Sqlite3Static; vfs: SqliteVfs }> | undefined;
  private chosen: SqliteVfs | undefined;

  constructor(options: SqliteStateBackendOptions = {}) {
    this.options = options;
  }

  /** The VFS in use, once {@link init} (or the first keyed backend) has run; undefined before. */
  get vfs(): SqliteVfs | undefined {
    return this.chosen;
  }

  /** Loads sqlite-wasm and chooses the VFS (once); resolves to the VFS. Called by the first keyed backend anyway. */
  async init(): Promise<SqliteVfs> {
    this.ready ??= (async () => {
      const sqlite3 = await loadSqlite();
      const vfs = chooseVfs(sqlite3, this.options.vfs ?? 'auto');
      this.chosen = vfs;
      this.options.onVfsChosen?.(vfs);
      return { sqlite3, vfs };
    })();
    this.ready.catch(() => (this.ready = undefined));
    return (await this.ready).vfs;
  }

  /** Bytes of WASM linear memory in use by sqlite-wasm (all databases of this realm); 0 before it loaded. */
  async wasmMemoryBytes(): Promise<number> {
    return this.ready === undefined ? 0 : wasmMemoryBytes((await this.ready).sqlite3);
  }

  /** Opens (and empties) the database of one operator subtask. */
  async createKeyedStateBackend(o: KeyedStateBackendOptions): Promise<KeyedStateBackend> {
    await this.init();
    const { sqlite3, vfs } = await this.ready!;
    const fileName = vfs === 'memory' ? ':memory:' : (this.options.fileName ?? defaultFileName)(o);
    const poolDirectory = this.options.poolDirectory ?? DEFAULT_POOL_DIRECTORY;
    const ctx = { component: 'backend:sqlite', operator: o.operatorName };
    const db = await openDatabase(sqlite3, vfs, fileName, poolDirectory, ctx);
    const persistent = vfs !== 'memory';
    const reuse = persistent && this.options.reuseLocalCopy === true;
    let stmts: Statements;
    try {
      // A working copy: losing the last writes in a crash is fine (the checkpoint is the truth), waiting for fsync is not.
      db.exec(`PRAGMA cache_size=-${this.options.pageCacheKiB ?? 8192}; PRAGMA synchronous=OFF; PRAGMA temp_store=MEMORY;`);
      stmts = new Statements(db, heapOf(sqlite3), this.options.batchRows ?? 20_000);
      // Start from the restored checkpoint, never from what an earlier run left in the file
      // (unless a restore proves the file is at that checkpoint: see reuseLocalCopy).
      if (persistent && !reuse) stmts.wipe();
    } catch (e) {
      db.close();
      throw openError(e, ctx, `the database "${fileName}" (vfs ${vfs})`);
    }
    const pool = vfs === 'opfs-sahpool' && this.options.removeOnDispose === true ? await sahPool(sqlite3, poolDirectory) : undefined;
    const remove = pool === undefined ? undefined : () => void pool.unlink(fileName);
    return new SqliteKeyedStateBackend(stmts, o, this.options.cacheBytes ?? 8 << 20, vfs, fileName, remove, reuse);
  }
}
