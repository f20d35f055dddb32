/**
 * TTL as a decorator over the backend's tables (Flink's `TtlStateFactory` idea): the
 * decorated tables store every value, list element and map value as a {@link TtlValue}
 * pair and apply expiry, visibility and update type on the way in and out. The five
 * user-facing states run over them unchanged, on every backend.
 *
 * Reads and writes stay synchronous when the backend answers synchronously. A pair handed
 * to the backend is changed only where the backend hands its stored objects out as the
 * reader's own (`ValueTable.ownedReads`: the heap backend, SQLite's cache), and only within the record
 * that read it; anywhere else a snapshot or a cache may still be reading it.
 */
import type { Clock } from '../api/clock.ts';
import { keyId } from '../format/key-ids.ts';
import type { Key } from '../format/key-bytes.ts';
import { cloneValue } from '../format/value-clone.ts';
import type { KeyedStateBackend, ListTable, MapTable, MaybePromise, StoredValues, ValueTable } from './backend.ts';
import { isPlainPrimitive } from './stored-values.ts';
import { andThen, isPromise } from './maybe-promise.ts';

/** The stored form of a value with TTL: `[userValue, lastAccessTimestamp]`. */
export type TtlValue<T> = [value: T, lastAccess: number];

/**
 * What backends are told about TTL pairs: this module builds a new pair for every write
 * and never changes one it handed over — except where the backend's reads are owned
 * (`ValueTable.ownedReads`: the heap backend and SQLite's cache, whose reads copy what a snapshot still reads) — so only an
 * object user value needs a private copy (then in a new pair), and a pair around an
 * encodable primitive may be shared as it is.
 */
export const TTL_PAIR_VALUES: StoredValues = {
  copy: <T>(stored: T): T => {
    const pair = stored as unknown as TtlValue<unknown>;
    const value = pair[0];
    return value === null || typeof value !== 'object' ? stored : ([cloneValue(value), pair[1]] as T);
  },
  shareable: (stored) => Array.isArray(stored) && stored.length === 2 && isPlainPrimitive(stored[0]) && typeof stored[1] === 'number',
};

/** Incremental cleanup, as the context sees it (see `ttl-cleanup.ts`). */
export interface AccessHook {
  /** Steps before this time cannot find anything expired: the caller may skip them. */
  readonly idleUntil: number;
  /** Checks `size` entries at time `now`; a Promise only when the access has to wait for it. */
  step(now: number, size: number): Promise<unknown> | undefined;
}

/** TTL's time source: processing time, and the number of the current record (`RecordTime` in ttl-states.ts). */
export interface RecordClock extends Clock {
  /** Increases with every record and timer; 0 while no records flow (a store used directly). */
  readonly record: number;
  /** The time of the latest access, once {@link advance} ran. */
  readonly current: number;
  /** Sets {@link current} for an access (a field rather than an answer: see `RecordTime.advance`). */
  advance(): void;
}

/** What the decorated tables of one state share: its config, and the time of the current access. */
export class TtlContext {
  /** Processing time of the current access, taken from `clock` once per access. */
  now = 0;

  constructor(
    /** TTL's time source (per record, see `RecordTime` in ttl-states.ts). */
    readonly clock: RecordClock,
    readonly ttlMs: number,
    /** `UpdateType.OnReadAndWrite`. */
    readonly updateOnRead: boolean,
    /** `StateVisibility.ReturnExpiredIfNotCleanedUp`. */
    readonly returnExpired: boolean,
    readonly backend: KeyedStateBackend,
    /** Incremental cleanup on every access, with its number of entries (0: none). */
    private readonly cleanup: AccessHook | undefined,
    private readonly cleanupSize: number,
  ) {}

  /** Starts an access: reads the clock and runs the cleanup step. */
  access(): Promise<unknown> | undefined {
    const clock = this.clock;
    clock.advance();
    const now = (this.now = clock.current);
    // The idle check stays here so that no time is passed to a call on the usual path (see RecordTime.advance).
    if (this.cleanupSize === 0 || now < this.cleanup!.idleUntil) return undefined;
    return this.cleanup!.step(now, this.cleanupSize);
  }

