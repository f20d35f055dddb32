/**
 * A durable input log in IndexedDB (browsers): one database per log,
 * `eddy-input-log:<name>`, with the entries keyed by offset and the first retained offset
 * in a `meta` store. Appends and truncations are `durability: 'strict'` transactions, so
 * an acknowledged append survives a tab crash or power loss. One writer per log across
 * the tabs and workers of an origin: a Web Lock (`navigator.locks`, taken without waiting
 * and held until `close()`), looked up only when the log is opened.
 */
import type { IDBPDatabase } from 'idb';
import { InputLogError, type EddyErrorCode } from '../api/errors.ts';
import type { InputLogBounds, InputLogStore } from '../format/input-log-store.ts';

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
  readonly #lockMode: 'fail' | 'wait';
  #db: IDBPDatabase | undefined;
  #release: (() => Promise<void>) | undefined;
  #next = 0;

  constructor(
    /** The log's name; the database is `eddy-input-log:<name>`. */
    readonly name: string,
    options: IndexedDbInputLogStoreOptions = {},
  ) {
    this.description = `indexeddb:${name}`;
    this.#durability = options.durability ?? 'strict';
    this.#lockMode = options.lock ?? 'fail';
  }

  async open(): Promise<InputLogBounds> {
    if (this.#release) throw this.#error('STORAGE_LOCKED', 'this store is open already');
    this.#release = await this.#lock();
    try {
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
    } catch (e) {
      await this.close();
      throw e instanceof InputLogError ? e : this.#failure(e, 'open');
    }
  }

  /** Takes the log's Web Lock without waiting; resolves with its release. */
  #lock(): Promise<() => Promise<void>> {
    const locks = (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks;
    if (locks === undefined) {
      return Promise.reject(this.#error('STORAGE_FAILURE', 'Web Locks (navigator.locks) are not available here, so a single writer cannot be guaranteed'));
    }
    return new Promise((resolve, reject) => {
      let letGo: () => void = () => {};
      const held = new Promise<void>((r) => (letGo = r));
      const request = locks.request(`eddy:input-log:${this.name}`, this.#lockMode === 'wait' ? {} : { ifAvailable: true }, (lock) => {
        if (lock === null) {
          reject(this.#error('STORAGE_LOCKED', 'another writer (this tab, another tab or a worker of this origin) holds the log; close it there first'));
          return undefined;
        }
        resolve(async () => {
          letGo();
          await request; // free once the request settles, so that an open() right after succeeds
        });
        return held;
      });
      request.catch(reject);
    });
  }

  async append(offset: number, entries: readonly Uint8Array[]): Promise<void> {
    const db = this.#open();
    if (offset !== this.#next) throw this.#error('INVALID_ARGUMENT', `append at offset ${offset}, but the log ends at ${this.#next}`);
    try {
      const tx = db.transaction(ENTRIES, 'readwrite', { durability: this.#durability });
      const store = tx.objectStore(ENTRIES);
      // Put without awaiting each request: one transaction, one commit.
      for (let i = 0; i < entries.length; i++) void store.put(entries[i], offset + i);
      await tx.done;
    } catch (e) {
      throw this.#failure(e, 'append to');
    }
    this.#next = offset + entries.length;
  }

  async read(from: number, max: number): Promise<Uint8Array[]> {
    const db = this.#open();
    if (max <= 0) return [];
    try {
      return (await db.getAll(ENTRIES, IDBKeyRange.lowerBound(from), max)) as Uint8Array[];
    } catch (e) {
      throw this.#failure(e, 'read');
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
      throw this.#failure(e, 'truncate');
    }
  }

  async close(): Promise<void> {
    this.#db?.close();
    this.#db = undefined;
    const release = this.#release;
    this.#release = undefined;
    await release?.();
  }

  #open(): IDBPDatabase {
    if (!this.#db) throw this.#error('INVALID_ARGUMENT', 'the store is not open');
    return this.#db;
  }

  #error(code: EddyErrorCode, message: string): InputLogError {
    return new InputLogError(code, message, { component: `input-log:${this.description}` });
  }

  #failure(e: unknown, what: string): InputLogError {
    const quota = e instanceof Error && e.name === 'QuotaExceededError';
    return new InputLogError(
      quota ? 'STORAGE_FULL' : 'STORAGE_FAILURE',
      `cannot ${what} the log: ${e instanceof Error ? e.message : String(e)}`,
      { component: `input-log:${this.description}` },
      { cause: e },
    );
  }
}
