/**
 * `HashMapStateBackend`: keyed state as live JavaScript objects in memory, one `Map` per
 * (state, namespace, key group). Nothing is serialised on the hot path; values are
 * encoded into the canonical form only when a snapshot is taken — in the background,
 * copy-on-write, and as a delta when incremental checkpoints are on
 * (`memory-snapshots.ts`).
 */
import type { StateKind } from '../api/descriptors.ts';
import {
  VOID_NAMESPACE,
  type KeyedSnapshotOptions,
  type KeyedStateBackend,
  type KeyedStateBackendOptions,
  type ListTable,
  type MapTable,
  type StateBackend,
  type ValueTable,
} from '../state/backend.ts';
import { keyFromId, keyId, type KeyId } from '../format/key-ids.ts';
import type { Key } from '../format/key-bytes.ts';
import { KeyedBackendBase, type TableConfig } from '../state/keyed-backend-base.ts';
import { PLAIN_VALUES } from '../state/stored-values.ts';
import { loadKeyGroup, storageShapeOf, type KeyedStateSnapshot } from '../format/snapshot-format.ts';
import { ChangeMarks, SnapshotSupport, encodeDelta, encodeFull, keptElements, type KeyGroupMaps, type KeyMap } from './memory-snapshots.ts';

/** Keeps keyed state as live objects on the JavaScript heap (Flink's `HashMapStateBackend`). */
export class HashMapStateBackend implements StateBackend {
  readonly name = 'hashmap';

  /** Creates the keyed state of one operator subtask. */
  createKeyedStateBackend(options: KeyedStateBackendOptions): KeyedStateBackend {
    return new HeapKeyedStateBackend(options);
  }
}

class HeapTable {
  readonly byNamespace = new Map<string, KeyGroupMaps>();
  /** Writes since the last completed checkpoint, for deltas. */
  readonly marks = new ChangeMarks();
  /** The options core gave with the table (snapshot filter, how values are copied). */
  options: TableConfig = { values: PLAIN_VALUES };
  /** How a written value is copied into the state: as core's `StoredValues` says. */
  copy: <T>(value: T) => T = PLAIN_VALUES.copy;
  /** The incremental-cleanup cursor: the maps of this round, and the live iterator of one of them. */
  private round:
    | {
        maps: Array<{ namespace: string; index: number; map: KeyMap }>;
        index: number;
        map?: { namespace: string; index: number; map: KeyMap };
        entries?: Iterator<[KeyId, unknown]>;
      }
    | undefined;
  constructor(
    readonly name: string,
    readonly kind: StateKind,
    private readonly backend: HeapKeyedStateBackend,
  ) {}

  /** Forgets every value (the backend is disposed); the table itself may stay reachable. */
  drop(): void {
    this.byNamespace.clear();
    this.voidMaps = undefined;
    this.round = undefined;
    this.marks.byNamespace.clear();
  }

  configure(options: TableConfig): void {
    this.options = options;
    this.copy = options.values.copy;
  }

  /**
   * The void namespace's entry of `byNamespace`, once it exists. Entries there are only
   * ever added (by {@link addMaps}), never replaced, so most states (which only use that
   * namespace) save one Map lookup per read and write. Set where the entry is added rather
   * than looked up lazily: a lazy lookup is a branch each new table takes once, which
   * deoptimised the compiled record path at the start of every job but the first.
   */
  voidMaps: KeyGroupMaps | undefined;

  private mapsOf(namespace: string): KeyGroupMaps | undefined {
    return namespace === VOID_NAMESPACE ? this.voidMaps : this.byNamespace.get(namespace);
  }

  /** Adds the (empty) key-group maps of a namespace that has none yet. */
  addMaps(namespace: string): KeyGroupMaps {
    const maps: KeyGroupMaps = new Array(this.backend.keyGroupRange.size);
    this.byNamespace.set(namespace, maps);
    if (namespace === VOID_NAMESPACE) this.voidMaps = maps;
    return maps;
  }

  /** The current key group's map, if it exists. */
  readMap(namespace: string): KeyMap | undefined {
    const maps = this.mapsOf(namespace);
    return maps === undefined ? undefined : maps[this.backend.currentIndex];
  }

  /** The current key group's map for writing (a layer over it if a snapshot still reads it), created when missing. */
  private writeMap(namespace: string): KeyMap {
    const maps = this.mapsOf(namespace) ?? this.addMaps(namespace);
    const index = this.backend.currentIndex;
    return this.backend.support.writable(maps, index) ?? (maps[index] = new Map());
  }

  /** The current key group's map for writing, if it exists. */
  existingWritable(namespace: string): KeyMap | undefined {
    const maps = this.mapsOf(namespace);
    return maps === undefined ? undefined : this.backend.support.writable(maps, this.backend.currentIndex);
  }