  /** Whether a stored pair has expired at the current access's time. */
  expired(tv: TtlValue<unknown>): boolean {
    return tv[1] + this.ttlMs <= this.now;
  }
}

/** Whether a stored pair has expired at `now` (Flink: `lastAccess + ttl <= now`). */
export function isExpired(stored: TtlValue<unknown>, ttlMs: number, now: number): boolean {
  return stored[1] + ttlMs <= now;
}

const toUndefined = (): undefined => undefined;

/** `value` once `done` settled (at once when it is not a Promise). */
function resolveTo<R>(done: MaybePromise<void>, value: R): MaybePromise<R> {
  return isPromise(done) ? done.then(() => value) : value;
}

/** Runs `f` after the access started, waiting only when its cleanup step answered a Promise. */
function accessed<R>(ctx: TtlContext, f: () => MaybePromise<R>): MaybePromise<R> {
  const pending = ctx.access();
  return pending === undefined ? f() : pending.then(f);
}

/** A value table with TTL over the backend's table of pairs. */
export class TtlValueTable<T> implements ValueTable<T> {
  /** Whether the backend's reads are the reader's own (`ValueTable.ownedReads`): pairs are then renewed in place. */
  private readonly inPlace: boolean;
  /** Whether a pair renewed in place needs no `put`, only `ValueTable.rewritten` (the heap backend). */
  private readonly rewrites: boolean;
  /**
   * The pair the last read found, with the record, key and namespace it belongs to: a write
   * of the same record, key and namespace (a read-modify-write) renews it in place instead
   * of allocating a pair. Snapshots are taken between records, so it cannot have become a
   * snapshot's meanwhile; only this table writes it, so it is still the key's own.
   */
  private lastRead: TtlValue<T> | undefined = undefined;
  private readRecord = 0;
  private readKey: Key | undefined = undefined;
  private readNamespace = '';

  constructor(
    private readonly ctx: TtlContext,
    private readonly inner: ValueTable<TtlValue<T>>,
  ) {
    this.inPlace = inner.ownedReads === true;
    this.rewrites = this.inPlace && inner.rewritten !== undefined;
  }

  resident(namespace: string): boolean {
    return this.inner.resident?.(namespace) ?? true;
  }

  // get and put are the hot path of every counter: written so that with a synchronous
  // backend they allocate at most one pair per write and nothing else (closures live in
  // the *Later methods, so that V8 allocates no context on the synchronous path).
  get(namespace: string): MaybePromise<T | undefined> {
    const pending = this.ctx.access();
    if (pending !== undefined) return this.readLater(pending, namespace);
    const tv = this.inner.get(namespace);
    // A table with owned reads answers at once: no Promise check on the hot path.
    return this.inPlace || !isPromise(tv) ? this.readStored(namespace, tv as TtlValue<T> | undefined) : this.readStoredLater(tv, namespace);
  }

  private readLater(pending: Promise<unknown>, namespace: string): Promise<T | undefined> {
    return pending.then(() => this.read(namespace));
  }

  private read(namespace: string): MaybePromise<T | undefined> {
    const tv = this.inner.get(namespace);
    return isPromise(tv) ? this.readStoredLater(tv, namespace) : this.readStored(namespace, tv);
  }

  private readStoredLater(tv: Promise<TtlValue<T> | undefined>, namespace: string): Promise<T | undefined> {
    return tv.then((x) => this.readStored(namespace, x));
  }

