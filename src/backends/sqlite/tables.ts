/**
 * The three table shapes of the contract over SQLite rows (see `schema.ts` for the
 * layout). Value rows go through the write-behind cache; list and map rows are written
 * straight into the open batch transaction, one row per element or entry, so that a list
 * append is one INSERT and a huge map is never loaded whole.
 */
import type { StateKind } from '../../api/descriptors.ts';
import { EddyError } from '../../api/errors.ts';
import { deserializeValue, serializeValue } from '../../format/value-codec.ts';
import { canonicalKeyBytes, keyFromCanonicalBytes, type Key } from '../../format/key-bytes.ts';
import { keyId, type KeyId } from '../../format/key-ids.ts';
import type { KeyGroupRange } from '../../format/key-groups.ts';
import type { ListTable, MapTable, ValueTable } from '../../state/backend.ts';
import type { TableConfig } from '../../state/keyed-backend-base.ts';
import { openError } from './open.ts';
import type { Statements } from './schema.ts';
import { CachedRow, NOT_DECODED, type Bucket, type ValueCache } from './value-cache.ts';

/** A registered state: its number in the database, kind and table options. */
export interface SqlState {
  readonly id: number;
  readonly name: string;
  readonly kind: StateKind;
  /** What core said about the state: snapshot filter, expiry, which values are shareable. */
  options: TableConfig;
  /** Rows restored without an expiry must get one before native cleanup deletes by it. */
  needsExpiryBackfill: boolean;
  /** Where the incremental-cleanup walk stopped (the last entry it visited); undefined: start over. */
  pruneCursor?: [number, Uint8Array, string];
  /** Cached value rows by namespace (see `value-cache.ts`). */
  readonly buckets: Map<string, Bucket>;
}

/** The cache bucket of a state's namespace, created on first use. */
export function bucketOf(s: SqlState, ns: string): Bucket {
  let b = s.buckets.get(ns);
  if (b === undefined) s.buckets.set(ns, (b = new Map()));
  return b;
}

/**
 * A row's value as the reader gets it: a shareable value as cached, any other decoded
 * afresh (a private copy). A cached array (TTL's `[value, timestamp]` pair) is the reader's
 * own to change in place and `put` back (`ValueTable.ownedReads`), so one a delta still
 * holds is copied first.
 */
export function readRow(row: CachedRow): unknown {
  if (row.bytes === null) return undefined;
  const p = row.primitive;
  if (p === NOT_DECODED) return deserializeValue(row.bytes!);
  if (row.held && Array.isArray(p)) {
    row.primitive = p.slice();
    row.held = false;
  }
  return row.primitive;
}

/**
 * The cacheable decoded form of a state's stored value: the value itself when core says it
 * is shareable (`StoredValues.shareable`: nobody can change it), else `NOT_DECODED`.
 */
export function primitiveOf(s: SqlState, value: unknown): unknown {
  return s.options.values.shareable(value) ? value : NOT_DECODED;
}

/** What the tables need of their backend: the current key, the statements, the cache and change marking. */
export interface TableContext {
  readonly stmts: Statements;
  readonly cache: ValueCache;
  readonly operatorName: string;
  /** Key group of the current key. */
  readonly currentKg: number;
  /** The current key and its id. */
  readonly currentKeyValue: Key;
  readonly currentId: KeyId;
  /** Canonical bytes of the current key (computed once per key). */
  keyBytes(): Uint8Array;
  /** Marks (state, current key, namespace) as written, when deltas are tracked. */
  mark(st: number, ns: string): void;
  /** Call before a list or map entry of the current key changes: deltas being encoded keep its rows as at their barrier. */
  keep(st: number, ns: string): void;
}

/** Rows per page when entries() and keys() stream. */
export const PAGE = 256;

/** Turns a failure of SQLite during a state operation into a typed error that names the state. */
export function stateFailure(e: unknown, ctx: TableContext, state: string): unknown {
  if (e instanceof EddyError) return e;
  return openError(e, { component: 'backend:sqlite', operator: ctx.operatorName, state }, 'the SQLite working copy');
}

function expiryOf(s: SqlState, stored: unknown): number | null {
  const e = s.options.expiry;
  return e === undefined ? null : e.expiryOf(stored);
}

