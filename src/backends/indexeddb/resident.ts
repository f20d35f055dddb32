/**
 * Synchronous access on IndexedDB: what the cache holds answers at once. `prefetch()`
 * loads each batch's keys (value and list records; maps of states used synchronously,
 * whole); these helpers tell whether the current key's state is resident and load whole
 * maps. They name the backend only through `ResidentTarget`, so that this file and
 * `backend.ts` do not import each other.
 */
import type { ErrorContext } from '../../api/errors.ts';
import type { Key } from '../../format/key-bytes.ts';
import { keyId, type KeyId } from '../../format/key-ids.ts';
import type { MaybePromise } from '../../state/backend.ts';
import type { Coord, MapCell, Table } from './cache.ts';
import { ENTRIES, transactionDone, type StoredRecord } from './database.ts';
import { idOf, keyPartOf, type RecordKey } from './layout.ts';

/** The members of `IdbKeyedStateBackend` these helpers use. */
export interface ResidentTarget {
  readonly db: IDBDatabase;
  readonly generation: number;
  coord(): Coord;
  ctx(state?: string): ErrorContext;
  mayHave(t: Table, kid: KeyId): boolean;
  mapCellFor(t: Table, ns: string, at: Coord): MapCell;
  mapRange(t: Table, ns: string, at: Coord): IDBKeyRange;
  remember(): void;
  readonly pinned: Set<KeyId>;
  registeredStates(): Table[];
  readCell(t: Table, ns: string, at: Coord): MaybePromise<StoredRecord | undefined>;
}

/**
 * Loads the void-namespace state of `keys` (value and list records; maps only of states
 * used synchronously, and then whole) and pins the keys, so that eviction keeps them.
 * Before anything was stored, `readCell()` remembers the keys as absent without reading;
 * other namespaces (windows) are read on demand.
 */
export async function prefetchKeys(b: ResidentTarget, keys: readonly Key[], keyGroups: ArrayLike<number>): Promise<void> {
  const tables = b.registeredStates().filter((t) => t.shape !== 'map');
  const maps = b.registeredStates().filter((t) => t.shape === 'map' && t.wholeMaps);
  const loads: Array<Promise<unknown>> = [];
  const mapLoads: Array<[Table, Coord]> = [];
  for (let i = 0; i < keys.length; i++) {
    const kid = keyId(keys[i]);
    if (b.pinned.has(kid)) continue;
    b.pinned.add(kid);
    const at: Coord = { kid, kg: keyGroups[i], part: keyPartOf(kid) };
    for (const t of tables) if (t.cell('', kid) === undefined) loads.push(b.readCell(t, '', at) as Promise<unknown>);
    for (const t of maps) if (!t.mapCell('', kid)?.complete) mapLoads.push([t, at]);
  }
  if (mapLoads.length > 0) loads.push(loadMaps(b, mapLoads));
  await Promise.all(loads);
}

/** Whether the current key's value or list record under `ns` is known in memory. */
export function residentCell(b: ResidentTarget, t: Table, ns: string): boolean {
  const kid = b.coord().kid;
  return t.cell(ns, kid) !== undefined || !b.mayHave(t, kid);
}

/** Whether the current key's map under `ns` (or, given `userKey`, that entry of it) is known in memory. */
export function residentMap(b: ResidentTarget, t: Table, ns: string, userKey?: KeyId): boolean {
  const kid = b.coord().kid;
  const cell = t.mapCell(ns, kid);
  if (cell === undefined) return !b.mayHave(t, kid);
  return cell.complete || cell.cleared || (userKey !== undefined && cell.entries.has(userKey)) || !b.mayHave(t, kid);
}

/** The entries of a resident map (see {@link residentMap}): the overlay alone. */
export function residentEntries(b: ResidentTarget, t: Table, ns: string): Array<[KeyId, StoredRecord]> {
  const out: Array<[KeyId, StoredRecord]> = [];
  const cell = t.mapCell(ns, b.coord().kid);
  if (cell !== undefined) for (const [userKey, e] of cell.entries) if (e.rec !== undefined) out.push([userKey, e.rec]);
  return out;
}

/** Reads whole maps (one transaction) into their overlays, which then answer synchronously. */
export function loadMaps(b: ResidentTarget, wanted: ReadonlyArray<readonly [Table, Coord]>): Promise<void> {
  const reads: Array<{ cell: MapCell; clears: number; keys: IDBRequest<IDBValidKey[]>; values: IDBRequest<unknown[]> }> = [];
  let tx: IDBTransaction | undefined;
  for (const [t, at] of wanted) {
    const cell = b.mapCellFor(t, '', at);
    if (cell.cleared || !b.mayHave(t, at.kid)) {
      cell.complete = true;
      continue;
    }
    tx ??= b.db.transaction(ENTRIES, 'readonly');
    const store = tx.objectStore(ENTRIES);
    const range = b.mapRange(t, '', at);
    reads.push({ cell, clears: cell.clears, keys: store.getAllKeys(range), values: store.getAll(range) });
  }
  if (tx === undefined) return Promise.resolve();
  const generation = b.generation;
  return transactionDone(tx, b.ctx(), 'prefetch maps').then(() => {
    // Evicted meanwhile: the cells are gone, and the batch's synchronous reads fail clearly.
    if (generation !== b.generation) return;
    for (const { cell, clears, keys, values } of reads) {
      // Cleared meanwhile: what was read is gone, the overlay alone is the map.
      if (cell.clears === clears) {
        keys.result.forEach((k, i) => {
          const part = (k as RecordKey)[5]!;
          const userKey = idOf(part);
          if (cell.entries.has(userKey)) return;
          cell.entries.set(userKey, { part, rec: values.result[i] as StoredRecord });
          b.remember();
        });
      }
      cell.complete = true;
    }
  });
}
