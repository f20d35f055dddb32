/**
 * The keyed state of one operator subtask in one SQLite database: state registry,
 * current key, the write-behind cache, snapshots, restore and native TTL cleanup.
 *
 * sqlite-wasm's API is synchronous (in memory and on both OPFS VFSes), so every table
 * method answers at once; a snapshot captures what it holds inside the `snapshot()` call
 * (a frozen copy of the database, or for a delta what changed) and encodes it afterwards
 * (`snapshot-taker.ts`).
 */
import type { StateKind } from '../../api/descriptors.ts';
import { canonicalKeyBytes, keyFromCanonicalBytes, type Key } from '../../format/key-bytes.ts';
import { keyId, type KeyId } from '../../format/key-ids.ts';
import type { KeyedSnapshotOptions, KeyedStateBackendOptions, ListTable, MapTable, ValueTable } from '../../state/backend.ts';
import { KeyedBackendBase, type TableConfig } from '../../state/keyed-backend-base.ts';
import { storageShapeOf, type KeyedStateSnapshot, type TtlMetaInfo } from '../../format/snapshot-format.ts';
import { PLAIN_VALUES } from '../../state/stored-values.ts';
import type { SqliteVfs } from './open.ts';
import type { Statements } from './schema.ts';
import { savedStatesIfAt } from './fingerprint.ts';
import { restoreKeyGroups } from '../../format/row-snapshots.ts';
import { SnapshotTaker } from './snapshot-taker.ts';
import { deleteExpired, pruneStep } from './ttl-cleanup.ts';
import { listTable, mapTable, PAGE, prefetchValueRows, stateFailure, valueTable, type SqlState, type TableContext } from './tables.ts';
import { rowBytes, rowKeyBytes, ValueCache, type CachedRow } from './value-cache.ts';

/** The keyed state of one subtask in SQLite; created by `SqliteStateBackend`. */
export class SqliteKeyedStateBackend extends KeyedBackendBase<SqlState> implements TableContext {
  readonly nativeTtlCleanup = true;
  /** sqlite-wasm is synchronous: every table method answers at once. */
  readonly syncAccess = 'always';
  readonly cache: ValueCache;
  currentKg = -1;
  currentId: KeyId = '';
  private currentKeyBytes: Uint8Array | undefined;
  private nextStateId = 1;
  private disposed = false;
  /** Snapshots, the epochs of the change marks and the deltas being encoded (`snapshot-taker.ts`). */
  private readonly snapshots: SnapshotTaker;
  /** A file opened for possible reuse is emptied on first use, unless a restore proves it is at the restored checkpoint. */
  private pendingWipe: boolean;
  /** Whether the last restore reused the local file instead of loading the snapshots. */
  private reused = false;

  /** Empties a file kept for possible reuse, once it is clear it cannot be reused. */
  private ensureFresh(): void {
    if (!this.pendingWipe) return;
    this.pendingWipe = false;
    this.stmts.wipe();
  }

  /**
   * @param stmts the statements over this subtask's (emptied or verified) database.
   * @param vfs where the database lives, for `describe()`.
   * @param fileName the database's file name on its VFS.
   */
  constructor(
    readonly stmts: Statements,
    options: KeyedStateBackendOptions,
    cacheBytes: number,
    readonly vfs: SqliteVfs,
    readonly fileName: string,
    private readonly afterClose: () => void = () => {},
    reuse = false,
  ) {
    super('sqlite', options);
    this.pendingWipe = reuse;
    this.cache = new ValueCache(cacheBytes, (dirty) => this.writeBack(dirty));
    this.snapshots = new SnapshotTaker({
      stmts,
      cache: this.cache,
      keyGroupRange: this.keyGroupRange,
      reuse,
      live: () => !this.disposed,
      flushSync: () => this.flushSync(),
      failure: (e, what) => stateFailure(e, this, what),
    });
  }

  protected enterKey(key: Key, keyGroup: number): void {
    if (key === this.currentKey && keyGroup === this.currentKg) return;
    this.currentKg = keyGroup;
    this.currentKeyBytes = undefined;
    this.currentId = keyId(key);
  }

  /** The current key; table methods run only with one set (core checks). */
  get currentKeyValue(): Key {
    return this.currentKey!;
  }

  protected override leaveKey(): void {
    this.currentKeyBytes = undefined;
    this.currentKg = -1;
    this.currentId = '';
  }

