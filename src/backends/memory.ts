/**
 * `HashMapStateBackend`: keyed state as live JavaScript objects in memory, one `Map` per
 * (state, namespace, key group). Nothing is serialised on the hot path; values are
 * encoded into the canonical form only when a snapshot is taken — in the background,
 * copy-on-write, and as a delta when incremental checkpoints are on
 * (`memory-snapshots.ts`).
 */
import type { StateKind } from '../api/descriptors.ts';
import type { KeyedSnapshotOptions, KeyedStateBackend, KeyedStateBackendOptions, ListTable, MapTable, StateBackend, ValueTable } from '../state/backend.ts';
import { keyFromId, keyId, type KeyId } from '../format/key-ids.ts';
import type { Key } from '../format/key-bytes.ts';
import { KeyedBackendBase, type TableConfig } from '../state/keyed-backend-base.ts';
import { loadKeyGroup, storageShapeOf, type KeyedStateSnapshot } from '../format/snapshot-format.ts';
import { SnapshotSupport, encodeDelta, encodeFull, type KeyGroupMaps, type KeyMap } from './memory-snapshots.ts';
import { HeapTable, HeapValueTable } from './memory-tables.ts';

/** Keeps keyed state as live objects on the JavaScript heap (Flink's `HashMapStateBackend`). */
export class HashMapStateBackend implements StateBackend {
  readonly name = 'hashmap';

  /** Creates the keyed state of one operator subtask. */
  createKeyedStateBackend(options: KeyedStateBackendOptions): KeyedStateBackend {
    return new HeapKeyedStateBackend(options);
  }
}

class HeapKeyedStateBackend extends KeyedBackendBase<HeapTable> {
  /** Every table method answers synchronously: live objects in memory. */
  readonly syncAccess = 'always';
  /** The id the current key is stored under. */
  currentKeyId: KeyId = '';
  /** Index of the current key group within the range (-1: no key); callers check the key is set. */
  currentIndex = -1;
  /** Copy-on-write and change tracking for snapshots. */
  readonly support = new SnapshotSupport();

  constructor(options: KeyedStateBackendOptions) {
    super('hashmap', options);
  }

  protected enterKey(key: Key, _keyGroup: number, index: number): void {
    this.currentKeyId = keyId(key);
    this.currentIndex = index;
  }

  protected override leaveKey(): void {
    this.currentIndex = -1;
    // Holds no key once none is set (a disposed backend may be kept for its shape).
    this.currentKeyId = '';
  }

  protected createState(name: string, kind: StateKind): HeapTable {
    return new HeapTable(name, kind, this);
  }

  protected configureState(table: HeapTable, config: TableConfig): void {
    table.configure(config);
  }

  protected openValueTable<T>(t: HeapTable): ValueTable<T> {
    return new HeapValueTable<T>(t, this);
  }

  protected openListTable<T>(t: HeapTable): ListTable<T> {
    const live = (ns: string) => t.readOwned(ns) as T[] | undefined;
    const append = (ns: string, values: readonly T[]) => {
      const list = live(ns);
      if (list === undefined) return t.set(ns, values.map(t.copy));
      for (const v of values) list.push(t.copy(v));
      t.touched(ns);
    };
    return {
      get: (ns) => live(ns)?.slice(),
      add: (ns, value) => append(ns, [value]),
      addAll: (ns, values) => {
        if (values.length > 0) append(ns, values);
      },
      update: (ns, values) => {
        if (values.length > 0) return t.set(ns, values.map(t.copy));
        t.existingWritable(ns)?.delete(this.currentKeyId);
        t.touched(ns);
      },
      remove: (ns) => {
        t.existingWritable(ns)?.delete(this.currentKeyId);
        t.touched(ns);
      },
    };
  }

  protected openMapTable<V>(t: HeapTable): MapTable<V> {
    const inner = (ns: string) => t.readOwned(ns) as Map<KeyId, V> | undefined;
    const innerForWrite = (ns: string) => {
      let m = inner(ns);
      if (m === undefined) t.set(ns, (m = new Map()));
      else t.touched(ns);
      return m;
    };
    return {
      get: (ns, userKey) => inner(ns)?.get(keyId(userKey)),
      put: (ns, userKey, value) => {
        innerForWrite(ns).set(keyId(userKey), t.copy(value));
      },
      putAll: (ns, entries) => {
        if (entries.length === 0) return;
        const m = innerForWrite(ns);
        for (const [k, v] of entries) m.set(keyId(k), t.copy(v));
      },
      delete: (ns, userKey) => {
        const m = inner(ns);
        if (m === undefined) return;
        m.delete(keyId(userKey));
        if (m.size === 0) t.existingWritable(ns)?.delete(this.currentKeyId);
        t.touched(ns);
      },
      contains: (ns, userKey) => (t.readMap(ns)?.get(this.currentKeyId) as Map<KeyId, V> | undefined)?.has(keyId(userKey)) ?? false,
      isEmpty: (ns) => ((t.readMap(ns)?.get(this.currentKeyId) as Map<KeyId, V> | undefined)?.size ?? 0) === 0,
      entries: (ns) => iterateMap(inner(ns)),
      syncEntries: (ns) => entriesOf(inner(ns)),
      remove: (ns) => {
        t.existingWritable(ns)?.delete(this.currentKeyId);
        t.touched(ns);
      },
    };
  }

