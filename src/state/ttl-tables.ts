/**
 * TTL as a decorator over the backend's tables (Flink's `TtlStateFactory` idea): the
 * decorated tables store every value, list element and map value as a {@link TtlValue}
 * pair and apply expiry, visibility and update type on the way in and out. The five
 * user-facing states run over them unchanged, on every backend.
 *
 * This file holds the list and map tables; the pair and the shared context are in
 * `ttl-context.ts`, the value table (the hot path, renewing pairs in place where the
 * backend allows) in `ttl-value-table.ts`.
 */
import { keyId } from '../format/key-ids.ts';
import type { Key } from '../format/key-bytes.ts';
import type { ListTable, MapTable, MaybePromise } from './backend.ts';
import { andThen, isPromise } from './maybe-promise.ts';
import { accessed, isExpired, type TtlContext, type TtlValue } from './ttl-context.ts';

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
