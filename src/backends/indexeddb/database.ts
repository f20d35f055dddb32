/**
 * Opening the job's IndexedDB database, and turning IndexedDB's failure modes into
 * eddy errors. Platform globals (`indexedDB`, `IDBKeyRange`) are looked up here and only
 * when a backend is created, so importing eddy in Node or Deno never touches them.
 *
 * Schema (version {@link SCHEMA_VERSION}): one object store `entries` with out-of-line
 * array keys `[operatorId, keyGroup, stateName, key, namespace]` (value and list state)
 * or `[…, userKey]` (one record per map entry). Because the key group comes right after
 * the operator, a subtask's whole key-group range is one `IDBKeyRange`: snapshot,
 * restore, rescale and clear are single range operations. The index `expiry` on
 * `x = [operatorId, deadline]` serves native TTL cleanup.
 *
 * Raw IndexedDB, not the `idb` wrapper: idb recognises requests and transactions by
 * `instanceof` against the global IndexedDB classes, so it cannot wrap an implementation
 * passed in by option (fake-indexeddb in Node without polluting globals), and the hot
 * paths issue thousands of requests per transaction, where a Promise per request is
 * pure cost. Completion is one event listener per transaction (`transactionDone`).
 */
import { StateBackendError, type ErrorContext } from '../../api/errors.ts';

/** Shows up in error messages as `[backend:indexeddb]`. */
export const COMPONENT = 'backend:indexeddb';
/** The object store holding every entry of every operator of the job. */
export const ENTRIES = 'entries';
/** The index over `x = [operatorId, deadline]` of records with TTL. */
export const EXPIRY_INDEX = 'expiry';
/** Version of the layout above; a bump upgrades databases of older builds. */
export const SCHEMA_VERSION = 1;

/** A stored record: the canonical encoding of a value or map value, or the encoded elements of a list. */
export interface StoredRecord {
  v: Uint8Array | Uint8Array[];
  /** `[operatorId, deadline]` for state with TTL when native cleanup is on; absent otherwise. */
  x?: [string, number];
}

/** The IndexedDB implementation to use: the platform's, or one passed in (fake-indexeddb in Node). */
export interface IdbEnvironment {
  readonly factory: IDBFactory;
  readonly keyRange: typeof IDBKeyRange;
}

/** Resolves the IndexedDB globals lazily; a runtime without them gets a clear error instead of a ReferenceError. */
export function resolveEnvironment(factory: IDBFactory | undefined, keyRange: typeof IDBKeyRange | undefined, ctx: ErrorContext): IdbEnvironment {
  const g = globalThis as { indexedDB?: IDBFactory; IDBKeyRange?: typeof IDBKeyRange };
  const f = factory ?? g.indexedDB;
  const r = keyRange ?? g.IDBKeyRange;
  if (f === undefined || r === undefined) {
    throw new StateBackendError(
      'BACKEND_FAILURE',
      'IndexedDB is not available in this runtime: pass `indexedDB` and `IDBKeyRange` in the options (e.g. from fake-indexeddb in Node) or use HashMapStateBackend',
      ctx,
    );
  }
  return { factory: f, keyRange: r };
}

/**
 * Opens (creating or upgrading) a database. When another tab or worker keeps an older
 * version open and does not close it on `versionchange`, the upgrade is blocked: that is
 * reported at once as an error rather than hanging the job, and a connection that opens
 * later anyway is closed again.
 */
export function openDatabase(env: IdbEnvironment, name: string, version: number, ctx: ErrorContext): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    let request: IDBOpenDBRequest;
    try {
      request = env.factory.open(name, version);
    } catch (e) {
      reject(mapError(e, ctx, `open database "${name}"`));
      return;
    }
    let settled = false;
    request.onupgradeneeded = () => {
      const db = request.result;
      if (!db.objectStoreNames.contains(ENTRIES)) db.createObjectStore(ENTRIES).createIndex(EXPIRY_INDEX, 'x');
    };
    request.onblocked = () => {
      if (settled) return;
      settled = true;
      reject(
        new StateBackendError(
          'BACKEND_FAILURE',
          `database "${name}" cannot be upgraded to version ${version}: another tab or worker keeps an older version open and does not let go; close or reload that tab, then restart the job`,
          ctx,
        ),
      );
    };
    request.onsuccess = () => {
      const db = request.result;
      if (settled) {
        db.close();
        return;
      }
      settled = true;
      resolve(db);
    };
    request.onerror = () => {
      if (settled) return;
      settled = true;
      reject(mapError(request.error, ctx, `open database "${name}"`));
    };
  });
}

/** Completion of a transaction; an abort rejects with the mapped cause. */
export function transactionDone(tx: IDBTransaction, ctx: ErrorContext, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    // Every failed request aborts the transaction (none is prevented), so abort is the one place to listen.
    tx.onabort = () => reject(mapError(tx.error, ctx, what));
  });
}

/** Turns an IndexedDB DOMException into an eddy error that says what to do. */
export function mapError(e: unknown, ctx: ErrorContext, what: string): StateBackendError {
  if (e instanceof StateBackendError) return e;
  const name = (e as { name?: string } | null)?.name ?? 'Error';
  const message = (e as { message?: string } | null)?.message ?? String(e);
  if (name === 'QuotaExceededError') {
    return new StateBackendError(
      'STORAGE_FULL',
      `IndexedDB quota exceeded (${what}): the browser refused to store more state for this origin. Free space (other site data, old eddy databases), or use a smaller state; the job must restart from its last checkpoint`,
      ctx,
      { cause: e },
    );
  }
  if (name === 'InvalidStateError' || name === 'UnknownError' || name === 'AbortError') {
    return new StateBackendError(
      'BACKEND_FAILURE',
      `IndexedDB failed (${what}): ${name}: ${message}. The database may have been closed, deleted or cleared by the browser; the job must restart from its last checkpoint`,
      ctx,
      { cause: e },
    );
  }
  return new StateBackendError('BACKEND_FAILURE', `IndexedDB failed (${what}): ${name}: ${message}`, ctx, { cause: e });
}
