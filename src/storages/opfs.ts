/**
 * `OpfsCheckpointStorage`: checkpoints in the browser's Origin Private File System, one
 * file per object, path segments as directories under a root directory.
 *
 * Atomic puts. Replacing an existing object: a `FileSystemWritableFileStream` writes into
 * a swap file and replaces the target only on `close()` (the File System spec's
 * semantics), so a reader sees the old object or the new one, never a part. A new object
 * cannot be written that way: `getFileHandle(name, { create: true })` makes an empty file
 * at once, and a tab that dies before `close()` leaves it behind — an empty manifest that
 * looks like a checkpoint (a reload test caught exactly that). So a new object is written
 * under a temporary name (`.~tmp-…`, a name `checkPath` forbids, so `list` never shows it)
 * and then renamed with `FileSystemHandle.move()`. Together with core's
 * protocol — parts first, the manifest last (`src/format/checkpoint-*.ts`) — a checkpoint is
 * complete exactly when its manifest is there, and a reader only trusts what a manifest
 * lists.
 *
 * One writer per job: `lock(scope)` takes a Web Lock (`navigator.locks`), which the
 * browser holds across tabs and workers of the origin and releases when a tab dies, so
 * a crashed writer never leaves a stale lock. By default a held scope is refused with
 * `STORAGE_LOCKED`; `{ lock: 'wait' }` queues instead.
 *
 * Platform globals (`navigator.storage`, `navigator.locks`) are touched only in methods,
 * so importing eddy elsewhere is harmless. Main thread and workers both work
 * (`createWritable`); a `createSyncAccessHandle` path for dedicated workers is not here.
 */
import { CheckpointStorageError } from '../api/errors.ts';
import { checkPath, type CheckpointStorage, type StorageLock } from '../format/checkpoint-storage.ts';
import { takeWebLock } from '../format/web-lock.ts';

const COMPONENT = 'storage:opfs';
/** Puts below this size skip the quota estimate (its cost would dominate a small write). */
const ESTIMATE_ABOVE = 1024 * 1024;
/** A read racing with a put of the same file may find the file changed under it; it retries. */
const READ_ATTEMPTS = 10;

/** Options of {@link OpfsCheckpointStorage}. */
export interface OpfsCheckpointStorageOptions {
  /** Directory in the OPFS root that holds everything (default `eddy-checkpoints`). */
  readonly directory?: string;
  /** A held scope: `'fail'` (default) refuses with `STORAGE_LOCKED`; `'wait'` waits until it is free. */
  readonly lock?: 'fail' | 'wait';
}

type Dir = FileSystemDirectoryHandle & { entries(): AsyncIterable<[string, FileSystemHandle]> };

/** Keeps checkpoint objects as files in the Origin Private File System. */
export class OpfsCheckpointStorage implements CheckpointStorage {
  /** Shows up in error messages as `[storage:opfs]`. */
  readonly name = 'opfs';
  readonly directory: string;
  private readonly lockMode: 'fail' | 'wait';
  #root: Promise<Dir> | undefined;

  /** Touches nothing yet: OPFS is opened on first use. */
  constructor(options: OpfsCheckpointStorageOptions = {}) {
    this.directory = options.directory ?? 'eddy-checkpoints';
    const problem = checkPath(this.directory);
    if (problem !== undefined || this.directory.includes('/'))
      throw fail('INVALID_ARGUMENT', `invalid OPFS directory name: ${problem ?? 'it must be a single segment'}`);
    this.lockMode = options.lock ?? 'fail';
  }

