/**
 * The checkpoint storage contract: where snapshots go (Flink's `CheckpointStorage`).
 * A storage is a flat namespace of immutable binary objects addressed by `/`-separated
 * paths. Every `put` is atomic — a reader sees the whole object or none of it — which is
 * what lets a checkpoint become complete by one last `put` of its manifest.
 *
 * Implementations live in `src/storages/` (memory, filesystem, OPFS); core knows none of
 * them. Each passes
 * `test/conformance/checkpoint-storage.suite.ts` unchanged.
 */

/** Exclusive right to write under a scope (one job's checkpoints). */
export interface StorageLock {
  /** Gives the scope up; later `lock()` calls for it succeed again. */
  release(): Promise<void>;
}

/** Storages may refuse a path that is also a directory of other paths. */
export interface CheckpointStorage {
  /** Short name used in error messages: `[storage:NAME]`. */
  readonly name: string;
  /**
   * Takes the write lock of `scope` (a job id). A second holder — another job or another
   * writer elsewhere — is refused with an EddyError of code `STORAGE_LOCKED` (or waits, where a
   * storage offers that as an option), so two writers never interleave checkpoints.
   */
  lock(scope: string): Promise<StorageLock>;
  /** Stores `data` under `path`, replacing any previous object, atomically. */
  put(path: string, data: Uint8Array): Promise<void>;
  /** The object at `path`, or `undefined` when there is none. */
  get(path: string): Promise<Uint8Array | undefined>;
  /**
   * The paths that start with `prefix` — a plain string prefix, not a directory (`'a/b'`
   * also matches `'a/bc/x'`; end it with `/` for a directory) — sorted by UTF-16 code
   * unit (= byte order for valid paths). A prefix no valid path can start with gives `[]`.
   */
  list(prefix: string): Promise<string[]>;
  /** Removes the object at `path`; removing a missing object is not an error. */
  delete(path: string): Promise<void>;
}

/** Checks a path: non-empty segments of safe characters, no `.`/`..`, so every storage can map it to its own naming. */
export function checkPath(path: string): string | undefined {
  if (typeof path !== 'string' || path.length === 0) return 'a path must be a non-empty string';
  if (path.length > 1024) return 'a path must be at most 1024 characters';
  for (const segment of path.split('/')) {
    if (segment.length === 0) return `path "${path}" has an empty segment`;
    if (segment === '.' || segment === '..') return `path "${path}" may not contain "." or ".." segments`;
    if (!/^[A-Za-z0-9._-]+$/.test(segment)) return `path "${path}" may only use letters, digits, ".", "_", "-" and "/"`;
  }
  return undefined;
}

/** The file name of a checkpoint's manifest inside its directory. */
export const MANIFEST_NAME = '_metadata';
