/**
 * `HashMapStateBackend`: keyed state as live JavaScript objects in memory, one `Map` per
 * (state, namespace, key group). Nothing is serialised on the hot path; values are
 * encoded into the canonical form only when a snapshot is taken.
 */
import type { StateKind } from '../api/descriptors.ts';
import { StateError } from '../api/errors.ts';
import type {
  KeyedStateBackend,
  KeyedStateBackendOptions,
  ListTable,
  MapTable,
  StateBackend,
  StateTableOptions,
  ValueTable,
} from '../core/state/backend.ts';
import { canonicalKeyBytes, keyFromId, keyId, type Key, type KeyGroupRange, type KeyId } from '../core/keys.ts';
import {
  KEYED_SNAPSHOT_FORMAT_VERSION,
  KeyGroupWriter,
  readKeyGroup,
  storageShapeOf,
  type KeyedStateSnapshot,
  type StateMetaInfo,
} from '../core/state/snapshot-format.ts';
import { checkRestorable } from '../core/state/restore-checks.ts';

/** Keeps keyed state as live objects on the JavaScript heap (Flink's `HashMapStateBackend`). */
export class HashMapStateBackend implements StateBackend {
  readonly name = 'hashmap';

  /** Creates the keyed state of one operator subtask. */
  createKeyedStateBackend(options: KeyedStateBackendOptions): KeyedStateBackend {
    return new HeapKeyedStateBackend(options);
  }
}

/** Per key group (index = key group - range start): key id → stored value. */
type KeyGroupMaps = Array<Map<KeyId, unknown> | undefined>;

class HeapTable {
  readonly byNamespace = new Map<string, KeyGroupMaps>();
  /** TTL and snapshot filter, set when the table is requested with options. */
  options: StateTableOptions = {};
  /** The incremental-cleanup cursor: the maps of this round, and the live iterator of one of them. */
  private round: { maps: Array<Map<KeyId, unknown>>; index: number; map?: Map<KeyId, unknown>; entries?: Iterator<[KeyId, unknown]> } | undefined;
  constructor(
    readonly name: string,
    readonly kind: StateKind,
    private readonly backend: HeapKeyedStateBackend,
  ) {}

  /** The current key group's map, if it exists. */
  readMap(namespace: string): Map<KeyId, unknown> | undefined {
    const maps = this.byNamespace.get(namespace);
    return maps === undefined ? undefined : maps[this.backend.keyGroupIndex()];
  }

  /** The current key group's map, created when missing. */
  writeMap(namespace: string): Map<KeyId, unknown> {
    let maps = this.byNamespace.get(namespace);
    if (maps === undefined) {
      maps = new Array(this.backend.keyGroupRange.size);
      this.byNamespace.set(namespace, maps);
    }
    const index = this.backend.keyGroupIndex();
    return (maps[index] ??= new Map());
  }

  /** See `KeyedStateBackend.pruneEntries`. Maps created during a round are walked in the next one. */
  prune(limit: number, isStale: (stored: unknown) => boolean): number {
    // Live Map iterators tolerate deletes and sets of existing keys, so no copying is needed.
    const r = (this.round ??= { maps: [...this.byNamespace.values()].flatMap((kg) => kg.filter((m) => m !== undefined)), index: 0 });
    const shape = storageShapeOf(this.kind);
    let visited = 0;
    while (visited < limit) {
      if (r.entries === undefined) {
        if (r.index >= r.maps.length) {
          this.round = undefined;
          break;
        }
        r.map = r.maps[r.index++];
        r.entries = r.map.entries();
      }
      const next = r.entries.next();
      if (next.done) {
        r.entries = undefined;
        continue;
      }
      visited++;
      const [id, stored] = next.value;
      if (shape === 'value') {
        // The common case (counters, last-seen values), without the generic helper.
        if (isStale(stored)) r.map!.delete(id);
        continue;
      }
      const kept = keptElements(shape, stored, isStale);
      if (kept === undefined) r.map!.delete(id);
      else if (kept !== stored) r.map!.set(id, kept);
    }
    return visited;
  }
}

/**
 * What remains of a stored value once the elements `drop` selects are gone: the value
 * itself when nothing is dropped, a new list or map when some are, undefined when none remain.
 */
function keptElements(shape: string, stored: unknown, drop: (stored: unknown) => boolean): unknown {
  if (shape === 'value') return drop(stored) ? undefined : stored;
  if (shape === 'list') {
    const list = stored as unknown[];
    let kept: unknown[] | undefined;
    for (let i = 0; i < list.length; i++) {
      if (drop(list[i])) kept ??= list.slice(0, i);
      else kept?.push(list[i]);
    }
    return kept === undefined ? list : kept.length === 0 ? undefined : kept;
  }
  const inner = stored as Map<KeyId, unknown>;
  let kept: Map<KeyId, unknown> | undefined;
  for (const [k, v] of inner) {
    if (!drop(v)) continue;
    kept ??= new Map(inner);
    kept.delete(k);
  }
  return kept === undefined ? inner : kept.size === 0 ? undefined : kept;
}

