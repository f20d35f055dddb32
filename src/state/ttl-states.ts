/**
 * Where a state's TTL config meets the backend, once per registered state: checks that
 * the stored state agrees with the descriptor about TTL, tells the backend what it needs
 * (TTL metadata for snapshots, the full-snapshot filter, native expiry), decorates the
 * tables, and drives incremental cleanup on every access and, if asked, every record.
 */
import { isObservableClock, SystemClock, type Clock } from '../api/clock.ts';
import type { StateDescriptor } from '../api/descriptors.ts';
import { SnapshotError, StateError } from '../api/errors.ts';
import { DEFAULT_INCREMENTAL_CLEANUP, StateTtlConfig, StateVisibility, UpdateType } from '../api/ttl.ts';
import type { KeyedStateBackend, ListTable, MapTable, StateTableOptions, ValueTable } from './backend.ts';
import { IncrementalCleanup } from './ttl-cleanup.ts';
import { keepHiddenClass } from './hidden-class.ts';
import { BEFORE_FIRST_READING, isExpired, NO_CLEANUP, TTL_PAIR_VALUES, TtlContext, type TtlValue } from './ttl-context.ts';
import { TtlListTable, TtlMapTable } from './ttl-tables.ts';
import { TtlValueTable } from './ttl-value-table.ts';

/**
 * The processing time TTL runs on. Once records flow (`nextRecord()`), the clock is read
 * at most once per record or timer: every state access of a record sees the same time,
 * as if the record were processed at one instant — which is what Flink's synchronous
 * processing amounts to, and it halves the clock reads of a read-modify-write. A clock
 * that announces its changes (ManualClock) is cheap and is read on every access, so a
 * test may move time inside a function. Without records (a store used directly) every
 * access reads the clock.
 *
 * The system clock (`Date.now()`, the default) costs as much as a simple record, so its
 * reading is shared by up to {@link RECORDS_PER_SYSTEM_CLOCK_READ} consecutive records,
 * and only until a 0 ms timer set at the reading has run: when the event loop turns (I/O,
 * timers) that is about a millisecond, when it does not (records computed back to back)
 * the record count bounds it. While a whole share of records passes within one
 * millisecond (the clock's resolution) the share doubles, up to
 * {@link MAX_RECORDS_PER_SYSTEM_CLOCK_READ}; once the clock moved during one it starts
 * over — so a reading stays about as fresh as the clock's resolution allows, give or
 * take one share. Flink's RocksDB TTL filter likewise reads the time once per
 * `queryTimeAfterNumEntries` entries (1,000 by default). Any other clock is read for every record.
 */
export class RecordTime implements Clock {
  /** 0 until records flow; then one number per record (read by `TtlValueTable`, see `RecordClock`). */
  record = 0;
  /** The time of the current record or, where every access reads the clock, of the latest access (see {@link advance}). */
  current = BEFORE_FIRST_READING;
  /**
   * Which reading of the clock {@link current} is: it changes with every reading, so that
   * what an access worked out from one reading (TtlContext: the cleanup is idle) holds
   * until it changes. -1 while every access reads the clock (an observable clock, or no
   * records flowing).
   */
  reading = -1;
  private sample = BEFORE_FIRST_READING;
  private readonly perAccess: boolean;
  private readonly shared: boolean;
  /** Further records that may use `sample` (system clock only). */
  private sharesLeft = 0;
  /** Records per reading now (see the class comment). */
  private share = RECORDS_PER_SYSTEM_CLOCK_READ;
  /** Whether the event loop turned since the last reading: that share was cut short, and says nothing about the records' pace. */
  private cut = false;
  /** Whether a macrotask watch is scheduled; it ends the sharing when it runs. */
  private watching = false;

  constructor(private readonly clock: Clock) {
    this.perAccess = isObservableClock(clock);
    this.shared = clock instanceof SystemClock;
  }

  now(): number {
    this.advance();
    return this.current;
  }

  /**
   * Sets {@link current} to the time of an access: reads the clock where every access
   * does; once records flow, {@link nextRecord} has set it. It answers nothing on purpose:
   * a time in milliseconds is no small integer to V8, so returning it from a call that is
   * not inlined allocates a number on the heap — once per record, a tenth of TTL's cost —
   * while a field read by the caller allocates nothing.
   */
  advance(): void {
    if (this.reading < 0) this.current = this.clock.now();
  }

