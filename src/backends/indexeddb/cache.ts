/**
 * The in-memory layer over IndexedDB: per state, the records of recently used keys (clean,
 * or dirty = written but not yet flushed). Writes only touch this layer; a flush writes all
 * dirty cells in one transaction. A cell with `rec === undefined` knows that the entry
 * is absent (a cached miss, or a pending delete).
 *
 * Map state is cached per (key, namespace) as an overlay of entries over what IndexedDB
 * holds: `cleared` means "everything stored under this map is gone", so a clear() is one
 * range delete at flush time, never a read.
 */
import type { StateKind } from '../../api/descriptors.ts';
import type { KeyId } from '../../format/key-ids.ts';
import type { TableConfig } from '../../state/keyed-backend-base.ts';
import { PLAIN_VALUES } from '../../state/stored-values.ts';
import { storageShapeOf, type StorageShape } from '../../format/snapshot-format.ts';
import type { StoredRecord } from './database.ts';
import type { KeyPart } from './layout.ts';

/** Where the current key lives: its id (cache key), key group and IndexedDB key part. */
export interface Coord {
  readonly kid: KeyId;
  readonly kg: number;
  readonly part: KeyPart;
}

/** The cached record of a value or list entry. */
export interface Cell {
  readonly table: Table;
  readonly ns: string;
  readonly at: Coord;
  rec: StoredRecord | undefined;
  dirty: boolean;
}

/** One cached map entry: its user key part and record (undefined: absent). */
export interface MapEntryCell {
  readonly part: KeyPart;
  rec: StoredRecord | undefined;
}

/** The cached overlay of one map. */
export interface MapCell {
  readonly table: Table;
  readonly ns: string;
  readonly at: Coord;
  /** Everything stored for this map before the entries below is gone. */
  cleared: boolean;
  readonly entries: Map<KeyId, MapEntryCell>;
  /** User keys written since the last flush. */
  readonly dirtyKeys: Set<KeyId>;
  dirty: boolean;
  /** `entries` holds every entry of the map (loaded whole by a prefetch): iteration needs no read. */
  complete: boolean;
  /** Incremented by every `clear()`: a whole-map load issued before one must not merge what it read. */
  clears: number;
}

/** One registered state: its kind, options and cached cells. */
export class Table {
  readonly shape: StorageShape;
  /** What core said about the state (snapshot filter, expiry); values are always encoded here. */
  options: TableConfig = { values: PLAIN_VALUES };
  /** Maps of this table are accessed synchronously: prefetch loads them whole. */
  wholeMaps = false;
  /** The keys the database may hold state of this table for; undefined once there were too many to track. */
  stored: Set<KeyId> | undefined = new Set();
  /** namespace → key id → cell (value and list state). */
  readonly cells = new Map<string, Map<KeyId, Cell>>();
  /** namespace → key id → overlay (map state). */
  readonly maps = new Map<string, Map<KeyId, MapCell>>();

  constructor(
    readonly name: string,
    readonly kind: StateKind,
  ) {
    this.shape = storageShapeOf(kind);
  }

  cell(ns: string, kid: KeyId): Cell | undefined {
    return this.cells.get(ns)?.get(kid);
  }

  addCell(ns: string, at: Coord, rec: StoredRecord | undefined, dirty: boolean): Cell {
    let byKey = this.cells.get(ns);
    if (!byKey) this.cells.set(ns, (byKey = new Map()));
    const cell: Cell = { table: this, ns, at, rec, dirty };
    byKey.set(at.kid, cell);
    return cell;
  }

  mapCell(ns: string, kid: KeyId): MapCell | undefined {
    return this.maps.get(ns)?.get(kid);
  }

  addMapCell(ns: string, at: Coord): MapCell {
    let byKey = this.maps.get(ns);
    if (!byKey) this.maps.set(ns, (byKey = new Map()));
    const cell: MapCell = { table: this, ns, at, cleared: false, entries: new Map(), dirtyKeys: new Set(), dirty: false, complete: false, clears: 0 };
    byKey.set(at.kid, cell);
    return cell;
  }

  /**
   * Forgets every cell (all must be clean: they were just flushed) but those of the keys in
   * `keep` (the current batch's, which synchronous access relies on); returns how many stay.
   */
  evict(keep: ReadonlySet<KeyId>): number {
    let kept = 0;
    for (const byKey of [this.cells, this.maps] as Array<Map<string, Map<KeyId, unknown>>>) {
      for (const [ns, cells] of byKey) {
        if (keep.size === 0) {
          byKey.delete(ns);
          continue;
        }
        for (const kid of cells.keys()) if (keep.has(kid)) kept++;
        for (const kid of [...cells.keys()]) if (!keep.has(kid)) cells.delete(kid);
        if (cells.size === 0) byKey.delete(ns);
      }
    }
    return kept;
  }
}
