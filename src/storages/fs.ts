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
import { CheckpointStorageError, EddyError } from '../api/errors.ts';
import { checkPath, type CheckpointStorage, type StorageLock } from '../core/checkpoint/storage.ts';

const COMPONENT = 'storage:fs';
const TEMP_PREFIX = '.~tmp-';
const LOCK_FILE = '.~lock';
const GUARD_FILE = '.~takeover';
/** A takeover guard older than this was left by a taker that crashed mid-takeover. */
const GUARD_EXPIRY_MS = 10_000;
/** A segment a user's path can contain (mirrors `checkPath`); anything else in the tree is ours or foreign. */
const OBJECT_SEGMENT = /^[A-Za-z0-9._-]+$/;
/** A concurrent `delete` may prune a directory between our `mkdir` and our `open`; we retry that many times. */
const MAX_ATTEMPTS = 10;

interface Platform {
  readonly fs: typeof NodeFs;
  readonly path: typeof NodePath;
}

interface Identity {
  readonly pid: number;
  readonly host: string;
  readonly kill: (pid: number, signal: number) => unknown;
}

/** The contents of a `.~lock` file. */
interface LockRecord {
  pid: number;
  host: string;
  createdAt: string;
  /** Tells our own lock from a newer one, so a late release() never frees someone else's lock. */
  token: string;
}

let platform: Promise<Platform> | undefined;
let identity: Promise<Identity> | undefined;
/** Lock files this process holds (absolute path → token): tells our live locks from a dead predecessor that had the same pid (containers reuse pids). */
const heldLocks = new Map<string, string>();

function loadPlatform(): Promise<Platform> {
  platform ??= Promise.all([import('node:fs/promises'), import('node:path')]).then(([fs, path]) => ({ fs, path }));
  return platform.catch((error: unknown) => {
    platform = undefined;
    throw unavailable('the filesystem storage needs Node or Deno: node:fs/promises could not be loaded', error);
  });
}

/** Only `lock` needs these, so Deno asks for `--allow-sys=hostname` only when locks are used. */
function loadIdentity(): Promise<Identity> {
  identity ??= Promise.all([import('node:os'), import('node:process')]).then(([os, proc]) => {
    const process = proc.default;
    return { pid: process.pid, host: os.hostname(), kill: (pid: number, signal: number) => process.kill(pid, signal) };
  });
  return identity.catch((error: unknown) => {
    identity = undefined; // not cached: a denied permission may be granted later
    throw unavailable('a lock records the host name and process id (in Deno: run with --allow-sys=hostname)', error);
  });
}

