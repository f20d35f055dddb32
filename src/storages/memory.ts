/**
 * `MemoryCheckpointStorage`: checkpoints kept in a `Map` on the JavaScript heap — the
 * default storage, like Flink's `JobManagerCheckpointStorage`. It survives task
 * restarts inside one process (which is all the local executor needs to recover from
 * a failure) but not the process itself.
 */
import { CheckpointStorageError } from '../api/errors.ts';
import { checkPath, type CheckpointStorage, type StorageLock } from '../format/checkpoint-storage.ts';

const COMPONENT = 'storage:memory';

/** Keeps checkpoint objects in memory: path → a private copy of the bytes. */
export class MemoryCheckpointStorage implements CheckpointStorage {
  /** Shows up in error messages as `[storage:memory]`. */
  readonly name = 'memory';
  readonly #objects = new Map<string, Uint8Array>();
  /** scope → the token of the handle that holds it; a token, not a flag, so that an old handle's release() cannot free a newer holder. */
  readonly #locks = new Map<string, object>();

  /** Takes the scope's lock; a second `lock()` of a held scope is refused with `STORAGE_LOCKED`. */
  async lock(scope: string): Promise<StorageLock> {
    validPath(scope, 'scope');
    if (this.#locks.has(scope)) {
      throw new CheckpointStorageError('STORAGE_LOCKED', `scope "${scope}" is already locked by another writer in this process`, {
        component: COMPONENT,
      });
    }
    const token = {};
    this.#locks.set(scope, token);
    const locks = this.#locks;
    return {
      async release() {
        if (locks.get(scope) === token) locks.delete(scope);
      },
    };
  }

  /** Stores a copy of `data`, so later changes to the caller's buffer do not reach the checkpoint. */
  async put(path: string, data: Uint8Array): Promise<void> {
    validPath(path, 'path');
    validData(data, path);
    this.#objects.set(path, new Uint8Array(data));
  }

  /** A fresh copy of the object, so a caller mutating it cannot corrupt the stored checkpoint. */
  async get(path: string): Promise<Uint8Array | undefined> {
    validPath(path, 'path');
    const data = this.#objects.get(path);
    return data === undefined ? undefined : new Uint8Array(data);
  }

  /** Paths starting with `prefix` (a plain string prefix, not a directory), in code-unit order. */
  async list(prefix: string): Promise<string[]> {
    if (typeof prefix !== 'string') {
      throw new CheckpointStorageError('INVALID_ARGUMENT', 'a list prefix must be a string', { component: COMPONENT });
    }
    const out: string[] = [];
    for (const path of this.#objects.keys()) if (path.startsWith(prefix)) out.push(path);
    return out.sort();
  }

  /** Removes the object; a missing one is fine. */
  async delete(path: string): Promise<void> {
    validPath(path, 'path');
    this.#objects.delete(path);
  }
}

function validPath(path: string, what: 'path' | 'scope'): void {
  const problem = checkPath(path);
  if (problem !== undefined) {
    throw new CheckpointStorageError('INVALID_ARGUMENT', what === 'scope' ? `invalid lock scope: ${problem}` : problem, {
      component: COMPONENT,
    });
  }
}

function validData(data: unknown, path: string): void {
  // toString tag rather than instanceof: a Uint8Array from another realm (iframe, vm) is fine too.
  if (Object.prototype.toString.call(data) !== '[object Uint8Array]') {
    throw new CheckpointStorageError('INVALID_ARGUMENT', `put "${path}": data must be a Uint8Array`, { component: COMPONENT });
  }
}