/** Value rows (ValueState, ReducingState, AggregatingState), through the write-behind cache. */
export function valueTable<T>(ctx: TableContext, s: SqlState): ValueTable<T> {
  return {
    // See readRow: TTL renews its pairs in place instead of allocating one per write.
    ownedReads: true,
    get: (ns) => {
      try {
        const bucket = bucketOf(s, ns);
        const row = bucket.get(ctx.currentId) ?? loadRow(ctx, s, bucket, ns);
        return readRow(row) as T | undefined;
      } catch (e) {
        throw stateFailure(e, ctx, s.name);
      }
    },
    put: (ns, value) => {
      try {
        const primitive = primitiveOf(s, value);
        // A shareable value is encoded only when written back (rowBytes).
        const bytes = primitive === NOT_DECODED ? serializeValue(value) : undefined;
        const exp = expiryOf(s, value);
        const bucket = bucketOf(s, ns);
        ctx.cache.write(
          bucket,
          ctx.currentId,
          bytes,
          primitive,
          exp,
          () => new CachedRow(s.id, ctx.currentKg, ctx.currentKeyValue, ns, bucket, ctx.currentId, bytes, primitive, exp, undefined),
        );
      } catch (e) {
        throw stateFailure(e, ctx, s.name);
      }
    },
    remove: (ns) => {
      try {
        const bucket = bucketOf(s, ns);
        ctx.cache.write(
          bucket,
          ctx.currentId,
          null,
          undefined,
          null,
          () => new CachedRow(s.id, ctx.currentKg, ctx.currentKeyValue, ns, bucket, ctx.currentId, null, undefined, null, undefined),
        );
      } catch (e) {
        throw stateFailure(e, ctx, s.name);
      }
    },
  };
}

/** Reads the current key's value row from SQLite into the cache (a miss is cached as absent). */
function loadRow(ctx: TableContext, s: SqlState, bucket: Bucket, ns: string): CachedRow {
  return loadValueRow(ctx.stmts, ctx.cache, s, ctx.currentKg, ctx.currentKeyValue, ctx.currentId, ctx.keyBytes(), ns, bucket);
}

/** Reads one value row (key `key`, with id `id` and canonical bytes `k`) from SQLite into the cache (a miss is cached as absent). */
export function loadValueRow(
  stmts: Statements,
  cache: ValueCache,
  s: SqlState,
  kg: number,
  key: Key,
  id: KeyId,
  k: Uint8Array,
  ns: string,
  bucket: Bucket,
): CachedRow {
  const found = stmts.getValue(s.id, kg, k, ns);
  const bytes = found?.v ?? null;
  const primitive = bytes === null ? undefined : primitiveOf(s, deserializeValue(bytes));
  return cache.loaded(new CachedRow(s.id, kg, key, ns, bucket, id, bytes, primitive, found?.exp ?? null, k));
}

/** Loads the value rows (void namespace) of a batch's keys in `range` that are not cached yet. */
export function prefetchValueRows(
  stmts: Statements,
  cache: ValueCache,
  valueStates: readonly SqlState[],
  keys: readonly Key[],
  keyGroups: ArrayLike<number>,
  range: KeyGroupRange,
): void {
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const kg = keyGroups[i]!;
    if (!range.contains(kg)) continue;
    const id = keyId(key);
    let k: Uint8Array | undefined;
    for (const s of valueStates) {
      // The void namespace is what keyed functions use; windows' namespaces load on first access.
      const bucket = bucketOf(s, '');
      if (bucket.has(id)) continue;
      loadValueRow(stmts, cache, s, kg, key, id, (k ??= canonicalKeyBytes(key)), '', bucket);
    }
  }
}

/** List rows: one per element, `uk` = its sequence number. */
export function listTable<T>(ctx: TableContext, s: SqlState): ListTable<T> {
  const { stmts } = ctx;
  const write = (ns: string, values: readonly T[], replace: boolean) => {
    try {
      // Encode everything before writing anything: a failure then leaves the list as it was.
      const encoded = values.map((v) => serializeValue(v));
      const k = ctx.keyBytes();
      const kg = ctx.currentKg;
      ctx.keep(s.id, ns);
      if (replace) stmts.deleteEntry(s.id, kg, k, ns);
      let seq = replace ? 0 : (stmts.maxUk(s.id, kg, k, ns) ?? -1) + 1;
      encoded.forEach((v, i) => stmts.putRow(s.id, kg, k, ns, seq++, v, expiryOf(s, values[i])));
      ctx.mark(s.id, ns);
      stmts.maybeCommit();
    } catch (e) {
      throw stateFailure(e, ctx, s.name);
    }
  };
  return {
    get: (ns) => {
      try {
        const rows = stmts.entryRows(s.id, ctx.currentKg, ctx.keyBytes(), ns);
        return rows.length === 0 ? undefined : rows.map(([, v]) => deserializeValue(v) as T);
      } catch (e) {
        throw stateFailure(e, ctx, s.name);
      }
    },
    add: (ns, value) => write(ns, [value], false),
    addAll: (ns, values) => {
      if (values.length > 0) write(ns, values, false);
    },
    update: (ns, values) => write(ns, values, true),
    remove: (ns) => write(ns, [], true),
  };
}

