/**
 * The table layout and every prepared statement of the SQLite backend.
 *
 * One table holds the rows of every state, keyed so that a key-group range is a range
 * scan: `PRIMARY KEY (st, kg, k, ns, uk)` in a WITHOUT ROWID table (the rows are stored
 * in key order), where `st` is the state's number, `kg` the key group, `k` the key's
 * canonical bytes (`src/format/key-bytes.ts`), `ns` the namespace and `uk` the row within the
 * entry: `0` for a value, the element's sequence number for a list (so `add` is one
 * INSERT after an indexed `max(uk)`), the user key's canonical bytes for a map (one row
 * per entry). `v` is the canonical encoding of the stored value (`src/format/value-codec.ts`),
 * the same bytes a snapshot holds, so snapshots copy them without re-encoding. `exp` is
 * the TTL deadline for native cleanup (NULL without TTL), indexed per state.
 *
 * `marks` marks the entries written since the last completed checkpoint (incremental
 * snapshots), one row per entry and epoch (the interval between two snapshots), so that
 * the marks up to a snapshot's epoch stay as they were at its barrier while later writes
 * add marks of later epochs. A mark of a value-shaped state carries the value it wrote
 * (`v`, NULL: removed), so a delta of value states reads only marks, never `kv`, and needs
 * no copy at the barrier (see `delta-capture.ts`); list and map marks leave `v` NULL (a
 * delta reads their rows after the barrier, kept as they were by copy-on-write).
 * `states` names the state numbers, `meta` records what the file holds.
 */
import { FastStmt, type SqlParam, type WasmHeap } from './fast-stmt.ts';
import type { Database } from './loader.ts';

type Bind = readonly SqlParam[];

const DDL = `
CREATE TABLE IF NOT EXISTS kv (st INTEGER NOT NULL, kg INTEGER NOT NULL, k BLOB NOT NULL, ns TEXT NOT NULL, uk NOT NULL, v BLOB NOT NULL, exp INTEGER,
  PRIMARY KEY (st, kg, k, ns, uk)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS kv_exp ON kv (st, exp) WHERE exp IS NOT NULL;
DROP TABLE IF EXISTS chg;
CREATE TABLE IF NOT EXISTS marks (st INTEGER NOT NULL, kg INTEGER NOT NULL, k BLOB NOT NULL, ns TEXT NOT NULL, epoch INTEGER NOT NULL, v BLOB,
  PRIMARY KEY (st, kg, k, ns, epoch)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS states (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, ttl_ms INTEGER);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value) WITHOUT ROWID;
`;

/** A row of an entry: its `uk` and encoded value. */
export type Row = [uk: number | Uint8Array, v: Uint8Array];

/**
 * The prepared statements over one open database, plus the write transaction they run
 * in. Writes gather in one open transaction that is committed every `batchRows` row
 * writes and whenever the backend flushes, snapshots or closes: SQLite pays its
 * per-transaction cost once per batch, not once per record.
 */
export class Statements {
  private readonly s: Record<string, FastStmt> = {};
  private inTransaction = false;
  private writes = 0;
  /**
   * The first failed statement. SQLite may roll back the whole batch transaction on
   * SQLITE_FULL, IOERR or NOMEM, taking earlier writes with it, so after any failure every
   * later call fails too: the job must restart from its checkpoint rather than go on
   * with state that silently lost writes.
   */
  private failure: unknown;

