/**
 * What TTL's decorated tables share (Flink's `TtlStateFactory` idea, see `ttl-tables.ts`):
 * the stored pair and how backends may copy it, the state's TTL config with the time of
 * the current access, and the start of an access (the clock read and the cleanup step).
 */
import type { Clock } from '../api/clock.ts';
import { cloneValue } from '../format/value-clone.ts';
import type { KeyedStateBackend, MaybePromise, StoredValues } from './backend.ts';
import { isPlainPrimitive } from './stored-values.ts';

/** The stored form of a value with TTL: `[userValue, lastAccessTimestamp]`. */
export type TtlValue<T> = [value: T, lastAccess: number];

/**
 * What backends are told about TTL pairs: TTL's tables build a new pair for every write
 * and never change one they handed over — except where the backend's reads are owned
 * (`ValueTable.ownedReads`: the heap backend, SQLite's cache and the Durable Object backend,
 * where nothing a snapshot still reads can be changed so) — so only an
 * object user value needs a private copy (then in a new pair), and a pair around an
 * encodable primitive may be shared as it is.
 */
export const TTL_PAIR_VALUES: StoredValues = {
  copy: <T>(stored: T): T => {
    const pair = stored as unknown as TtlValue<unknown>;
    const value = pair[0];
    return value === null || typeof value !== 'object' ? stored : ([cloneValue(value), pair[1]] as T);
  },
  shareable: (stored) => Array.isArray(stored) && stored.length === 2 && isPlainPrimitive(stored[0]) && typeof stored[1] === 'number',
};

/**
 * A time field's value before its first clock reading. It is -0 rather than 0 on purpose:
 * a time in milliseconds is a double to V8, not a small integer, and a field that starts as
 * 0 changes its representation at the first reading, which gives every such object a new
 * hidden class in each job (see hidden-class.ts). It compares equal to 0.
 */
export const BEFORE_FIRST_READING = -0;

/** Incremental cleanup, as the context sees it (see `ttl-cleanup.ts`). */
export interface AccessHook {
  /** Steps before this time cannot find anything expired: the caller may skip them. */
  readonly idleUntil: number;
  /** Checks `size` entries at time `now`; a Promise only when the access has to wait for it. */
  step(now: number, size: number): Promise<unknown> | undefined;
}

/** What a state without incremental cleanup has in its place: every access is idle. */
export const NO_CLEANUP: AccessHook = Object.freeze({ idleUntil: Infinity, step: () => undefined });

/** TTL's time source: processing time, and the number of the current record (`RecordTime` in ttl-states.ts). */
export interface RecordClock extends Clock {
  /** Increases with every record and timer; 0 while no records flow (a store used directly). */
  readonly record: number;
  /** Which reading of the clock {@link current} is (it changes with every reading); -1 while every access reads the clock. */
  readonly reading: number;
  /** The time of the latest access, once {@link advance} ran. */
  readonly current: number;
  /** Sets {@link current} for an access (a field rather than an answer: see `RecordTime.advance`). */
  advance(): void;
}

/** What the decorated tables of one state share: its config, and the time of the current access. */
export class TtlContext {
  /** Processing time of the current access, taken from `clock` once per access. */
  now = BEFORE_FIRST_READING;
  /**
   * The clock reading at which an access found the cleanup idle (-2: none): until the
   * clock is read again, {@link now} is still every access's time and the cleanup stays
   * idle (only a step can end that, and no step runs while it is idle), so an access needs
   * nothing — with the system clock, all but one access per 32 to 1,024 records.
   */
  idleAt = -2;

  constructor(
    /** TTL's time source (per record, see `RecordTime` in ttl-states.ts). */
    readonly clock: RecordClock,
    readonly ttlMs: number,
    /** `UpdateType.OnReadAndWrite`. */
    readonly updateOnRead: boolean,
    /** `StateVisibility.ReturnExpiredIfNotCleanedUp`. */
    readonly returnExpired: boolean,
    readonly backend: KeyedStateBackend,
    /** Incremental cleanup on every access ({@link NO_CLEANUP}: none), with its number of entries. */
    private readonly cleanup: AccessHook,
    private readonly cleanupSize: number,
  ) {}

  /**
   * Starts an access: reads the clock and runs the cleanup step. Its usual case is one
   * test, small enough for V8 to inline wherever it is called (twice per read-modify-write,
   * inside the user's function, where V8 inlines only so much: see TtlValueTable).
   */
  access(): Promise<unknown> | undefined {
    return this.idleAt === this.clock.reading ? undefined : this.fullAccess();
  }

  /** {@link access} when nothing is known yet for the current clock reading (its test is written out in TtlValueTable). */
  fullAccess(): Promise<unknown> | undefined {
    const clock = this.clock;
    clock.advance();
    const now = (this.now = clock.current);
    // The idle check stays here so that no time is passed to a call on the usual path (see RecordTime.advance).
    if (now >= this.cleanup.idleUntil) return this.cleanup.step(now, this.cleanupSize);
    // A reading of -1 is each access's own (the clock is read on every access): nothing carries over.
    this.idleAt = clock.reading < 0 ? -2 : clock.reading;
    return undefined;
  }

  /** Whether a stored pair has expired at the current access's time. */
  expired(tv: TtlValue<unknown>): boolean {
    return tv[1] + this.ttlMs <= this.now;
  }
}

/** Whether a stored pair has expired at `now` (Flink: `lastAccess + ttl <= now`). */
export function isExpired(stored: TtlValue<unknown>, ttlMs: number, now: number): boolean {
  return stored[1] + ttlMs <= now;
}

/** Runs `f` after the access started, waiting only when its cleanup step answered a Promise. */
export function accessed<R>(ctx: TtlContext, f: () => MaybePromise<R>): MaybePromise<R> {
  const pending = ctx.access();
  return pending === undefined ? f() : pending.then(f);
}