  private root(): Promise<Dir> {
    this.#root ??= (async () => {
      const storage = (globalThis as { navigator?: Navigator }).navigator?.storage;
      if (storage?.getDirectory === undefined)
        throw fail(
          'STORAGE_FAILURE',
          'the Origin Private File System is not available here (navigator.storage.getDirectory is missing): use a browser, or another checkpoint storage',
        );
      // Ask once that the browser not evict our checkpoints under storage pressure; a refusal is no error.
      storage.persist?.().catch(() => false);
      const top = await storage.getDirectory();
      return (await top.getDirectoryHandle(this.directory, { create: true })) as Dir;
    })();
    this.#root.catch(() => (this.#root = undefined));
    return this.#root;
  }

  /** Takes the scope's Web Lock; see the class comment for what a held scope does. */
  async lock(scope: string): Promise<StorageLock> {
    valid(scope, 'scope');
    const locks = (globalThis as { navigator?: Navigator }).navigator?.locks;
    return takeWebLock(locks, `eddy:opfs:${this.directory}:${scope}`, this.lockMode, {
      missing: () => fail('STORAGE_FAILURE', 'Web Locks (navigator.locks) are not available here, so a single writer cannot be guaranteed'),
      held: () =>
        fail(
          'STORAGE_LOCKED',
          `scope "${scope}" is locked by another writer (this tab, another tab or a worker of this origin); stop that job first, or create the storage with { lock: 'wait' }`,
        ),
    });
  }

  /**
   * Replaces an existing object through a swap file (atomic on close); writes a new one under
   * a temporary name and moves it into place (see the class comment).
   */
  async put(path: string, data: Uint8Array): Promise<void> {
    const segments = valid(path, 'path');
    if (Object.prototype.toString.call(data) !== '[object Uint8Array]') throw fail('INVALID_ARGUMENT', `put "${path}": data must be a Uint8Array`);
    // Copied before the first await, so the caller may reuse its buffer at once.
    const copy = data.slice();
    if (copy.byteLength >= ESTIMATE_ABOVE) await checkRoom(copy.byteLength, path);
    try {
      const dir = (await this.dirOf(segments, true))!;
      const name = segments.at(-1)!;
      const existing = await existingFile(dir, name, path);
      if (existing !== undefined) return await writeWhole(existing, copy);
      const temp = (await dir.getFileHandle(`.~tmp-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`, { create: true })) as Movable;
      await writeWhole(temp, copy);
      if (typeof temp.move === 'function') {
        try {
          await temp.move(name);
          return;
        } catch {
          // A concurrent put created the target meanwhile (or the move is refused): replace it in place below.
        }
      }
      await dir.removeEntry(temp.name).catch(() => undefined);
      await writeWhole(await dir.getFileHandle(name, { create: true }), copy);
    } catch (e) {
      throw mapError(e, `put "${path}"`);
    }
  }

  /** The object's bytes, or undefined; a read racing with a put sees one whole version. */
  async get(path: string): Promise<Uint8Array | undefined> {
    const segments = valid(path, 'path');
    for (let attempt = 1; ; attempt++) {
      let file: FileSystemFileHandle;
      try {
        const dir = await this.dirOf(segments, false);
        if (dir === undefined) return undefined;
        file = await dir.getFileHandle(segments.at(-1)!);
      } catch (e) {
        const name = (e as Error).name;
        if (name === 'NotFoundError' || name === 'TypeMismatchError') return undefined;
        throw mapError(e, `get "${path}"`);
      }
      try {
        return new Uint8Array(await (await file.getFile()).arrayBuffer());
      } catch (e) {
        // The file was replaced (or removed) between the lookup and the read: Chromium then
        // reports NotReadableError or NotFoundError. Look it up again: the new version, or
        // nothing if it is really gone.
        const name = (e as Error).name;
        if ((name === 'NotReadableError' || name === 'NotFoundError') && attempt < READ_ATTEMPTS) continue;
        throw mapError(e, `get "${path}"`);
      }
    }
  }

  /** Paths starting with `prefix`, sorted by code unit; walks only the directory the prefix ends in. */
  async list(prefix: string): Promise<string[]> {
    if (typeof prefix !== 'string') throw fail('INVALID_ARGUMENT', 'a list prefix must be a string');
    const cut = prefix.lastIndexOf('/');
    const dirPath = cut < 0 ? '' : prefix.slice(0, cut);
    const namePrefix = prefix.slice(cut + 1);
    if (dirPath !== '' && checkPath(dirPath) !== undefined) return [];
    let dir: Dir | undefined;
    try {
      dir = await this.dirOf(dirPath === '' ? [''] : [...dirPath.split('/'), ''], false);
    } catch (e) {
      throw mapError(e, `list "${prefix}"`);
    }
    if (dir === undefined) return [];
    const out: string[] = [];
    const base = dirPath === '' ? '' : `${dirPath}/`;
    for await (const [name, handle] of dir.entries()) {
      if (!name.startsWith(namePrefix) || checkPath(name) !== undefined) continue;
      if (handle.kind === 'file') out.push(base + name);
      else await walk(handle as Dir, base + name, out);
    }
    return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** Removes the object; a missing one (or a directory) is fine. */
  async delete(path: string): Promise<void> {
    const segments = valid(path, 'path');
    try {
      const dir = await this.dirOf(segments, false);
      if (dir === undefined) return;
      const name = segments.at(-1)!;
      await dir.getFileHandle(name); // only files are objects
      await dir.removeEntry(name);
    } catch (e) {
      const name = (e as Error).name;
      if (name === 'NotFoundError' || name === 'TypeMismatchError') return;
      throw mapError(e, `delete "${path}"`);
    }
  }

  /** The directory holding the last segment; undefined when it is missing and not to be created. */
  private async dirOf(segments: readonly string[], create: boolean): Promise<Dir | undefined> {
    let dir = await this.root();
    for (const segment of segments.slice(0, -1)) {
      try {
        dir = (await dir.getDirectoryHandle(segment, { create })) as Dir;
      } catch (e) {
        const name = (e as Error).name;
        if (!create && (name === 'NotFoundError' || name === 'TypeMismatchError')) return undefined;
        if (name === 'TypeMismatchError')
          throw fail('INVALID_ARGUMENT', `"${segments.join('/')}" lies below "${segment}", which is an object, not a directory`);
        throw e;
      }
    }
    return dir;
  }
}

