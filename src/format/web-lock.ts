/**
 * One writer per name across the tabs and workers of an origin, through the Web Locks API
 * (`navigator.locks`): the browser holds a lock until its holder lets go or its tab dies,
 * so a crashed writer never leaves a stale lock. The browser stores (OPFS checkpoints, the
 * IndexedDB and OPFS input logs) pass their platform's lock manager; the protocol of taking
 * and releasing lives here once, as the lease protocol of object stores does in
 * `lease-lock.ts`.
 */
import type { StorageLock } from './checkpoint-storage.ts';

/** The part of the Web Locks API's `LockManager` that {@link takeWebLock} calls. */
export interface WebLockManager {
  /** Calls `callback` with the lock (or `null` when `ifAvailable` and it is held), and holds it until the promise `callback` returns settles. */
  request(name: string, options: { ifAvailable?: boolean }, callback: (lock: unknown) => Promise<void> | undefined): Promise<unknown>;
}

/** The errors a {@link takeWebLock} caller raises, worded for its own component. */
export interface WebLockErrors {
  /** There is no lock manager here (`navigator.locks` is missing). */
  missing(): Error;
  /** `mode` is `'fail'` and another holder has the lock. */
  held(): Error;
}

/**
 * Takes the lock `name` from `locks` and holds it until released. With `mode` `'fail'` a
 * held lock rejects at once with `errors.held()`; with `'wait'` it queues until the holder
 * lets go. The release resolves once the lock is free again, so a take right after succeeds.
 */
export function takeWebLock(locks: WebLockManager | undefined, name: string, mode: 'fail' | 'wait', errors: WebLockErrors): Promise<StorageLock> {
  if (locks === undefined) return Promise.reject(errors.missing());
  return new Promise((resolve, reject) => {
    let letGo: () => void = () => {};
    const held = new Promise<void>((r) => (letGo = r));
    const request = locks.request(name, mode === 'wait' ? {} : { ifAvailable: true }, (lock) => {
      if (lock === null) {
        reject(errors.held());
        return undefined;
      }
      resolve({
        async release() {
          letGo();
          // The lock is free once the request settles; wait for it, so that a take right after succeeds.
          await request;
        },
      });
      return held;
    });
    request.catch(reject);
  });
}
