/**
 * The flush of the backend's write-behind cache: every dirty cell written in one readwrite
 * transaction. It names the backend only through `FlushTarget` (its @internal members), so
 * that this file and `backend.ts` do not import each other.
 */
import type { ErrorContext, StateBackendError } from '../../api/errors.ts';
import type { KeyId } from '../../format/key-ids.ts';
import type { Cell, Coord, MapCell, Table } from './cache.ts';
import { ENTRIES, mapError, transactionDone } from './database.ts';
import type { KeyPart, RecordKey } from './layout.ts';

/** The members of `IdbKeyedStateBackend` a flush reads and updates. */
export interface FlushTarget {
  readonly db: IDBDatabase;
  readonly limits: { readonly cacheSize: number };
  readonly dirty: Set<Cell | MapCell>;
  pendingWrites: number;
  readonly cached: number;
  mayHaveStored: boolean;
  check(): void;
  ctx(state?: string): ErrorContext;
  fail(e: StateBackendError): void;
  recordKey(t: Table, ns: string, at: Coord, userKey?: KeyPart): RecordKey;
  mapRange(t: Table, ns: string, at: Coord): IDBKeyRange;
  stored(t: Table, kid: KeyId): void;
  evict(): void;
}

/**
 * Writes every dirty cell in one readwrite transaction, issued synchronously (see
 * `backend.ts` for why snapshots rely on that). Then drops the cache if it grew beyond
 * its size: every cell is clean at that point and reads are ordered after this flush.
 */
export function flushDirty(b: FlushTarget): Promise<void> {
  b.check();
  if (b.dirty.size === 0) return Promise.resolve();
  let tx: IDBTransaction;
  try {
    tx = b.db.transaction(ENTRIES, 'readwrite', { durability: 'relaxed' });
  } catch (e) {
    const error = mapError(e, b.ctx(), 'flush state');
    b.fail(error);
    return Promise.reject(error);
  }
  const store = tx.objectStore(ENTRIES);
  const done = transactionDone(tx, b.ctx(), 'flush state');
  try {
    for (const cell of b.dirty) {
      const t = cell.table;
      if ('entries' in cell) {
        if (cell.cleared) store.delete(b.mapRange(t, cell.ns, cell.at));
        cell.cleared = false;
        for (const userKey of cell.dirtyKeys) {
          const e = cell.entries.get(userKey)!;
          const key = b.recordKey(t, cell.ns, cell.at, e.part);
          if (e.rec === undefined) store.delete(key);
          else {
            store.put(e.rec, key);
            b.stored(t, cell.at.kid);
          }
        }
        cell.dirtyKeys.clear();
      } else {
        const key = b.recordKey(t, cell.ns, cell.at);
        if (cell.rec === undefined) store.delete(key);
        else {
          store.put(cell.rec, key);
          b.stored(t, cell.at.kid);
        }
      }
      cell.dirty = false;
    }
  } catch (e) {
    // A put can throw at once (a value the store refuses, a closing database): the whole
    // flush is void, and the backend refuses further work rather than lose writes quietly.
    const error = mapError(e, b.ctx(), `flush state`);
    b.fail(error);
    try {
      tx.abort();
    } catch {
      // already finished
    }
    done.catch(() => undefined);
    return Promise.reject(error);
  }
  b.dirty.clear();
  b.pendingWrites = 0;
  b.mayHaveStored = true;
  if (b.cached > b.limits.cacheSize) b.evict();
  return done.catch((e: StateBackendError) => {
    b.fail(e);
    throw e;
  });
}
