/**
 * A durable input log (issue 17): events from a producer that cannot replay them (DOM
 * events, WebSocket messages, callbacks) are appended here and acknowledged once
 * durable; a job reads them back through {@link DurableLog.source} as a replayable
 * source whose split is the next offset, as Flink's Kafka source checkpoints its
 * partition offsets. When a checkpoint completes, the log is truncated up to the offset
 * that checkpoint covers — never further — so a crash or reload replays exactly what no
 * completed checkpoint covered yet.
 *
 * Appends are group-committed: values are encoded at once (a value that cannot be
 * encoded is refused before anything is written), queued, and written in one
 * `store.append` per round, so many appends share one fsync/transaction.
 */
import { EddyError, InputLogError, type EddyErrorCode } from '../../api/errors.ts';
import type { Source } from '../../api/sources.ts';
import type { InputLogStore } from '../../format/input-log-store.ts';
import { serializeValue } from '../../format/value-codec.ts';
import { DurableLogSource, logError, type DurableLogSourceOptions } from './log-source.ts';

/** Options of {@link DurableLog.open}. */
export interface DurableLogOptions {
  /** Names the log in errors and in its source's splits; defaults to the store's description. */
  name?: string;
  /** Entries kept in memory after they were appended, so the job reads them without the store (default 65,536). */
  tailCapacity?: number;
}

interface Pending {
  entries: Uint8Array[];
  /** Each resolves with the offset of its first entry. */
  waiters: { resolve: (offset: number) => void; reject: (e: unknown) => void; offset: number }[];
}

/** A durable, single-writer, append-only log of values with consecutive offsets. */
export class DurableLog<T> {
  #first: number;
  /** Offsets below this are durable (visible to readers). */
  #durable: number;
  /** The offset the next append gets (ahead of `#durable` while writes are in flight). */
  #next: number;
  /** Recently appended entries, `#tailStart` first, so that live reads skip the store. */
  #tail: Uint8Array[] = [];
  #tailStart: number;
  readonly #tailCapacity: number;
  #queued: Pending | undefined;
  #writing: Promise<void> | undefined;
  /** Serialises appends and truncations: each store sees one operation at a time. */
  #chain: Promise<void> = Promise.resolve();
  #failure: EddyError | undefined;
  #closed = false;
  #dataWaiters: (() => void)[] = [];

  private constructor(
    readonly store: InputLogStore,
    /** The log's name in errors and splits. */
    readonly name: string,
    first: number,
    next: number,
    tailCapacity: number,
  ) {
    this.#first = first;
    this.#durable = next;
    this.#next = next;
    this.#tailStart = next;
    this.#tailCapacity = tailCapacity;
  }

  /**
   * Opens (and recovers) the log in `store`, taking its single-writer lock: a second
   * tab, worker or process opening the same log is refused with an {@link InputLogError}
   * of code `STORAGE_LOCKED`.
   */
  static async open<T>(store: InputLogStore, options: DurableLogOptions = {}): Promise<DurableLog<T>> {
    const name = options.name ?? store.description;
    const tailCapacity = options.tailCapacity ?? 65_536;
    if (!Number.isInteger(tailCapacity) || tailCapacity < 0)
      throw logError('INVALID_ARGUMENT', name, `tailCapacity must be a non-negative integer, got ${String(tailCapacity)}`);
    let bounds;
    try {
      bounds = await store.open();
    } catch (e) {
      throw wrap(e, name, 'cannot open');
    }
    return new DurableLog<T>(store, name, bounds.first, bounds.next, tailCapacity);
  }

  /** The first retained offset: everything before it was covered by a completed checkpoint. */
  get firstOffset(): number {
    return this.#first;
  }

  /** The offset the next appended value gets; also how many values were ever appended. */
  get nextOffset(): number {
    return this.#next;
  }

  /** Values below this offset are durable. */
  get durableOffset(): number {
    return this.#durable;
  }

