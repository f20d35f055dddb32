/**
 * The job's exactly-once output: each closed 1-second window, with the count of every
 * card, committed into IndexedDB (`output-db.ts`) by a `TwoPhaseCommitSink`. A
 * transaction is the windows between two checkpoints; it becomes visible when its
 * checkpoint completes. Commit is idempotent (a transaction id is written once), and a
 * window that arrives a second time in another transaction is kept aside as a duplicate.
 */
import type { IDBPDatabase } from 'idb';
import { TwoPhaseCommitSink } from 'eddy';
import { openOutput, type CommittedWindow, type OutputSchema, type WindowSummary } from './output-db.ts';

type Txn = { id: string; windows: WindowSummary[] };

/** The transactional sink into a job's output database. */
export class IdbWindowSink extends TwoPhaseCommitSink<WindowSummary, Txn> {
  private db: Promise<IDBPDatabase<OutputSchema>> | undefined;
  constructor(private readonly jobName: string) {
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
  override async close(): Promise<void> {
    await super.close();
    (await this.db)?.close();
  }
}
