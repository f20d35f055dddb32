/**
 * The keyed state of one operator subtask in IndexedDB: a write-behind cache
 * (`cache.ts`) over the job's database, flushed many keys per transaction.
 *
 * Why `durability: 'relaxed'` is safe: the database is a working copy, never the source
 * of truth (DESIGN §2.4). What a crash may lose from it is lost anyway — the job restarts
 * from its last complete checkpoint, which lives in the checkpoint storage, and a new
 * backend always starts by clearing its key-group range. Strict durability would buy
 * nothing but an fsync per flush.
 *
 * Consistent snapshots without stopping the world rely on IndexedDB's transaction order:
 * `snapshot()` synchronously issues the flush of the dirty cells (a readwrite transaction)
 * and then a readonly transaction reading the whole key-group range. The readonly one runs
 * after the flush, and every later flush (of writes made after `snapshot()` was called)
 * waits for it. So the snapshot sees exactly the state at the call.
 */
import type { StateKind } from '../../api/descriptors.ts';
import type { ErrorContext, StateBackendError } from '../../api/errors.ts';
import { keyId, type KeyId } from '../../format/key-ids.ts';
import type { Key } from '../../format/key-bytes.ts';
import type { KeyedSnapshotOptions, KeyedStateBackendOptions, ListTable, MapTable, MaybePromise, ValueTable } from '../../state/backend.ts';
import { KeyedBackendBase, type TableConfig } from '../../state/keyed-backend-base.ts';
import type { KeyedStateSnapshot } from '../../format/snapshot-format.ts';
import { Table, type Cell, type Coord, type MapCell } from './cache.ts';
import { COMPONENT, ENTRIES, mapError, transactionDone, type IdbEnvironment, type StoredRecord } from './database.ts';
import { idOf, keyPartOf, type KeyPart, type RecordKey } from './layout.ts';
import { ChangeTracker } from './marks.ts';
import { flushDirty } from './flush.ts';
import { prefetchKeys } from './resident.ts';
import { deleteExpired, listKeys, loadSnapshots, takeSnapshot } from './persist.ts';
import { listTable, mapTable, valueTable } from './tables.ts';

/** Sizes of the cache layer (see `IndexedDbStateBackendOptions`). */
export interface CacheLimits {
  readonly writeBehind: number;
  readonly cacheSize: number;
  readonly restoreBatch: number;
  readonly trackedKeys: number;
}

/** `IndexedDbStateBackend`'s keyed backend; created (and its range cleared) by the factory. */
export class IdbKeyedStateBackend extends KeyedBackendBase<Table> {
  /** Expired TTL state is deleted through the `expiry` index on every `flush()`. */
  readonly nativeTtlCleanup = true;
  /** Synchronous for what the cache holds: each batch's (and timer's) keys are prefetched and kept until the next batch. */
  readonly syncAccess = 'resident';
  /** @internal The keys of the current batch (and the timers fired since): eviction keeps their cells. */
  pinned = new Set<KeyId>();
  readonly op: string;
  private at: Coord = { kid: '', kg: -1, part: '' };
  /** @internal The cells written since the last flush. */
  readonly dirty = new Set<Cell | MapCell>();
  /** @internal Dirty entries (value and list cells, map entries) waiting for the next flush. */
  pendingWrites = 0;
  /** @internal Cells cached, counted against the cache size. */
  cached = 0;
  /** @internal Incremented whenever clean cells are dropped: a read issued before must not repopulate the cache. */
  generation = 0;
  /** @internal False until something may be in the database (nothing is, right after the range was cleared). */
  mayHaveStored = false;
  /** @internal Change marks for deltas. */
  readonly tracker = new ChangeTracker();
  private pendingReads: Array<{ key: RecordKey; resolve: (r: StoredRecord | undefined) => void; reject: (e: unknown) => void }> = [];
  /** Set once the database is gone or a flush failed; every later call throws it. */
  private failed: StateBackendError | undefined;
  private disposed = false;

