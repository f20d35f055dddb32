/**
 * `FileSystemCheckpointStorage`: checkpoints as files under one directory, for Node and
 * Deno (Flink's `FileSystemCheckpointStorage`). An object's path maps to a file path
 * segment by segment; `checkPath` guarantees that no segment can climb out of the root.
 *
 * `node:fs/promises`, `node:path`, `node:os` and `node:process` are imported lazily,
 * inside the methods, so that a browser bundle of eddy's index can include this class
 * without breaking: the imports only run when a filesystem storage is actually used.
 *
 * Files of our own use names that start with `.~` — a character `checkPath` forbids —
 * so they can never collide with a stored object and `list` never shows them:
 * - `.~tmp-<random>`: a `put` in progress (written, fsynced, then renamed over the target);
 * - `.~lock` in a scope's directory: that scope's write lock;
 * - `.~takeover` in a scope's directory: held for an instant while a stale lock is removed.
 */
import type * as NodeFs from 'node:fs/promises';
import type * as NodePath from 'node:path';
import { CheckpointStorageError } from '../api/errors.ts';
import { checkPath, type CheckpointStorage, type StorageLock } from '../format/checkpoint-storage.ts';
import {
  COMPONENT,
  MAX_ATTEMPTS,
  TEMP_PREFIX,
  conflict,
  errorCode,
  fsStorageError,
  loadPlatform,
  makeDirectories,
  pruneEmptyDirectories,
  randomName,
  syncDirectory,
  writeAll,
} from './fs-files.ts';
import { takeLock } from './fs-lock.ts';

export { fsStorageError } from './fs-files.ts';
export { FileInputLogStore, type FileInputLogStoreOptions } from './fs-input-log.ts';
export { FileSink, type FileSinkOptions } from './fs-sink.ts';
export { jsonLinesEncoder, simpleStringEncoder, type RecordEncoder } from '../api/sink-encoders.ts';
export { SinkError } from '../api/errors.ts';
/** A segment a user's path can contain (mirrors `checkPath`); anything else in the tree is ours or foreign. */
const OBJECT_SEGMENT = /^[A-Za-z0-9._-]+$/;

/** Keeps checkpoint objects as files under `directory` (created on first use). */
export class FileSystemCheckpointStorage implements CheckpointStorage {
  /** Shows up in error messages as `[storage:fs]`. */
  readonly name = 'fs';
  /** The root directory as given; resolved against the working directory on first use. */
  readonly directory: string;
  #root: string | undefined;

  /** @param directory where checkpoints live; created on the first write if missing. */
  constructor(directory: string) {
    if (typeof directory !== 'string' || directory.length === 0) {
      throw new CheckpointStorageError('INVALID_ARGUMENT', 'the checkpoint directory must be a non-empty string', { component: COMPONENT });
    }
    this.directory = directory;
  }