  /**
   * `undefined` when absent or (under NeverReturnExpired) expired — removing it, as
   * Flink's cleanup on read does; the user value otherwise, renewed under OnReadAndWrite.
   * ReturnExpiredIfNotCleanedUp leaves an expired value for a cleanup strategy to remove.
   */
  private readStored(namespace: string, tv: TtlValue<T> | undefined): MaybePromise<T | undefined> {
    if (tv === undefined) return undefined;
    const ctx = this.ctx;
    if (ctx.expired(tv)) {
      if (ctx.returnExpired) return tv[0];
      return andThen(this.inner.remove(namespace), toUndefined);
    }
    if (!this.inPlace) {
      // A new pair rather than a changed one: the stored pair may be shared with a snapshot.
      return ctx.updateOnRead ? resolveTo(this.inner.put(namespace, [tv[0], ctx.now]), tv[0]) : tv[0];
    }
    if (ctx.updateOnRead) {
      tv[1] = ctx.now;
      if (this.rewrites) this.inner.rewritten!(namespace);
      else this.inner.put(namespace, tv);
    }
    this.lastRead = tv;
    this.readRecord = ctx.clock.record;
    this.readKey = ctx.backend.getCurrentKey();
    this.readNamespace = namespace;
    return tv[0];
  }

  put(namespace: string, value: T): MaybePromise<void> {
    const pending = this.ctx.access();
    if (pending !== undefined) return this.putLater(pending, namespace, value);
    const tv = this.readThisRecord(namespace);
    // A pair that expired since its read (a clock that moves within a record) may have been
    // cleaned up by this very access: it is stored anew.
    if (tv === undefined || this.ctx.expired(tv)) return this.inner.put(namespace, [value, this.ctx.now]);
    tv[0] = value;
    tv[1] = this.ctx.now;
    // The pair is stored: around a value that needs no copy, only the write is left to record (where the backend can).
    return this.rewrites && (value === null || typeof value !== 'object') ? this.inner.rewritten!(namespace) : this.inner.put(namespace, tv);
  }

  private putLater(pending: Promise<unknown>, namespace: string, value: T): Promise<void> {
    this.lastRead = undefined;
    return pending.then(() => this.inner.put(namespace, [value, this.ctx.now]));
  }

  /** The pair the last read found, if that read was this record's, key's and namespace's (a read-modify-write); forgets it. */
  private readThisRecord(namespace: string): TtlValue<T> | undefined {
    const tv = this.lastRead;
    if (tv === undefined) return undefined;
    this.lastRead = undefined;
    const ctx = this.ctx;
    const record = ctx.clock.record;
    return record !== 0 && record === this.readRecord && namespace === this.readNamespace && ctx.backend.getCurrentKey() === this.readKey ? tv : undefined;
  }

  remove(namespace: string): MaybePromise<void> {
    this.lastRead = undefined;
    return accessed(this.ctx, () => this.inner.remove(namespace));
  }
}

/** A list table with TTL: every element carries its own timestamp and expires alone. */
export class TtlListTable<T> implements ListTable<T> {
  constructor(
    private readonly ctx: TtlContext,
    private readonly inner: ListTable<TtlValue<T>>,
  ) {}

  resident(namespace: string): boolean {
    return this.inner.resident?.(namespace) ?? true;
  }

  get(namespace: string): MaybePromise<T[] | undefined> {
    return accessed(this.ctx, () => andThen(this.inner.get(namespace), (list) => this.read(namespace, list)));
  }

  private read(namespace: string, list: TtlValue<T>[] | undefined): MaybePromise<T[] | undefined> {
    if (list === undefined) return undefined;
    const { ttlMs, returnExpired, updateOnRead } = this.ctx;
    const now = this.ctx.now;
    const out: T[] = [];
    const kept: TtlValue<T>[] = [];
    let changed = false;
    for (const tv of list) {
      if (isExpired(tv, ttlMs, now)) {
        if (returnExpired) {
          out.push(tv[0]);
          kept.push(tv);
        } else changed = true;
      } else {
        out.push(tv[0]);
        if (updateOnRead) {
          kept.push([tv[0], now]);
          changed = true;
        } else kept.push(tv);
      }
    }
    const result = out.length === 0 ? undefined : out;
    // Written back only when something was dropped or renewed; an empty list removes it.
    return changed ? andThen(this.inner.update(namespace, kept), () => result) : result;
  }

