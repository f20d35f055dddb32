/**
 * The keyed state of one operator subtask in a Durable Object's SQLite: registry, current
 * key, snapshots, restore and native TTL cleanup, over the rows of `tables.ts`.
 *
 * Unlike the SQLite-WASM backend's working copy, the object's storage is durable and
 * strongly consistent: a backend opened again (the object was evicted or restarted) finds
 * the states its scope saved and carries on from them. `restore()` replaces them.
 */
import type { StateKind } from '../../api/descriptors.ts';
import { canonicalKeyBytes, keyFromCanonicalBytes, type Key } from '../../format/key-bytes.ts';
import { keyId, type KeyId } from '../../format/key-ids.ts';
import { deserializeValue } from '../../format/value-codec.ts';
import { storageShapeOf, type KeyedStateSnapshot, type TtlMetaInfo } from '../../format/snapshot-format.ts';
import type { KeyedSnapshotOptions, KeyedStateBackendOptions, ListTable, MapTable, ValueTable } from '../../state/backend.ts';
import { KeyedBackendBase, type TableConfig } from '../../state/keyed-backend-base.ts';
import { PLAIN_VALUES } from '../../state/stored-values.ts';
import type { FullRow, Tables } from './schema.ts';
import { encodeFull, type EncodedState } from './snapshots.ts';
import { restoreKeyGroups } from '../../format/row-snapshots.ts';
import { sqlFailure, type DurableObjectStorageLike } from './storage.ts';
import { listTable, mapTable, PAGE, valueTable, type DoState, type TableContext } from './tables.ts';
import { ValueRowCache } from './value-cache.ts';

/** The keyed state of one subtask in a Durable Object; created by `DurableObjectStateBackend`. */
export class DurableObjectKeyedStateBackend extends KeyedBackendBase<DoState> implements TableContext {
  readonly nativeTtlCleanup = true;
  /** `ctx.storage.sql` answers synchronously, so every state may be used through getSync*State. */
  readonly syncAccess = 'always';
  currentKg = -1;
  currentId: KeyId = '';
  readonly cache: ValueRowCache | undefined;
  private currentKeyBytes: Uint8Array | undefined;

  /**
   * @param scope names this subtask's states among all the object holds (see `DurableObjectStateBackendOptions.scope`).
   * @param cacheRows the bound of the write-behind value cache; 0: no cache.
   */
  constructor(
    private readonly storage: DurableObjectStorageLike,
    readonly tables: Tables,
    options: KeyedStateBackendOptions,
    readonly scope: string,
    cacheRows = 0,
  ) {
    super('durable-object', options);
    this.cache = cacheRows > 0 ? new ValueRowCache(cacheRows, tables, (f) => this.atomically(f)) : undefined;
    const saved = this.guarded('opening the saved states', () => tables.savedStates(scope));
    for (const s of saved) {
      const state: DoState = {
        id: s.id,
        name: s.name,
        kind: s.kind as StateKind,
        options: { values: PLAIN_VALUES },
        needsExpiryBackfill: false,
        requested: false,
      };
      this.adoptState(s.name, state.kind, state, s.ttlMs === null ? undefined : { ttlMs: s.ttlMs });
    }
  }

  atomically<T>(f: () => T): T {
    return this.storage.transactionSync(f);
  }

  protected enterKey(key: Key, keyGroup: number): void {
    if (key === this.currentKey && keyGroup === this.currentKg) return;
    this.currentKg = keyGroup;
    this.currentKeyBytes = undefined;
    if (this.cache !== undefined) this.currentId = keyId(key);
  }

  protected override leaveKey(): void {
    this.currentKeyBytes = undefined;
    this.currentKg = -1;
    this.currentId = '';
  }

  /** Writes the value cache's dirty rows to SQLite (nothing without a cache). */
  private writeBack(): void {
    if (this.cache !== undefined) this.guarded('writing cached values back', () => this.cache!.writeBack());
  }

