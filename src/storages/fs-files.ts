/**
 * What the filesystem storage and its lock share: the lazily loaded `node:` modules, the
 * mapping of `node:fs` errors to eddy's, and durable directory handling (mkdir -p with
 * fsync, pruning of emptied directories).
 */
import type * as NodeFs from 'node:fs/promises';
import type * as NodePath from 'node:path';
import { CheckpointStorageError, EddyError } from '../api/errors.ts';

export const COMPONENT = 'storage:fs';
/** Names of our own files start with `.~`, which `checkPath` forbids: they never collide with an object. */
export const TEMP_PREFIX = '.~tmp-';
/** A concurrent `delete` may prune a directory between our `mkdir` and our `open`; we retry that many times. */
export const MAX_ATTEMPTS = 10;

export interface Platform {
  readonly fs: typeof NodeFs;
  readonly path: typeof NodePath;
}

let platform: Promise<Platform> | undefined;

export function loadPlatform(): Promise<Platform> {
  platform ??= Promise.all([import('node:fs/promises'), import('node:path')]).then(([fs, path]) => ({ fs, path }));
  return platform.catch((error: unknown) => {
    platform = undefined;
    throw unavailable('the filesystem storage needs Node or Deno: node:fs/promises could not be loaded', error);
  });
}

export function unavailable(what: string, error: unknown): CheckpointStorageError {
  const detail = error instanceof Error ? error.message : String(error);
  return new CheckpointStorageError('STORAGE_FAILURE', `${what}: ${detail}`, { component: COMPONENT }, { cause: error });
}

/**
 * Maps an error of `node:fs` to eddy's: `ENOSPC`/`EDQUOT` → `STORAGE_FULL`, everything else
 * → `STORAGE_FAILURE`; the message names the operation and the object's path, and the
 * original error is the `cause`. Exported so that tests (and storages built on a
 * filesystem) can check the mapping without filling a disk.
 */
export function fsStorageError(error: unknown, operation: string, path: string): EddyError {
  if (error instanceof EddyError) return error;
  const code = errorCode(error);
  const detail = error instanceof Error ? error.message : String(error);
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new CheckpointStorageError(
      'STORAGE_FULL',
      `${operation} "${path}" failed: ${code === 'ENOSPC' ? 'no space left on the device' : 'disk quota exceeded'} (${detail})`,
      { component: COMPONENT },
      { cause: error },
    );
  }
  return new CheckpointStorageError('STORAGE_FAILURE', `${operation} "${path}" failed: ${detail}`, { component: COMPONENT }, { cause: error });
}

export function conflict(path: string, why: string, cause: unknown): CheckpointStorageError {
  return new CheckpointStorageError('INVALID_ARGUMENT', `cannot write "${path}": ${why}`, { component: COMPONENT }, { cause });
}

export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function randomName(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(8));
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

/** `mkdir -p`, then fsync of the directories that gained an entry, so that new directories survive a power loss. */
export async function makeDirectories(fs: typeof NodeFs, path: typeof NodePath, dir: string, root: string, objectPath: string): Promise<void> {
  let created: string | undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      created = await fs.mkdir(dir, { recursive: true });
      break;
    } catch (error) {
      // mkdir -p races with a concurrent delete pruning a parent it just made: try again.
      if (errorCode(error) === 'ENOENT' && attempt < MAX_ATTEMPTS) continue;
      await directoryError(fs, root, objectPath, error);
    }
  }
  if (created === undefined) return;
  // `created` is the topmost new directory; its parent and every new directory above `dir`
  // gained an entry (`dir` itself is synced after the rename that fills it).
  const top = path.dirname(created);
  for (let d = path.dirname(dir); d.length >= top.length; d = path.dirname(d)) {
    await syncDirectory(fs, d);
    if (d === top) break;
  }
}

/** Throws the right error for a failed `mkdir -p`. */
async function directoryError(fs: typeof NodeFs, root: string, objectPath: string, error: unknown): Promise<never> {
  const code = errorCode(error);
  // A file in the way inside the root is the caller's conflict; above the root it is a broken setup.
  if ((code === 'ENOTDIR' || code === 'EEXIST') && (await fs.stat(root).catch(() => undefined))?.isDirectory()) {
    throw conflict(objectPath, 'a parent of it is an object here, so it cannot also be a directory', error);
  }
  throw fsStorageError(error, 'create directory for', objectPath);
}

/** fsync of a directory makes renames and new entries in it durable; some platforms (Windows) cannot, which is fine. */
export async function syncDirectory(fs: typeof NodeFs, dir: string): Promise<void> {
  let handle: NodeFs.FileHandle | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch {
    // Best effort by design: the data file itself was fsynced already.
  } finally {
    await handle?.close().catch(() => {});
  }
}

export async function pruneEmptyDirectories(fs: typeof NodeFs, path: typeof NodePath, from: string, root: string): Promise<void> {
  for (let dir = from; dir.length > root.length && dir.startsWith(root); dir = path.dirname(dir)) {
    try {
      await fs.rmdir(dir);
    } catch (error) {
      // ENOENT: a concurrent delete pruned it already, keep going up; anything else
      // (ENOTEMPTY, EEXIST, EBUSY …) means this directory stays, and so do its parents.
      if (errorCode(error) !== 'ENOENT') return;
    }
  }
}

export async function writeAll(handle: NodeFs.FileHandle, data: Uint8Array): Promise<void> {
  // write() may write less than asked (large buffers, some filesystems): loop until done.
  for (let offset = 0; offset < data.byteLength; ) {
    const { bytesWritten } = await handle.write(data, offset, data.byteLength - offset);
    offset += bytesWritten;
  }
}