  constructor(
    readonly db: IDBDatabase,
    readonly env: IdbEnvironment,
    readonly options: KeyedStateBackendOptions,
    readonly limits: CacheLimits,
    readonly databaseName: string,
  ) {
    super('indexeddb', options);
    this.op = options.operatorId;
    const lost = (why: string) => {
      this.fail(
        this.failure(
          'BACKEND_FAILURE',
          `database "${databaseName}" ${why}; the working copy of the state is gone: restart the job so that it restores from its last checkpoint`,
        ),
      );
      db.close();
    };
    // Another tab deleting or upgrading the database: let go at once (never block it), and fail loudly.
    db.onversionchange = (e) =>
      lost(e.newVersion === null ? 'was deleted by another tab, worker or the user' : `is being upgraded to version ${e.newVersion} by another tab or worker`);
    db.onclose = () => lost('was closed by the browser (storage cleared or the disk failed)');
  }

  ctx(state?: string): ErrorContext {
    return { component: COMPONENT, operator: this.operatorName, state };
  }

  /** @internal Records the first failure; every later call throws it. */
  fail(e: StateBackendError): void {
    this.failed ??= e;
  }

  /** Throws the recorded failure, if any: nothing is silently lost after the database went away. */
  check(): void {
    if (this.failed !== undefined) throw this.failed;
    if (this.disposed) throw this.failure('BACKEND_FAILURE', 'the backend was disposed');
  }

  protected enterKey(key: Key, keyGroup: number): void {
    const kid = keyId(key);
    this.at = { kid, kg: keyGroup, part: keyPartOf(kid) };
  }

  /** The current key's coordinates, captured by every access (it may await). */
  coord(): Coord {
    return this.at;
  }

  protected createState(name: string, kind: StateKind): Table {
    return new Table(name, kind);
  }

  protected configureState(t: Table, config: TableConfig): void {
    t.options = config;
  }

  protected openValueTable<T>(t: Table): ValueTable<T> {
    return valueTable<T>(this, t);
  }

  protected openListTable<T>(t: Table): ListTable<T> {
    return listTable<T>(this, t);
  }

  protected openMapTable<V>(t: Table): MapTable<V> {
    return mapTable<V>(this, t);
  }

  // ---------------------------------------------------------------------------------
  // Reads: cache first; misses of one turn go to IndexedDB together

  /** @internal */
  recordKey(t: Table, ns: string, at: Coord, userKey?: KeyPart): RecordKey {
    return userKey === undefined ? [this.op, at.kg, t.name, at.part, ns] : [this.op, at.kg, t.name, at.part, ns, userKey];
  }

  /** Reads one record; every read requested in the same microtask turn shares one transaction. */
  private read(key: RecordKey): Promise<StoredRecord | undefined> {
    return new Promise((resolve, reject) => {
      if (this.pendingReads.length === 0) queueMicrotask(() => this.runReads());
      this.pendingReads.push({ key, resolve, reject });
    });
  }

  private runReads(): void {
    const batch = this.pendingReads;
    this.pendingReads = [];
    try {
      this.check();
      const tx = this.db.transaction(ENTRIES, 'readonly');
      const store = tx.objectStore(ENTRIES);
      for (const item of batch) {
        const request = store.get(item.key);
        request.onsuccess = () => item.resolve(request.result as StoredRecord | undefined);
      }
      transactionDone(tx, this.ctx(), 'read state').catch((e) => batch.forEach((item) => item.reject(e)));
    } catch (e) {
      const error = mapError(e, this.ctx(), 'read state');
      batch.forEach((item) => item.reject(error));
    }
  }

  /** The record of a value or list entry. */
  readCell(t: Table, ns: string, at: Coord): MaybePromise<StoredRecord | undefined> {
    this.check();
    const cell = t.cell(ns, at.kid);
    if (cell !== undefined) return cell.rec;
    if (!this.mayHave(t, at.kid)) {
      // Nothing is stored for this key: a miss is known to be absent, and remembering it spares a read later.
      t.addCell(ns, at, undefined, false);
      this.remember();
      return undefined;
    }
    const generation = this.generation;
    return this.read(this.recordKey(t, ns, at)).then((rec) => {
      const now = t.cell(ns, at.kid);
      if (now !== undefined) return now.rec;
      if (generation === this.generation) {
        t.addCell(ns, at, rec, false);
        this.remember();
      }
      return rec;
    });
  }

