/**
 * Loads `@sqlite.org/sqlite-wasm` on first use. The import is dynamic so that a job
 * that never creates a SQLite backend never fetches or compiles the WASM module, and
 * the package stays an optional peer dependency: only this subpath mentions it.
 */
import type { Database, PreparedStatement, SAHPoolUtil, Sqlite3Static } from '@sqlite.org/sqlite-wasm';
import { StateBackendError } from '../../api/errors.ts';

/** sqlite-wasm's types, re-exported so the other files of this folder import the package in one place. */
export type { Database, PreparedStatement, SAHPoolUtil, Sqlite3Static };

/** One module instance per JavaScript realm: every backend shares its WASM memory. */
let loading: Promise<Sqlite3Static> | undefined;

/** The initialised sqlite3 module; loaded once, then shared. */
export function loadSqlite(): Promise<Sqlite3Static> {
  loading ??= (async () => {
    try {
      const mod = await import('@sqlite.org/sqlite-wasm');
      return await mod.default();
    } catch (e) {
      // A failed load must not be cached: the next backend may try again (e.g. after a network hiccup).
      loading = undefined;
      throw new StateBackendError(
        'BACKEND_FAILURE',
        `could not load @sqlite.org/sqlite-wasm (${(e as Error)?.message ?? e}); install it (npm i -E @sqlite.org/sqlite-wasm@3.54.1-build1) or use another state backend`,
        { component: 'backend:sqlite' },
        { cause: e },
      );
    }
  })();
  return loading;
}

/** The WASM linear memory's current size in bytes (where SQLite keeps in-memory databases and its page cache). */
export function wasmMemoryBytes(sqlite3: Sqlite3Static): number {
  return sqlite3.wasm.heap8u().byteLength;
}
