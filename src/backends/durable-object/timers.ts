/**
 * Timers of a keyed operator subtask in a Durable Object, on the object's single alarm.
 *
 * Timers live in the object's SQLite (`eddy_timers`), deduplicated per (scope, domain, key,
 * namespace, timestamp) as in Flink's `InternalTimerService`, both time domains in one
 * table. The object has one alarm; {@link DurableObjectTimers.syncAlarm} keeps it at the
 * earliest processing-time timer of every scope the object holds. When the alarm fires,
 * {@link DurableObjectTimers.fireDue} runs the due timers, each one deleted in the same
 * `transactionSync` as its effects: a timer whose effects committed is gone, so an alarm
 * that is retried (its handler threw later, or the platform retries it) never fires it
 * again, and a timer whose callback threw is rolled back with its effects and fires on
 * the retry.
 *
 * Snapshots use the engine's timer layout (per key group: a tag byte — 0 event, 1
 * processing, +2 with a namespace —, the canonical key bytes, the namespace when tagged,
 * the timestamp as f64), so timers move between a Durable Object and any other runtime.
 */
import { EddyError } from '../../api/errors.ts';
import type { TimeDomain } from '../../api/functions.ts';
import { ByteReader, ByteWriter } from '../../format/bytes.ts';
import { canonicalKeyBytes, keyFromCanonicalBytes, type Key } from '../../format/key-bytes.ts';
import type { KeyGroupRange } from '../../format/key-groups.ts';
import { bytesOf, firstRow, rows, sqlFailure, type DurableObjectStorageLike, type SqlValue } from './storage.ts';

const DDL = `
CREATE TABLE IF NOT EXISTS eddy_timers (scope TEXT NOT NULL, domain INTEGER NOT NULL, k BLOB NOT NULL, ns TEXT NOT NULL, ts REAL NOT NULL,
  kg INTEGER NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (scope, domain, k, ns, ts)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS eddy_timers_due ON eddy_timers (scope, domain, ts, seq);
CREATE INDEX IF NOT EXISTS eddy_timers_alarm ON eddy_timers (domain, ts);
`;

const EVENT = 0;
const PROCESSING = 1;
const domainOf = (d: TimeDomain): number => (d === 'EVENT_TIME' ? EVENT : PROCESSING);

/** A pending timer as stored. */
export interface DurableObjectTimer {
  readonly domain: TimeDomain;
  readonly timestamp: number;
  readonly key: Key;
  readonly keyGroup: number;
  /** `''` for a function's own timers, the window for the window operator's. */
  readonly namespace: string;
}

/** Options of {@link DurableObjectTimers}. */
export interface DurableObjectTimersOptions {
  /**
   * Names this subtask's timers among all the object holds (e.g. the operator id); default
   * `''`. The alarm serves every scope: {@link DurableObjectTimers.syncAlarm} looks at all.
   */
  readonly scope?: string;
  /** The key groups this subtask owns: `restore` adds only their timers. Default: all. */
  readonly keyGroupRange?: KeyGroupRange;
  /** Named in error messages (operator and subtask). */
  readonly operatorName?: string;
}

/** Timers in the object's SQLite, fired from its alarm; see the module comment. */
export class DurableObjectTimers {
  private readonly scope: string;
  private seq: number;
  private readonly ctx: { component: string; operator?: string };

  /** @param storage the object's `ctx.storage`. */
  constructor(
    private readonly storage: DurableObjectStorageLike,
    private readonly options: DurableObjectTimersOptions = {},
  ) {
    this.scope = options.scope ?? '';
    this.ctx = { component: 'timers:durable-object', operator: options.operatorName };
    this.seq = this.guard('opening the timer table', () => {
      storage.sql.exec(DDL);
      return ((firstRow(storage.sql, 'SELECT max(seq) FROM eddy_timers')?.[0] as number | null) ?? 0) + 1;
    });
  }

