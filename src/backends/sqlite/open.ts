/**
 * Where a SQLite backend keeps its working copy, and opening it. The choice is made once
 * per `SqliteStateBackend` from what the runtime offers:
 *
 * - `opfs-sahpool`: a dedicated Web Worker with OPFS sync access handles. Persistent, the
 *   fastest OPFS option, and it needs no COOP/COEP headers. One pool per directory can be
 *   open in one worker at a time (a second tab gets `STORAGE_LOCKED`).
 * - `opfs`: a worker in a cross-origin-isolated page (COOP/COEP), where sqlite-wasm
 *   installs it by itself. Persistent; slower, but several tabs can share files.
 * - `memory`: everywhere else (Node, Deno, a browser main thread). The working state then
 *   lives in WASM linear memory, bounded by its maximum (2 GiB in this build), not by the
 *   JS heap; durability comes from checkpoints, as always.
 */
import { StateBackendError, type ErrorContext } from '../../api/errors.ts';
import type { Database, SAHPoolUtil, Sqlite3Static } from './loader.ts';

/** Which VFS to use: `auto` picks the best the runtime offers (see the module comment). */
export type SqliteVfsChoice = 'auto' | 'memory' | 'opfs-sahpool' | 'opfs';
/** The VFS a backend ended up with. */
export type SqliteVfs = Exclude<SqliteVfsChoice, 'auto'>;

/** A dedicated worker that can create OPFS sync access handles (what both OPFS VFSes need). */
function hasSyncAccessHandles(): boolean {
  const g = globalThis as { WorkerGlobalScope?: unknown; FileSystemSyncAccessHandle?: unknown; navigator?: { storage?: { getDirectory?: unknown } } };
  return g.WorkerGlobalScope !== undefined && g.FileSystemSyncAccessHandle !== undefined && typeof g.navigator?.storage?.getDirectory === 'function';
}

/** Resolves `auto` against the runtime; an explicit choice the runtime cannot honour is an error, not a silent fallback. */
export function chooseVfs(sqlite3: Sqlite3Static, wanted: SqliteVfsChoice): SqliteVfs {
  const sah = hasSyncAccessHandles();
  const opfs = (sqlite3 as { opfs?: unknown }).opfs !== undefined;
  if (wanted === 'auto') return sah ? 'opfs-sahpool' : opfs ? 'opfs' : 'memory';
  if (wanted === 'opfs-sahpool' && !sah) {
    throw new StateBackendError(
      'INVALID_CONFIG',
      'the opfs-sahpool VFS needs a dedicated Web Worker with OPFS (FileSystemSyncAccessHandle); run the job in a worker, or choose vfs: "memory"',
      { component: 'backend:sqlite' },
    );
  }
  if (wanted === 'opfs' && !opfs) {
    throw new StateBackendError(
      'INVALID_CONFIG',
      'the opfs VFS needs a Web Worker in a cross-origin-isolated page (COOP: same-origin, COEP: require-corp); use vfs: "opfs-sahpool" (no headers needed) or "memory"',
      { component: 'backend:sqlite' },
    );
  }
  return wanted;
}

/** Installed sahpool VFSes by directory: installing twice in one realm would fight over the handles. */
const pools = new Map<string, Promise<SAHPoolUtil>>();

/** The opfs-sahpool VFS for `directory`, installed on first use. */
export function sahPool(sqlite3: Sqlite3Static, directory: string): Promise<SAHPoolUtil> {
  let pool = pools.get(directory);
  if (pool === undefined) {
    const name = directory === DEFAULT_POOL_DIRECTORY ? 'opfs-sahpool' : `opfs-sahpool-${directory.replace(/[^A-Za-z0-9_-]/g, '_')}`;
    pool = sqlite3.installOpfsSAHPoolVfs({ name, directory, initialCapacity: 8 }).catch((e: unknown) => {
      pools.delete(directory);
      throw openError(e, { component: 'backend:sqlite' }, `the OPFS pool "${directory}"`);
    });
    pools.set(directory, pool);
  }
  return pool;
}

/** The default OPFS directory of eddy's sahpool VFS. */
export const DEFAULT_POOL_DIRECTORY = '.eddy-sqlite';

/** Opens (creating if needed) a database file on the chosen VFS. */
export async function openDatabase(sqlite3: Sqlite3Static, vfs: SqliteVfs, fileName: string, poolDirectory: string, ctx: ErrorContext): Promise<Database> {
  try {
    if (vfs === 'memory') return new sqlite3.oo1.DB(':memory:', 'c');
    if (vfs === 'opfs') return new sqlite3.oo1.OpfsDb(fileName, 'c');
    const pool = await sahPool(sqlite3, poolDirectory);
    // Every database needs room for itself and its journal; grow the pool before it runs out.
    await pool.reserveMinimumCapacity(Number(pool.getFileCount()) + 3);
    return new pool.OpfsSAHPoolDb(fileName);
  } catch (e) {
    if (e instanceof StateBackendError) throw e;
    throw openError(e, ctx, `the database "${fileName}" (vfs ${vfs})`);
  }
}

/** SQLite result codes that say the file is not a usable database. */
const SQLITE_CORRUPT = 11;
const SQLITE_FULL = 13;
const SQLITE_NOTADB = 26;

/** Maps a failure to open or use a database onto a typed error that says what to do. */
export function openError(e: unknown, ctx: ErrorContext, what: string): StateBackendError {
  const name = (e as { name?: string })?.name ?? '';
  const message = String((e as Error)?.message ?? e);
  const code = (e as { resultCode?: number })?.resultCode;
  if (name === 'QuotaExceededError' || code === SQLITE_FULL || /quota|SQLITE_FULL/i.test(message)) {
    return new StateBackendError(
      'STORAGE_FULL',
      `${what} ran out of storage (${message}); free space in the origin's storage (navigator.storage.estimate()), or use vfs: "memory"`,
      ctx,
      { cause: e },
    );
  }
  if (name === 'NoModificationAllowedError' || name === 'InvalidStateError' || /access handle|locked|NoModificationAllowed/i.test(message)) {
    return new StateBackendError(
      'STORAGE_LOCKED',
      `${what} is held by another tab or worker (${message}); close it, or give this job another poolDirectory`,
      ctx,
      { cause: e },
    );
  }
  if (code === SQLITE_CORRUPT || code === SQLITE_NOTADB || /SQLITE_(CORRUPT|NOTADB)|malformed|not a database|unsupported file format/i.test(message)) {
    return new StateBackendError(
      'BACKEND_FAILURE',
      `${what} is corrupted (${message}); it is only a working copy: delete the file (SAHPoolUtil.unlink or the OPFS directory) and restore the job from its latest checkpoint`,
      ctx,
      { cause: e },
    );
  }
  return new StateBackendError('BACKEND_FAILURE', `${what} failed: ${message}`, ctx, { cause: e });
}
