/**
 * State time-to-live (Flink's `StateTtlConfig`): keyed state that expires a fixed time
 * after it was last written (or read), measured on the environment's processing-time
 * clock, so `ManualClock` makes it testable.
 *
 * ```ts
 * const ttl = StateTtlConfig.newBuilder(60_000)
 *   .setUpdateType(UpdateType.OnCreateAndWrite)
 *   .setStateVisibility(StateVisibility.NeverReturnExpired)
 *   .cleanupFullSnapshot()
 *   .cleanupIncrementally(10, false)
 *   .build();
 * new ValueStateDescriptor<number>('count').enableTimeToLive(ttl);
 * ```
 *
 * Semantics (Flink's, made async):
 * - A value is expired once `lastAccess + ttlMs <= now`. `now` is the clock's time, read
 *   once per record or timer: all state accesses of one record see the same instant, as
 *   in Flink's synchronous processing, even when the function awaits in between (a
 *   `ManualClock` is read on every access, so tests may move it inside a function). Value, reducing and aggregating
 *   state expire as a whole; list state per element; map state per entry.
 * - `NeverReturnExpired`: an expired value reads as absent, with or without any cleanup,
 *   and the read that finds it removes it (Flink's cleanup on read).
 * - `ReturnExpiredIfNotCleanedUp`: an expired value is still returned until a cleanup
 *   strategy (or `clear()`) removes it; reads do not remove it (as in Flink 2.0's async
 *   state), so with background cleanup disabled it keeps being returned. Adding to an
 *   expired reducing/aggregating value folds into it, as Flink does.
 * - `clear()` removes the current key's state at once.
 * - Cleanup strategies are listed on the builder methods. Background cleanup is on by
 *   default: the backend's native cleanup where it has one, else incremental cleanup of
 *   {@link DEFAULT_INCREMENTAL_CLEANUP} (Flink's heap-backend default).
 * - Timestamps are part of the stored values, so they survive snapshots and restores. A
 *   restore may change `ttlMs` (the new TTL applies to the stored timestamps), but it may
 *   not switch TTL on or off for a state: that is refused when the state is registered
 *   with an `SNAPSHOT_INCOMPATIBLE` error (Flink's `StateMigrationException`).
 */
import { ConfigurationError } from './errors.ts';

/** When the last-access timestamp of a value is renewed (Flink's `StateTtlConfig.UpdateType`). */
export const UpdateType = {
  /** On creation and every write (the default). */
  OnCreateAndWrite: 'OnCreateAndWrite',
  /** On creation, every write, and every read that returns an unexpired value. */
  OnReadAndWrite: 'OnReadAndWrite',
} as const;
/** One of {@link UpdateType}'s values. */
export type UpdateType = (typeof UpdateType)[keyof typeof UpdateType];

/** Whether reads may return expired values (Flink's `StateTtlConfig.StateVisibility`). */
export const StateVisibility = {
  /** Expired values read as absent (the default). */
  NeverReturnExpired: 'NeverReturnExpired',
  /** Expired values are returned until a cleanup strategy removes them. */
  ReturnExpiredIfNotCleanedUp: 'ReturnExpiredIfNotCleanedUp',
} as const;
/** One of {@link StateVisibility}'s values. */
export type StateVisibility = (typeof StateVisibility)[keyof typeof StateVisibility];

/** Incremental cleanup: a lazy cursor over all entries of the state. */
export interface IncrementalCleanupStrategy {
  /** Entries (key and namespace) the cursor checks on every access of the state. */
  readonly cleanupSize: number;
  /** Whether the cursor also advances once per processed record, state accessed or not. */
  readonly runCleanupForEveryRecord: boolean;
}

/** Flink's default background cleanup for heap state: 5 entries per access, not per record. */
export const DEFAULT_INCREMENTAL_CLEANUP: IncrementalCleanupStrategy = Object.freeze({ cleanupSize: 5, runCleanupForEveryRecord: false });

/** The cleanup strategies a config asked for. */
export interface CleanupStrategies {
  /** Leave expired values out of snapshots ({@link StateTtlConfigBuilder.cleanupFullSnapshot}). */
  readonly fullSnapshot: boolean;
  /** Explicit incremental cleanup ({@link StateTtlConfigBuilder.cleanupIncrementally}), if asked for. */
  readonly incremental: IncrementalCleanupStrategy | undefined;
  /** Explicit backend-native cleanup ({@link StateTtlConfigBuilder.cleanupInBackend}). */
  readonly inBackend: boolean;
  /** Background cleanup (default on; {@link StateTtlConfigBuilder.disableCleanupInBackground} turns it off). */
  readonly inBackground: boolean;
}

const COMPONENT = { component: 'ttl' };

function checkTtl(ttlMs: unknown): number {
  if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw new ConfigurationError(`the time-to-live must be a positive, finite number of milliseconds, got ${String(ttlMs)}`, COMPONENT);
  }
  return ttlMs;
}

function checkOneOf<T extends string>(what: string, value: unknown, allowed: Record<string, T>): T {
  const values = Object.values(allowed);
  if (!values.includes(value as T)) {
    throw new ConfigurationError(`${what} must be one of ${values.join(', ')}, got ${String(value)}`, COMPONENT);
  }
  return value as T;
}

/**
 * An immutable TTL configuration; build one with {@link StateTtlConfig.newBuilder} and
 * hand it to `descriptor.enableTimeToLive()`. One config may serve many descriptors.
 */
export class StateTtlConfig {
  /** The time-to-live in milliseconds. */
  readonly ttlMs: number;
  readonly updateType: UpdateType;
  readonly stateVisibility: StateVisibility;
  readonly cleanupStrategies: CleanupStrategies;

