/**
 * Snapshots of the in-memory backend without stopping the world:
 *
 * - **Copy-on-write.** `snapshot()` only captures references to the per-key-group maps
 *   (a few hundred at most) and marks them frozen; encoding then runs in slices between
 *   records. A write to a frozen map goes into a layer over it (`memory-layers.ts`), whose
 *   changes move down into the map in the background once no snapshot reads it any more;
 *   a stored object that user code may change in place (a value read back, a list appended
 *   to) is deep-copied first.
 * - **Change tracking.** Once incremental snapshots are asked for, every write marks its
 *   (state, namespace, key group, key) with the current epoch. A delta holds the marked
 *   entries: present ones as entries, absent ones as removed. When a checkpoint completes,
 *   marks older than its snapshot are dropped.
 */
import { cloneValue } from '../format/value-clone.ts';
import { canonicalKeyBytes, type Key } from '../format/key-bytes.ts';
import { keyFromId, type KeyId } from '../format/key-ids.ts';
import { KeyGroupWriter, RemovedEntryWriter, storageShapeOf, type StorageShape } from '../format/snapshot-format.ts';
import { DeltaEpochs } from '../state/delta-epochs.ts';
import { Slices } from '../state/slices.ts';
import { LayeredMap, type KeyGroupMaps, type KeyMap } from './memory-layers.ts';

export type { KeyGroupMaps, KeyMap } from './memory-layers.ts';

/** Changes one merge step moves down before it checks whether its slice is used up. */
const MERGE_STEP = 256;

/** Freezes, copies and tracks; one per keyed backend. */
export class SnapshotSupport extends DeltaEpochs {
  /** Maps captured by snapshots still encoding, with how many snapshots hold each. */
  private readonly frozen = new Map<KeyMap, number>();
  /** Stored objects created since the newest running snapshot began: safe to change in place. */
  private owned = new WeakSet<object>();
  private running = 0;
  /** Layers over frozen maps whose changes have not all moved down yet. */
  private readonly layers = new Set<LayeredMap>();
  private merging = false;
  private stopped = false;

  /** The map to write into: over a frozen one, a layer is put in its place first (O(1), no copy). */
  writable(maps: KeyGroupMaps, index: number): KeyMap | undefined {
    const map = maps[index];
    if (map === undefined || this.running === 0 || !this.frozen.has(map)) return map;
    const layer = new LayeredMap(map, maps, index);
    maps[index] = layer;
    this.layers.add(layer);
    return layer;
  }

  private readonly isFrozen = (map: KeyMap): boolean => this.frozen.has(map);

  /** True while some key group's map is a layer (walks that change maps in place wait then). */
  get layered(): boolean {
    return this.layers.size > 0;
  }

  /** Stops the background merging (the backend is disposed). */
  stop(): void {
    this.stopped = true;
  }

  /**
   * Moves the changes of layers whose base no snapshot reads any more down into the base,
   * in slices between records, and gives each emptied layer's slot back to its base.
   */
  private async mergeLayers(): Promise<void> {
    if (this.merging) return;
    this.merging = true;
    const slices = new Slices();
    try {
      let progressed = true;
      while (progressed && !this.stopped) {
        progressed = false;
        for (const layer of this.layers) {
          if (this.frozen.has(layer.settle(this.isFrozen))) continue;
          if (!layer.empty) progressed = true;
          // A layer a snapshot still reads keeps its slot (writes must not reach its base).
          if (layer.mergeSome(MERGE_STEP) && !this.frozen.has(layer)) {
            if (layer.owner[layer.index] === layer) layer.owner[layer.index] = layer.base;
            this.layers.delete(layer);
            progressed = true;
          }
          if (slices.due()) await slices.pause();
        }
      }
    } finally {
      this.merging = false;
    }
  }

  /**
   * The stored object of `id`, deep-copied first if a running snapshot may still read it,
   * so that changing it in place cannot reach the snapshot.
   */
  ownObject<T>(map: KeyMap, id: KeyId, stored: T): T {
    if (this.running === 0 || stored === null || typeof stored !== 'object' || this.owned.has(stored)) return stored;
    const copy = cloneValue(stored);
    this.owned.add(copy as object);
    map.set(id, copy);
    return copy;
  }

  /** True while a snapshot is still encoding (in-place cleanup waits then). */
  get busy(): boolean {
    return this.running > 0;
  }

  /** Freezes captured maps for the duration of an asynchronous encoding. */
  freeze(maps: Iterable<KeyMap>): () => void {
    // Every capture makes every stored object shared again, also one made after an earlier
    // capture that is still encoding (the new snapshot reads it too).
    this.running++;
    this.owned = new WeakSet();
    const list = [...maps];
    for (const m of list) this.frozen.set(m, (this.frozen.get(m) ?? 0) + 1);
    return () => {
      for (const m of list) {
        const n = this.frozen.get(m)! - 1;
        if (n === 0) this.frozen.delete(m);
        else this.frozen.set(m, n);
      }
      this.running--;
      if (this.layers.size > 0) void this.mergeLayers();
    };
  }
}

/** Change marks of one table: namespace → key-group index → key id → epoch of the last write. */
export class ChangeMarks {
  readonly byNamespace = new Map<string, Map<number, Map<KeyId, number>>>();