class HeapKeyedStateBackend implements KeyedStateBackend {
  readonly name = 'hashmap';
  readonly keyGroupRange: KeyGroupRange;
  readonly maxParallelism: number;
  private readonly tables = new Map<string, HeapTable>();
  private currentKey: Key | undefined = undefined;
  /** The id the current key is stored under. */
  currentKeyId: KeyId = '';
  private currentIndex = -1;

  constructor(private readonly options: KeyedStateBackendOptions) {
    this.keyGroupRange = options.keyGroupRange;
    this.maxParallelism = options.maxParallelism;
  }

  setCurrentKey(key: Key, keyGroup: number): void {
    const index = keyGroup - this.keyGroupRange.start;
    if (index < 0 || index >= this.keyGroupRange.size) {
      throw new StateError('BACKEND_FAILURE', `key group ${keyGroup} of key ${String(key)} is outside this subtask's range ${this.keyGroupRange.start}..${this.keyGroupRange.end}`, { component: 'backend:hashmap', operator: this.options.operatorName });
    }
    this.currentKey = key;
    this.currentKeyId = keyId(key);
    this.currentIndex = index;
  }

  clearCurrentKey(): void {
    this.currentKey = undefined;
    this.currentIndex = -1;
  }

  getCurrentKey(): Key | undefined {
    return this.currentKey;
  }

  /** Index of the current key group within the range; callers check the key is set. */
  keyGroupIndex(): number {
    return this.currentIndex;
  }

  private table(name: string, kind: StateKind, options?: StateTableOptions): HeapTable {
    const existing = this.tables.get(name);
    if (existing) {
      if (existing.kind !== kind) {
        throw new StateError('STATE_KIND_MISMATCH', `state "${name}" is already registered as ${existing.kind} state and cannot be used as ${kind} state`, { component: 'backend:hashmap', operator: this.options.operatorName, state: name });
      }
      if (options !== undefined) existing.options = options;
      return existing;
    }
    const table = new HeapTable(name, kind, this);
    if (options !== undefined) table.options = options;
    this.tables.set(name, table);
    return table;
  }

  valueTable<T>(name: string, kind: 'value' | 'reducing' | 'aggregating', options?: StateTableOptions): ValueTable<T> {
    const t = this.table(name, kind, options);
    return {
      get: (ns) => t.readMap(ns)?.get(this.currentKeyId) as T | undefined,
      put: (ns, value) => {
        t.writeMap(ns).set(this.currentKeyId, value);
      },
      remove: (ns) => {
        t.readMap(ns)?.delete(this.currentKeyId);
      },
    };
  }

  listTable<T>(name: string, options?: StateTableOptions): ListTable<T> {
    const t = this.table(name, 'list', options);
    const live = (ns: string) => t.readMap(ns)?.get(this.currentKeyId) as T[] | undefined;
    const append = (ns: string, values: readonly T[]) => {
      const map = t.writeMap(ns);
      const list = map.get(this.currentKeyId) as T[] | undefined;
      if (list === undefined) map.set(this.currentKeyId, values.slice());
      else for (const v of values) list.push(v);
    };
    return {
      get: (ns) => live(ns)?.slice(),
      add: (ns, value) => {
        const list = live(ns);
        if (list === undefined) t.writeMap(ns).set(this.currentKeyId, [value]);
        else list.push(value);
      },
      addAll: (ns, values) => {
        if (values.length > 0) append(ns, values);
      },
      update: (ns, values) => {
        if (values.length === 0) t.readMap(ns)?.delete(this.currentKeyId);
        else t.writeMap(ns).set(this.currentKeyId, values.slice());
      },
      remove: (ns) => {
        t.readMap(ns)?.delete(this.currentKeyId);
      },
    };
  }

  mapTable<V>(name: string, options?: StateTableOptions): MapTable<V> {
    const t = this.table(name, 'map', options);
    const inner = (ns: string) => t.readMap(ns)?.get(this.currentKeyId) as Map<KeyId, V> | undefined;
    const innerForWrite = (ns: string) => {
      const outer = t.writeMap(ns);
      let m = outer.get(this.currentKeyId) as Map<KeyId, V> | undefined;
      if (m === undefined) outer.set(this.currentKeyId, (m = new Map()));
      return m;
    };
    return {
      get: (ns, userKey) => inner(ns)?.get(keyId(userKey)),
      put: (ns, userKey, value) => {
        innerForWrite(ns).set(keyId(userKey), value);
      },
      putAll: (ns, entries) => {
        if (entries.length === 0) return;
        const m = innerForWrite(ns);
        for (const [k, v] of entries) m.set(keyId(k), v);
      },
      delete: (ns, userKey) => {
        const m = inner(ns);
        if (m === undefined) return;
        m.delete(keyId(userKey));
        if (m.size === 0) t.readMap(ns)?.delete(this.currentKeyId);
      },
      contains: (ns, userKey) => inner(ns)?.has(keyId(userKey)) ?? false,
      isEmpty: (ns) => (inner(ns)?.size ?? 0) === 0,
      entries: (ns) => iterateMap(inner(ns)),
      remove: (ns) => {
        t.readMap(ns)?.delete(this.currentKeyId);
      },
    };
  }

