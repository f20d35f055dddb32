/**
 * The three table shapes of the contract over `eddy_kv` rows (see `schema.ts`): a row per
 * value, per list element, per map entry, written straight into the object's SQLite.
 * Every read decodes a private copy, so user code changing what it read (or wrote) never
 * reaches stored state. A write of several rows runs in one `transactionSync`: when one
 * row fails (over the row limit), none of them is written.
 */
import type { StateKind } from '../../api/descriptors.ts';
import { deserializeValue, serializeValue } from '../../format/value-codec.ts';
import { canonicalKeyBytes, keyFromCanonicalBytes, type Key } from '../../format/key-bytes.ts';
import type { ListTable, MapTable, ValueTable } from '../../state/backend.ts';
import type { TableConfig } from '../../state/keyed-backend-base.ts';
import { keyBytesBound, type KeyId } from '../../format/key-ids.ts';
import type { FullRow, Tables } from './schema.ts';
import { sqlFailure } from './storage.ts';
import type { ValueRowCache } from './value-cache.ts';

/** A registered state: its number in `eddy_states`, kind and table options. */
export interface DoState {
  readonly id: number;
  readonly name: string;
  readonly kind: StateKind;
  /** What core said about the state: snapshot filter, expiry. */
  options: TableConfig;
  /** Rows restored without an expiry must get one before native cleanup deletes by it. */
  needsExpiryBackfill: boolean;
  /** A table of it was requested since the backend opened (else it was only found in storage). */
  requested: boolean;
  /** Where the incremental-cleanup walk stopped; undefined: start over. */
  pruneCursor?: [number, Uint8Array, string];
}

/** What the tables need of their backend: the queries, a transaction, the current key and error context. */
export interface TableContext {
  readonly tables: Tables;
  readonly operatorName: string;
  readonly component: string;
  /** Runs `f` atomically (`ctx.storage.transactionSync`). */
  atomically<T>(f: () => T): T;
  /** Key group of the current key. */
  readonly currentKg: number;
  /** Canonical bytes of the current key (computed once per key). */
  keyBytes(): Uint8Array;
  /** The write-behind cache of value rows, when configured. */
  readonly cache: ValueRowCache | undefined;
  /** The current key's id (kept only while a cache is configured). */
  readonly currentId: KeyId;
}

/**
 * The largest encoded key plus value a cached value row accepts: the platform's limit
 * (found between 2,100,000 and 2,200,000 bytes) minus room for the row's other columns.
 * Checked when the value is written, so that a write-back never meets a row too large.
 */
export const CACHED_ROW_LIMIT = 2_000_000;

/** Rows per page when entries() and keys() stream. */
export const PAGE = 256;

function expiryOf(s: DoState, stored: unknown): number | null {
  const e = s.options.expiry;
  return e === undefined ? null : e.expiryOf(stored);
}

/** Runs a table operation, turning a platform failure into a typed error naming the state (and the size written). */
function guard<R>(ctx: TableContext, s: DoState, what: string, f: () => R, bytes?: () => number): R {
  try {
    return f();
  } catch (e) {
    throw sqlFailure(e, { component: ctx.component, operator: ctx.operatorName, state: s.name }, what, bytes?.());
  }
}

const sizeOf = (parts: ReadonlyArray<{ length: number }>): number => parts.reduce((n, p) => n + p.length, 0);