  /** Incremental TTL cleanup over live objects; synchronous, as everything here. */
  pruneEntries(stateName: string, limit: number, isStale: (stored: unknown) => boolean): number {
    return this.stateOf(stateName)?.prune(limit, isStale) ?? 0;
  }

  async snapshot(options: KeyedSnapshotOptions = {}): Promise<KeyedStateSnapshot> {
    // Everything up to the first await runs within the call: that is the capture.
    const { states: tables, head } = this.captureStates();
    // Full-snapshot cleanup: one filter per state, fixed for this snapshot.
    const drops = tables.map((t) => t.options.snapshotFilter?.());
    const { start, size } = this.keyGroupRange;
    const delta = this.support.begin(options.checkpointId, options.incremental === true);
    if (delta) {
      const { keyGroups, removed } = encodeDelta(tables, drops, start);
      return { ...head, keyGroups, incremental: { baseCheckpointId: this.support.base!, removed } };
    }
    const captured = tables.map((t, i) => ({
      shape: storageShapeOf(t.kind),
      namespaces: [...t.byNamespace].map(([ns, maps]): [string, KeyGroupMaps] => [ns, maps.slice()]),
      drop: drops[i],
    }));
    const release = this.support.freeze(captured.flatMap((c) => c.namespaces.flatMap(([, maps]) => maps.filter((m) => m !== undefined))));
    try {
      // Give the records a turn before encoding starts.
      await new Promise((resolve) => setTimeout(resolve, 0));
      return { ...head, keyGroups: await encodeFull(captured, start, size) };
    } finally {
      release();
    }
  }

  notifyCheckpointComplete(checkpointId: number): void {
    const epoch = this.support.complete(checkpointId);
    if (epoch !== undefined) for (const t of this.registeredStates()) t.marks.forget(epoch);
  }

  protected async load(snapshots: readonly KeyedStateSnapshot[], states: ReadonlyArray<readonly HeapTable[]>): Promise<void> {
    const { start } = this.keyGroupRange;
    for (const [i, snapshot] of snapshots.entries()) {
      const tables = states[i]!;
      let index = 0;
      const mapFor = (stateIndex: number, namespace: string): KeyMap => {
        const table = tables[stateIndex]!;
        const kgMaps = table.byNamespace.get(namespace) ?? table.addMaps(namespace);
        return (kgMaps[index] ??= new Map());
      };
      for (const [keyGroup, bytes] of snapshot.keyGroups) {
        if (!this.keyGroupRange.contains(keyGroup)) continue;
        index = keyGroup - start;
        loadKeyGroup(bytes, snapshot.states, mapFor);
      }
    }
  }

  async *keys(stateName: string, namespace: string): AsyncIterable<Key> {
    const maps = this.stateOf(stateName)?.byNamespace.get(namespace);
    if (maps === undefined) return;
    for (const map of maps) {
      if (map === undefined) continue;
      for (const id of [...map.keys()]) yield keyFromId(id);
    }
  }

  async dispose(): Promise<void> {
    this.support.stop();
    // A state handle outlives the job in its user function (and the engine keeps a closed
    // job's objects for their shapes, engine/warm-shapes.ts): neither may pin the state.
    for (const t of this.registeredStates()) t.drop();
    this.forgetStates();
    this.clearCurrentKey();
  }
}

/** A map's entries as of the call (a copy, as for `entries()`), keys decoded as they are consumed. */
function entriesOf<V>(inner: Map<KeyId, V> | undefined): Iterable<[Key, V]> {
  if (inner === undefined) return [];
  const copy = [...inner];
  return (function* () {
    for (const [id, v] of copy) yield [keyFromId(id), v] as [Key, V];
  })();
}

async function* iterateMap<V>(inner: Map<KeyId, V> | undefined): AsyncIterable<[Key, V]> {
  if (inner === undefined) return;
  // A copy, so that puts and removes during iteration behave like other backends'.
  for (const [id, v] of [...inner]) yield [keyFromId(id), v];
}