  private guard<R>(what: string, f: () => R): R {
    try {
      return f();
    } catch (e) {
      throw sqlFailure(e, this.ctx, what);
    }
  }

  /** Registers a timer unless one exists for the same key, namespace and timestamp; true when added. Call {@link syncAlarm} after. */
  register(domain: TimeDomain, key: Key, keyGroup: number, timestamp: number, namespace = ''): boolean {
    const k = canonicalKeyBytes(key);
    return this.guard('registering a timer', () => {
      const q = 'INSERT OR IGNORE INTO eddy_timers (scope, domain, k, ns, ts, kg, seq) VALUES (?, ?, ?, ?, ?, ?, ?)';
      return this.storage.sql.exec(q, this.scope, domainOf(domain), k, namespace, timestamp, keyGroup, this.seq++).rowsWritten > 0;
    });
  }

  /** Deletes a timer (nothing if there is none). Call {@link syncAlarm} after. */
  delete(domain: TimeDomain, key: Key, timestamp: number, namespace = ''): void {
    const k = canonicalKeyBytes(key);
    this.guard('deleting a timer', () =>
      this.storage.sql.exec(
        'DELETE FROM eddy_timers WHERE scope=? AND domain=? AND k=? AND ns=? AND ts=?',
        this.scope,
        domainOf(domain),
        k,
        namespace,
        timestamp,
      ),
    );
  }

  /** The earliest processing-time timer of this scope, if any. */
  nextProcessingTime(): number | undefined {
    const r = this.guard('reading the timers', () =>
      firstRow(this.storage.sql, 'SELECT min(ts) FROM eddy_timers WHERE scope=? AND domain=?', this.scope, PROCESSING),
    );
    return (r?.[0] as number | null) ?? undefined;
  }

  /** The pending timers of `key` in this scope by domain, ascending (a state query). */
  timersOf(key: Key): { eventTime: number[]; processingTime: number[] } {
    const k = canonicalKeyBytes(key);
    const found = { eventTime: [] as number[], processingTime: [] as number[] };
    this.guard('reading the timers', () => {
      for (const [domain, ts] of rows(this.storage.sql, 'SELECT domain, ts FROM eddy_timers WHERE scope=? AND k=? ORDER BY ts', this.scope, k)) {
        (domain === EVENT ? found.eventTime : found.processingTime).push(ts as number);
      }
    });
    return found;
  }

  /** Number of pending timers of this scope in a domain. */
  size(domain: TimeDomain): number {
    return this.guard(
      'counting the timers',
      () => firstRow(this.storage.sql, 'SELECT count(*) FROM eddy_timers WHERE scope=? AND domain=?', this.scope, domainOf(domain))![0] as number,
    );
  }

  /**
   * Removes and returns the earliest timer of `domain` due at `time` (timestamp ≤ time),
   * in (timestamp, registration) order. Call it inside the `transactionSync` that applies
   * the timer's effects (as {@link fireDue} does), so that both commit or neither.
   */
  pollDue(domain: TimeDomain, time: number): DurableObjectTimer | undefined {
    return this.guard('polling the timers', () => {
      const q = 'SELECT k, ns, ts, kg FROM eddy_timers WHERE scope=? AND domain=? AND ts<=? ORDER BY ts, seq LIMIT 1';
      const r = firstRow(this.storage.sql, q, this.scope, domainOf(domain), time);
      if (r === undefined) return undefined;
      const [blob, ns, ts, kg] = r as [SqlValue, string, number, number];
      const k = bytesOf(blob);
      this.storage.sql.exec('DELETE FROM eddy_timers WHERE scope=? AND domain=? AND k=? AND ns=? AND ts=?', this.scope, domainOf(domain), k, ns, ts);
      return { domain, timestamp: ts, key: keyFromCanonicalBytes(k), keyGroup: kg, namespace: ns };
    });
  }

