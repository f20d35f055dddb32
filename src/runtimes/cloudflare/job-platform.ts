/**
 * The few workerd APIs a hosted keyed job uses, typed structurally: eddy ships no
 * Cloudflare type package, and these shapes are all the job host relies on (see
 * https://developers.cloudflare.com/durable-objects/api/ for the full interfaces).
 */

/** A value SQL returns (workerd hands blobs out as `ArrayBuffer`). */
export type JobSqlValue = string | number | null | ArrayBuffer | Uint8Array;

/** A cursor of `ctx.storage.sql.exec()`. */
export interface JobSqlCursor {
  toArray(): Array<Record<string, JobSqlValue>>;
  raw(): IterableIterator<JobSqlValue[]>;
  readonly rowsWritten: number;
}

/** `ctx.storage.sql` of a SQLite-backed Durable Object. */
export interface JobSqlStorage {
  exec(query: string, ...bindings: unknown[]): JobSqlCursor;
}

/** `ctx.storage` of a SQLite-backed Durable Object. */
export interface JobObjectStorage {
  readonly sql: JobSqlStorage;
  /**
   * Runs `closure` as one transaction. On a SQLite-backed object every storage operation
   * made while it runs — `sql.exec()` included, across `await`s — is part of it, and a
   * throw rolls all of it back (the storage API reference, "transaction", SQLite-backed
   * storage: https://developers.cloudflare.com/durable-objects/api/storage-api/).
   */
  transaction<T>(closure: (txn: unknown) => Promise<T>): Promise<T>;
  /** The synchronous transaction (nests; rolls back when the callback throws). */
  transactionSync<T>(closure: () => T): T;
  getAlarm(): Promise<number | null>;
  setAlarm(scheduledTime: number | Date): Promise<void>;
  deleteAlarm(): Promise<void>;
}

/** The `ctx` (`DurableObjectState`) a Durable Object's constructor receives. */
export interface JobObjectState {
  readonly storage: JobObjectStorage;
  /** Serialises the object's start-up: no event is delivered until the callback settled. */
  blockConcurrencyWhile<T>(callback: () => Promise<T>): Promise<T>;
}

/** A Durable Object stub, addressed by `fetch`. */
export interface JobObjectStub {
  fetch(input: string | Request, init?: RequestInit): Promise<Response>;
}

/** A Durable Object namespace binding (`env.JOB`). */
export interface JobObjectNamespace {
  idFromName(name: string): unknown;
  get(id: unknown): JobObjectStub;
}

/** workerd's `WebSocketPair`, and the server end's `accept()`. */
export interface JobWebSocket {
  accept(): void;
  send(message: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  addEventListener(type: 'close' | 'error', listener: (event: unknown) => void): void;
}
