/**
 * The job's exactly-once output: each closed 1-second window, with the count of every
 * card, committed into IndexedDB by a `TwoPhaseCommitSink`. A transaction is the windows
 * between two checkpoints; it becomes visible when its checkpoint completes. Commit is
 * idempotent (a transaction id is written once), and a window that arrives a second time
 * in another transaction is kept aside as a duplicate, so the page can show it rather
 * than hide it by overwriting.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import { TwoPhaseCommitSink } from 'eddy';

/** One closed window: event-time start, transactions per card, and when its newest transaction was generated. */
export interface WindowSummary {
  readonly start: number;
  readonly counts: Record<string, number>;
  /** Largest generation wall-clock time among its transactions. */
  readonly lastAt: number;
  /** Wall-clock time the window fired. */
  readonly firedAt: number;
}

/** A committed window, as the page reads it. */
export interface CommittedWindow extends WindowSummary {
  readonly committedAt: number;
  readonly txn: string;
}

interface OutputSchema extends DBSchema {
  windows: { key: number; value: CommittedWindow };
  duplicates: { key: number; value: CommittedWindow };
  txns: { key: string; value: { id: string; at: number } };
}

/** The output database of a job. */
export function outputDatabaseName(jobName: string): string {
  return `eddy-demo-output:${jobName}`;
}

/** Opens (creating) a job's output database. */
export function openOutput(jobName: string): Promise<IDBPDatabase<OutputSchema>> {
  const db = openDB<OutputSchema>(outputDatabaseName(jobName), 1, {
    upgrade(db) {
      db.createObjectStore('windows', { keyPath: 'start' });
      db.createObjectStore('duplicates', { autoIncrement: true });
      db.createObjectStore('txns', { keyPath: 'id' });
    },
    // A new job deletes the old job's output: never stand in its way.
    blocking: () => void db.then((d) => d.close()),
  });
  return db;
}

type Txn = { id: string; windows: WindowSummary[] };

/** The transactional sink into a job's output database. */
export class IdbWindowSink extends TwoPhaseCommitSink<WindowSummary, Txn> {
  private db: Promise<IDBPDatabase<OutputSchema>> | undefined;
  constructor(
    private readonly jobName: string,
    private readonly onCommitted?: (checkpointId: number) => void,
  ) {
    super();
  }
  private database() {
    return (this.db ??= openOutput(this.jobName));
  }
  beginTransaction(): Txn {
    return { id: `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`, windows: [] };
  }
  invoke(txn: Txn, w: WindowSummary) {
    txn.windows.push(w);
  }
  preCommit() {}
  async commit(txn: Txn) {
    const db = await this.database();
    const tx = db.transaction(['windows', 'duplicates', 'txns'], 'readwrite');
    const done = tx.done;
    if ((await tx.objectStore('txns').get(txn.id)) === undefined) {
      const at = Date.now();
      await tx.objectStore('txns').put({ id: txn.id, at });
      for (const w of txn.windows) {
        const row: CommittedWindow = { ...w, committedAt: at, txn: txn.id };
        if ((await tx.objectStore('windows').getKey(w.start)) === undefined) await tx.objectStore('windows').put(row);
        else await tx.objectStore('duplicates').add(row);
      }
    }
    await done;
  }
  abort() {}
  override async notifyCheckpointComplete(checkpointId: number): Promise<void> {
    await super.notifyCheckpointComplete(checkpointId);
    this.onCommitted?.(checkpointId);
  }
  override async close(): Promise<void> {
    await super.close();
    (await this.db)?.close();
  }
}
