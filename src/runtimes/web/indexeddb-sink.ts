/**
 * An exactly-once sink into IndexedDB (browsers and workers; in Node, with a global
 * `indexedDB` such as `fake-indexeddb/auto`'s). Built on `TwoPhaseCommitSink`: the records
 * of a checkpoint interval are kept in memory, staged as one row of a `pending` store when
 * the checkpoint is taken (pre-commit), and moved to the `committed` store in one
 * IndexedDB transaction once the checkpoint completes. Committed records are keyed
 * `[transactionId, index]`, so a commit replayed after a restore writes the same keys
 * again (and finds nothing pending): no duplicate, and nothing lost. The same IndexedDB
 * transaction records when the commit happened (one row per committed transaction, in a
 * `commitTimes` store), so a reader can tell each record's commit time: end-to-end latency
 * needs no clock of its own. Uses `idb`, off the per-record path (IndexedDB is touched
 * once per checkpoint and subtask).
 */
import type { IDBPDatabase } from 'idb';
import { ConfigurationError } from '../../api/errors.ts';
import type { RuntimeContext, SinkContext } from '../../api/functions.ts';
import { TwoPhaseCommitSink } from '../../api/two-phase-commit.ts';

/** Options of {@link IndexedDbSink}. */
export interface IndexedDbSinkOptions {
  /** The database name; its stores `pending`, `committed` and `commitTimes` are created on first use. */
  readonly database: string;
}

/** A transaction of the IndexedDB sink: its id (checkpointed). */
export interface IndexedDbSinkTransaction {
  readonly id: string;
}

const PENDING = 'pending';
const COMMITTED = 'committed';
/** Transaction id → wall-clock ms of its commit (added in version 2 of the database). */
const COMMIT_TIMES = 'commitTimes';

/**
 * Opens (creating on first use) the sink's database. `idb` is loaded here, on first use,
 * not when eddy loads: a page without a bundler (and its workers, which do not see the
 * page's import map) can then load eddy without an import-map entry for `idb`.
 */
async function open(database: string): Promise<IDBPDatabase> {
  const { openDB } = await import('idb');
  // Version 2 added COMMIT_TIMES: a version-1 database (an older eddy's) gains the store and keeps its records.
  return openDB(database, 2, {
    upgrade(db) {
      if (!db.objectStoreNames.contains(PENDING)) db.createObjectStore(PENDING);
      if (!db.objectStoreNames.contains(COMMITTED)) db.createObjectStore(COMMITTED);
      if (!db.objectStoreNames.contains(COMMIT_TIMES)) db.createObjectStore(COMMIT_TIMES);
    },
  });
}

/**
 * Writes every record exactly once into the `committed` store of an IndexedDB database
 * (records must be structured-cloneable). Read them with {@link readIndexedDbSink} (all at
 * once) or {@link readIndexedDbSinkAfter} (tailing, in pages); {@link deleteIndexedDbSink}
 * clears the output for a fresh run.
 */
export class IndexedDbSink<T> extends TwoPhaseCommitSink<T, IndexedDbSinkTransaction> {
  private db: Promise<IDBPDatabase> | undefined;
  private readonly buffers = new Map<string, T[]>();
  private subtask = 'x';
  private run = '';
  private counter = 0;

  constructor(private readonly options: IndexedDbSinkOptions) {
    super();
    if (!options || typeof options.database !== 'string' || options.database.length === 0) {
      throw new ConfigurationError('IndexedDbSink needs { database: "name" }', { component: 'sink:indexeddb' });
    }
  }

  override open(ctx: RuntimeContext): void {
    this.subtask = String(ctx.getIndexOfThisSubtask());
  }

  private database(): Promise<IDBPDatabase> {
    this.db ??= open(this.options.database);
    return this.db;
  }

  beginTransaction(): IndexedDbSinkTransaction {
    // Ids sort by when the transaction began (then by a per-run counter), so the `committed`
    // store's key order is a subtask's commit order; the tail keeps ids of subtasks and runs
    // apart. initializeState begins the first transaction before open(): it has no subtask yet.
    this.run ||= Math.random().toString(36).slice(2, 8);
    const id = `${Date.now().toString(36).padStart(9, '0')}-${String(this.counter++).padStart(8, '0')}-${this.subtask}-${this.run}`;
    this.buffers.set(id, []);
    return { id };
  }

  invoke(txn: IndexedDbSinkTransaction, value: T, _ctx: SinkContext): void {
    this.buffers.get(txn.id)!.push(value);
  }

