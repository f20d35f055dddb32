/**
 * TTL cleanup over the SQL rows: the native background cleanup (an indexed DELETE by the
 * `exp` column at every flush) and the incremental cleanup a state may ask for
 * explicitly. Both remove rows behind the value cache, so both tell it which rows went,
 * and list and map rows behind a delta being encoded, so both let it keep them first.
 */
import { deserializeValue } from '../../format/value-codec.ts';
import type { Statements } from './schema.ts';
import type { SqlState } from './tables.ts';
import type { ValueCache } from './value-cache.ts';
import type { KeepEntry } from './delta-capture.ts';
import { storageShapeOf } from '../../format/snapshot-format.ts';

/**
 * Native TTL cleanup of one state with an expiry: one indexed DELETE (expired once
 * `deadline <= now`), marking the entries it removes when `markEpoch` is given. Call it
 * with the cache written back: its clean rows then carry the same `exp` as their SQL
 * rows, so exactly the cached rows the DELETE matched are evicted, and the rest stay
 * cached (dropping the whole state would make every key read SQL again after a flush).
 * `keep` (given while deltas are encoded) is told of every list or map entry about to lose rows.
 */
export function deleteExpired(stmts: Statements, cache: ValueCache, s: SqlState, markEpoch: number | undefined, keep?: KeepEntry): void {
  const expiry = s.options.expiry;
  if (expiry === undefined) return;
  if (s.needsExpiryBackfill) {
    for (const [kg, k, ns, uk, v] of stmts.withoutExpiry(s.id)) stmts.setExpiry(s.id, kg, k, ns, uk, expiry.expiryOf(deserializeValue(v)));
    s.needsExpiryBackfill = false;
    // Cached rows loaded before the backfill do not know their new deadline.
    cache.dropState(s.id);
  }
  const now = expiry.now();
  if (keep !== undefined && storageShapeOf(s.kind) !== 'value') for (const [kg, k, ns] of stmts.expiredEntries(s.id, now)) keep(s.id, kg, k, ns);
  if (stmts.deleteExpired(s.id, now, markEpoch) > 0) cache.dropExpired(s.id, now);
}

/**
 * One step of incremental TTL cleanup: walks the state's entries in key order from its
 * cursor, a page of `limit` entries, and deletes the stale rows of each. Keyset paging
 * makes a walk visit every entry that existed when it began and was not removed since.
 * Call it with the cache written back. Returns the number of entries visited. `keep`: as
 * for {@link deleteExpired}.
 */
export function pruneStep(
  stmts: Statements,
  cache: ValueCache,
  s: SqlState,
  limit: number,
  isStale: (stored: unknown) => boolean,
  markEpoch: number | undefined,
  keep?: KeepEntry,
): number {
  const entries = stmts.entriesAfter(s.id, s.pruneCursor ?? [-1, 0, ''], limit);
  let removed = false;
  for (const [kg, k, ns] of entries) {
    const stale = stmts.entryRows(s.id, kg, k, ns).filter(([, v]) => isStale(deserializeValue(v)));
    if (stale.length === 0) continue;
    keep?.(s.id, kg, k, ns);
    for (const [uk] of stale) stmts.deleteRow(s.id, kg, k, ns, uk);
    // A value entry's single row was stale, so the entry is gone: its mark carries no value.
    if (markEpoch !== undefined) stmts.mark(s.id, kg, k, ns, markEpoch, null);
    removed = true;
  }
  // Value rows were removed behind the cache (which holds no dirty rows after the flush).
  if (removed) cache.dropState(s.id);
  stmts.maybeCommit();
  s.pruneCursor = entries.length < limit ? undefined : entries[entries.length - 1];
  return entries.length;
}