/** Value rows (ValueState, ReducingState, AggregatingState), `uk = 0`; through the cache when there is one. */
export function valueTable<T>(ctx: TableContext, s: DoState): ValueTable<T> {
  const { tables } = ctx;
  const keyBytes = () => ctx.keyBytes();
  // The per-record paths catch inline (no closure per call, as guard() would take).
  const failed = (e: unknown, what: string) => sqlFailure(e, { component: ctx.component, operator: ctx.operatorName, state: s.name }, what);
  /** Writes a value's encoding `v`, or removes the value when `v` is null. */
  const write = (ns: string, v: Uint8Array | null, value: T | undefined, what: string) => {
    const { cache } = ctx;
    if (cache === undefined) {
      const k = ctx.keyBytes();
      guard(
        ctx,
        s,
        what,
        () => (v === null ? tables.deleteRow(s.id, ctx.currentKg, k, ns, 0) : tables.putRow(s.id, ctx.currentKg, k, ns, 0, v, expiryOf(s, value))),
        () => (v?.length ?? 0) + k.length,
      );
      return;
    }
    const id = ctx.currentId;
    const valueSize = v?.length ?? 0;
    // The exact size needs the key's canonical bytes: only asked for when a bound of them (from
    // the key id, no encoding) does not already prove the row under the limit.
    if (valueSize + keyBytesBound(id) > CACHED_ROW_LIMIT) {
      const size = valueSize + (cache.keyBytesOf(s.id, id, ns) ?? ctx.keyBytes()).length;
      if (size > CACHED_ROW_LIMIT)
        throw sqlFailure(
          new Error('SQLITE_TOOBIG (checked before caching)'),
          { component: ctx.component, operator: ctx.operatorName, state: s.name },
          what,
          size,
        );
    }
    const shareable = v !== null && s.options.values.shareable(value);
    try {
      cache.put(s.id, ctx.currentKg, id, keyBytes, ns, v, value, shareable, v === null ? null : expiryOf(s, value));
    } catch (e) {
      throw failed(e, what);
    }
  };
  /**
   * A `put`. The value may be the cached row's own decoded object, changed in place by its
   * reader (`ownedReads`): when the write is refused, the row is decoded afresh from its
   * bytes, which still hold what is stored.
   */
  const put = (ns: string, value: T) => {
    try {
      write(ns, serializeValue(value), value, 'writing a value');
    } catch (e) {
      ctx.cache?.redecode(s.id, ctx.currentId, ns);
      throw e;
    }
  };
  return {
    // TTL renews its pairs in place instead of allocating one per write. Without a cache every
    // read decodes a private copy. With one, a value kept decoded is handed out as it is: write-backs
    // and snapshots (synchronous, within one call) read the row's bytes, encoded at each write,
    // never the decoded object, so no batch already taken can see an in-place change; only a
    // refused write has to restore the decoded value from the bytes (see put).
    ownedReads: true,
    get: (ns) => {
      try {
        const { cache } = ctx;
        if (cache !== undefined) return cache.get(s.id, ctx.currentKg, ctx.currentId, keyBytes, ns, s.options.values.shareable) as T | undefined;
        const v = tables.getValue(s.id, ctx.currentKg, ctx.keyBytes(), ns);
        return v === undefined ? undefined : (deserializeValue(v) as T);
      } catch (e) {
        throw failed(e, 'reading a value');
      }
    },
    put,
    remove: (ns) => write(ns, null, undefined, 'removing a value'),
  };
}

/** List rows: one per element, `uk` = its sequence number. */
export function listTable<T>(ctx: TableContext, s: DoState): ListTable<T> {
  const { tables } = ctx;
  const write = (ns: string, values: readonly T[], replace: boolean) => {
    // Encode everything before writing anything: a failure then leaves the list as it was.
    const encoded = values.map((v) => serializeValue(v));
    const k = ctx.keyBytes();
    const kg = ctx.currentKg;
    const rows = () => {
      if (replace) tables.deleteEntry(s.id, kg, k, ns);
      const first = replace ? 0 : (tables.maxUk(s.id, kg, k, ns) ?? -1) + 1;
      tables.putRows(encoded.map((v, i): FullRow => [s.id, kg, k, ns, first + i, v, expiryOf(s, values[i])]));
    };
    const largest = () => k.length + Math.max(0, ...encoded.map((v) => v.length));
    guard(ctx, s, 'writing a list', () => (encoded.length === 1 && !replace ? rows() : ctx.atomically(rows)), largest);
  };
  return {
    get: (ns) =>
      guard(ctx, s, 'reading a list', () => {
        const rows = tables.entryRows(s.id, ctx.currentKg, ctx.keyBytes(), ns);
        return rows.length === 0 ? undefined : rows.map(([, v]) => deserializeValue(v) as T);
      }),
    add: (ns, value) => write(ns, [value], false),
    addAll: (ns, values) => {
      if (values.length > 0) write(ns, values, false);
    },
    update: (ns, values) => write(ns, values, true),
    remove: (ns) => write(ns, [], true),
  };
}