  /** @internal Use {@link StateTtlConfig.newBuilder}. */
  constructor(ttlMs: number, updateType: UpdateType, stateVisibility: StateVisibility, cleanupStrategies: CleanupStrategies) {
    this.ttlMs = checkTtl(ttlMs);
    this.updateType = checkOneOf('the update type', updateType, UpdateType);
    this.stateVisibility = checkOneOf('the state visibility', stateVisibility, StateVisibility);
    this.cleanupStrategies = Object.freeze({ ...cleanupStrategies });
    Object.freeze(this);
  }

  /** A builder with Flink's defaults: `OnCreateAndWrite`, `NeverReturnExpired`, background cleanup on. */
  static newBuilder(ttlMs: number): StateTtlConfigBuilder {
    return new StateTtlConfigBuilder(ttlMs);
  }
}

/** Builds a {@link StateTtlConfig}; every setter validates at once and returns the builder. */
export class StateTtlConfigBuilder {
  private ttlMs: number;
  private updateType: UpdateType = UpdateType.OnCreateAndWrite;
  private stateVisibility: StateVisibility = StateVisibility.NeverReturnExpired;
  private fullSnapshot = false;
  private incremental: IncrementalCleanupStrategy | undefined = undefined;
  private inBackend = false;
  private inBackground = true;

  /** @internal Use {@link StateTtlConfig.newBuilder}. */
  constructor(ttlMs: number) {
    this.ttlMs = checkTtl(ttlMs);
  }

  /** Changes the time-to-live (ms). */
  setTtl(ttlMs: number): this {
    this.ttlMs = checkTtl(ttlMs);
    return this;
  }

  /** When the last-access timestamp is renewed; default `OnCreateAndWrite`. */
  setUpdateType(updateType: UpdateType): this {
    this.updateType = checkOneOf('the update type', updateType, UpdateType);
    return this;
  }

  /** Shorthand for `setUpdateType(UpdateType.OnCreateAndWrite)`. */
  updateTtlOnCreateAndWrite(): this {
    return this.setUpdateType(UpdateType.OnCreateAndWrite);
  }

  /** Shorthand for `setUpdateType(UpdateType.OnReadAndWrite)`. */
  updateTtlOnReadAndWrite(): this {
    return this.setUpdateType(UpdateType.OnReadAndWrite);
  }

  /** Whether reads may return expired values; default `NeverReturnExpired`. */
  setStateVisibility(stateVisibility: StateVisibility): this {
    this.stateVisibility = checkOneOf('the state visibility', stateVisibility, StateVisibility);
    return this;
  }

  /** Shorthand for `setStateVisibility(StateVisibility.NeverReturnExpired)`. */
  neverReturnExpired(): this {
    return this.setStateVisibility(StateVisibility.NeverReturnExpired);
  }

  /** Shorthand for `setStateVisibility(StateVisibility.ReturnExpiredIfNotCleanedUp)`. */
  returnExpiredIfNotCleanedUp(): this {
    return this.setStateVisibility(StateVisibility.ReturnExpiredIfNotCleanedUp);
  }

  /**
   * Leaves expired values out of every snapshot (checkpoint or savepoint), so that a
   * restore does not bring them back. The running state is not touched by it.
   */
  cleanupFullSnapshot(): this {
    this.fullSnapshot = true;
    return this;
  }

  /**
   * Incremental cleanup: a lazy cursor over all entries of the state that checks
   * `cleanupSize` entries (a key and namespace each) on every access of the state and,
   * with `runCleanupForEveryRecord`, also once per processed record. Removes expired
   * values, list elements and map entries it passes. Works on every backend that
   * implements `KeyedStateBackend.pruneEntries` (the in-memory one does).
   */
  cleanupIncrementally(cleanupSize: number, runCleanupForEveryRecord: boolean): this {
    if (!Number.isInteger(cleanupSize) || cleanupSize < 1) {
      throw new ConfigurationError(
        `cleanupIncrementally() needs a cleanupSize that is a positive integer (entries checked per access), got ${String(cleanupSize)}`,
        COMPONENT,
      );
    }
    if (typeof runCleanupForEveryRecord !== 'boolean') {
      throw new ConfigurationError(`cleanupIncrementally() needs runCleanupForEveryRecord as a boolean, got ${String(runCleanupForEveryRecord)}`, COMPONENT);
    }
    this.incremental = Object.freeze({ cleanupSize, runCleanupForEveryRecord });
    return this;
  }

  /**
   * Backend-native cleanup (Flink's `cleanupInRocksdbCompactFilter`, generalised): the
   * backend deletes expired values itself, e.g. SQLite with a `DELETE` over an indexed
   * expiry column, IndexedDB through an expiry index. Backends without it ignore it —
   * the in-memory backend has none (use incremental cleanup there).
   */
  cleanupInBackend(): this {
    this.inBackend = true;
    return this;
  }

  /**
   * Turns off the default background cleanup. Expired state then stays stored until a
   * read under `NeverReturnExpired`, an explicit strategy or `clear()` removes it (and
   * `ReturnExpiredIfNotCleanedUp` keeps returning it until then).
   */
  disableCleanupInBackground(): this {
    this.inBackground = false;
    return this;
  }

  /** The immutable config; the builder may go on being used for other configs. */
  build(): StateTtlConfig {
    return new StateTtlConfig(this.ttlMs, this.updateType, this.stateVisibility, {
      fullSnapshot: this.fullSnapshot,
      incremental: this.incremental,
      inBackend: this.inBackend,
      inBackground: this.inBackground,
    });
  }
}