  /**
   * Starts a record (or timer): its time is the current share's reading, or a new one.
   * Taken here rather than at the record's first access so that an access has nothing to
   * do per record: most find everything as the previous record's left it (see TtlContext).
   */
  nextRecord(): void {
    this.record++;
    if (--this.sharesLeft < 0) this.nextReading();
  }

  /** The share of the last reading is used up (or was cut short): the next record reads the clock. */
  private nextReading(): void {
    this.sharesLeft = 0;
    if (!this.perAccess) this.read();
  }

  private read(): void {
    const previous = this.sample;
    this.sample = this.clock.now();
    this.current = this.sample;
    this.reading++;
    if (!this.shared) return;
    if (!this.cut) this.share = this.sample === previous ? Math.min(2 * this.share, MAX_RECORDS_PER_SYSTEM_CLOCK_READ) : RECORDS_PER_SYSTEM_CLOCK_READ;
    this.cut = false;
    this.sharesLeft = this.share - 1;
    if (this.watching) return;
    this.watching = true;
    setTimeout(() => {
      this.watching = false;
      this.sharesLeft = 0;
      this.cut = true;
    }, 0);
  }
}

/** How many consecutive records may share a reading of the system clock, at first and once the clock moved during a share. */
export const RECORDS_PER_SYSTEM_CLOCK_READ = 32;

/** The most consecutive records a reading may be shared by, reached while shares keep passing within one millisecond. */
export const MAX_RECORDS_PER_SYSTEM_CLOCK_READ = 1024;

/** The TTL side of a {@link KeyedStateStore}: tables by descriptor, plus the per-record hook. */
export class TtlStates {
  private readonly perRecord: Array<{ cleanup: IncrementalCleanup; size: number }> = [];
  private readonly time: RecordTime;
  /** Whether any state has TTL: until then a record needs no hook (most jobs never do). */
  active = false;

  constructor(
    private readonly backend: KeyedStateBackend,
    private readonly operatorName: string,
    private readonly clock: Clock,
  ) {
    this.time = new RecordTime(clock);
  }

  /** The value table of a value, reducing or aggregating state; decorated when it has TTL. */
  valueTable<T>(d: StateDescriptor, kind: 'value' | 'reducing' | 'aggregating'): ValueTable<T> {
    const ttl = this.prepare(d);
    if (ttl === undefined) return this.backend.valueTable<T>(d.name, kind);
    return new TtlValueTable<T>(ttl.ctx, this.backend.valueTable<TtlValue<T>>(d.name, kind, ttl.options));
  }

  /** The list table of a list state; decorated when it has TTL. */
  listTable<T>(d: StateDescriptor): ListTable<T> {
    const ttl = this.prepare(d);
    if (ttl === undefined) return this.backend.listTable<T>(d.name);
    return new TtlListTable<T>(ttl.ctx, this.backend.listTable<TtlValue<T>>(d.name, ttl.options));
  }

  /** The map table of a map state; decorated when it has TTL. */
  mapTable<V>(d: StateDescriptor): MapTable<V> {
    const ttl = this.prepare(d);
    if (ttl === undefined) return this.backend.mapTable<V>(d.name);
    return new TtlMapTable<V>(ttl.ctx, this.backend.mapTable<TtlValue<V>>(d.name, ttl.options));
  }

  /**
   * Runs the cleanup steps that happen for every record
   * (`cleanupIncrementally(n, true)`); `undefined` when there is nothing to wait for.
   */
  onRecord(): Promise<unknown> | undefined {
    // Small, as the operator inlines it into its loop over a batch's records: the steps
    // (and their closures, whose context V8 would allocate on every call) live apart.
    this.time.nextRecord();
    return this.perRecord.length === 0 ? undefined : this.stepPerRecord();
  }

  private stepPerRecord(): Promise<unknown> | undefined {
    const steps = this.perRecord;
    const now = this.time.now();
    let chain: Promise<unknown> | undefined;
    for (const { cleanup, size } of steps) chain = chain === undefined ? cleanup.step(now, size) : chain.then(() => cleanup.step(now, size));
    return chain;
  }

