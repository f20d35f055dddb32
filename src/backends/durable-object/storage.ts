/**
 * The part of a Durable Object's storage (`ctx.storage`) the backend and the alarm timers
 * use, typed structurally so that neither this plug-in nor the core needs Cloudflare's
 * types or globals: anything with these members works (a real `DurableObjectStorage`, or a
 * stand-in in tests).
 *
 * Facts of the platform this module absorbs (found by trying in workerd): `exec` is
 * synchronous and may be given several statements; numbers always bind as REAL, bigints
 * cannot be bound, blobs come back as `ArrayBuffer`; `BEGIN`/`SAVEPOINT`/`PRAGMA` are
 * refused (atomicity comes from `transactionSync`, which nests and rolls back when its
 * callback throws); a string or blob over about 2 MiB fails with `SQLITE_TOOBIG`.
 */
import { EddyError, StateBackendError, type ErrorContext } from '../../api/errors.ts';

/** A value SQL may be given or return (bigints excluded: they cannot be bound). */
export type SqlValue = string | number | null | ArrayBuffer | Uint8Array;

/** The cursor `exec` returns: rows as arrays through `raw()`. */
export interface SqlCursorLike {
  raw(): IterableIterator<SqlValue[]>;
  /** Rows written by the statement(s), as the platform counts them. */
  readonly rowsWritten: number;
}

/** `ctx.storage.sql`: the Durable Object's own SQLite database. */
export interface SqlStorageLike {
  exec(query: string, ...bindings: SqlValue[]): SqlCursorLike;
}

/** `ctx.storage`: its SQL database, synchronous transactions and the object's single alarm. */
export interface DurableObjectStorageLike {
  readonly sql: SqlStorageLike;
  transactionSync<T>(closure: () => T): T;
  getAlarm(): Promise<number | null>;
  setAlarm(scheduledTime: number | Date): Promise<void>;
  deleteAlarm(): Promise<void>;
}

/** The rows of a statement, as arrays. */
export function rows(sql: SqlStorageLike, query: string, ...bindings: SqlValue[]): IterableIterator<SqlValue[]> {
  return sql.exec(query, ...bindings).raw();
}

/** The first row of a statement, or undefined (the rest is not read). */
export function firstRow(sql: SqlStorageLike, query: string, ...bindings: SqlValue[]): SqlValue[] | undefined {
  const next = sql
    .exec(query, ...bindings)
    .raw()
    .next();
  return next.done === true ? undefined : next.value;
}

/** A blob as returned (`ArrayBuffer`) viewed as bytes. */
export function bytesOf(v: SqlValue): Uint8Array {
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  if (v instanceof Uint8Array) return v;
  throw new TypeError(`expected a blob, got ${v === null ? 'NULL' : typeof v}`);
}

/** The platform refused a row for its size (`SQLITE_TOOBIG`). */
export function isTooBig(e: unknown): boolean {
  return /SQLITE_TOOBIG|too big/i.test(String((e as Error)?.message ?? e));
}

/**
 * A failure of the Durable Object's SQL as a typed error: `VALUE_TOO_LARGE` (naming the
 * size of what was written) for a row over the platform's limit, else `BACKEND_FAILURE`.
 * An `EddyError` passes through unchanged.
 *
 * @param bytes the encoded size of what the failed operation wrote, if it wrote.
 */
export function sqlFailure(e: unknown, ctx: ErrorContext, what: string, bytes?: number): unknown {
  if (e instanceof EddyError) return e;
  if (isTooBig(e)) {
    const size = bytes === undefined ? '' : ` of ${bytes} bytes (encoded key and value)`;
    return new StateBackendError(
      'VALUE_TOO_LARGE',
      `${what}: a row${size} is over the Durable Object's SQLite row limit (about 2 MiB, SQLITE_TOOBIG) and was not written; ` +
        'keep large objects out of state (for example in R2, storing their key), or split them across map entries or list elements',
      ctx,
      { cause: e },
    );
  }
  return new StateBackendError('BACKEND_FAILURE', `${what} failed in the Durable Object's SQLite storage: ${String((e as Error)?.message ?? e)}`, ctx, {
    cause: e,
  });
}
