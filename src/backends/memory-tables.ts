/**
 * The tables of `HashMapStateBackend` (memory.ts): a state's values as live objects, one
 * `Map` per (namespace, key group), and the value table whose reads and writes are the
 * hot path of every counter.
 */
import type { StateKind } from '../api/descriptors.ts';
import type { KeyId } from '../format/key-ids.ts';
import { storageShapeOf } from '../format/snapshot-format.ts';
import { VOID_NAMESPACE, type ValueTable } from '../state/backend.ts';
import type { TableConfig } from '../state/keyed-backend-base.ts';
import { PLAIN_VALUES } from '../state/stored-values.ts';
import { ChangeMarks, keptElements, type KeyGroupMaps, type KeyMap, type SnapshotSupport } from './memory-snapshots.ts';

/** What the tables read of their backend: its key-group range, the current key and the snapshot support. */
export interface HeapTableOwner {
  readonly keyGroupRange: { readonly size: number };
  /** Index of the current key group within the range (-1: no key). */
  readonly currentIndex: number;
  /** The id the current key is stored under. */
  readonly currentKeyId: KeyId;
  readonly support: SnapshotSupport;
}

/** One state's values: per namespace, one `Map` per key group of the backend's range. */
export class HeapTable {
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
    private readonly backend: HeapTableOwner,
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
export class HeapValueTable<T> implements ValueTable<T> {
  readonly ownedReads = true;

  constructor(
    private readonly table: HeapTable,
    private readonly backend: HeapTableOwner,
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