  states(): StateMetaInfo[] {
    return [...this.tables.values()].map(metaOf);
  }

  /** Incremental TTL cleanup over live objects; synchronous, as everything here. */
  pruneEntries(stateName: string, limit: number, isStale: (stored: unknown) => boolean): number {
    return this.tables.get(stateName)?.prune(limit, isStale) ?? 0;
  }

  async snapshot(): Promise<KeyedStateSnapshot> {
    // Encoding happens right here, synchronously, so later writes cannot leak in.
    const tables = [...this.tables.values()];
    // Full-snapshot cleanup: one filter per state, fixed for this snapshot.
    const drops = tables.map((t) => t.options.snapshotFilter?.());
    const keyGroups = new Map<number, Uint8Array>();
    const { start, size } = this.keyGroupRange;
    for (let index = 0; index < size; index++) {
      const writer = new KeyGroupWriter();
      tables.forEach((table, stateIndex) => writeTableGroup(writer, table, stateIndex, index, drops[stateIndex]));
      if (writer.length > 0) keyGroups.set(start + index, writer.finish());
    }
    return {
      formatVersion: KEYED_SNAPSHOT_FORMAT_VERSION,
      maxParallelism: this.maxParallelism,
      states: tables.map(metaOf),
      keyGroups,
    };
  }

  async restore(snapshots: readonly KeyedStateSnapshot[]): Promise<void> {
    // Check every snapshot before loading any, so a refused restore leaves the backend empty.
    for (const snapshot of snapshots) checkRestorable(snapshot, this.maxParallelism, 'backend:hashmap', this.options.operatorName);
    for (const snapshot of snapshots) {
      const tables = snapshot.states.map((s) => this.table(s.name, s.kind));
      // A restored state keeps saying it has TTL until it is registered anew.
      snapshot.states.forEach((s, i) => {
        if (s.ttl !== undefined && tables[i].options.ttl === undefined) tables[i].options = { ...tables[i].options, ttl: s.ttl };
      });
      for (const [keyGroup, bytes] of snapshot.keyGroups) {
        if (!this.keyGroupRange.contains(keyGroup)) continue;
        const index = keyGroup - this.keyGroupRange.start;
        for (const entry of readKeyGroup(bytes, snapshot.states)) {
          const maps = tables[entry.stateIndex].byNamespace;
          let kgMaps = maps.get(entry.namespace);
          if (kgMaps === undefined) maps.set(entry.namespace, (kgMaps = new Array(this.keyGroupRange.size)));
          const map = (kgMaps[index] ??= new Map());
          const id = keyId(entry.key);
          if (entry.shape === 'value') map.set(id, entry.value);
          else if (entry.shape === 'list') map.set(id, entry.values);
          else map.set(id, new Map(entry.entries.map(([k, v]) => [keyId(k), v])));
        }
      }
    }
  }

  async *keys(stateName: string, namespace: string): AsyncIterable<Key> {
    const maps = this.tables.get(stateName)?.byNamespace.get(namespace);
    if (maps === undefined) return;
    for (const map of maps) {
      if (map === undefined) continue;
      for (const id of [...map.keys()]) yield keyFromId(id);
    }
  }

  async dispose(): Promise<void> {
    this.tables.clear();
    this.clearCurrentKey();
  }
}

function metaOf(t: HeapTable): StateMetaInfo {
  return t.options.ttl === undefined ? { name: t.name, kind: t.kind } : { name: t.name, kind: t.kind, ttl: t.options.ttl };
}

function writeTableGroup(writer: KeyGroupWriter, table: HeapTable, stateIndex: number, index: number, drop: ((stored: unknown) => boolean) | undefined): void {
  const shape = storageShapeOf(table.kind);
  for (const [namespace, kgMaps] of table.byNamespace) {
    const map = kgMaps[index];
    if (map === undefined) continue;
    for (const [id, live] of map) {
      const stored = drop === undefined ? live : keptElements(shape, live, drop);
      if (stored === undefined) continue;
      const keyBytes = canonicalKeyBytes(keyFromId(id));
      if (shape === 'value') writer.value(stateIndex, keyBytes, namespace, stored);
      else if (shape === 'list') writer.list(stateIndex, keyBytes, namespace, stored as unknown[]);
      else {
        const inner = stored as Map<KeyId, unknown>;
        writer.map(stateIndex, keyBytes, namespace, mapEntries(inner), inner.size);
      }
    }
  }
}

function* mapEntries(inner: Map<KeyId, unknown>): Iterable<[Key, unknown]> {
  for (const [id, v] of inner) yield [keyFromId(id), v];
}

async function* iterateMap<V>(inner: Map<KeyId, V> | undefined): AsyncIterable<[Key, V]> {
  if (inner === undefined) return;
  // A copy, so that puts and removes during iteration behave like other backends'.
  for (const [id, v] of [...inner]) yield [keyFromId(id), v];
}