  private prepare(d: StateDescriptor): { ctx: TtlContext; options: StateTableOptions } | undefined {
    this.checkCompatible(d);
    const config = d.ttlConfig;
    if (config === undefined) return undefined;
    if (!(config instanceof StateTtlConfig)) {
      throw new StateError('INVALID_ARGUMENT', 'ttlConfig must be a StateTtlConfig: use descriptor.enableTimeToLive(StateTtlConfig.newBuilder(ms).build())', {
        component: 'state',
        operator: this.operatorName,
        state: d.name,
      });
    }
    this.active = true;
    const { ttlMs } = config;
    const strategies = config.cleanupStrategies;
    const backend = this.backend;
    const clock = this.clock;
    // Background cleanup is the backend's own where it has one, else Flink's heap default.
    const native = backend.nativeTtlCleanup === true && (strategies.inBackend || strategies.inBackground);
    const incremental = strategies.incremental ?? (strategies.inBackground && !native ? DEFAULT_INCREMENTAL_CLEANUP : undefined);
    const cleanup = incremental === undefined ? undefined : IncrementalCleanup.of(backend, d.name, ttlMs);
    const size = cleanup === undefined ? 0 : incremental!.cleanupSize;
    if (cleanup !== undefined && incremental!.runCleanupForEveryRecord) this.perRecord.push({ cleanup, size });
    const ctx = new TtlContext(
      this.time,
      ttlMs,
      config.updateType === UpdateType.OnReadAndWrite,
      config.stateVisibility === StateVisibility.ReturnExpiredIfNotCleanedUp,
      backend,
      cleanup ?? NO_CLEANUP,
      size,
    );
    return { ctx, options: tableOptions(config, clock, native) };
  }

  /**
   * TTL cannot be switched on or off for stored state (Flink: `StateMigrationException`):
   * the stored values either are `[value, timestamp]` pairs or are not.
   */
  private checkCompatible(d: StateDescriptor): void {
    const stored = this.backend.states().find((s) => s.name === d.name);
    if (stored === undefined) return;
    const storedTtl = stored.ttl !== undefined;
    const wantsTtl = d.ttlConfig !== undefined;
    if (storedTtl === wantsTtl) return;
    const message = storedTtl
      ? `state "${d.name}" is stored with TTL (restored from a snapshot taken while TTL was enabled), but its descriptor has no TTL; TTL cannot be switched off across a restore: enable the same TTL again, or use a new state name`
      : `state "${d.name}" is stored without TTL (restored from a snapshot taken before TTL was enabled), but its descriptor enables TTL; TTL cannot be switched on across a restore: restore without TTL, or use a new state name`;
    throw new SnapshotError('SNAPSHOT_INCOMPATIBLE', message, { component: 'state', operator: this.operatorName, state: d.name });
  }
}

/** What the backend is told about a state with TTL. */
function tableOptions(config: StateTtlConfig, clock: Clock, native: boolean): StateTableOptions {
  const { ttlMs } = config;
  const options: { -readonly [K in keyof StateTableOptions]: StateTableOptions[K] } = { ttl: { ttlMs }, values: TTL_PAIR_VALUES };
  if (config.cleanupStrategies.fullSnapshot) {
    options.snapshotFilter = () => {
      const now = clock.now();
      return (stored) => isExpired(stored as TtlValue<unknown>, ttlMs, now);
    };
  }
  if (native) options.expiry = { expiryOf: (stored) => (stored as TtlValue<unknown>)[1] + ttlMs, now: () => clock.now() };
  return options;
}

// What every access to a state with TTL reads — its table, the table's context and the
// record time — kept alive between jobs by idle tables (see hidden-class.ts). The stand-ins
// for the backend and its tables are widened, in place, by the first real ones.
const idleContext = new TtlContext(new RecordTime(new SystemClock()), 0, false, false, {} as KeyedStateBackend, NO_CLEANUP, 0);
keepHiddenClass(new TtlValueTable<never>(idleContext, {} as ValueTable<TtlValue<never>>));
keepHiddenClass(new TtlListTable<never>(idleContext, {} as ListTable<TtlValue<never>>));
keepHiddenClass(new TtlMapTable<never>(idleContext, {} as MapTable<TtlValue<never>>));