type Movable = FileSystemFileHandle & { move?(name: string): Promise<void> };

/** The existing object's file, or undefined; an empty directory left where the object goes is removed. */
async function existingFile(dir: Dir, name: string, path: string): Promise<FileSystemFileHandle | undefined> {
  try {
    return await dir.getFileHandle(name);
  } catch (e) {
    const why = (e as Error).name;
    if (why === 'NotFoundError') return undefined;
    if (why !== 'TypeMismatchError') throw e;
    try {
      await dir.removeEntry(name); // refuses a directory that still holds objects
    } catch {
      throw fail('INVALID_ARGUMENT', `"${path}" is a directory of other objects, so it cannot be an object too`);
    }
    return undefined;
  }
}

/** Writes a whole file through a writable stream: the file changes only on close(). */
async function writeWhole(file: FileSystemFileHandle, data: Uint8Array<ArrayBuffer>): Promise<void> {
  const writable = await file.createWritable();
  try {
    await writable.write(data);
    await writable.close();
  } catch (e) {
    await writable.abort().catch(() => undefined);
    throw e;
  }
}

async function walk(dir: Dir, base: string, out: string[]): Promise<void> {
  for await (const [name, handle] of dir.entries()) {
    if (checkPath(name) !== undefined) continue;
    if (handle.kind === 'file') out.push(`${base}/${name}`);
    else await walk(handle as Dir, `${base}/${name}`, out);
  }
}

/** Refuses a write that cannot fit, before writing (a swap file needs the room in full). */
async function checkRoom(bytes: number, path: string): Promise<void> {
  const estimate = await (globalThis as { navigator?: Navigator }).navigator?.storage?.estimate?.().catch(() => undefined);
  if (estimate?.quota === undefined || estimate.usage === undefined) return;
  const free = estimate.quota - estimate.usage;
  if (bytes > free) {
    throw fail(
      'STORAGE_FULL',
      `put "${path}" needs ${bytes} bytes but the origin has only ${free} of its ${estimate.quota}-byte quota left; delete old checkpoints (or other site data) and retry`,
    );
  }
}

function valid(path: string, what: 'path' | 'scope'): string[] {
  const problem = checkPath(path);
  if (problem !== undefined) throw fail('INVALID_ARGUMENT', what === 'scope' ? `invalid lock scope: ${problem}` : problem);
  return path.split('/');
}

function fail(code: 'INVALID_ARGUMENT' | 'STORAGE_FAILURE' | 'STORAGE_LOCKED' | 'STORAGE_FULL', message: string): CheckpointStorageError {
  return new CheckpointStorageError(code, message, { component: COMPONENT });
}

function mapError(e: unknown, what: string): CheckpointStorageError {
  if (e instanceof CheckpointStorageError) return e;
  const name = (e as Error | undefined)?.name;
  if (name === 'QuotaExceededError')
    return new CheckpointStorageError(
      'STORAGE_FULL',
      `${what}: the origin's storage quota is exhausted; delete old checkpoints (or other site data) and retry`,
      { component: COMPONENT },
      { cause: e },
    );
  return new CheckpointStorageError(
    'STORAGE_FAILURE',
    `${what} failed: ${name ?? 'Error'}: ${(e as Error | undefined)?.message ?? String(e)}`,
    { component: COMPONENT },
    { cause: e },
  );
}