  add(namespace: string, value: T): MaybePromise<void> {
    return accessed(this.ctx, () => this.inner.add(namespace, [value, this.ctx.now]));
  }

  addAll(namespace: string, values: readonly T[]): MaybePromise<void> {
    return accessed(this.ctx, () => this.inner.addAll(namespace, this.wrap(values)));
  }

  update(namespace: string, values: readonly T[]): MaybePromise<void> {
    return accessed(this.ctx, () => this.inner.update(namespace, this.wrap(values)));
  }

  remove(namespace: string): MaybePromise<void> {
    return accessed(this.ctx, () => this.inner.remove(namespace));
  }

  private wrap(values: readonly T[]): TtlValue<T>[] {
    const now = this.ctx.now;
    return values.map((v): TtlValue<T> => [v, now]);
  }
}

/** A map table with TTL: every entry carries its own timestamp and expires alone. */
export class TtlMapTable<V> implements MapTable<V> {
  constructor(
    private readonly ctx: TtlContext,
    private readonly inner: MapTable<TtlValue<V>>,
  ) {}

  resident(namespace: string, userKey?: Key): boolean {
    return this.inner.resident?.(namespace, userKey) ?? true;
  }

  /** As a value's read (see {@link TtlValueTable}), per entry. */
  get(namespace: string, userKey: Key): MaybePromise<V | undefined> {
    return accessed(this.ctx, () =>
      andThen(this.inner.get(namespace, userKey), (tv): MaybePromise<V | undefined> => {
        const ctx = this.ctx;
        if (tv === undefined) return undefined;
        if (ctx.expired(tv)) return ctx.returnExpired ? tv[0] : andThen(this.inner.delete(namespace, userKey), () => undefined);
        if (ctx.updateOnRead) return andThen(this.inner.put(namespace, userKey, [tv[0], ctx.now]), () => tv[0]);
        return tv[0];
      }),
    );
  }

  put(namespace: string, userKey: Key, value: V): MaybePromise<void> {
    return accessed(this.ctx, () => this.inner.put(namespace, userKey, [value, this.ctx.now]));
  }

  putAll(namespace: string, entries: ReadonlyArray<readonly [Key, V]>): MaybePromise<void> {
    return accessed(this.ctx, () => {
      const now = this.ctx.now;
      return this.inner.putAll(
        namespace,
        entries.map(([k, v]): [Key, TtlValue<V>] => [k, [v, now]]),
      );
    });
  }

  delete(namespace: string, userKey: Key): MaybePromise<void> {
    return accessed(this.ctx, () => this.inner.delete(namespace, userKey));
  }

  /** True for a visible entry (Flink: `get(key) != null`), with the same read effects. */
  contains(namespace: string, userKey: Key): MaybePromise<boolean> {
    return andThen(this.get(namespace, userKey), (v) => v !== undefined);
  }

  /** Empty when no entry is visible, so that it agrees with `entries()`; renews nothing. */
  isEmpty(namespace: string): MaybePromise<boolean> {
    if (this.ctx.returnExpired) return accessed(this.ctx, () => this.inner.isEmpty(namespace));
    if (this.inner.syncEntries !== undefined && this.resident(namespace)) return this.isEmptyNow(namespace);
    const source = this.inner.entries(namespace);
    const key = this.ctx.backend.getCurrentKey();
    return (async () => {
      const pending = this.ctx.access();
      if (pending !== undefined) await pending;
      const now = this.ctx.now;
      const expired: Key[] = [];
      let empty = true;
      for await (const [k, tv] of source) {
        if (!isExpired(tv, this.ctx.ttlMs, now)) {
          empty = false;
          break;
        }
        expired.push(k);
      }
      if (sameKey(this.ctx.backend.getCurrentKey(), key)) for (const k of expired) await this.inner.delete(namespace, k);
      return empty;
    })();
  }