  /** Stages the transaction's records durably, as one row, before the checkpoint counts. */
  async preCommit(txn: IndexedDbSinkTransaction): Promise<void> {
    const records = this.buffers.get(txn.id) ?? [];
    this.buffers.delete(txn.id);
    if (records.length === 0) return;
    await (await this.database()).put(PENDING, records, txn.id);
  }

  /**
   * Moves the staged records to `committed` in one IndexedDB transaction, with the time of
   * the commit; idempotent (a replayed commit finds nothing pending and keeps the first time).
   */
  async commit(txn: IndexedDbSinkTransaction): Promise<void> {
    const db = await this.database();
    const tx = db.transaction([PENDING, COMMITTED, COMMIT_TIMES], 'readwrite');
    const pending = tx.objectStore(PENDING);
    const committed = tx.objectStore(COMMITTED);
    const records = (await pending.get(txn.id)) as T[] | undefined;
    const writes: Promise<unknown>[] = [];
    if (records !== undefined) {
      for (let i = 0; i < records.length; i++) writes.push(committed.put(records[i], [txn.id, i]));
      writes.push(pending.delete(txn.id), tx.objectStore(COMMIT_TIMES).put(Date.now(), txn.id));
    }
    await Promise.all([...writes, tx.done]);
  }

  async abort(txn: IndexedDbSinkTransaction): Promise<void> {
    this.buffers.delete(txn.id);
    const db = await this.database();
    await db.delete(PENDING, txn.id);
  }

  override async close(): Promise<void> {
    await super.close();
    if (this.db !== undefined) (await this.db).close();
    this.db = undefined;
  }
}

/** The records an {@link IndexedDbSink} committed into `database`, in commit order per subtask. */
export async function readIndexedDbSink<T>(database: string): Promise<T[]> {
  const db = await open(database);
  try {
    return (await db.getAll(COMMITTED)) as T[];
  } finally {
    db.close();
  }
}

/** A committed record of an {@link IndexedDbSink} and its key: `[transactionId, index within the transaction]`. */
export interface IndexedDbSinkEntry<T> {
  readonly key: readonly [string, number];
  readonly value: T;
  /**
   * When its transaction was committed (wall-clock ms, `Date.now()` of the committing
   * subtask, taken as the commit's IndexedDB transaction was issued); undefined for a
   * record committed by an eddy that did not record commit times.
   */
  readonly committedAt?: number;
}

/**
 * Committed records whose key comes after `after` (all when `after` is undefined), in key
 * order, at most `limit` of them: a reader that keeps the last key it saw tails the output
 * incrementally. Transaction ids sort by the time the transaction began, so key order is
 * commit order for one subtask (a sink at parallelism 1 is tailed without a miss). With
 * several subtasks, a transaction that began earlier may commit after a later one of
 * another subtask was read; such a reader should re-read, or use {@link readIndexedDbSink}.
 */
export async function readIndexedDbSinkAfter<T>(database: string, after?: readonly [string, number], limit?: number): Promise<Array<IndexedDbSinkEntry<T>>> {
  const db = await open(database);
  try {
    const range = after === undefined ? undefined : IDBKeyRange.lowerBound([...after], true);
    const tx = db.transaction([COMMITTED, COMMIT_TIMES], 'readonly');
    const store = tx.objectStore(COMMITTED);
    // Two bulk reads (keys, values) instead of a cursor step per record: one round trip each.
    const [keys, values] = (await Promise.all([store.getAllKeys(range, limit), store.getAll(range, limit)])) as [Array<[string, number]>, T[]];
    // The commit times of the transactions read: two more bulk reads over their id range.
    const times = new Map<string, number>();
    if (keys.length > 0) {
      const ids = IDBKeyRange.bound(keys[0]![0], keys.at(-1)![0]);
      const timeStore = tx.objectStore(COMMIT_TIMES);
      const [timeKeys, timeValues] = await Promise.all([timeStore.getAllKeys(ids), timeStore.getAll(ids)]);
      timeKeys.forEach((id, i) => times.set(id as string, timeValues[i] as number));
    }
    await tx.done;
    return keys.map((key, i) => {
      const committedAt = times.get(key[0]);
      return committedAt === undefined ? { key, value: values[i]! } : { key, value: values[i]!, committedAt };
    });
  } finally {
    db.close();
  }
}

/**
 * Deletes the sink's database, committed and staged records alike (a fresh run's output
 * starts empty). Stop the job writing into it first; a connection still open elsewhere
 * delays the deletion until it closes.
 */
export async function deleteIndexedDbSink(database: string): Promise<void> {
  const { deleteDB } = await import('idb');
  await deleteDB(database);
}