  /**
   * Takes `<directory>/<scope>/.~lock` (see `fs-lock.ts`). A lock whose process is alive
   * on this host — this process included — or that was written on another host, or that
   * cannot be read, is refused with `STORAGE_LOCKED`. A lock of a dead process on this host
   * (a crash) is taken over with one `console.warn`, and the dead writer's half-written
   * temporaries under the scope are removed. In Deno, locks need `--allow-sys=hostname`
   * and, to probe a holder's pid, `--allow-run`; without it a foreign lock is refused,
   * never guessed at.
   */
  async lock(scope: string): Promise<StorageLock> {
    validPath(scope, 'scope');
    const { path } = await loadPlatform();
    return takeLock(this.#resolveRoot(path), scope);
  }

  /** Writes a temporary file in the target's directory, fsyncs it, renames it over the target and fsyncs the directory. */
  async put(path: string, data: Uint8Array): Promise<void> {
    validPath(path, 'path');
    if (Object.prototype.toString.call(data) !== '[object Uint8Array]') {
      throw new CheckpointStorageError('INVALID_ARGUMENT', `put "${path}": data must be a Uint8Array`, { component: COMPONENT });
    }
    const { fs, path: nodePath } = await loadPlatform();
    const root = this.#resolveRoot(nodePath);
    const target = nodePath.join(root, ...path.split('/'));
    const dir = nodePath.dirname(target);
    for (let attempt = 1; ; attempt++) {
      await makeDirectories(fs, nodePath, dir, root, path);
      const temp = nodePath.join(dir, TEMP_PREFIX + randomName());
      let handle: NodeFs.FileHandle;
      try {
        handle = await fs.open(temp, 'wx');
      } catch (error) {
        if (errorCode(error) === 'ENOENT' && attempt < MAX_ATTEMPTS) continue; // directory pruned by a concurrent delete
        throw fsStorageError(error, 'put', path);
      }
      try {
        try {
          await writeAll(handle, data);
          await handle.sync(); // the bytes must be durable before the name points at them
        } finally {
          await handle.close();
        }
        await fs.rename(temp, target);
      } catch (error) {
        await fs.rm(temp, { force: true }).catch(() => {});
        if (errorCode(error) === 'EISDIR' || errorCode(error) === 'ENOTEMPTY') {
          throw conflict(path, `"${path}" is a directory of other objects here, so it cannot also be an object`, error);
        }
        throw fsStorageError(error, 'put', path);
      }
      await syncDirectory(fs, dir); // makes the rename itself durable
      return;
    }
  }

  /** The file's bytes, or `undefined` when there is no file (or a directory) at the path. */
  async get(path: string): Promise<Uint8Array | undefined> {
    validPath(path, 'path');
    const { fs, path: nodePath } = await loadPlatform();
    const target = nodePath.join(this.#resolveRoot(nodePath), ...path.split('/'));
    let buffer: Uint8Array;
    try {
      buffer = await fs.readFile(target);
    } catch (error) {
      const code = errorCode(error);
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return undefined;
      throw fsStorageError(error, 'get', path);
    }
    // A plain Uint8Array (not a Buffer, whose slice() does not copy), owning its memory.
    return buffer.byteOffset === 0 && buffer.byteLength === buffer.buffer.byteLength
      ? new Uint8Array(buffer.buffer, 0, buffer.byteLength)
      : Uint8Array.prototype.slice.call(buffer);
  }

  /**
   * Walks the tree below the deepest directory the prefix names and returns the object
   * paths that start with `prefix` (plain string prefix), in code-unit order. Our own
   * files, names a path cannot have, and symbolic links are skipped.
   */
  async list(prefix: string): Promise<string[]> {
    if (typeof prefix !== 'string') {
      throw new CheckpointStorageError('INVALID_ARGUMENT', 'a list prefix must be a string', { component: COMPONENT });
    }
    const slash = prefix.lastIndexOf('/');
    const start = slash < 0 ? '' : prefix.slice(0, slash);
    // Every match has `start` as whole segments, so an invalid `start` matches nothing (and is never walked).
    if (start !== '' && checkPath(start) !== undefined) return [];
    const { fs, path: nodePath } = await loadPlatform();
    const root = this.#resolveRoot(nodePath);
    const out: string[] = [];
    const walk = async (relative: string): Promise<void> => {
      let entries: import('node:fs').Dirent[];
      try {
        entries = await fs.readdir(relative === '' ? root : nodePath.join(root, ...relative.split('/')), { withFileTypes: true });
      } catch (error) {
        const code = errorCode(error);
        if (code === 'ENOENT' || code === 'ENOTDIR') return; // nothing there, or pruned by a concurrent delete
        throw fsStorageError(error, 'list', prefix);
      }
      const below: Promise<void>[] = [];
      for (const entry of entries) {
        if (!OBJECT_SEGMENT.test(entry.name) || entry.name === '.' || entry.name === '..') continue;
        const child = relative === '' ? entry.name : `${relative}/${entry.name}`;
        if (entry.isFile()) {
          if (child.startsWith(prefix)) out.push(child);
        } else if (entry.isDirectory()) {
          const inside = `${child}/`;
          if (inside.startsWith(prefix) || prefix.startsWith(inside)) below.push(walk(child));
        }
      }
      await Promise.all(below);
    };
    await walk(start);
    return out.sort();
  }

  /** Removes the file, then every parent directory that became empty, up to (not including) the root. */
  async delete(path: string): Promise<void> {
    validPath(path, 'path');
    const { fs, path: nodePath } = await loadPlatform();
    const root = this.#resolveRoot(nodePath);
    const target = nodePath.join(root, ...path.split('/'));
    try {
      await fs.unlink(target);
    } catch (error) {
      const code = errorCode(error);
      if (code === 'ENOENT' || code === 'ENOTDIR') return; // already gone: fine
      // A directory is not an object, so there is nothing to delete (EISDIR on Linux, EPERM on macOS).
      if (code === 'EISDIR' || code === 'EPERM') {
        const stat = await fs.lstat(target).catch(() => undefined);
        if (stat?.isDirectory()) return;
      }
      throw fsStorageError(error, 'delete', path);
    }
    await pruneEmptyDirectories(fs, nodePath, nodePath.dirname(target), root);
  }

  #resolveRoot(path: typeof NodePath): string {
    this.#root ??= path.resolve(this.directory);
    return this.#root;
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
