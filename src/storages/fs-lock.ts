/**
 * The write lock of a scope in the filesystem storage: `<root>/<scope>/.~lock`, created
 * with `open(…, 'wx')`, holding `{pid, host, createdAt, token}`; a stale lock (its process
 * died on this host) is taken over under a short-lived guard file, `.~takeover`, which
 * records its taker the same way.
 */
import type * as NodeFs from 'node:fs/promises';
import type * as NodePath from 'node:path';
import { CheckpointStorageError } from '../api/errors.ts';
import type { StorageLock } from '../format/checkpoint-storage.ts';
import {
  COMPONENT,
  MAX_ATTEMPTS,
  TEMP_PREFIX,
  errorCode,
  fsStorageError,
  loadPlatform,
  makeDirectories,
  pruneEmptyDirectories,
  randomName,
  sleep,
  syncDirectory,
  unavailable,
  writeAll,
} from './fs-files.ts';

const LOCK_FILE = '.~lock';
const GUARD_FILE = '.~takeover';
/**
 * A takeover guard older than this was left by a taker that crashed mid-takeover. Only
 * guards whose taker cannot be checked wait for it (another host's, an empty one, a
 * live-looking pid): a guard of a dead pid on this host is cleared at once.
 */
const GUARD_EXPIRY_MS = 10_000;
/** How long a lock() waits for another takeover to finish, or its guard to expire. */
const GUARD_WAIT_MS = 2 * GUARD_EXPIRY_MS;

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

let identity: Promise<Identity> | undefined;
/** Lock files this process holds (absolute path → token): tells our live locks from a dead predecessor that had the same pid (containers reuse pids). */
const heldLocks = new Map<string, string>();
/** Takeover guards this process holds (absolute path → token), for the same reason as `heldLocks`. */
const heldGuards = new Map<string, string>();

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

/**
 * Takes `<directory>/<scope>/.~lock` (created with `open(…, 'wx')`, holding
 * `{pid, host, createdAt, token}`). A lock whose process is alive on this host — this
 * process included — or that was written on another host, or that cannot be read, is
 * refused with `STORAGE_LOCKED`. A lock of a dead process on this host (a crash) is taken
 * over with one `console.warn`, and the dead writer's half-written temporaries under
 * the scope are removed. In Deno, locks need `--allow-sys=hostname` and, to probe a
 * holder's pid, `--allow-run`; without it a foreign lock is refused, never guessed at.
 */