  mark(namespace: string, index: number, id: KeyId, epoch: number): void {
    let groups = this.byNamespace.get(namespace);
    if (!groups) this.byNamespace.set(namespace, (groups = new Map()));
    let ids = groups.get(index);
    if (!ids) groups.set(index, (ids = new Map()));
    ids.set(id, epoch);
  }

  /** Drops the marks written up to `epoch` (their checkpoint completed). */
  forget(epoch: number): void {
    for (const [ns, groups] of this.byNamespace) {
      for (const [index, ids] of groups) {
        for (const [id, e] of ids) if (e <= epoch) ids.delete(id);
        if (ids.size === 0) groups.delete(index);
      }
      if (groups.size === 0) this.byNamespace.delete(ns);
    }
  }
}

/** What snapshot encoding needs of a table. */
export interface EncodableTable {
  readonly kind: Parameters<typeof storageShapeOf>[0];
  readonly byNamespace: Map<string, KeyGroupMaps>;
  readonly marks: ChangeMarks;
}

/** Writes one stored value as an entry, leaving out what `drop` selects (full-snapshot TTL cleanup). */
export function writeEntry(
  writer: KeyGroupWriter,
  shape: StorageShape,
  stateIndex: number,
  id: KeyId,
  namespace: string,
  live: unknown,
  drop: ((stored: unknown) => boolean) | undefined,
): boolean {
  const stored = drop === undefined ? live : keptElements(shape, live, drop);
  if (stored === undefined) return false;
  const keyBytes = canonicalKeyBytes(keyFromId(id));
  if (shape === 'value') writer.value(stateIndex, keyBytes, namespace, stored);
  else if (shape === 'list') writer.list(stateIndex, keyBytes, namespace, stored as unknown[]);
  else {
    const inner = stored as Map<KeyId, unknown>;
    writer.map(stateIndex, keyBytes, namespace, mapEntries(inner), inner.size);
  }
  return true;
}

/**
 * Encodes captured maps key group by key group, giving records a turn every few
 * milliseconds; `captured[state]` is the table's namespaces with their map arrays.
 */
export async function encodeFull(
  captured: ReadonlyArray<{ shape: StorageShape; namespaces: Array<[string, KeyGroupMaps]>; drop?: (stored: unknown) => boolean }>,
  rangeStart: number,
  rangeSize: number,
): Promise<Map<number, Uint8Array>> {
  const keyGroups = new Map<number, Uint8Array>();
  const slices = new Slices();
  for (let index = 0; index < rangeSize; index++) {
    const writer = new KeyGroupWriter();
    captured.forEach(({ shape, namespaces, drop }, stateIndex) => {
      for (const [namespace, maps] of namespaces) {
        const map = maps[index];
        if (map !== undefined) for (const [id, live] of map) writeEntry(writer, shape, stateIndex, id, namespace, live, drop);
      }
    });
    if (writer.length > 0) keyGroups.set(rangeStart + index, writer.finish());
    if (slices.due()) await slices.pause();
  }
  return keyGroups;
}

/** Encodes the marked entries of every table as a delta (synchronously: deltas are small). */
export function encodeDelta(
  tables: readonly EncodableTable[],
  drops: ReadonlyArray<((stored: unknown) => boolean) | undefined>,
  rangeStart: number,
): { keyGroups: Map<number, Uint8Array>; removed: Map<number, Uint8Array> } {
  const writers = new Map<number, { entries: KeyGroupWriter; removed: RemovedEntryWriter }>();
  const writersOf = (index: number) => {
    let w = writers.get(index);
    if (!w) writers.set(index, (w = { entries: new KeyGroupWriter(), removed: new RemovedEntryWriter() }));
    return w;
  };
  tables.forEach((table, stateIndex) => {
    const shape = storageShapeOf(table.kind);
    for (const [namespace, groups] of table.marks.byNamespace) {
      const maps = table.byNamespace.get(namespace);
      for (const [index, ids] of groups) {
        const w = writersOf(index);
        for (const id of ids.keys()) {
          const live = maps?.[index]?.get(id);
          const written = live !== undefined && writeEntry(w.entries, shape, stateIndex, id, namespace, live, drops[stateIndex]);
          if (!written) w.removed.add(stateIndex, canonicalKeyBytes(keyFromId(id)), namespace);
        }
      }
    }
  });
  const keyGroups = new Map<number, Uint8Array>();
  const removed = new Map<number, Uint8Array>();
  for (const [index, w] of writers) {
    if (w.entries.length > 0) keyGroups.set(rangeStart + index, w.entries.finish());
    if (w.removed.length > 0) removed.set(rangeStart + index, w.removed.finish());
  }
  return { keyGroups, removed };
}

/**
 * What remains of a stored value once the elements `drop` selects are gone: the value
 * itself when nothing is dropped, a new list or map when some are, undefined when none remain.
 */
export function keptElements(shape: string, stored: unknown, drop: (stored: unknown) => boolean): unknown {
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

function* mapEntries(inner: Map<KeyId, unknown>): Iterable<[Key, unknown]> {
  for (const [id, v] of inner) yield [keyFromId(id), v];
}