  /**
   * Brings the backend back in line with its storage after the host rolled back a
   * transaction in which it wrote (`ctx.storage.transaction` that threw): forgets the
   * value cache (it could hold rolled-back values) and saves again the states registered
   * inside that transaction (their saved names were rolled back with it). A host that
   * rolls back must call it before the backend is used again.
   */
  afterRollback(): void {
    this.cache?.clear();
    // A rolled-back flush may have taken expiries it had backfilled with it.
    for (const s of this.registeredStates()) if (s.options.expiry !== undefined) s.needsExpiryBackfill = true;
    this.guarded('saving the states again after a rollback', () => {
      for (const s of this.registeredStates())
        this.tables.resaveState(s.id, this.scope, s.name, s.kind, this.states().find((m) => m.name === s.name)?.ttl?.ttlMs ?? null);
    });
  }

  /** The same as {@link afterRollback}. */
  discardCache(): void {
    this.afterRollback();
  }

  keyBytes(): Uint8Array {
    return (this.currentKeyBytes ??= canonicalKeyBytes(this.currentKey!));
  }

  private guarded<R>(what: string, f: () => R, state?: string): R {
    try {
      return f();
    } catch (e) {
      throw sqlFailure(e, { component: this.component, operator: this.operatorName, state }, what);
    }
  }

  protected createState(name: string, kind: StateKind, ttl: TtlMetaInfo | undefined): DoState {
    const id = this.guarded('saving a new state', () => this.tables.saveState(this.scope, name, kind, ttl?.ttlMs ?? null), name);
    return { id, name, kind, options: { values: PLAIN_VALUES }, needsExpiryBackfill: false, requested: true };
  }

  protected configureState(s: DoState, config: TableConfig): void {
    // Rows written before the state had an expiry (restored or adopted ones) get theirs before cleanup deletes by it.
    if (config.expiry !== undefined && s.options.expiry === undefined) s.needsExpiryBackfill = true;
    s.options = config;
  }

  protected openValueTable<T>(s: DoState): ValueTable<T> {
    s.requested = true;
    return valueTable<T>(this, s);
  }

  protected openListTable<T>(s: DoState): ListTable<T> {
    s.requested = true;
    return listTable<T>(this, s);
  }

  protected openMapTable<V>(s: DoState): MapTable<V> {
    s.requested = true;
    return mapTable<V>(this, s);
  }

  /** Writes the value cache back (if any), then native TTL cleanup: one indexed DELETE per state with an expiry. */
  async flush(): Promise<void> {
    this.writeBack();
    for (const s of this.registeredStates()) {
      const expiry = s.options.expiry;
      if (expiry === undefined) continue;
      this.guarded(
        'deleting expired state',
        () =>
          this.atomically(() => {
            if (s.needsExpiryBackfill) {
              for (const [kg, k, ns, uk, v] of this.tables.withoutExpiry(s.id))
                this.tables.setExpiry(s.id, kg, k, ns, uk, expiry.expiryOf(deserializeValue(v)));
              s.needsExpiryBackfill = false;
            }
            this.tables.deleteExpired(s.id, expiry.now());
          }),
        s.name,
      );
      // Rows went behind the cache (it holds no dirty rows after the write-back).
      this.cache?.dropState(s.id);
    }
  }

  /** Incremental TTL cleanup (see `KeyedStateBackend.pruneEntries`): walks entries in key order from the state's cursor. */
  pruneEntries(stateName: string, limit: number, isStale: (stored: unknown) => boolean): number {
    const s = this.stateOf(stateName);
    if (s === undefined || limit <= 0) return 0;
    this.writeBack();
    this.cache?.dropState(s.id);
    const { tables } = this;
    return this.guarded(
      'cleaning up expired state',
      () =>
        this.atomically(() => {
          const entries = tables.entriesAfter(s.id, s.pruneCursor ?? [-1, 0, ''], limit);
          for (const [kg, k, ns] of entries) {
            for (const [uk, v] of tables.entryRows(s.id, kg, k, ns)) if (isStale(deserializeValue(v))) tables.deleteRow(s.id, kg, k, ns, uk);
          }
          s.pruneCursor = entries.length < limit ? undefined : entries[entries.length - 1];
          return entries.length;
        }),
      stateName,
    );
  }