export async function takeLock(root: string, scope: string): Promise<StorageLock> {
  const { fs, path } = await loadPlatform();
  const me = await loadIdentity();
  const dir = path.join(root, ...scope.split('/'));
  const lockPath = path.join(dir, LOCK_FILE);
  /** Set once this call removed a stale lock, for the warning when the lock is then ours. */
  let staleHolder: string | undefined;
  /** Waiting for another taker's guard is bounded by this time, not by the attempts. */
  const guardDeadline = Date.now() + GUARD_WAIT_MS;
  for (let attempt = 1; ; attempt++) {
    await makeDirectories(fs, path, dir, root, scope);
    const { record, text } = newRecord(me);
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
        await writeRecord(fs, handle, lockPath, text, true);
      } catch (error) {
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
    if ((await takeOver({ fs, path, me, scope, dir, lockPath, guardDeadline }, held)) === 'removed') staleHolder = who;
    if (attempt >= MAX_ATTEMPTS) throw locked(scope, `its lock at ${lockPath} keeps changing hands`);
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

function locked(scope: string, why: string, cause?: unknown): CheckpointStorageError {
  return new CheckpointStorageError(
    'STORAGE_LOCKED',
    `scope "${scope}" is locked: ${why}`,
    { component: COMPONENT },
    cause === undefined ? undefined : { cause },
  );
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

interface Takeover {
  readonly fs: typeof NodeFs;
  readonly path: typeof NodePath;
  readonly me: Identity;
  readonly scope: string;
  readonly dir: string;
  readonly lockPath: string;
  readonly guardDeadline: number;
}

/**
 * Removes a lock judged stale — but only if it is still the one judged. "Unlink if the
 * content is X" is not atomic, so takers serialise on a guard file (`.~takeover`, created
 * with 'wx'); without it, a slow taker could remove the fresh lock a faster one just made.
 * The caller then competes for the lock with open('wx') like any acquirer.
 */
async function takeOver(t: Takeover, judged: string): Promise<'removed' | 'changed'> {
  const { fs, lockPath } = t;
  const guard = await takeGuard(t);
  if (guard === undefined) return 'changed';
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
    // Only our own guard: one that replaced ours (ours judged expired) is another taker's.
    if ((await fs.readFile(guard.path, 'utf8').catch(() => undefined)) === guard.text) await fs.rm(guard.path, { force: true });
    if (heldGuards.get(guard.path) === guard.token) heldGuards.delete(guard.path);
  }
}

/**
 * Creates the guard with 'wx' and writes its taker into it. While another taker's guard
 * is there, waits — until `guardDeadline` — for it to go, clearing it first if it is stale:
 * at once if its taker is a dead pid on this host, after GUARD_EXPIRY_MS otherwise. The
 * waiting is uncounted: counting these rounds gave up after ~0.2 s, and a restart after a
 * SIGKILL mid-takeover failed. Undefined if the scope directory vanished (try again).
 */
async function takeGuard(t: Takeover): Promise<{ path: string; text: string; token: string } | undefined> {
  const { fs, path, me, scope, dir, lockPath, guardDeadline } = t;
  const guardPath = path.join(dir, GUARD_FILE);
  for (;;) {
    let handle: NodeFs.FileHandle | undefined;
    try {
      handle = await fs.open(guardPath, 'wx');
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') return undefined; // e.g. the scope directory vanished
    }
    if (handle !== undefined) {
      const { record, text } = newRecord(me);
      heldGuards.set(guardPath, record.token);
      try {
        // No sync: a guard lives for a few file operations, and after a power loss its taker is gone anyway.
        await writeRecord(fs, handle, guardPath, text, false);
      } catch (error) {
        heldGuards.delete(guardPath);
        throw fsStorageError(error, 'take over lock', lockPath);
      }
      return { path: guardPath, text, token: record.token };
    }
    if (!(await clearStaleGuard(fs, me, guardPath))) {
      if (Date.now() > guardDeadline) throw locked(scope, `a takeover of its stale lock at ${lockPath} has not finished for ${GUARD_WAIT_MS / 1000} s`);
      await sleep(20);
    }
  }
}

/**
 * Removes the guard if it is stale, and says whether it is gone. A guard is stale when
 * its taker is a dead pid on this host (or our own pid from an earlier life), or when it is
 * older than GUARD_EXPIRY_MS; an empty guard (its taker between open and write, or killed
 * there), another host's or a live pid's waits for the expiry. It is removed only if it is
 * still the guard judged (same text and mtime), to leave alone a newer taker's guard.
 */
async function clearStaleGuard(fs: typeof NodeFs, me: Identity, guardPath: string): Promise<boolean> {
  const look = async () => {
    const [text, stat] = await Promise.all([fs.readFile(guardPath, 'utf8'), fs.stat(guardPath)]).catch(() => [undefined, undefined] as const);
    return text === undefined || stat === undefined ? undefined : { text, mtimeMs: stat.mtimeMs };
  };
  const judged = await look();
  if (judged === undefined) return true; // gone: try to take it
  const taker = parseLock(judged.text);
  const dead =
    taker !== undefined && taker.host === me.host && (taker.pid === me.pid ? heldGuards.get(guardPath) !== taker.token : probe(me, taker.pid) === 'dead');
  if (!dead && Date.now() - judged.mtimeMs <= GUARD_EXPIRY_MS) return false;
  const now = await look();
  if (now !== undefined && (now.text !== judged.text || now.mtimeMs !== judged.mtimeMs)) return false; // replaced meanwhile
  await fs.rm(guardPath, { force: true });
  return true;
}

/** A fresh record of this process for a lock or guard file, and its text as written. */
function newRecord(me: Identity): { record: LockRecord; text: string } {
  const record: LockRecord = { pid: me.pid, host: me.host, createdAt: new Date().toISOString(), token: randomName() };
  return { record, text: `${JSON.stringify(record)}\n` };
}

/**
 * Writes a record (`{pid, host, createdAt, token}`) into the lock or guard file just created
 * as `handle`, and closes it. On failure the file is removed before the error is rethrown:
 * an empty or half-written lock could not be judged and would lock the scope out for good,
 * a guard would hold every taker off until it expires.
 */
async function writeRecord(fs: typeof NodeFs, handle: NodeFs.FileHandle, filePath: string, text: string, durable: boolean): Promise<void> {
  try {
    try {
      await writeAll(handle, new TextEncoder().encode(text));
      if (durable) await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    await fs.rm(filePath, { force: true }).catch(() => {});
    throw error;
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