  /** {@link isEmpty} where the map answers synchronously: expired entries seen on the way are removed. */
  private isEmptyNow(namespace: string): boolean {
    settleNow(this.ctx.access());
    const now = this.ctx.now;
    const expired: Key[] = [];
    let empty = true;
    for (const [k, tv] of this.inner.syncEntries!(namespace)) {
      if (!isExpired(tv, this.ctx.ttlMs, now)) {
        empty = false;
        break;
      }
      expired.push(k);
    }
    for (const k of expired) settleNow(this.inner.delete(namespace, k));
    return empty;
  }

  /** The entries, synchronously (see {@link MapTable.syncEntries}), with the read effects of {@link entries}. */
  syncEntries(namespace: string): Iterable<[Key, V]> {
    settleNow(this.ctx.access());
    // The time and key of this call, not of the first step of the iteration.
    return this.iterateNow(namespace, this.inner.syncEntries!(namespace), this.ctx.now, this.ctx.backend.getCurrentKey());
  }

  private *iterateNow(namespace: string, source: Iterable<[Key, TtlValue<V>]>, now: number, key: Key | undefined): Generator<[Key, V]> {
    const { ttlMs, returnExpired, updateOnRead } = this.ctx;
    const expired: Key[] = [];
    const renewed: Array<[Key, TtlValue<V>]> = [];
    try {
      for (const [k, tv] of source) {
        if (isExpired(tv, ttlMs, now)) {
          if (!returnExpired) {
            expired.push(k);
            continue;
          }
        } else if (updateOnRead) renewed.push([k, [tv[0], now]]);
        yield [k, tv[0]];
      }
    } finally {
      if ((expired.length > 0 || renewed.length > 0) && sameKey(this.ctx.backend.getCurrentKey(), key)) {
        for (const k of expired) settleNow(this.inner.delete(namespace, k));
        if (renewed.length > 0) settleNow(this.inner.putAll(namespace, renewed));
      }
    }
  }

  entries(namespace: string): AsyncIterable<[Key, V]> {
    // Like the undecorated table, bind the key now: the iteration reads this key's map.
    const source = this.inner.entries(namespace);
    return this.iterate(namespace, source, this.ctx.backend.getCurrentKey());
  }

  private async *iterate(namespace: string, source: AsyncIterable<[Key, TtlValue<V>]>, key: Key | undefined): AsyncGenerator<[Key, V]> {
    const pending = this.ctx.access();
    if (pending !== undefined) await pending;
    const { ttlMs, returnExpired, updateOnRead, now } = this.ctx;
    const expired: Key[] = [];
    const renewed: Array<[Key, TtlValue<V>]> = [];
    try {
      for await (const [k, tv] of source) {
        if (isExpired(tv, ttlMs, now)) {
          if (!returnExpired) {
            expired.push(k);
            continue;
          }
        } else if (updateOnRead) renewed.push([k, [tv[0], now]]);
        yield [k, tv[0]];
      }
    } finally {
      // Cleanup and renewal wait for the end (or an early break), and are skipped when the
      // caller kept iterating after its record: the backend's current key is then another.
      if ((expired.length > 0 || renewed.length > 0) && sameKey(this.ctx.backend.getCurrentKey(), key)) {
        for (const k of expired) await this.inner.delete(namespace, k);
        if (renewed.length > 0) await this.inner.putAll(namespace, renewed);
      }
    }
  }

  remove(namespace: string): MaybePromise<void> {
    return accessed(this.ctx, () => this.inner.remove(namespace));
  }
}

/** A cleanup step or write-behind flush started by a synchronous access: it runs on; its failure stays with the backend. */
function settleNow(r: MaybePromise<unknown> | undefined): void {
  if (isPromise(r)) r.catch(() => undefined);
}

function sameKey(a: Key | undefined, b: Key | undefined): boolean {
  return a !== undefined && b !== undefined && (a === b || keyId(a) === keyId(b));
}
