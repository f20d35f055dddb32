/**
 * TTL's value table (see `ttl-tables.ts` for the decorator as a whole): the hot path of
 * every counter with TTL, kept apart from the list and map tables.
 *
 * Reads and writes stay synchronous when the backend answers synchronously. A pair handed
 * to the backend is changed only where the backend hands its stored objects out as the
 * reader's own (`ValueTable.ownedReads`: the heap backend, SQLite's cache, the Durable
 * Object backend), and only within the record that read it; anywhere else a snapshot or a
 * cache may still be reading it.
 */
import type { Key } from '../format/key-bytes.ts';
import type { MaybePromise, ValueTable } from './backend.ts';
import { andThen, isPromise } from './maybe-promise.ts';
import { accessed, type TtlContext, type TtlValue } from './ttl-context.ts';

const toUndefined = (): undefined => undefined;

/** `value` once `done` settled (at once when it is not a Promise). */
function resolveTo<R>(done: MaybePromise<void>, value: R): MaybePromise<R> {
  return isPromise(done) ? done.then(() => value) : value;
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

  /** Whether a read that finds a live pair needs nothing but its value: owned reads, and no renewal on read (OnCreateAndWrite). */
  private readonly plainReads: boolean;

  constructor(
    private readonly ctx: TtlContext,
    private readonly inner: ValueTable<TtlValue<T>>,
  ) {
    this.inPlace = inner.ownedReads === true;
    this.rewrites = this.inPlace && inner.rewritten !== undefined;
    this.plainReads = this.inPlace && !ctx.updateOnRead;
  }

  resident(namespace: string): boolean {
    return this.inner.resident?.(namespace) ?? true;
  }

  // get and put are the hot path of every counter: written so that with a synchronous
  // backend they allocate at most one pair per write and nothing else (closures live in
  // the *Later methods, so that V8 allocates no context on the synchronous path). Their
  // usual case is kept to a few lines and the rest is called: V8 inlines only so much
  // bytecode into the user's function (920 bytes in all), and where that function also
  // sees states without TTL (one counter class used with and without) a larger TTL path
  // stopped being inlined, costing it more than the work it does.
  get(namespace: string): MaybePromise<T | undefined> {
    const ctx = this.ctx;
    // ctx.access() and ctx.expired() written out: no call is left on the usual path.
    const pending = ctx.idleAt === ctx.clock.reading ? undefined : ctx.fullAccess();
    if (pending !== undefined) return this.readLater(pending, namespace);
    const tv = this.inner.get(namespace) as TtlValue<T> | undefined;
    if (tv === undefined) return undefined;
    // The usual read: a live pair (a table with owned reads answers at once, no Promise).
    if (this.plainReads && tv[1] + ctx.ttlMs > ctx.now) {
      this.lastRead = tv;
      this.readRecord = ctx.clock.record;
      this.readKey = ctx.backend.getCurrentKey();
      this.readNamespace = namespace;
      return tv[0];
    }
    return this.readOther(namespace, tv);
  }

  /** {@link get} past its usual case. */
  private readOther(namespace: string, tv: MaybePromise<TtlValue<T> | undefined>): MaybePromise<T | undefined> {
    // A table with owned reads answers at once: no Promise check.
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
    const ctx = this.ctx;
    const pending = ctx.idleAt === ctx.clock.reading ? undefined : ctx.fullAccess();
    if (pending !== undefined) return this.putLater(pending, namespace, value);
    const tv = this.lastRead;
    this.lastRead = undefined;
    // The usual write: a read-modify-write (this record's read of the same key and
    // namespace) of a value that needs no copy, where the pair read is the stored one and
    // is still live: only the write is left to record.
    if (
      tv !== undefined &&
      this.rewrites &&
      this.readRecord === ctx.clock.record &&
      namespace === this.readNamespace &&
      ctx.backend.getCurrentKey() === this.readKey &&
      (value === null || typeof value !== 'object') &&
      tv[1] + ctx.ttlMs > ctx.now &&
      this.readRecord !== 0
    ) {
      tv[0] = value;
      tv[1] = ctx.now;
      return this.inner.rewritten!(namespace);
    }
    return this.write(namespace, value, tv);
  }

  /** {@link put} past its usual case; `tv` is the last read's pair, if any (already forgotten). */
  private write(namespace: string, value: T, tv: TtlValue<T> | undefined): MaybePromise<void> {
    const ctx = this.ctx;
    const record = ctx.clock.record;
    // Only a pair this record read for the same key and namespace is renewed in place (see lastRead).
    const own =
      tv !== undefined && record !== 0 && record === this.readRecord && namespace === this.readNamespace && ctx.backend.getCurrentKey() === this.readKey;
    // A pair that expired since its read (a clock that moves within a record) may have been
    // cleaned up by this very access: it is stored anew.
    if (!own || ctx.expired(tv)) return this.inner.put(namespace, [value, ctx.now]);
    tv[0] = value;
    tv[1] = ctx.now;
    // The pair is stored: around a value that needs no copy, only the write is left to record (where the backend can).
    return this.rewrites && (value === null || typeof value !== 'object') ? this.inner.rewritten!(namespace) : this.inner.put(namespace, tv);
  }

  private putLater(pending: Promise<unknown>, namespace: string, value: T): Promise<void> {
    this.lastRead = undefined;
    return pending.then(() => this.inner.put(namespace, [value, this.ctx.now]));
  }

  remove(namespace: string): MaybePromise<void> {
    this.lastRead = undefined;
    return accessed(this.ctx, () => this.inner.remove(namespace));
  }
}