  /** Writes (or, with undefined, deletes) a value or list entry into the cache. */
  writeCell(t: Table, ns: string, at: Coord, rec: StoredRecord | undefined): MaybePromise<void> {
    this.check();
    let cell = t.cell(ns, at.kid);
    if (cell === undefined) {
      cell = t.addCell(ns, at, rec, false);
      this.remember();
    } else cell.rec = rec;
    return this.touched(cell);
  }

  /** One entry of a map: cached overlay first, then the database. */
  readMapEntry(t: Table, ns: string, at: Coord, userKey: KeyId): MaybePromise<StoredRecord | undefined> {
    this.check();
    const cell = t.mapCell(ns, at.kid);
    const entry = cell?.entries.get(userKey);
    if (entry !== undefined) return entry.rec;
    if (cell?.cleared || cell?.complete || !this.mayHave(t, at.kid)) return undefined;
    const generation = this.generation;
    const part = keyPartOf(userKey);
    return this.read(this.recordKey(t, ns, at, part)).then((rec) => {
      let now = t.mapCell(ns, at.kid);
      const known = now?.entries.get(userKey);
      if (known !== undefined) return known.rec;
      if (now?.cleared) return undefined;
      if (generation === this.generation) {
        if (now === undefined) {
          now = t.addMapCell(ns, at);
          this.remember();
        }
        now.entries.set(userKey, { part, rec });
        this.remember();
      }
      return rec;
    });
  }

  /** Writes (or deletes) map entries into the overlay. */
  writeMapEntries(t: Table, ns: string, at: Coord, entries: ReadonlyArray<readonly [KeyId, StoredRecord | undefined]>): MaybePromise<void> {
    this.check();
    const cell = this.mapCellFor(t, ns, at);
    const before = cell.dirtyKeys.size;
    for (const [userKey, rec] of entries) {
      cell.entries.set(userKey, { part: keyPartOf(userKey), rec });
      cell.dirtyKeys.add(userKey);
      this.remember();
    }
    return this.touched(cell, cell.dirtyKeys.size - before);
  }

  /** Removes a whole map: one range delete at flush time. */
  clearMap(t: Table, ns: string, at: Coord): MaybePromise<void> {
    this.check();
    const cell = this.mapCellFor(t, ns, at);
    cell.clears++;
    cell.cleared = true;
    cell.entries.clear();
    cell.dirtyKeys.clear();
    return this.touched(cell);
  }

  /** @internal The overlay of a map, created when missing. */
  mapCellFor(t: Table, ns: string, at: Coord): MapCell {
    let cell = t.mapCell(ns, at.kid);
    if (cell === undefined) {
      cell = t.addMapCell(ns, at);
      // Nothing stored for this key: the overlay is the whole map.
      cell.complete = !this.mayHave(t, at.kid);
      this.remember();
    }
    return cell;
  }

  /**
   * Every entry of a map, as of this call: the overlay captured now over a range read
   * whose transaction is created now (so it sees every flush issued before).
   */
  mapContents(t: Table, ns: string, at: Coord, limit?: number): Promise<Array<[KeyId, StoredRecord]>> {
    this.check();
    const cell = t.mapCell(ns, at.kid);
    const overlay = new Map(cell?.entries ?? []);
    const merged = (keys: readonly IDBValidKey[], recs: readonly StoredRecord[] | undefined): Array<[KeyId, StoredRecord]> => {
      const out: Array<[KeyId, StoredRecord]> = [];
      keys.forEach((k, i) => {
        const userKey = idOf((k as RecordKey)[5]!);
        if (overlay.has(userKey)) return;
        out.push([userKey, recs === undefined ? (undefined as unknown as StoredRecord) : recs[i]]);
      });
      for (const [userKey, e] of overlay) if (e.rec !== undefined) out.push([userKey, e.rec]);
      return out;
    };
    if (cell?.cleared || cell?.complete || !this.mayHave(t, at.kid)) return Promise.resolve(merged([], []));
    const range = this.mapRange(t, ns, at);
    const tx = this.db.transaction(ENTRIES, 'readonly');
    const store = tx.objectStore(ENTRIES);
    // isEmpty needs only to know whether more keys exist than the overlay deletes.
    const keysRequest = limit === undefined ? store.getAllKeys(range) : store.getAllKeys(range, overlay.size + limit);
    const valuesRequest = limit === undefined ? store.getAll(range) : undefined;
    return transactionDone(tx, this.ctx(t.name), 'read a map').then(() => merged(keysRequest.result, valuesRequest?.result as StoredRecord[] | undefined));
  }

