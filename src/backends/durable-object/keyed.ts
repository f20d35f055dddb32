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
import { deserializeValue } from '../../format/value-codec.ts';
import { storageShapeOf, type KeyedStateSnapshot, type TtlMetaInfo } from '../../format/snapshot-format.ts';
import type { KeyedSnapshotOptions, KeyedStateBackendOptions, ListTable, MapTable, ValueTable } from '../../state/backend.ts';
import { KeyedBackendBase, type TableConfig } from '../../state/keyed-backend-base.ts';
import { PLAIN_VALUES } from '../../state/stored-values.ts';
import type { Tables } from './schema.ts';
import { encodeFull, restoreKeyGroups, type EncodedState } from './snapshots.ts';
import { sqlFailure, type DurableObjectStorageLike } from './storage.ts';
import { listTable, mapTable, PAGE, valueTable, type DoState, type TableContext } from './tables.ts';

/** The keyed state of one subtask in a Durable Object; created by `DurableObjectStateBackend`. */
export class DurableObjectKeyedStateBackend extends KeyedBackendBase<DoState> implements TableContext {
  readonly nativeTtlCleanup = true;
  currentKg = -1;
  private currentKeyBytes: Uint8Array | undefined;

  /**
   * @param scope names this subtask's states among all the object holds (see `DurableObjectStateBackendOptions.scope`).
   */
  constructor(
    private readonly storage: DurableObjectStorageLike,
    readonly tables: Tables,
    options: KeyedStateBackendOptions,
    readonly scope: string,
  ) {
    super('durable-object', options);
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
  }

  protected override leaveKey(): void {
    this.currentKeyBytes = undefined;
    this.currentKg = -1;
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

  /** Native TTL cleanup: one indexed DELETE per state with an expiry. Writes are durable as they happen; nothing else to flush. */
  async flush(): Promise<void> {
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
    }
  }

  /** Incremental TTL cleanup (see `KeyedStateBackend.pruneEntries`): walks entries in key order from the state's cursor. */
  pruneEntries(stateName: string, limit: number, isStale: (stored: unknown) => boolean): number {
    const s = this.stateOf(stateName);
    if (s === undefined || limit <= 0) return 0;
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
    for (const [i, snapshot] of snapshots.entries()) {
      const states = statesOf[i]!;
      const names = states.map((s) => s.name).join(', ');
      this.guarded(
        'restoring a snapshot',
        () =>
          this.atomically(() =>
            restoreKeyGroups(snapshot.keyGroups, snapshot.states, {
              states: states.map((s) => ({ id: s.id, shape: storageShapeOf(s.kind) })),
              inRange: (kg) => this.keyGroupRange.contains(kg),
              put: (st, kg, k, ns, uk, v) => this.tables.putRow(st, kg, k, ns, uk, v, null),
            }),
          ),
        names,
      );
      for (const s of states) if (s.options.expiry !== undefined) s.needsExpiryBackfill = true;
    }
  }

  async *keys(stateName: string, namespace: string): AsyncIterable<Key> {
    const s = this.stateOf(stateName);
    if (s === undefined) return;
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
    return this.guarded('counting rows', () => this.tables.countRows(this.registeredStates().map((s) => s.id)));
  }

  /** Forgets the key context; the stored state stays in the object (it is durable, not a working copy). */
  async dispose(): Promise<void> {
    this.clearCurrentKey();
    this.forgetStates();
  }
}