  /**
   * A full snapshot in the canonical format, read and encoded inside this call (the object
   * is single-threaded: nothing is written meanwhile). Incremental snapshots are not
   * offered; a full one is always correct.
   */
  async snapshot(_options: KeyedSnapshotOptions = {}): Promise<KeyedStateSnapshot> {
    const { states, head } = this.captureStates();
    this.writeBack();
    const encoded: EncodedState[] = states.map((s) => ({ id: s.id, shape: storageShapeOf(s.kind), drop: s.options.snapshotFilter?.() }));
    const keyGroups = this.guarded(
      'taking a snapshot',
      () => encodeFull(this.tables, encoded, this.keyGroupRange.start, this.keyGroupRange.end),
      states.map((s) => s.name).join(', '),
    );
    return { ...head, keyGroups };
  }

  /**
   * A restore replaces what the scope holds: the rows of every state go, and states only
   * found in storage (not requested since the backend opened) are forgotten, so that the
   * snapshot's states register afresh. States requested already keep their options.
   */
  protected override restoreInPlace(): boolean {
    const kept = this.registeredStates().filter((s) => s.requested);
    const ttlOf = new Map(this.states().map((m) => [m.name, m.ttl]));
    this.cache?.clear();
    this.guarded('emptying the state before a restore', () =>
      this.atomically(() => {
        for (const s of this.registeredStates()) this.tables.dropState(s.id, s.requested);
      }),
    );
    this.forgetStates();
    for (const s of kept) {
      const options = s.options;
      this.adoptState(s.name, s.kind, s, ttlOf.get(s.name));
      s.options = options;
    }
    return false;
  }

  protected async load(snapshots: readonly KeyedStateSnapshot[], statesOf: ReadonlyArray<readonly DoState[]>): Promise<void> {
    this.cache?.clear();
    for (const [i, snapshot] of snapshots.entries()) {
      const states = statesOf[i]!;
      const names = states.map((s) => s.name).join(', ');
      this.guarded(
        'restoring a snapshot',
        () =>
          this.atomically(() => {
            // Rows go in batches of multi-row INSERTs: a large restore is bound by statements, not rows.
            const pending: FullRow[] = [];
            restoreKeyGroups(snapshot.keyGroups, snapshot.states, {
              states: states.map((s) => ({ id: s.id, shape: storageShapeOf(s.kind) })),
              inRange: (kg) => this.keyGroupRange.contains(kg),
              put: (st, kg, k, ns, uk, v) => {
                if (pending.push([st, kg, k, ns, uk, v, null]) >= 1400) this.tables.putRows(pending.splice(0));
              },
            });
            this.tables.putRows(pending);
          }),
        names,
      );
      for (const s of states) if (s.options.expiry !== undefined) s.needsExpiryBackfill = true;
    }
  }

  async *keys(stateName: string, namespace: string): AsyncIterable<Key> {
    const s = this.stateOf(stateName);
    if (s === undefined) return;
    this.writeBack();
    let afterKg = -1;
    let afterK: Uint8Array | number = 0;
    for (;;) {
      const page = this.guarded('listing keys', () => this.tables.keysAfter(s.id, namespace, afterKg, afterK, PAGE), stateName);
      for (const [, k] of page) yield keyFromCanonicalBytes(k);
      if (page.length < PAGE) return;
      [afterKg, afterK] = page[page.length - 1]!;
    }
  }

  /** Rows this subtask stores (one per value, list element and map entry), for monitoring and tests. */
  rowCount(): number {
    this.writeBack();
    return this.guarded('counting rows', () => this.tables.countRows(this.registeredStates().map((s) => s.id)));
  }

  /** Rows in the value cache (0 without one). */
  cachedRows(): number {
    return this.cache?.size ?? 0;
  }

  /** Writes the value cache back and forgets the key context; the stored state stays in the object (it is durable, not a working copy). */
  async dispose(): Promise<void> {
    try {
      this.writeBack();
    } finally {
      this.cache?.clear();
    }
    this.clearCurrentKey();
    this.forgetStates();
  }
}