  constructor(
    readonly db: Database,
    /** The module's heap access, for statements over other databases (snapshot copies). */
    readonly heap: WasmHeap,
    private readonly batchRows: number,
  ) {
    db.exec(DDL);
    const prep = (name: string, sql: string) => (this.s[name] = new FastStmt(heap, db, db.prepare(sql)));
    prep('getValue', 'SELECT v, exp FROM kv WHERE st=?1 AND kg=?2 AND k=?3 AND ns=?4 AND uk=0');
    prep('putRow', 'INSERT OR REPLACE INTO kv (st, kg, k, ns, uk, v, exp) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)');
    prep('deleteRow', 'DELETE FROM kv WHERE st=?1 AND kg=?2 AND k=?3 AND ns=?4 AND uk=?5');
    prep('deleteEntry', 'DELETE FROM kv WHERE st=?1 AND kg=?2 AND k=?3 AND ns=?4');
    prep('entryRows', 'SELECT uk, v FROM kv WHERE st=?1 AND kg=?2 AND k=?3 AND ns=?4 ORDER BY uk');
    prep('maxUk', 'SELECT max(uk) FROM kv WHERE st=?1 AND kg=?2 AND k=?3 AND ns=?4');
    prep('getRow', 'SELECT v FROM kv WHERE st=?1 AND kg=?2 AND k=?3 AND ns=?4 AND uk=?5');
    prep('hasRow', 'SELECT 1 FROM kv WHERE st=?1 AND kg=?2 AND k=?3 AND ns=?4 AND uk=?5');
    prep('hasEntry', 'SELECT 1 FROM kv WHERE st=?1 AND kg=?2 AND k=?3 AND ns=?4 LIMIT 1');
    prep('rowsAfter', 'SELECT uk, v FROM kv WHERE st=?1 AND kg=?2 AND k=?3 AND ns=?4 AND uk>?5 ORDER BY uk LIMIT ?6');
    prep('keysAfter', 'SELECT DISTINCT kg, k FROM kv WHERE st=?1 AND (kg>?3 OR (kg=?3 AND k>?4)) AND ns=?2 ORDER BY kg, k LIMIT ?5');
    prep('entriesAfter', 'SELECT DISTINCT kg, k, ns FROM kv WHERE st=?1 AND (kg, k, ns) > (?2, ?3, ?4) ORDER BY kg, k, ns LIMIT ?5');
    prep('mark', 'INSERT OR REPLACE INTO marks (st, kg, k, ns, epoch, v) VALUES (?1, ?2, ?3, ?4, ?5, ?6)');
    prep('forget', 'DELETE FROM marks WHERE epoch<=?1');
    prep('markExpired', 'INSERT OR REPLACE INTO marks (st, kg, k, ns, epoch, v) SELECT st, kg, k, ns, ?3, NULL FROM kv WHERE st=?1 AND exp<=?2');
    // Keyset paging over (entry, epoch): the marks of epochs (?2, ?3] after a cursor, in key order, each entry's epochs ascending.
    prep(
      'valueMarksAfter',
      'SELECT kg, k, ns, epoch, v FROM marks WHERE st=?1 AND (kg, k, ns, epoch) > (?4, ?5, ?6, ?7) AND epoch>?2 AND epoch<=?3 ORDER BY kg, k, ns, epoch LIMIT ?8',
    );
    // Keyset paging over the entries marked in epochs (?2, ?3] after a cursor, each with its rows now (a whole entry per page).
    prep(
      'markedEntriesAfter',
      'SELECT m.kg, m.k, m.ns, kv.uk, kv.v FROM (SELECT DISTINCT kg, k, ns FROM marks WHERE st=?1 AND (kg, k, ns) > (?4, ?5, ?6) AND epoch>?2 AND epoch<=?3 ' +
        'ORDER BY kg, k, ns LIMIT ?7) AS m LEFT JOIN kv ON kv.st=?1 AND kv.kg=m.kg AND kv.k=m.k AND kv.ns=m.ns ORDER BY m.kg, m.k, m.ns, kv.uk',
    );
    prep('isMarked', 'SELECT 1 FROM marks WHERE st=?1 AND kg=?2 AND k=?3 AND ns=?4 AND epoch>?5 AND epoch<=?6 LIMIT 1');
    prep('expiredEntries', 'SELECT DISTINCT kg, k, ns FROM kv WHERE st=?1 AND exp<=?2');
    prep('deleteExpired', 'DELETE FROM kv WHERE st=?1 AND exp<=?2');
    prep('withoutExpiry', 'SELECT kg, k, ns, uk, v FROM kv WHERE st=?1 AND exp IS NULL');
    prep('setExpiry', 'UPDATE kv SET exp=?6 WHERE st=?1 AND kg=?2 AND k=?3 AND ns=?4 AND uk=?5');
    prep('countRows', 'SELECT count(*), total_changes() FROM kv');
    prep('setMeta', 'INSERT OR REPLACE INTO meta (name, value) VALUES (?1, ?2)');
    prep('getMeta', 'SELECT value FROM meta WHERE name=?1');
    prep('savedStates', 'SELECT id, name, kind, ttl_ms FROM states ORDER BY id');
    prep('clearMarks', 'DELETE FROM marks');
    prep('saveState', 'INSERT OR REPLACE INTO states (id, name, kind, ttl_ms) VALUES (?1, ?2, ?3, ?4)');
  }

