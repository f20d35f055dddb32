/**
 * What every durable input-log store (file, IndexedDB, OPFS) does alike around its own
 * data: being the log's one writer (a lock taken on open, held until close), recovering
 * under that lock, and wording its errors as `InputLogError`s of component
 * `input-log:<description>`. Each store supplies its lock and its platform's out-of-space
 * test; its data and recovery stay its own.
 */
import { InputLogError, type EddyErrorCode } from '../api/errors.ts';
import type { StorageLock } from './checkpoint-storage.ts';
import { takeWebLock, type WebLockManager } from './web-lock.ts';

/** The single-writer lock of one input-log store, and the errors the store raises. */
export class InputLogWriter {
  #lock: StorageLock | undefined;

  constructor(
    /** The store's description, named in every error. */
    readonly description: string,
    /** Takes the log's lock, refusing (with `STORAGE_LOCKED`) while another writer holds it. */
    private readonly take: () => Promise<StorageLock>,
    /** Whether a platform error means the storage is full. */
    private readonly isFull: (e: unknown) => boolean,
  ) {}

  /** Whether this writer holds the lock (between `open` and `release`). */
  get held(): boolean {
    return this.#lock !== undefined;
  }

  /**
   * Takes the lock, then runs `recover` under it. Refuses with `STORAGE_LOCKED` when this
   * writer holds the lock already; when `recover` throws, `close` (the store's, which
   * releases) runs and the error comes out as an `InputLogError` (`STORAGE_FAILURE` or
   * `STORAGE_FULL` for a platform error).
   */
  async open<T>(recover: () => Promise<T>, close: () => Promise<void>): Promise<T> {
    if (this.#lock) throw this.error('STORAGE_LOCKED', 'this store is open already');
    this.#lock = await this.take();
    try {
      return await recover();
    } catch (e) {
      await close();
      throw e instanceof InputLogError ? e : this.failure(e, 'open');
    }
  }

  /** Lets go of the lock, if held; resolves once another writer could take it. Idempotent. */
  async release(): Promise<void> {
    const lock = this.#lock;
    this.#lock = undefined;
    await lock?.release();
  }

  /** An error of this log. */
  error(code: EddyErrorCode, message: string, cause?: unknown): InputLogError {
    return new InputLogError(code, message, { component: `input-log:${this.description}` }, cause === undefined ? undefined : { cause });
  }

  /** The platform error `e` of a failed `what` ("append to", "read", …): `STORAGE_FULL` or `STORAGE_FAILURE`. */
  failure(e: unknown, what: string): InputLogError {
    return this.error(this.isFull(e) ? 'STORAGE_FULL' : 'STORAGE_FAILURE', `cannot ${what} the log: ${e instanceof Error ? e.message : String(e)}`, e);
  }
}

/** The Web's out-of-space error (a `DOMException` named `QuotaExceededError`), for the browser stores. */
export function quotaExceeded(e: unknown): boolean {
  return e instanceof Error && e.name === 'QuotaExceededError';
}

/**
 * The lock of a browser input log (IndexedDB, OPFS): the Web Lock `name` of `locks` (the
 * platform's `navigator.locks`), refused with `STORAGE_LOCKED` while another tab or worker
 * of the origin holds it (`mode` `'fail'`), or waited for (`'wait'`, a standby tab).
 */
export function takeInputLogWebLock(locks: WebLockManager | undefined, name: string, mode: 'fail' | 'wait', description: string): Promise<StorageLock> {
  const error = (code: EddyErrorCode, message: string) => new InputLogError(code, message, { component: `input-log:${description}` });
  return takeWebLock(locks, name, mode, {
    missing: () => error('STORAGE_FAILURE', 'Web Locks (navigator.locks) are not available here, so a single writer cannot be guaranteed'),
    held: () => error('STORAGE_LOCKED', 'another writer (this tab, another tab or a worker of this origin) holds the log; close it there first'),
  });
}