  /**
   * Fires every timer of `domain` due at `time`, earliest first: each in its own
   * `transactionSync` that deletes it and runs `fire` (which must apply the timer's effects
   * synchronously, e.g. through `DurableObjectStateBackend`'s synchronous tables). When
   * `fire` throws, that timer and its effects roll back, the error propagates, and the
   * timers fired before it stay fired. Returns how many fired.
   */
  fireDue(domain: TimeDomain, time: number, fire: (timer: DurableObjectTimer) => void): number {
    let fired = 0;
    for (;;) {
      const done = this.storage.transactionSync(() => {
        const timer = this.pollDue(domain, time);
        if (timer === undefined) return true;
        const result: unknown = fire(timer);
        if (typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') {
          throw new EddyError(
            'INVALID_ARGUMENT',
            'a timer callback returned a Promise: its effects could not commit in the same transaction as the timer, so it was rolled back',
            this.ctx,
          );
        }
        return false;
      });
      if (done) return fired;
      fired++;
    }
  }

  /**
   * Sets the object's alarm to the earliest processing-time timer of any scope (or to
   * `wakeUpAt` when that is earlier: the host's own wake-ups), or deletes it when there is
   * nothing to wake up for. Call it after registering or deleting timers and at the end of
   * the alarm handler. Resolves to the alarm time set, or null.
   */
  async syncAlarm(wakeUpAt?: number): Promise<number | null> {
    const r = this.guard('reading the timers', () => firstRow(this.storage.sql, 'SELECT min(ts) FROM eddy_timers WHERE domain=?', PROCESSING));
    const earliest = (r?.[0] as number | null) ?? undefined;
    const at = earliest === undefined ? wakeUpAt : wakeUpAt === undefined ? earliest : Math.min(earliest, wakeUpAt);
    const current = await this.storage.getAlarm();
    if (at === undefined) {
      if (current !== null) await this.storage.deleteAlarm();
      return null;
    }
    if (current !== at) await this.storage.setAlarm(at);
    return at;
  }

  /** The pending timers of this scope by key group, in the engine's layout (see the module comment). */
  snapshot(): Map<number, Uint8Array> {
    const writers = new Map<number, ByteWriter>();
    this.guard('taking a timer snapshot', () => {
      const q = 'SELECT kg, domain, k, ns, ts FROM eddy_timers WHERE scope=? ORDER BY kg, ts, seq';
      for (const [kg, domain, k, ns, ts] of rows(this.storage.sql, q, this.scope)) {
        let w = writers.get(kg as number);
        if (w === undefined) writers.set(kg as number, (w = new ByteWriter()));
        const namespaced = ns !== '';
        w.u8((domain as number) + (namespaced ? 2 : 0));
        w.lenBytes(bytesOf(k!));
        if (namespaced) w.string(ns as string);
        w.f64(ts as number);
      }
    });
    const out = new Map<number, Uint8Array>();
    for (const [kg, w] of writers) out.set(kg, w.finish());
    return out;
  }

  /** Adds the timers of every key group of `snapshot` in this subtask's range, in one transaction. */
  restore(snapshot: ReadonlyMap<number, Uint8Array>): void {
    const range = this.options.keyGroupRange;
    this.guard('restoring timers', () =>
      this.storage.transactionSync(() => {
        for (const [kg, bytes] of snapshot) {
          if (range !== undefined && !range.contains(kg)) continue;
          const r = new ByteReader(bytes, 'timers');
          while (!r.done) {
            const tag = r.u8();
            const domain: TimeDomain = (tag & 1) === 0 ? 'EVENT_TIME' : 'PROCESSING_TIME';
            const key = keyFromCanonicalBytes(r.lenBytes());
            const namespace = tag >= 2 ? r.string() : '';
            this.register(domain, key, kg, r.f64(), namespace);
          }
        }
      }),
    );
  }

  /** Deletes every timer of this scope (before a restore replaces them). */
  clear(): void {
    this.guard('clearing the timers', () => this.storage.sql.exec('DELETE FROM eddy_timers WHERE scope=?', this.scope));
  }
}