  /**
   * Stores `stored` for the current key and marks it for the next delta. The usual case
   * (no snapshot encoding, no delta tracking, the key group's map exists) goes straight
   * to the map: half of nearly every job's every record.
   */
  set(namespace: string, stored: unknown): void {
    const b = this.backend;
    const support = b.support;
    const map = support.busy || support.tracking ? undefined : this.mapsOf(namespace)?.[b.currentIndex];
    if (map !== undefined) return void map.set(b.currentKeyId, stored);
    this.writeMap(namespace).set(b.currentKeyId, stored);
    this.touched(namespace);
  }

  /** The current key's stored value, safe to hand out or change in place while a snapshot encodes. */
  readOwned(namespace: string): unknown {
    const b = this.backend;
    const support = b.support;
    if (!support.busy) return this.mapsOf(namespace)?.[b.currentIndex]?.get(b.currentKeyId);
    const map = this.existingWritable(namespace);
    const stored = map?.get(b.currentKeyId);
    return stored === undefined ? undefined : support.ownObject(map!, b.currentKeyId, stored);
  }

  /** Marks the current key as written, for the next delta. */
  touched(namespace: string): void {
    if (this.backend.support.tracking) this.mark(namespace);
  }

  private mark(namespace: string): void {
    const b = this.backend;
    this.marks.mark(namespace, b.currentIndex, b.currentKeyId, b.support.epoch);
  }

  /** See `KeyedStateBackend.pruneEntries`. Maps created during a round are walked in the next one. */
  prune(limit: number, isStale: (stored: unknown) => boolean): number {
    // Cleanup waits while a snapshot still reads the maps or layers over them still merge
    // (it reports no end, so it is asked again). Layers merge into the very maps below
    // them and give their slots back, so the round's maps and iterator stay the live ones.
    const support = this.backend.support;
    if (support.busy || support.layered) return limit;
    // Live Map iterators tolerate deletes and sets of existing keys, so no copying is needed.
    const r = (this.round ??= {
      maps: [...this.byNamespace].flatMap(([namespace, kg]) => kg.flatMap((m, index) => (m === undefined ? [] : [{ namespace, index, map: m }]))),
      index: 0,
    });
    const shape = storageShapeOf(this.kind);
    let visited = 0;
    while (visited < limit) {
      if (r.entries === undefined) {
        if (r.index >= r.maps.length) {
          this.round = undefined;
          break;
        }
        r.map = r.maps[r.index++];
        r.entries = r.map.map.entries();
      }
      const next = r.entries.next();
      if (next.done) {
        r.entries = undefined;
        continue;
      }
      visited++;
      const [id, stored] = next.value;
      const { map, namespace, index } = r.map!;
      const kept = shape === 'value' ? (isStale(stored) ? undefined : stored) : keptElements(shape, stored, isStale);
      if (kept === stored) continue;
      if (kept === undefined) map.delete(id);
      else map.set(id, kept);
      if (this.backend.support.tracking) this.marks.mark(namespace, index, id, this.backend.support.epoch);
    }
    return visited;
  }
}

/**
 * A value state's table. A class rather than an object of closures: every job's tables
 * then share the same methods, so code the compiler optimised for one job's state calls
 * stays valid for the next job's (new closures deoptimised it).
 */
class HeapValueTable<T> implements ValueTable<T> {
  readonly ownedReads = true;

  constructor(
    private readonly table: HeapTable,
    private readonly backend: HeapKeyedStateBackend,
  ) {}

  get(namespace: string): T | undefined {
    // The object read is the one stored (readOwned): `rewritten` only marks it for the delta.
    // readOwned's usual case written out, no call left: V8 charges what it inlined into a
    // function to every caller that inlines it in turn (see TtlValueTable).
    const b = this.backend;
    const t = this.table;
    if (b.support.busy) return t.readOwned(namespace) as T | undefined;
    const maps = namespace === VOID_NAMESPACE ? t.voidMaps : t.byNamespace.get(namespace);
    return maps?.[b.currentIndex]?.get(b.currentKeyId) as T | undefined;
  }

  rewritten(namespace: string): void {
    this.table.touched(namespace);
  }

  put(namespace: string, value: T): void {
    // HeapTable.set's usual case written out here, with no call left in it but the copy (see get).
    const b = this.backend;
    const t = this.table;
    const support = b.support;
    const map = support.busy || support.tracking ? undefined : (namespace === VOID_NAMESPACE ? t.voidMaps : t.byNamespace.get(namespace))?.[b.currentIndex];
    if (map === undefined) t.set(namespace, t.copy(value));
    else map.set(b.currentKeyId, t.copy(value));
  }

  remove(namespace: string): void {
    this.table.existingWritable(namespace)?.delete(this.backend.currentKeyId);
    this.table.touched(namespace);
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