  /** @internal The records of one map. */
  mapRange(t: Table, ns: string, at: Coord): IDBKeyRange {
    return this.env.keyRange.bound([this.op, at.kg, t.name, at.part, ns], [this.op, at.kg, t.name, at.part, ns, []], true, false);
  }

  /**
   * @internal Whether the database may hold state of `t` for the key: a miss of a key never
   * written (nor restored) needs no read, since the range was empty when this backend started.
   */
  mayHave(t: Table, kid: KeyId): boolean {
    return this.mayHaveStored && (t.stored === undefined || t.stored.has(kid));
  }

  /** @internal Notes that the database now holds state of `t` for the key (until too many keys are tracked). */
  stored(t: Table, kid: KeyId): void {
    if (t.stored === undefined) return;
    t.stored.add(kid);
    if (t.stored.size > this.limits.trackedKeys) t.stored = undefined;
  }

  /** @internal Counts a cached cell against the cache size. */
  remember(): void {
    this.cached++;
  }

  /**
   * Marks a cell dirty. The write-behind bound counts dirty entries, not writes: a key
   * written a thousand times between flushes is one record to write, which is where the
   * cache saves transactions and requests.
   */
  private touched(cell: Cell | MapCell, newlyDirtyEntries?: number): MaybePromise<void> {
    const added = newlyDirtyEntries ?? (cell.dirty ? 0 : 1);
    cell.dirty = true;
    this.dirty.add(cell);
    this.tracker.mark(cell.table, cell.ns, cell.at);
    this.pendingWrites += added;
    if (this.pendingWrites >= this.limits.writeBehind) return this.flushWrites();
  }

  // ---------------------------------------------------------------------------------
  // Flushing

  /** Writes every dirty cell in one readwrite transaction, issued synchronously (see `flush.ts`). */
  flushWrites(): Promise<void> {
    return flushDirty(this);
  }

  /** @internal Drops every cached cell (all must be clean) but those of the current batch's keys. */
  evict(): void {
    let kept = 0;
    for (const t of this.registeredStates()) kept += t.evict(this.pinned);
    this.cached = kept;
    this.generation++;
  }

  async flush(): Promise<void> {
    await this.flushWrites();
    await deleteExpired(this);
  }

  // ---------------------------------------------------------------------------------
  // Snapshots

  /** @internal This subtask's key-group range as one key range. */
  rangeOfGroups(): IDBKeyRange {
    return this.env.keyRange.bound([this.op, this.keyGroupRange.start], [this.op, this.keyGroupRange.end, []]);
  }

  snapshot(options: KeyedSnapshotOptions = {}): Promise<KeyedStateSnapshot> {
    return takeSnapshot(this, this.captureStates(), options);
  }

  notifyCheckpointComplete(checkpointId: number): void {
    this.tracker.complete(checkpointId);
  }

  protected load(snapshots: readonly KeyedStateSnapshot[]): Promise<void> {
    return loadSnapshots(this, snapshots);
  }

  keys(stateName: string, namespace: string): AsyncIterable<Key> {
    return listKeys(this, stateName, namespace);
  }

  /** Maps of `stateName` are used synchronously: prefetch loads them whole from now on. */
  requireResident(stateName: string): void {
    const t = this.stateOf(stateName);
    if (t !== undefined) t.wholeMaps = true;
  }

  /**
   * Loads the void-namespace state of a batch's keys (maps only of states used
   * synchronously, and then whole) and keeps it until the next batch; `more` adds keys.
   */
  async prefetch(keys: readonly Key[], keyGroups: ArrayLike<number>, more = false): Promise<void> {
    if (!more) this.pinned = new Set();
    if (this.failed === undefined) await prefetchKeys(this, keys, keyGroups);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.db.onclose = null;
    this.db.onversionchange = null;
    // The cache is a working copy like the database: nothing to save.
    this.db.close();
    // Nor to keep: a user function's state handle outlives the job, and the engine keeps a
    // closed job's objects for their shapes (engine/warm-shapes.ts).
    for (const t of this.registeredStates()) {
      t.cells.clear();
      t.maps.clear();
      t.stored?.clear();
    }
    this.pinned = new Set();
    this.cached = 0;
  }
}