  /** Canonical bytes of the current key, computed on first use per key. */
  keyBytes(): Uint8Array {
    return (this.currentKeyBytes ??= canonicalKeyBytes(this.currentKey!));
  }

  mark(st: number, ns: string): void {
    const epoch = this.snapshots.epochs.current;
    if (epoch !== undefined) this.stmts.mark(st, this.currentKg, this.keyBytes(), ns, epoch, null);
  }

  keep(st: number, ns: string): void {
    this.snapshots.keeper?.(st, this.currentKg, this.keyBytes(), ns);
  }

  /**
   * Writes the cache's dirty value rows into the batch transaction (the cache's
   * write-back), each marked with its value and the epoch of its last write, not the
   * current one: a row written before a delta's barrier and written back after it keeps
   * belonging to that delta (which captured it from the cache), and is not sent again
   * in the next one. A row of a completed checkpoint's epoch needs no mark.
   */
  private writeBack(dirty: CachedRow[]): void {
    const { stmts } = this;
    for (const row of dirty) {
      const k = rowKeyBytes(row);
      const v = row.bytes === null ? null : rowBytes(row);
      if (v === null) stmts.deleteRow(row.st, row.kg, k, row.ns, 0);
      else stmts.putRow(row.st, row.kg, k, row.ns, 0, v, row.exp);
      if (this.snapshots.epochs.marks(row.epoch)) stmts.mark(row.st, row.kg, k, row.ns, row.epoch, v);
    }
    stmts.maybeCommit();
  }

  protected createState(name: string, kind: StateKind, ttl: TtlMetaInfo | undefined): SqlState {
    this.ensureFresh();
    const s: SqlState = { id: this.nextStateId++, name, kind, options: { values: PLAIN_VALUES }, needsExpiryBackfill: false, buckets: new Map() };
    this.stmts.saveState(s.id, name, kind, ttl?.ttlMs ?? null);
    return s;
  }

  protected configureState(s: SqlState, config: TableConfig): void {
    // Rows written before the state had an expiry (restored ones) get theirs before cleanup deletes by it.
    if (config.expiry !== undefined && s.options.expiry === undefined) s.needsExpiryBackfill = true;
    s.options = config;
  }

  protected openValueTable<T>(s: SqlState): ValueTable<T> {
    return valueTable<T>(this, s);
  }

  protected openListTable<T>(s: SqlState): ListTable<T> {
    return listTable<T>(this, s);
  }

  protected openMapTable<V>(s: SqlState): MapTable<V> {
    return mapTable<V>(this, s);
  }

  /** Loads the value rows of a batch's keys that are not cached yet, before the batch runs. */
  prefetch(keys: readonly Key[], keyGroups: ArrayLike<number>): void {
    this.ensureFresh();
    const valueStates = this.registeredStates().filter((s) => storageShapeOf(s.kind) === 'value');
    if (valueStates.length === 0) return;
    try {
      prefetchValueRows(this.stmts, this.cache, valueStates, keys, keyGroups, this.keyGroupRange);
    } catch (e) {
      throw stateFailure(e, this, 'prefetch');
    }
  }

  /** Incremental TTL cleanup (when a state asks for it explicitly; background cleanup is native): see `ttl-cleanup.ts`. */
  pruneEntries(stateName: string, limit: number, isStale: (stored: unknown) => boolean): number {
    this.ensureFresh();
    const s = this.stateOf(stateName);
    if (s === undefined || limit <= 0) return 0;
    this.flushSync();
    try {
      return pruneStep(this.stmts, this.cache, s, limit, isStale, this.snapshots.epochs.current, this.snapshots.keeper);
    } catch (e) {
      throw stateFailure(e, this, stateName);
    }
  }

  /** Writes the cache back, runs native TTL cleanup and commits the batch. */
  async flush(): Promise<void> {
    this.ensureFresh();
    this.flushSync();
    this.cleanupExpired();
    this.stmts.commit();
  }

  private flushSync(): void {
    try {
      this.cache.flush();
    } catch (e) {
      const names = this.registeredStates().map((s) => s.name);
      throw stateFailure(e, this, names.join(', '));
    }
  }

  /** Native TTL cleanup of every state with an expiry (see `ttl-cleanup.ts`). */
  private cleanupExpired(): void {
    for (const s of this.registeredStates()) {
      try {
        deleteExpired(this.stmts, this.cache, s, this.snapshots.epochs.current, this.snapshots.keeper);
      } catch (e) {
        throw stateFailure(e, this, s.name);
      }
    }
  }

