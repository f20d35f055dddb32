/**
 * Checkpointing and restart configuration, with Flink's names: `CheckpointingMode`,
 * `CheckpointConfig`, `RestartStrategies`.
 */
import { ConfigurationError } from '../api/errors.ts';
import type { CheckpointStorage } from '../format/checkpoint-storage.ts';
import { checkDuration } from '../engine/long-timer.ts';
import { MemoryCheckpointStorage } from '../storages/memory.ts';

/** Barrier alignment: exactly-once (aligned) or at-least-once (no alignment). */
export const CheckpointingMode = {
  EXACTLY_ONCE: 'EXACTLY_ONCE',
  AT_LEAST_ONCE: 'AT_LEAST_ONCE',
} as const;
/** One of {@link CheckpointingMode}'s values. */
export type CheckpointingMode = (typeof CheckpointingMode)[keyof typeof CheckpointingMode];

function nonNegative(name: string, v: number): number {
  return checkDuration('checkpoint-config', name, v, { allowZero: true });
}

/**
 * What happens to a job's retained checkpoints when the job is cancelled (Flink's
 * `ExternalizedCheckpointRetention`). A checkpoint of a job that finished, failed for
 * good, or whose process or page died is never deleted: a later run resumes from it with
 * `env.fromLatestCheckpoint()`.
 */
export const ExternalizedCheckpointRetention = {
  /** `cancel()` deletes the job's retained checkpoints (savepoints stay). */
  DELETE_ON_CANCELLATION: 'DELETE_ON_CANCELLATION',
  /** `cancel()` keeps them, so that a later run can resume from the newest. */
  RETAIN_ON_CANCELLATION: 'RETAIN_ON_CANCELLATION',
  /** The default: checkpoints serve recovery only; `cancel()` deletes them like DELETE_ON_CANCELLATION. */
  NO_EXTERNALIZED_CHECKPOINTS: 'NO_EXTERNALIZED_CHECKPOINTS',
} as const;
/** One of {@link ExternalizedCheckpointRetention}'s values. */
export type ExternalizedCheckpointRetention = (typeof ExternalizedCheckpointRetention)[keyof typeof ExternalizedCheckpointRetention];

/** How and where checkpoints are taken (Flink's `CheckpointConfig`). */
export class CheckpointConfig {
  private interval = -1;
  private mode: CheckpointingMode = CheckpointingMode.EXACTLY_ONCE;
  private storage: CheckpointStorage = new MemoryCheckpointStorage();
  private minPause = 0;
  private timeout = 10 * 60_000;
  private tolerableFailures = 0;
  private maxRetained = 1;
  private incremental = false;
  private retention: ExternalizedCheckpointRetention = ExternalizedCheckpointRetention.NO_EXTERNALIZED_CHECKPOINTS;

  /** True once `enableCheckpointing` was called with a positive interval. */
  isCheckpointingEnabled(): boolean {
    return this.interval > 0;
  }
  /** Time between checkpoint triggers in ms (-1: disabled). */
  getCheckpointInterval(): number {
    return this.interval;
  }
  /** Time between checkpoint triggers in ms; any positive finite length (waits above 2^31 ms are chunked). */
  setCheckpointInterval(ms: number): this {
    this.interval = checkDuration('checkpoint-config', 'the checkpoint interval', ms);
    return this;
  }
  getCheckpointingMode(): CheckpointingMode {
    return this.mode;
  }
  setCheckpointingMode(mode: CheckpointingMode): this {
    if (mode !== CheckpointingMode.EXACTLY_ONCE && mode !== CheckpointingMode.AT_LEAST_ONCE) {
      throw new ConfigurationError(`unknown checkpointing mode ${String(mode)}`, { component: 'checkpoint-config' });
    }
    this.mode = mode;
    return this;
  }
  /** Where checkpoints go; default `MemoryCheckpointStorage`. */
  setCheckpointStorage(storage: CheckpointStorage): this {
    if (!storage || typeof storage.put !== 'function' || typeof storage.lock !== 'function') {
      throw new ConfigurationError('setCheckpointStorage() needs a CheckpointStorage (e.g. new FileSystemCheckpointStorage(dir))', {
        component: 'checkpoint-config',
      });
    }
    this.storage = storage;
    return this;
  }
  getCheckpointStorage(): CheckpointStorage {
    return this.storage;
  }
  /** Minimum time between the end of one checkpoint and the start of the next. */
  setMinPauseBetweenCheckpoints(ms: number): this {
    this.minPause = nonNegative('minPauseBetweenCheckpoints', ms);
    return this;
  }
  getMinPauseBetweenCheckpoints(): number {
    return this.minPause;
  }
  /** A checkpoint not complete after this long fails; Infinity: never (long values wait correctly). */
  setCheckpointTimeout(ms: number): this {
    this.timeout = checkDuration('checkpoint-config', 'the checkpoint timeout', ms, { allowInfinity: true });
    return this;
  }
  getCheckpointTimeout(): number {
    return this.timeout;
  }
  /** How many consecutive checkpoint failures the job tolerates before it fails (default 0). */
  setTolerableCheckpointFailureNumber(n: number): this {
    if (!Number.isInteger(n) || n < 0)
      throw new ConfigurationError(`tolerable checkpoint failures must be a non-negative integer, got ${String(n)}`, { component: 'checkpoint-config' });
    this.tolerableFailures = n;
    return this;
  }
  getTolerableCheckpointFailureNumber(): number {
    return this.tolerableFailures;
  }
  /** How many completed checkpoints are kept (default 1); older ones are deleted. */
  setMaxRetainedCheckpoints(n: number): this {
    if (!Number.isInteger(n) || n < 1)
      throw new ConfigurationError(`max retained checkpoints must be a positive integer, got ${String(n)}`, { component: 'checkpoint-config' });
    this.maxRetained = n;
    return this;
  }
  getMaxRetainedCheckpoints(): number {
    return this.maxRetained;
  }
  /** Write only what changed since the previous checkpoint (where the backend supports it). */
  enableIncrementalCheckpoints(enabled: boolean): this {
    this.incremental = enabled;
    return this;
  }
  isIncrementalCheckpointsEnabled(): boolean {
    return this.incremental;
  }
  /** Whether `cancel()` keeps the job's retained checkpoints (default NO_EXTERNALIZED_CHECKPOINTS: it deletes them). */
  setExternalizedCheckpointRetention(retention: ExternalizedCheckpointRetention): this {
    if (!Object.values(ExternalizedCheckpointRetention).includes(retention)) {
      throw new ConfigurationError(
        `unknown externalized checkpoint retention ${String(retention)}; use one of ${Object.values(ExternalizedCheckpointRetention).join(', ')}`,
        { component: 'checkpoint-config' },
      );
    }
    this.retention = retention;
    return this;
  }
  getExternalizedCheckpointRetention(): ExternalizedCheckpointRetention {
    return this.retention;
  }
  /** True unless the retention is NO_EXTERNALIZED_CHECKPOINTS (Flink's name). */
  isExternalizedCheckpointsEnabled(): boolean {
    return this.retention !== ExternalizedCheckpointRetention.NO_EXTERNALIZED_CHECKPOINTS;
  }
}

export {
  DEFAULT_RESTART_STRATEGY,
  RestartStrategies,
  validateRestartStrategy,
  type ExponentialDelayRestartStrategy,
  type FailureRateRestartStrategy,
  type FixedDelayRestartStrategy,
  type RestartStrategy,
} from '../api/restart-strategies.ts';