  /**
   * Appends one value; resolves with its offset once it is durable. A value the codec
   * cannot encode (a function, a symbol, a cyclic object …) rejects with
   * `UNSERIALIZABLE_VALUE` and writes nothing.
   */
  append(value: T): Promise<number> {
    // One value, one Promise: per-event overhead is what a producer of single events pays.
    let entry: Uint8Array;
    try {
      this.#usable();
      entry = encode(value, 0, this.name);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#enqueue([entry]);
  }

  /**
   * Appends values in order; resolves with the offset of the first once all are durable.
   * If any value cannot be encoded, none is appended.
   */
  appendAll(values: readonly T[]): Promise<number> {
    let entries: Uint8Array[];
    try {
      this.#usable();
      entries = values.map((v, i) => encode(v, i, this.name));
    } catch (e) {
      return Promise.reject(e);
    }
    if (entries.length === 0) return Promise.resolve(this.#next);
    return this.#enqueue(entries);
  }

  #enqueue(entries: readonly Uint8Array[]): Promise<number> {
    const offset = this.#next;
    this.#next += entries.length;
    const pending = (this.#queued ??= { entries: [], waiters: [] });
    for (const e of entries) pending.entries.push(e);
    const done = new Promise<number>((resolve, reject) => pending.waiters.push({ resolve, reject, offset }));
    this.#writing ??= this.#drain();
    return done;
  }

  /** Writes queued entries round by round until none are left. */
  async #drain(): Promise<void> {
    try {
      // Start the first round a turn later (and after a running truncation), not inside the
      // first append: otherwise a synchronous burst of appends is written as two rounds
      // (its first value alone, then the rest), which halved the OPFS store's throughput.
      await this.#chain;
      while (this.#queued !== undefined) {
        const batch = this.#queued;
        this.#queued = undefined;
        const offset = this.#durable;
        try {
          await this.#serial(() => this.store.append(offset, batch.entries));
        } catch (e) {
          // Offsets were handed out for entries that are not written: no later append may succeed.
          this.#failure = wrap(e, this.name, `cannot append ${batch.entries.length} entries at offset ${offset}`);
          for (const w of batch.waiters) w.reject(this.#failure);
          const later = this.#queued as Pending | undefined;
          for (const w of later?.waiters ?? []) w.reject(this.#failure);
          this.#queued = undefined;
          return;
        }
        this.#durable = offset + batch.entries.length;
        this.#remember(batch.entries);
        for (const w of batch.waiters) w.resolve(w.offset);
        this.#wake();
      }
    } finally {
      this.#writing = undefined;
    }
  }

  #remember(entries: Uint8Array[]): void {
    if (this.#tailCapacity === 0) {
      this.#tailStart = this.#durable;
      return;
    }
    for (const e of entries) this.#tail.push(e);
    const excess = this.#tail.length - this.#tailCapacity;
    if (excess > 0) {
      // Drop in large steps so that trimming stays amortised O(1) per entry.
      const drop = Math.max(excess, this.#tailCapacity >> 2);
      this.#tail.splice(0, drop);
      this.#tailStart += drop;
    }
  }

  #serial(op: () => Promise<void>): Promise<void> {
    const run = this.#chain.then(op);
    this.#chain = run.catch(() => {});
    return run;
  }

  #wake(): void {
    const waiters = this.#dataWaiters;
    this.#dataWaiters = [];
    for (const w of waiters) w();
  }

  #usable(): void {
    if (this.#failure) throw this.#failure;
    if (this.#closed) throw logError('INVALID_ARGUMENT', this.name, 'the log is closed');
  }

  /** Up to `max` durable entries from `from` on (the job's reads; from memory when recent). */
  async readEntries(from: number, max: number): Promise<Uint8Array[]> {
    if (from < this.#first) throw logError('SNAPSHOT_INCOMPATIBLE', this.name, `offset ${from} was truncated (the log starts at ${this.#first})`);
    const end = Math.min(this.#durable, from + max);
    if (from >= end) return [];
    if (from >= this.#tailStart) return this.#tail.slice(from - this.#tailStart, end - this.#tailStart);
    try {
      return await this.store.read(from, Math.min(end, this.#tailStart) - from);
    } catch (e) {
      throw wrap(e, this.name, `cannot read from offset ${from}`);
    }
  }

  /** Resolves when entries at or after `offset` are durable, or after `timeoutMs`. */
  waitForData(offset: number, timeoutMs: number): Promise<void> {
    if (this.#durable > offset || this.#closed || this.#failure) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#dataWaiters.push(done);
    });
  }

  /**
   * Drops entries before `before` (called by the source when a checkpoint covering them
   * completed). Never moves backwards; refuses to pass the durable end.
   */
  async truncate(before: number): Promise<void> {
    this.#usable();
    if (!Number.isInteger(before) || before > this.#durable) {
      throw logError('INVALID_ARGUMENT', this.name, `cannot truncate before offset ${String(before)}: only offsets up to ${this.#durable} are durable`);
    }
    if (before <= this.#first) return;
    try {
      await this.#serial(() => this.store.truncate(before));
    } catch (e) {
      throw wrap(e, this.name, `cannot truncate before offset ${before}`);
    }
    this.#first = Math.max(this.#first, before);
    if (before > this.#tailStart) {
      this.#tail.splice(0, Math.min(before, this.#durable) - this.#tailStart);
      this.#tailStart = Math.min(before, this.#durable);
    }
  }

  /**
   * A replayable source reading this log (parallelism 1). Unbounded unless
   * `stopAtOffset` is given (then it finishes there, like a bounded Kafka source).
   */
  source(options: DurableLogSourceOptions = {}): Source<T> {
    return new DurableLogSource<T>(this, options);
  }

  /**
   * Waits for queued appends, then releases the lock. Idempotent. Close it after the job
   * reading it ended: a closed log refuses the truncation a completed checkpoint asks for.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#writing;
    await this.#chain;
    this.#closed = true;
    this.#wake();
    await this.store.close();
  }
}

function encode(value: unknown, index: number, name: string): Uint8Array {
  try {
    return serializeValue(value);
  } catch (e) {
    const why = e instanceof Error ? e.message.replace(/^\[eddy\](\s\[[^\]]*\])*\s*/, '') : String(e);
    throw new InputLogError(
      'UNSERIALIZABLE_VALUE',
      `value #${index} of the append cannot be encoded (${why}); nothing was appended`,
      { component: `input-log:${name}` },
      { cause: e },
    );
  }
}

function wrap(e: unknown, name: string, what: string): EddyError {
  if (e instanceof InputLogError && e.context.component === `input-log:${name}`) return e;
  const code: EddyErrorCode = e instanceof EddyError ? e.code : 'STORAGE_FAILURE';
  const detail = e instanceof Error ? e.message.replace(/^\[eddy\] /, '') : String(e);
  return new InputLogError(code, `${what}: ${detail}`, { component: `input-log:${name}` }, { cause: e });
}