/** Map rows: one per entry, `uk` = the user key's canonical bytes. */
export function mapTable<V>(ctx: TableContext, s: SqlState): MapTable<V> {
  const { stmts } = ctx;
  const guarded = <R>(f: () => R): R => {
    try {
      return f();
    } catch (e) {
      throw stateFailure(e, ctx, s.name);
    }
  };
  const putAll = (ns: string, entries: ReadonlyArray<readonly [Key, V]>) =>
    guarded(() => {
      if (entries.length === 0) return;
      const encoded = entries.map(([uk, v]) => [canonicalKeyBytes(uk), serializeValue(v)] as const);
      const k = ctx.keyBytes();
      ctx.keep(s.id, ns);
      encoded.forEach(([uk, v], i) => stmts.putRow(s.id, ctx.currentKg, k, ns, uk, v, expiryOf(s, entries[i]![1])));
      ctx.mark(s.id, ns);
      stmts.maybeCommit();
    });
  return {
    get: (ns, userKey) =>
      guarded(() => {
        const v = stmts.getRow(s.id, ctx.currentKg, ctx.keyBytes(), ns, canonicalKeyBytes(userKey));
        return v === undefined ? undefined : (deserializeValue(v) as V);
      }),
    put: (ns, userKey, value) => putAll(ns, [[userKey, value]]),
    putAll,
    delete: (ns, userKey) =>
      guarded(() => {
        ctx.keep(s.id, ns);
        stmts.deleteRow(s.id, ctx.currentKg, ctx.keyBytes(), ns, canonicalKeyBytes(userKey));
        ctx.mark(s.id, ns);
        stmts.maybeCommit();
      }),
    contains: (ns, userKey) => guarded(() => stmts.hasRow(s.id, ctx.currentKg, ctx.keyBytes(), ns, canonicalKeyBytes(userKey))),
    isEmpty: (ns) => guarded(() => !stmts.hasEntry(s.id, ctx.currentKg, ctx.keyBytes(), ns)),
    // The key is captured now: the caller may move on to other keys while it iterates.
    entries: (ns) => mapPages<V>(ctx, s, ctx.currentKg, ctx.keyBytes(), ns),
    syncEntries: (ns) => mapPagesNow<V>(ctx, s, ctx.currentKg, ctx.keyBytes(), ns),
    remove: (ns) =>
      guarded(() => {
        ctx.keep(s.id, ns);
        stmts.deleteEntry(s.id, ctx.currentKg, ctx.keyBytes(), ns);
        ctx.mark(s.id, ns);
        stmts.maybeCommit();
      }),
  };
}

/** Streams a map's entries a page at a time, after the last user key seen (so writes in between are safe). */
async function* mapPages<V>(ctx: TableContext, s: SqlState, kg: number, k: Uint8Array, ns: string): AsyncIterable<[Key, V]> {
  yield* mapPagesNow<V>(ctx, s, kg, k, ns);
}

/** {@link mapPages}, synchronously (sqlite-wasm answers at once). */
function* mapPagesNow<V>(ctx: TableContext, s: SqlState, kg: number, k: Uint8Array, ns: string): Generator<[Key, V]> {
  // Map rows hold blob user keys, which sort after every integer: -1 starts before all of them.
  let after: number | Uint8Array = -1;
  for (;;) {
    let rows;
    try {
      rows = ctx.stmts.rowsAfter(s.id, kg, k, ns, after, PAGE);
    } catch (e) {
      throw stateFailure(e, ctx, s.name);
    }
    for (const [uk, v] of rows) yield [keyFromCanonicalBytes(uk as Uint8Array), deserializeValue(v) as V];
    if (rows.length < PAGE) return;
    after = rows[rows.length - 1]![0];
  }
}