  /**
   * Opens the batch transaction if none is open; counts the row writes it will hold.
   * A write of state (`changesState`) first clears the "at a checkpoint" mark, in the
   * same transaction, so a file is never reused with writes its checkpoint lacks.
   */
  private write(rows = 1, changesState = true): void {
    if (!this.inTransaction) {
      this.guard(() => this.db.exec('BEGIN'));
      this.inTransaction = true;
    }
    this.writes += rows;
    if (changesState) this.stateWrites++;
    if (changesState && this.atCheckpoint) {
      this.atCheckpoint = false;
      this.run('setMeta', ['fingerprint', null]);
    }
  }

  /** Writes of state so far: a snapshot's fingerprint is recorded only if none happened while it was computed. */
  stateWrites = 0;

  /**
   * Whether the rows are exactly those of the last recorded checkpoint (see
   * {@link recordCheckpoint}); cleared by the first write of state after it.
   */
  atCheckpoint = false;

  /** Records that the file holds exactly the snapshot with this fingerprint (until the next write of state). */
  recordCheckpoint(fingerprint: string, checkpointId: number | null): void {
    this.write(1, false);
    this.run('setMeta', ['fingerprint', fingerprint]);
    this.run('setMeta', ['checkpoint', checkpointId]);
    this.atCheckpoint = true;
    this.commit();
  }

  /** The fingerprint of the snapshot the file holds exactly, if it was recorded and nothing was written since. */
  recordedFingerprint(): string | undefined {
    let v: string | undefined;
    this.each('getMeta', ['fingerprint'], (s) => (v = s.isNull(0) ? undefined : s.text(0)));
    return v;
  }

  /** The states table, for reusing a file: number, name, kind and TTL of every state. */
  savedStates(): Array<{ id: number; name: string; kind: string; ttlMs: number | null }> {
    const out: Array<{ id: number; name: string; kind: string; ttlMs: number | null }> = [];
    this.each('savedStates', [], (s) => out.push({ id: s.int(0), name: s.text(1), kind: s.text(2), ttlMs: s.num(3) }));
    return out;
  }

  /** Drops the change marks (they belong to the run that wrote them). */
  clearMarks(): void {
    this.write(1, false);
    this.run('clearMarks', []);
  }

  /** Commits the batch once it is large enough; called after whole operations, never in the middle of one. */
  maybeCommit(): void {
    if (this.writes >= this.batchRows) this.commit();
  }

  /** Commits the open batch, if any. */
  commit(): void {
    if (!this.inTransaction) return;
    this.guard(() => this.db.exec('COMMIT'));
    this.inTransaction = false;
    this.writes = 0;
  }

  /** Runs a statement call; a failure poisons this database (see {@link failure}). */
  private guard<R>(call: () => R): R {
    if (this.failure !== undefined) throw this.failure;
    try {
      return call();
    } catch (e) {
      this.failure = e;
      throw e;
    }
  }

  private run(name: string, bind: Bind): void {
    const st = this.s[name]!;
    this.guard(() => {
      try {
        st.bind(bind).step();
      } finally {
        st.reset();
      }
    });
  }

  private each(name: string, bind: Bind, row: (st: FastStmt) => void): void {
    const st = this.s[name]!;
    this.guard(() => {
      try {
        st.bind(bind);
        while (st.step()) row(st);
      } finally {
        st.reset();
      }
    });
  }

  private exists(name: string, bind: Bind): boolean {
    const st = this.s[name]!;
    return this.guard(() => {
      try {
        return st.bind(bind).step();
      } finally {
        st.reset();
      }
    });
  }

