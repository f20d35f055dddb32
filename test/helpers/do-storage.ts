/**
 * A stand-in for a Durable Object's `ctx.storage` in Node, over in-memory SQLite-WASM, so
 * that the state-backend and TTL conformance suites run against `DurableObjectStateBackend`
 * in Node. It imitates what workerd was found to do: numbers bind as REAL, bigints cannot be
 * bound, blobs come back as `ArrayBuffer`, `BEGIN`/`SAVEPOINT`/`PRAGMA` are refused (use
 * `transactionSync`, which nests and rolls back on throw), and a string or blob over about
 * 2 MiB fails with `SQLITE_TOOBIG`. The real platform is tested in `test/cloudflare/`.
 */
import type { Database } from '@sqlite.org/sqlite-wasm';
import type { DurableObjectStorageLike, SqlCursorLike, SqlValue } from '../../src/backends/durable-object/index.ts';
import { loadSqlite } from '../../src/backends/sqlite/loader.ts';

/** The row limit found in workerd: 2,100,000 bytes passed, 2,200,000 failed. */
const LENGTH_LIMIT = 2_150_000;

/** A fresh in-memory stand-in for `ctx.storage`. */
export async function standInStorage(): Promise<DurableObjectStorageLike & { close(): void }> {
  const sqlite3 = await loadSqlite();
  const db = new sqlite3.oo1.DB(':memory:', 'c');
  const capi = sqlite3.capi as unknown as { sqlite3_limit(db: Database, id: number, v: number): number; SQLITE_LIMIT_LENGTH: number };
  capi.sqlite3_limit(db, capi.SQLITE_LIMIT_LENGTH, LENGTH_LIMIT);
  let depth = 0;
  let alarm: number | null = null;
  return {
    sql: { exec: (query, ...bindings) => exec(db, query, bindings) },
    transactionSync<T>(closure: () => T): T {
      const name = `eddy_tx_${depth++}`;
      db.exec(`SAVEPOINT ${name}`);
      try {
        const result = closure();
        db.exec(`RELEASE ${name}`);
        return result;
      } catch (e) {
        db.exec(`ROLLBACK TO ${name}; RELEASE ${name}`);
        throw e;
      } finally {
        depth--;
      }
    },
    getAlarm: async () => alarm,
    setAlarm: async (t) => void (alarm = typeof t === 'number' ? t : t.getTime()),
    deleteAlarm: async () => void (alarm = null),
    close: () => db.close(),
  };
}

function exec(db: Database, query: string, bindings: SqlValue[]): SqlCursorLike {
  if (/^\s*(BEGIN|SAVEPOINT|RELEASE|ROLLBACK|COMMIT|PRAGMA)\b/i.test(query))
    throw new Error(`not authorized: ${query.trim().split(/\s/)[0]} (use transactionSync)`);
  for (const b of bindings) if (typeof b === 'bigint') throw new TypeError('Cannot convert a BigInt value to a number');
  if (
    bindings.length === 0 &&
    query.includes(';') &&
    query
      .trim()
      .split(';')
      .filter((s) => s.trim() !== '').length > 1
  ) {
    db.exec(query);
    return cursor([], db.changes());
  }
  const stmt = db.prepare(query);
  const out: SqlValue[][] = [];
  try {
    if (bindings.length > 0) stmt.bind(bindings.map((b) => (b instanceof ArrayBuffer ? new Uint8Array(b) : b)) as never);
    while (stmt.step()) {
      const row: SqlValue[] = [];
      for (let i = 0; i < stmt.columnCount; i++) {
        const v = stmt.get(i) as unknown;
        row.push(v instanceof Uint8Array ? v.slice().buffer : typeof v === 'bigint' ? Number(v) : (v as SqlValue));
      }
      out.push(row);
    }
  } finally {
    stmt.finalize();
  }
  return cursor(out, /^\s*(INSERT|UPDATE|DELETE)/i.test(query) ? db.changes() : 0);
}

function cursor(rows: SqlValue[][], rowsWritten: number): SqlCursorLike {
  return { raw: () => rows[Symbol.iterator](), rowsWritten };
}
