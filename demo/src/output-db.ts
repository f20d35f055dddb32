/**
 * The job's output database (IndexedDB, through idb): the committed windows, windows that
 * arrived a second time (kept aside, never overwritten, so the page can show them), and
 * the ids of committed transactions. Written by the sink (`output.ts`) in an eddy worker,
 * read by the page; this module does not import eddy, so the page's bundle stays small.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';

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

/** The database's stores. */
export interface OutputSchema extends DBSchema {
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