  getValue(st: number, kg: number, k: Uint8Array, ns: string): { v: Uint8Array; exp: number | null } | undefined {
    let out: { v: Uint8Array; exp: number | null } | undefined;
    this.each('getValue', [st, kg, k, ns], (s) => (out = { v: s.blob(0), exp: s.num(1) }));
    return out;
  }

  putRow(st: number, kg: number, k: Uint8Array, ns: string, uk: number | Uint8Array, v: Uint8Array, exp: number | null): void {
    this.write();
    this.run('putRow', [st, kg, k, ns, uk, v, exp]);
  }

  deleteRow(st: number, kg: number, k: Uint8Array, ns: string, uk: number | Uint8Array): void {
    this.write();
    this.run('deleteRow', [st, kg, k, ns, uk]);
  }

  deleteEntry(st: number, kg: number, k: Uint8Array, ns: string): void {
    this.write();
    this.run('deleteEntry', [st, kg, k, ns]);
  }

  entryRows(st: number, kg: number, k: Uint8Array, ns: string): Row[] {
    const rows: Row[] = [];
    this.each('entryRows', [st, kg, k, ns], (s) => rows.push([s.intOrBlob(0), s.blob(1)]));
    return rows;
  }

  maxUk(st: number, kg: number, k: Uint8Array, ns: string): number | undefined {
    let max: number | undefined;
    this.each('maxUk', [st, kg, k, ns], (s) => {
      if (!s.isNull(0)) max = s.int(0);
    });
    return max;
  }

  getRow(st: number, kg: number, k: Uint8Array, ns: string, uk: number | Uint8Array): Uint8Array | undefined {
    let v: Uint8Array | undefined;
    this.each('getRow', [st, kg, k, ns, uk], (s) => (v = s.blob(0)));
    return v;
  }

  hasRow(st: number, kg: number, k: Uint8Array, ns: string, uk: number | Uint8Array): boolean {
    return this.exists('hasRow', [st, kg, k, ns, uk]);
  }

  hasEntry(st: number, kg: number, k: Uint8Array, ns: string): boolean {
    return this.exists('hasEntry', [st, kg, k, ns]);
  }

  /** One page of an entry's rows after `after` (an integer below every row to start): keyset paging, safe under concurrent writes. */
  rowsAfter(st: number, kg: number, k: Uint8Array, ns: string, after: number | Uint8Array, limit: number): Row[] {
    const rows: Row[] = [];
    this.each('rowsAfter', [st, kg, k, ns, after, limit], (s) => rows.push([s.intOrBlob(0), s.blob(1)]));
    return rows;
  }

  /** One page of the distinct (key group, key) of a state and namespace after the given one. */
  keysAfter(st: number, ns: string, afterKg: number, afterK: Uint8Array | number, limit: number): Array<[number, Uint8Array]> {
    const out: Array<[number, Uint8Array]> = [];
    this.each('keysAfter', [st, ns, afterKg, afterK, limit], (s) => out.push([s.int(0), s.blob(1)]));
    return out;
  }

  /** One page of the distinct entries (key group, key, namespace) of a state after the given one. */
  entriesAfter(st: number, after: readonly [number, Uint8Array | number, string], limit: number): Array<[number, Uint8Array, string]> {
    const out: Array<[number, Uint8Array, string]> = [];
    this.each('entriesAfter', [st, after[0], after[1], after[2], limit], (s) => out.push([s.int(0), s.blob(1), s.text(2)]));
    return out;
  }

  /** Marks an entry as written in `epoch`; `v` is a value-shaped entry's value (null: removed, or a list or map entry). */
  mark(st: number, kg: number, k: Uint8Array, ns: string, epoch: number, v: Uint8Array | null): void {
    this.write();
    this.run('mark', [st, kg, k, ns, epoch, v]);
  }

  /**
   * One page of a value-shaped state's marks of epochs `(after, upTo]` following `cursor`
   * (an entry and epoch; `[-1, empty, '', -1]` starts before all), in key order.
   */
  valueMarksAfter(
    st: number,
    after: number,
    upTo: number,
    cursor: readonly [number, Uint8Array, string, number],
    limit: number,
  ): Array<[kg: number, k: Uint8Array, ns: string, epoch: number, v: Uint8Array | null]> {
    const out: Array<[number, Uint8Array, string, number, Uint8Array | null]> = [];
    this.each('valueMarksAfter', [st, after, upTo, cursor[0], cursor[1], cursor[2], cursor[3], limit], (s) =>
      out.push([s.int(0), s.blob(1), s.text(2), s.int(3), s.isNull(4) ? null : s.blob(4)]),
    );
    return out;
  }