/** Map rows: one per entry, `uk` = the user key's canonical bytes. */
export function mapTable<V>(ctx: TableContext, s: DoState): MapTable<V> {
  const { tables } = ctx;
  const putAll = (ns: string, entries: ReadonlyArray<readonly [Key, V]>) => {
    if (entries.length === 0) return;
    const encoded = entries.map(([uk, v]) => [canonicalKeyBytes(uk), serializeValue(v)] as const);
    const k = ctx.keyBytes();
    const kg = ctx.currentKg;
    const rows = () => tables.putRows(encoded.map(([uk, v], i): FullRow => [s.id, kg, k, ns, uk, v, expiryOf(s, entries[i]![1])]));
    const largest = () => k.length + Math.max(...encoded.map((e) => sizeOf(e)));
    guard(ctx, s, 'writing a map entry', () => (encoded.length === 1 ? rows() : ctx.atomically(rows)), largest);
  };
  return {
    get: (ns, userKey) =>
      guard(ctx, s, 'reading a map entry', () => {
        const v = tables.getRow(s.id, ctx.currentKg, ctx.keyBytes(), ns, canonicalKeyBytes(userKey));
        return v === undefined ? undefined : (deserializeValue(v) as V);
      }),
    put: (ns, userKey, value) => putAll(ns, [[userKey, value]]),
    putAll,
    delete: (ns, userKey) => guard(ctx, s, 'deleting a map entry', () => tables.deleteRow(s.id, ctx.currentKg, ctx.keyBytes(), ns, canonicalKeyBytes(userKey))),
    contains: (ns, userKey) => guard(ctx, s, 'reading a map', () => tables.hasRow(s.id, ctx.currentKg, ctx.keyBytes(), ns, canonicalKeyBytes(userKey))),
    isEmpty: (ns) => guard(ctx, s, 'reading a map', () => !tables.hasEntry(s.id, ctx.currentKg, ctx.keyBytes(), ns)),
    // The key is captured now: the caller may move on to other keys while it iterates.
    entries: (ns) => mapPages<V>(ctx, s, ctx.currentKg, ctx.keyBytes(), ns),
    syncEntries: (ns) => mapPagesNow<V>(ctx, s, ctx.currentKg, ctx.keyBytes(), ns),
    remove: (ns) => guard(ctx, s, 'removing a map', () => tables.deleteEntry(s.id, ctx.currentKg, ctx.keyBytes(), ns)),
  };
}

/** Streams a map's entries a page at a time, after the last user key seen (so writes in between are safe). */
async function* mapPages<V>(ctx: TableContext, s: DoState, kg: number, k: Uint8Array, ns: string): AsyncIterable<[Key, V]> {
  yield* mapPagesNow<V>(ctx, s, kg, k, ns);
}

/** {@link mapPages}, synchronously (the object's SQL answers at once). */
function* mapPagesNow<V>(ctx: TableContext, s: DoState, kg: number, k: Uint8Array, ns: string): Generator<[Key, V]> {
  // Map rows hold blob user keys, which sort after every number: -1 starts before all of them.
  let after: number | Uint8Array = -1;
  for (;;) {
    const page = guard(ctx, s, 'iterating a map', () => ctx.tables.rowsAfter(s.id, kg, k, ns, after, PAGE));
    for (const [uk, v] of page) yield [keyFromCanonicalBytes(uk as Uint8Array), deserializeValue(v) as V];
    if (page.length < PAGE) return;
    after = page[page.length - 1]![0];
  }
}