function unavailable(what: string, error: unknown): CheckpointStorageError {
  const detail = error instanceof Error ? error.message : String(error);
  return new CheckpointStorageError('STORAGE_FAILURE', `${what}: ${detail}`, { component: COMPONENT }, { cause: error });
}

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
   * Takes `<directory>/<scope>/.~lock` (created with `open(…, 'wx')`, holding
   * `{pid, host, createdAt, token}`). A lock whose process is alive on this host — this
   * process included — or that was written on another host, or that cannot be read, is
   * refused with `STORAGE_LOCKED`. A lock of a dead process on this host (a crash) is taken
   * over with one `console.warn`, and the dead writer's half-written temporaries under
   * the scope are removed. In Deno, locks need `--allow-sys=hostname` and, to probe a
   * holder's pid, `--allow-run`; without it a foreign lock is refused, never guessed at.
   */
  async lock(scope: string): Promise<StorageLock> {
    validPath(scope, 'scope');
    const { fs, path } = await loadPlatform();
    const me = await loadIdentity();
    const root = this.#resolveRoot(path);
    const dir = path.join(root, ...scope.split('/'));
    const lockPath = path.join(dir, LOCK_FILE);
    /** Set once this call removed a stale lock, for the warning when the lock is then ours. */
    let staleHolder: string | undefined;
    for (let attempt = 1; ; attempt++) {
      await makeDirectories(fs, path, dir, root, scope);
      const record: LockRecord = { pid: me.pid, host: me.host, createdAt: new Date().toISOString(), token: randomName() };
      const text = `${JSON.stringify(record)}\n`;
      let handle: NodeFs.FileHandle | undefined;
      try {
        handle = await fs.open(lockPath, 'wx');
      } catch (error) {
        const code = errorCode(error);
        if (code === 'ENOENT' && attempt < MAX_ATTEMPTS) continue; // the scope directory was pruned under us
        if (code !== 'EEXIST') throw fsStorageError(error, 'lock', scope);
      }
      if (handle !== undefined) {
        // Registered before the content is written: a concurrent lock() in this process that
        // finds the file must know it is ours, not a dead predecessor's with the same pid.
        heldLocks.set(lockPath, record.token);
        try {
          try {
            await writeAll(handle, new TextEncoder().encode(text));
            await handle.sync();
          } finally {
            await handle.close();
          }
        } catch (error) {
          // An empty lock file would lock the scope out for good (it cannot be judged): remove it.
          await fs.rm(lockPath, { force: true }).catch(() => {});
          heldLocks.delete(lockPath);
          throw fsStorageError(error, 'lock', scope);
        }
        await syncDirectory(fs, dir);
        if (staleHolder !== undefined) {
          // Only now that the lock is ours: temporaries under the scope are the dead holder's unfinished puts.
          await removeTemporaries(fs, path, dir);
          console.warn(
            `[eddy] [${COMPONENT}] took over the stale lock of scope "${scope}" left by ${staleHolder}: that process is gone (a crash?); its unfinished writes under the scope were removed`,
          );
        }
        return new FileLock(scope, lockPath, text, record.token, root);
      }
      // The lock file exists: judge its holder.
      if (heldLocks.has(lockPath)) throw locked(scope, `it is held by this process (pid ${me.pid})`);
      const held = await readLock(fs, lockPath, scope);
      if (held === undefined) {
        if (attempt < MAX_ATTEMPTS) continue; // released meanwhile: try again
        throw locked(scope, `its lock at ${lockPath} keeps changing hands`);
      }
      // Checked again after the read: an acquisition in this process may have completed
      // while we read, and its pid is ours — it must not look like a dead predecessor.
      if (heldLocks.has(lockPath)) throw locked(scope, `it is held by this process (pid ${me.pid})`);
      const holder = parseLock(held);
      if (holder === undefined) {
        // Possibly a crash between open('wx') and the write, possibly a writer still that
        // slow: we cannot tell, so we refuse rather than guess.
        throw locked(scope, `its lock file ${lockPath} is empty or unreadable; if no writer is running, delete it`);
      }
      const who = `pid ${holder.pid} on host "${holder.host}" (since ${holder.createdAt})`;
      if (holder.host !== me.host) {
        throw locked(scope, `it is held by ${who}; a process on another host cannot be checked — if it is gone, delete ${lockPath}`);
      }
      // Our own pid but not in heldLocks: a predecessor that crashed and whose pid we
      // inherited (containers restart with the same small pids), so it is stale.
      if (holder.pid !== me.pid) {
        const state = probe(me, holder.pid);
        if (state === 'alive') throw locked(scope, `it is held by ${who}, a live process`);
        if (state !== 'dead') {
          const why = state.unknown instanceof Error ? state.unknown.message : String(state.unknown);
          // Refuse rather than guess: taking over a live writer's lock would interleave checkpoints.
          throw locked(scope, `it is held by ${who}, and whether that process lives cannot be checked (${why}; in Deno run with --allow-run)`, state.unknown);
        }
      }
      const outcome = await takeOver(fs, path, dir, lockPath, held);
      if (outcome === 'removed') staleHolder = who;
      if (attempt >= MAX_ATTEMPTS) throw locked(scope, `its lock at ${lockPath} keeps changing hands`);
      if (outcome === 'busy') await sleep(5 * attempt); // another process is removing it: look again shortly
    }
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

/** The handle of a held `.~lock`. */
class FileLock implements StorageLock {
  #released = false;
  constructor(
    private readonly scope: string,
    private readonly lockPath: string,
    private readonly text: string,
    private readonly token: string,
    private readonly root: string,
  ) {}

  /** Deletes the lock file if it is still ours (idempotent), then prunes the scope's empty directories. */
  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    const { fs, path } = await loadPlatform();
    try {
      if ((await fs.readFile(this.lockPath, 'utf8')) !== this.text) return; // not ours any more: leave it alone
      await fs.unlink(this.lockPath);
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw fsStorageError(error, 'release lock', this.scope);
      return;
    } finally {
      // Only after the file is gone: until then a lock() in this process must see it as ours, not as stale.
      if (heldLocks.get(this.lockPath) === this.token) heldLocks.delete(this.lockPath);
    }
    await pruneEmptyDirectories(fs, path, path.dirname(this.lockPath), this.root);
  }
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

function validPath(path: string, what: 'path' | 'scope'): void {
  const problem = checkPath(path);
  if (problem !== undefined) {
    throw new CheckpointStorageError('INVALID_ARGUMENT', what === 'scope' ? `invalid lock scope: ${problem}` : problem, {
      component: COMPONENT,
    });
  }
}

function locked(scope: string, why: string, cause?: unknown): CheckpointStorageError {
  return new CheckpointStorageError('STORAGE_LOCKED', `scope "${scope}" is locked: ${why}`, { component: COMPONENT }, cause === undefined ? undefined : { cause });
}

function conflict(path: string, why: string, cause: unknown): CheckpointStorageError {
  return new CheckpointStorageError('INVALID_ARGUMENT', `cannot write "${path}": ${why}`, { component: COMPONENT }, { cause });
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function randomName(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(8));
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

function parseLock(text: string): LockRecord | undefined {
  try {
    const record = JSON.parse(text) as Partial<LockRecord>;
    if (!Number.isInteger(record.pid) || (record.pid as number) <= 0 || typeof record.host !== 'string') return undefined;
    return { pid: record.pid as number, host: record.host, createdAt: String(record.createdAt), token: String(record.token) };
  } catch {
    return undefined;
  }
}

/**
 * The lock file's text, or undefined if it vanished. An empty file is read again a few
 * times: its writer may be between its open('wx') and its write.
 */
async function readLock(fs: typeof NodeFs, lockPath: string, scope: string): Promise<string | undefined> {
  for (let attempt = 1; ; attempt++) {
    let text: string;
    try {
      text = await fs.readFile(lockPath, 'utf8');
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return undefined;
      throw fsStorageError(error, 'lock', scope);
    }
    if (text.length > 0 || attempt >= 5) return text;
    await sleep(10 * attempt);
  }
}

/**
 * `kill(pid, 0)` probes without signalling: ESRCH means no such process, EPERM means it
 * exists but is not ours. Anything else (Deno without `--allow-run`) means we cannot tell.
 */
function probe(me: Identity, pid: number): 'alive' | 'dead' | { unknown: unknown } {
  try {
    me.kill(pid, 0);
    return 'alive';
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ESRCH') return 'dead';
    if (code === 'EPERM') return 'alive';
    return { unknown: error };
  }
}

/**
 * Removes a lock judged stale — but only if it is still the one judged. "Unlink if the
 * content is X" is not atomic, so takers serialise on a guard file (`.~takeover`, created
 * with 'wx'); without it, a slow taker could remove the fresh lock a faster one just made.
 * The caller then competes for the lock with open('wx') like any acquirer.
 */
async function takeOver(fs: typeof NodeFs, path: typeof NodePath, dir: string, lockPath: string, judged: string): Promise<'removed' | 'busy' | 'changed'> {
  const guard = path.join(dir, GUARD_FILE);
  try {
    await (await fs.open(guard, 'wx')).close();
  } catch (error) {
    if (errorCode(error) !== 'EEXIST') return 'changed'; // e.g. the scope directory vanished: just try again
    // A taker that crashed inside these few lines would block takeovers for good: a guard
    // older than GUARD_EXPIRY_MS is itself stale.
    const stat = await fs.stat(guard).catch(() => undefined);
    if (stat !== undefined && Date.now() - stat.mtimeMs > GUARD_EXPIRY_MS) await fs.rm(guard, { force: true });
    return 'busy';
  }
  try {
    // Under the guard nobody else removes the lock, and nobody creates one while it exists:
    // if it still holds what we judged, unlinking it removes exactly the stale lock.
    let now: string;
    try {
      now = await fs.readFile(lockPath, 'utf8');
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return 'changed';
      throw fsStorageError(error, 'take over lock', lockPath);
    }
    if (now !== judged) return 'changed';
    await fs.unlink(lockPath);
    return 'removed';
  } finally {
    await fs.rm(guard, { force: true });
  }
}

/** Removes `.~tmp-*` files below `dir`: a dead lock holder's unfinished puts. */
async function removeTemporaries(fs: typeof NodeFs, path: typeof NodePath, dir: string): Promise<void> {
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
  await Promise.all(
    entries.map(async (entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) await removeTemporaries(fs, path, full);
      else if (entry.isFile() && entry.name.startsWith(TEMP_PREFIX)) await fs.rm(full, { force: true });
    }),
  );
}

/** `mkdir -p`, then fsync of the directories that gained an entry, so that new directories survive a power loss. */
async function makeDirectories(fs: typeof NodeFs, path: typeof NodePath, dir: string, root: string, objectPath: string): Promise<void> {
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
async function syncDirectory(fs: typeof NodeFs, dir: string): Promise<void> {
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

async function pruneEmptyDirectories(fs: typeof NodeFs, path: typeof NodePath, from: string, root: string): Promise<void> {
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

async function writeAll(handle: NodeFs.FileHandle, data: Uint8Array): Promise<void> {
  // write() may write less than asked (large buffers, some filesystems): loop until done.
  for (let offset = 0; offset < data.byteLength; ) {
    const { bytesWritten } = await handle.write(data, offset, data.byteLength - offset);
    offset += bytesWritten;
  }
}
