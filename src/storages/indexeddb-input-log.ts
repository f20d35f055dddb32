/**
 * A durable input log in IndexedDB (browsers): one database per log,
 * `eddy-input-log:<name>`, with the entries keyed by offset and the first retained offset
 * in a `meta` store. Appends and truncations are `durability: 'strict'` transactions, so
 * an acknowledged append survives a tab crash or power loss. One writer per log across
 * the tabs and workers of an origin: a Web Lock (`navigator.locks`, taken without waiting
 * and held until `close()`), looked up only when the log is opened.
 */
import type { IDBPDatabase } from 'idb';
import type { InputLogBounds, InputLogStore } from '../format/input-log-store.ts';
import { InputLogWriter, quotaExceeded, takeInputLogWebLock } from '../format/input-log-writer.ts';

const ENTRIES = 'entries';
const META = 'meta';

/** Options of {@link IndexedDbInputLogStore}. */
export interface IndexedDbInputLogStoreOptions {
  /** `'strict'` (default) acknowledges an append once the browser flushed it to disk; `'relaxed'` trades that for speed. */
  durability?: 'strict' | 'relaxed';
  /**
   * When another writer holds the log: `'fail'` (default) refuses with `STORAGE_LOCKED`;
   * `'wait'` waits until it is released (another tab closed), so a standby tab takes over.
   */
  lock?: 'fail' | 'wait';
}

/** Stores a durable input log in an IndexedDB database of this origin. */
export class IndexedDbInputLogStore implements InputLogStore {
  readonly description: string;
  readonly #durability: 'strict' | 'relaxed';
  readonly #writer: InputLogWriter;
  #db: IDBPDatabase | undefined;
  #next = 0;

  constructor(
    /** The log's name; the database is `eddy-input-log:<name>`. */
    readonly name: string,
    options: IndexedDbInputLogStoreOptions = {},
  ) {
    this.description = `indexeddb:${name}`;
    this.#durability = options.durability ?? 'strict';
    const mode = options.lock ?? 'fail';
    this.#writer = new InputLogWriter(this.description, () => takeInputLogWebLock(webLocks(), `eddy:input-log:${name}`, mode, this.description), quotaExceeded);
  }

  open(): Promise<InputLogBounds> {
    return this.#writer.open(
      () => this.#recover(),
      () => this.close(),
    );
  }

  /** Opens the database; the log ends after its last entry (or at `first` once truncated up to the end). */
  async #recover(): Promise<InputLogBounds> {
    // Loaded on first use, not with eddy: pages without a bundler need no import map for it.
    const { openDB } = await import('idb');
    this.#db = await openDB(`eddy-input-log:${this.name}`, 1, {
      upgrade(db) {
        db.createObjectStore(ENTRIES);
        db.createObjectStore(META);
      },
    });
    const tx = this.#db.transaction([ENTRIES, META], 'readonly');
    const first = ((await tx.objectStore(META).get('first')) as number | undefined) ?? 0;
    const last = await tx.objectStore(ENTRIES).openKeyCursor(null, 'prev');
    await tx.done;
    this.#next = last ? Math.max(first, (last.key as number) + 1) : first;
    return { first, next: this.#next };
  }

  async append(offset: number, entries: readonly Uint8Array[]): Promise<void> {
    const db = this.#open();
    if (offset !== this.#next) throw this.#writer.error('INVALID_ARGUMENT', `append at offset ${offset}, but the log ends at ${this.#next}`);
    try {
      const tx = db.transaction(ENTRIES, 'readwrite', { durability: this.#durability });
      const store = tx.objectStore(ENTRIES);
      // Put without awaiting each request: one transaction, one commit.
      for (let i = 0; i < entries.length; i++) void store.put(entries[i], offset + i);
      await tx.done;
    } catch (e) {
      throw this.#writer.failure(e, 'append to');
    }
    this.#next = offset + entries.length;
  }

  async read(from: number, max: number): Promise<Uint8Array[]> {
    const db = this.#open();
    if (max <= 0) return [];
    try {
      return (await db.getAll(ENTRIES, IDBKeyRange.lowerBound(from), max)) as Uint8Array[];
    } catch (e) {
      throw this.#writer.failure(e, 'read');
    }
  }

  async truncate(before: number): Promise<void> {
    const db = this.#open();
    try {
      const tx = db.transaction([ENTRIES, META], 'readwrite', { durability: this.#durability });
      const first = ((await tx.objectStore(META).get('first')) as number | undefined) ?? 0;
      if (before > first) {
        void tx.objectStore(ENTRIES).delete(IDBKeyRange.upperBound(before, true));
        void tx.objectStore(META).put(before, 'first');
      }
      await tx.done;
    } catch (e) {
      throw this.#writer.failure(e, 'truncate');
    }
  }

  async close(): Promise<void> {
    this.#db?.close();
    this.#db = undefined;
    await this.#writer.release();
  }

  #open(): IDBPDatabase {
    if (!this.#db) throw this.#writer.error('INVALID_ARGUMENT', 'the store is not open');
    return this.#db;
  }
}

/** The browser's Web Locks, looked up only when the log is opened. */
function webLocks(): LockManager | undefined {
  return (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks;
}
