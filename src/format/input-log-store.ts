/**
 * The contract of a durable input log's storage (see `engine/input-log/durable-log.ts`):
 * a sequence of opaque byte entries at consecutive offsets, appended at the end, read
 * from any retained offset, and truncated at the front. Every implementation — memory,
 * a file (Node/Deno), IndexedDB — passes `test/conformance/input-log-store.suite.ts`.
 *
 * One store instance is one writer: `open()` takes the log's single-writer lock (a lock
 * file, a Web Lock) and refuses with `STORAGE_LOCKED` while anyone else holds it.
 */

/** Where a log stands: entries `[first, next)` are retained. */
export interface InputLogBounds {
  /** The first retained offset (everything before it was truncated). */
  readonly first: number;
  /** The offset the next appended entry gets. */
  readonly next: number;
}

/** Storage of one durable input log. */
export interface InputLogStore {
  /** Names the log in errors, e.g. `file:/var/lib/app/clicks` or `indexeddb:clicks`. */
  readonly description: string;
  /**
   * Takes the single-writer lock and recovers the log (an entry torn by a crash is
   * dropped): resolves with its bounds. Refuses with `STORAGE_LOCKED` when another writer
   * (tab, worker, process, or another instance here) holds the log.
   */
  open(): Promise<InputLogBounds>;
  /**
   * Appends `entries` at offsets `offset, offset + 1, …`, where `offset` equals the
   * current `next`; resolves once they are durable (survive a crash), and writes all of
   * them or, after a crash, a prefix of them — never a torn entry.
   */
  append(offset: number, entries: readonly Uint8Array[]): Promise<void>;
  /** Up to `max` entries from `from` on (`first <= from <= next`); fewer at the end. */
  read(from: number, max: number): Promise<Uint8Array[]>;
  /**
   * Drops every entry before `before` (`first <= before <= next`); durable like an
   * append. Truncating to an offset at or before `first` changes nothing.
   */
  truncate(before: number): Promise<void>;
  /** Releases the lock; the store can be opened again afterwards. Idempotent. */
  close(): Promise<void>;
}