  /** See `snapshot-taker.ts`: the capture runs inside the call, the encoding after it. */
  async snapshot(options: KeyedSnapshotOptions = {}): Promise<KeyedStateSnapshot> {
    this.ensureFresh();
    const { states, head } = this.captureStates();
    return this.snapshots.take(states, head, options);
  }

  notifyCheckpointComplete(checkpointId: number): void {
    this.snapshots.complete(checkpointId);
  }

  protected override async restoreInPlace(snapshots: readonly KeyedStateSnapshot[]): Promise<boolean> {
    return this.pendingWipe && (await this.reuseIfAt(snapshots));
  }

  protected async load(snapshots: readonly KeyedStateSnapshot[], statesOf: ReadonlyArray<readonly SqlState[]>): Promise<void> {
    this.ensureFresh();
    for (const [i, snapshot] of snapshots.entries()) {
      const states = statesOf[i]!;
      try {
        restoreKeyGroups(snapshot.keyGroups, snapshot.states, {
          states: states.map((s) => ({ id: s.id, shape: storageShapeOf(s.kind) })),
          inRange: (kg) => this.keyGroupRange.contains(kg),
          put: (st, kg, k, ns, uk, v) => {
            this.stmts.putRow(st, kg, k, ns, uk, v, null);
            this.stmts.maybeCommit();
          },
        });
      } catch (e) {
        throw stateFailure(e, this, states.map((s) => s.name).join(', '));
      }
      for (const s of states) if (s.options.expiry !== undefined) s.needsExpiryBackfill = true;
    }
    this.cache.clear();
    this.stmts.commit();
  }

  /** Reuses the local file when it provably holds exactly what `snapshots` restore (see `fingerprint.ts`); returns whether it did. */
  private async reuseIfAt(snapshots: readonly KeyedStateSnapshot[]): Promise<boolean> {
    const saved = await savedStatesIfAt(this.stmts, snapshots, this.keyGroupRange);
    if (saved === undefined) return false;
    this.pendingWipe = false;
    for (const { state, ttl } of saved) {
      this.adoptState(state.name, state.kind, state, ttl);
      this.nextStateId = Math.max(this.nextStateId, state.id + 1);
    }
    this.reused = true;
    return true;
  }

  async *keys(stateName: string, namespace: string): AsyncIterable<Key> {
    this.ensureFresh();
    const s = this.stateOf(stateName);
    if (s === undefined) return;
    this.flushSync();
    let afterKg = -1;
    let afterK: Uint8Array | number = 0;
    for (;;) {
      let page: Array<[number, Uint8Array]>;
      try {
        page = this.stmts.keysAfter(s.id, namespace, afterKg, afterK, PAGE);
      } catch (e) {
        throw stateFailure(e, this, stateName);
      }
      for (const [, k] of page) yield keyFromCanonicalBytes(k);
      if (page.length < PAGE) return;
      [afterKg, afterK] = page[page.length - 1]!;
    }
  }

  /**
   * What this backend holds where: its VFS and file, the bytes in the JS cache, the rows
   * in SQLite (after writing the cache back) and SQLite's count of changed rows since
   * the database was opened. For monitoring, tests and benchmarks.
   */
  stats(): SqliteBackendStats {
    this.flushSync();
    const { rows, changes } = this.stmts.counts();
    return { vfs: this.vfs, fileName: this.fileName, cachedBytes: this.cache.size, rows, changes, reusedLocalCopy: this.reused };
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.cache.clear();
    this.clearCurrentKey();
    try {
      this.stmts.commit();
    } catch {
      // A failed database already reported its failure when it happened; its working copy is discarded anyway.
    } finally {
      this.stmts.close();
      this.afterClose();
    }
  }
}

/** See {@link SqliteKeyedStateBackend.stats}. */
export interface SqliteBackendStats {
  readonly vfs: SqliteVfs;
  readonly fileName: string;
  /** Bytes held by the write-behind cache (encoded values, keys, bookkeeping estimate). */
  readonly cachedBytes: number;
  /** Rows of state in SQLite: one per value, list element and map entry. */
  readonly rows: number;
  /** Rows inserted, updated or deleted since the database was opened. */
  readonly changes: number;
  /** The last restore reused the local file (it was provably at the restored checkpoint) instead of loading the snapshots. */
  readonly reusedLocalCopy: boolean;
}