  /**
   * One page of the entries of a state marked in epochs `(after, upTo]` following `cursor`
   * (`[-1, empty, '']` starts before all), at most `limit` entries in key order, each with
   * its rows now; a removed entry as one row with `uk` null.
   */
  markedEntriesAfter(
    st: number,
    after: number,
    upTo: number,
    cursor: readonly [number, Uint8Array, string],
    limit: number,
  ): Array<[kg: number, k: Uint8Array, ns: string, uk: number | Uint8Array | null, v: Uint8Array | null]> {
    const out: Array<[number, Uint8Array, string, number | Uint8Array | null, Uint8Array | null]> = [];
    this.each('markedEntriesAfter', [st, after, upTo, cursor[0], cursor[1], cursor[2], limit], (s) =>
      out.push(s.isNull(3) ? [s.int(0), s.blob(1), s.text(2), null, null] : [s.int(0), s.blob(1), s.text(2), s.intOrBlob(3), s.blob(4)]),
    );
    return out;
  }

  /** Whether an entry was marked in one of the epochs `(after, upTo]`. */
  isMarked(st: number, kg: number, k: Uint8Array, ns: string, after: number, upTo: number): boolean {
    return this.exists('isMarked', [st, kg, k, ns, after, upTo]);
  }

  /** The entries of a state with rows expired at `now` (what native cleanup is about to delete). */
  expiredEntries(st: number, now: number): Array<[kg: number, k: Uint8Array, ns: string]> {
    const out: Array<[number, Uint8Array, string]> = [];
    this.each('expiredEntries', [st, now], (s) => out.push([s.int(0), s.blob(1), s.text(2)]));
    return out;
  }

  forget(epoch: number): void {
    this.write(1, false);
    this.run('forget', [epoch]);
  }

  /** Native TTL cleanup of one state: marks the entries it touches (when tracking), then deletes by the expiry index; returns the rows deleted. */
  deleteExpired(st: number, now: number, markEpoch: number | undefined): number {
    this.write();
    if (markEpoch !== undefined) this.run('markExpired', [st, now, markEpoch]);
    this.run('deleteExpired', [st, now]);
    return this.guard(() => this.db.changes());
  }

  /** Rows of a state that have no expiry yet (restored before the state was registered with TTL). */
  withoutExpiry(st: number): Array<[number, Uint8Array, string, number | Uint8Array, Uint8Array]> {
    const out: Array<[number, Uint8Array, string, number | Uint8Array, Uint8Array]> = [];
    this.each('withoutExpiry', [st], (s) => out.push([s.int(0), s.blob(1), s.text(2), s.intOrBlob(3), s.blob(4)]));
    return out;
  }

  setExpiry(st: number, kg: number, k: Uint8Array, ns: string, uk: number | Uint8Array, exp: number): void {
    this.write();
    this.run('setExpiry', [st, kg, k, ns, uk, exp]);
  }

  /** Rows stored now, and rows changed by writes since the database was opened (SQLite's `total_changes()`). */
  counts(): { rows: number; changes: number } {
    let out = { rows: 0, changes: 0 };
    this.each('countRows', [], (s) => (out = { rows: s.int(0), changes: s.int(1) }));
    return out;
  }

  saveState(id: number, name: string, kind: string, ttlMs: number | null): void {
    this.write();
    this.run('saveState', [id, name, kind, ttlMs]);
  }

  /** Empties every table: the backend is a working copy and starts from the restored checkpoint. */
  wipe(): void {
    this.commit();
    this.guard(() => this.db.exec('DELETE FROM kv; DELETE FROM marks; DELETE FROM states; DELETE FROM meta;'));
    this.atCheckpoint = false;
  }

  /** Finalizes the statements and closes the database. */
  close(): void {
    for (const st of Object.values(this.s)) st.finalize();
    this.db.close();
  }
}
