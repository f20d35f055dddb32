/**
 * What a failed job does next (Flink's restart strategies, with Flink's parameter names
 * and semantics): fixed delay, exponential delay (Flink's default since 1.19 when
 * checkpointing is enabled), failure rate, or no restart. Every value is validated when
 * it is made and again when it is set, so that a strategy that would restart in a tight
 * loop forever (`{ maxAttempts: NaN, delayMs: 0 }`) is refused up front.
 */
import { ConfigurationError } from './errors.ts';

/** Restart up to `maxAttempts` times in total, waiting `delayMs` before each restart. */
export interface FixedDelayRestartStrategy {
  readonly strategy?: 'fixed-delay';
  /** Restarts allowed in total (Infinity: unlimited; 0: never restart). */
  readonly maxAttempts: number;
  /** Delay before each restart in ms. */
  readonly delayMs: number;
}

/**
 * Restart with a delay that starts at `initialBackoffMs` and is multiplied by
 * `backoffMultiplier` after every failure, up to `maxBackoffMs`; a random ±`jitterFactor`
 * share is added to each delay. When the job ran `resetBackoffThresholdMs` without a
 * failure, the delay and the attempt count start over. At most
 * `attemptsBeforeResetBackoff` restarts in a row (Infinity: unlimited).
 */
export interface ExponentialDelayRestartStrategy {
  readonly strategy: 'exponential-delay';
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly backoffMultiplier: number;
  readonly resetBackoffThresholdMs: number;
  readonly jitterFactor: number;
  readonly attemptsBeforeResetBackoff: number;
}

/** Restart after `delayMs` unless more than `failureRate` failures happened within `failureIntervalMs`. */
export interface FailureRateRestartStrategy {
  readonly strategy: 'failure-rate';
  /** Failures tolerated within the interval; one more fails the job. */
  readonly failureRate: number;
  readonly failureIntervalMs: number;
  readonly delayMs: number;
}

/** One of the strategies made by {@link RestartStrategies}. */
export type RestartStrategy = FixedDelayRestartStrategy | ExponentialDelayRestartStrategy | FailureRateRestartStrategy;

const component = 'restart-strategy';

function fail(what: string, expected: string, got: unknown): never {
  throw new ConfigurationError(
    `${what} must be ${expected}, got ${typeof got === 'number' ? String(got) : typeof got === 'string' ? JSON.stringify(got) : typeof got}`,
    { component },
  );
}
function ms(what: string, v: unknown, min: 'zero' | 'positive', infinite = false): void {
  const ok = typeof v === 'number' && !Number.isNaN(v) && (min === 'zero' ? v >= 0 : v > 0) && (Number.isFinite(v) || (infinite && v === Infinity));
  if (!ok) fail(what, `a ${min === 'zero' ? 'non-negative' : 'positive'} number of ms${infinite ? ' (or Infinity)' : ''}`, v);
}
function count(what: string, v: unknown, min: number, infinite: boolean): void {
  if (!((typeof v === 'number' && Number.isInteger(v) && v >= min) || (infinite && v === Infinity)))
    fail(what, `an integer ≥ ${min}${infinite ? ' (or Infinity)' : ''}`, v);
}

/**
 * Checks a restart strategy (one made by {@link RestartStrategies} or a plain object of
 * the same shape); throws a ConfigurationError naming the bad field.
 */
export function validateRestartStrategy(s: RestartStrategy): RestartStrategy {
  if (!s || typeof s !== 'object')
    throw new ConfigurationError(`setRestartStrategy() needs a RestartStrategies.* value, got ${s === null ? 'null' : typeof s}`, { component });
  switch (s.strategy) {
    case undefined:
    case 'fixed-delay':
      count('fixed-delay restart attempts (maxAttempts)', s.maxAttempts, 0, true);
      ms('fixed-delay restart delay (delayMs)', s.delayMs, 'zero');
      return s;
    case 'exponential-delay':
      ms('exponential-delay initialBackoffMs', s.initialBackoffMs, 'positive');
      ms('exponential-delay maxBackoffMs', s.maxBackoffMs, 'positive');
      if (s.maxBackoffMs < s.initialBackoffMs) fail('exponential-delay maxBackoffMs', `at least initialBackoffMs (${s.initialBackoffMs})`, s.maxBackoffMs);
      if (!(typeof s.backoffMultiplier === 'number' && s.backoffMultiplier >= 1 && Number.isFinite(s.backoffMultiplier)))
        fail('exponential-delay backoffMultiplier', 'a finite number ≥ 1', s.backoffMultiplier);
      ms('exponential-delay resetBackoffThresholdMs', s.resetBackoffThresholdMs, 'positive', true);
      if (!(typeof s.jitterFactor === 'number' && s.jitterFactor >= 0 && s.jitterFactor <= 1))
        fail('exponential-delay jitterFactor', 'a number from 0 to 1', s.jitterFactor);
      count('exponential-delay attemptsBeforeResetBackoff', s.attemptsBeforeResetBackoff, 1, true);
      return s;
    case 'failure-rate':
      count('failure-rate failureRate', s.failureRate, 1, false);
      ms('failure-rate failureIntervalMs', s.failureIntervalMs, 'positive');
      ms('failure-rate delayMs', s.delayMs, 'zero');
      return s;
    default:
      throw new ConfigurationError(
        `unknown restart strategy ${JSON.stringify((s as { strategy: unknown }).strategy)}: use RestartStrategies.fixedDelayRestart, exponentialDelayRestart, failureRateRestart or noRestart`,
        { component },
      );
  }
}

/** Factories of restart strategies (Flink's `RestartStrategies`; durations in ms). */
export const RestartStrategies = {
  /** Restart up to `restartAttempts` times, waiting `delayBetweenAttemptsMs` before each. */
  fixedDelayRestart(restartAttempts: number, delayBetweenAttemptsMs: number): RestartStrategy {
    return validateRestartStrategy({ strategy: 'fixed-delay', maxAttempts: restartAttempts, delayMs: delayBetweenAttemptsMs });
  },
  /**
   * Exponentially growing delays (see {@link ExponentialDelayRestartStrategy}). Flink's
   * defaults, used when checkpointing is on and no strategy is set: 1 s, 60 s, 1.5,
   * 1 h, 0.1, unlimited attempts.
   */
  exponentialDelayRestart(
    initialBackoffMs: number,
    maxBackoffMs: number,
    backoffMultiplier: number,
    resetBackoffThresholdMs: number,
    jitterFactor: number,
    attemptsBeforeResetBackoff = Infinity,
  ): RestartStrategy {
    return validateRestartStrategy({
      strategy: 'exponential-delay',
      initialBackoffMs,
      maxBackoffMs,
      backoffMultiplier,
      resetBackoffThresholdMs,
      jitterFactor,
      attemptsBeforeResetBackoff,
    });
  },
  /** Restart after `delayIntervalMs` unless more than `failureRate` failures happened within `failureIntervalMs`. */
  failureRateRestart(failureRate: number, failureIntervalMs: number, delayIntervalMs: number): RestartStrategy {
    return validateRestartStrategy({ strategy: 'failure-rate', failureRate, failureIntervalMs, delayMs: delayIntervalMs });
  },
  /** Never restart: the first failure fails the job. */
  noRestart(): RestartStrategy {
    return { strategy: 'fixed-delay', maxAttempts: 0, delayMs: 0 };
  },
};

/** The strategy of a checkpointed job that sets none (Flink 1.19+'s default). */
export const DEFAULT_RESTART_STRATEGY: RestartStrategy = RestartStrategies.exponentialDelayRestart(1_000, 60_000, 1.5, 3_600_000, 0.1);
