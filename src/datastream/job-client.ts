/** `JobClient`: a handle on a job started with `executeAsync` (Flink's `JobClient`). */
import type { JobRun, JobStatus, JobFailureInfo } from '../engine/job-runner.ts';
import type { CheckpointStatsSnapshot } from '../engine/checkpoint-stats.ts';
import type { JobEvent } from '../engine/job-events.ts';
import type { JobMetrics } from '../engine/metrics.ts';
import type { KeyStateView } from '../engine/state-query.ts';
import { ConfigurationError } from '../api/errors.ts';

export type { JobFailureInfo, JobStatus };

/** Options of {@link JobClient.subscribe}. */
export interface SubscribeOptions {
  /** How often a `metrics` event is sampled, in ms (default 1000). */
  readonly metricsIntervalMs?: number;
}

const TERMINAL: ReadonlySet<JobStatus> = new Set(['FINISHED', 'FAILED', 'CANCELED']);

/** What `execute()` and `JobClient.result` resolve to. */
export interface JobExecutionResult {
  readonly jobName: string;
  readonly jobId: string;
  /** Wall-clock run time in ms. */
  readonly netRuntime: number;
}

/** Controls a running job. */
export class JobClient {
  /** Resolves when the job finished; rejects with its failure (code JOB_CANCELLED after `cancel()`). */
  readonly result: Promise<JobExecutionResult>;

  /** @internal */
  constructor(
    readonly jobId: string,
    readonly jobName: string,
    private readonly run: JobRun,
    started: number,
  ) {
    this.result = run.result.then(() => ({ jobName, jobId, netRuntime: Date.now() - started }));
    this.result.catch(() => {});
  }

  /** CREATED, RUNNING, RESTARTING, FINISHED, FAILED or CANCELED. */
  getJobStatus(): JobStatus {
    return this.run.status;
  }

  /** How many times the job was restarted after a failure (Flink's `numRestarts`). */
  getNumRestarts(): number {
    return this.run.restarts;
  }

  /**
   * The last failure of an attempt: its error, when, how many failures in a row had the
   * same message (a deterministic failure, a full or read-only disk), and the delay of
   * the restart it caused. Undefined while nothing failed.
   */
  getLastFailure(): JobFailureInfo | undefined {
    return this.run.lastFailure;
  }

  /** Stops the job; resolves once every task has stopped. */
  cancel(): Promise<void> {
    return this.run.cancel();
  }

  /**
   * Takes a savepoint: a full checkpoint under `<jobId>/savepoint-<n>` that is never
   * deleted by retention. Resolves to its path, for `env.fromSavepoint(path)`.
   */
  triggerSavepoint(): Promise<string> {
    return this.run.triggerSavepoint();
  }

  /**
   * Takes a savepoint and cancels the job right after it, with no checkpoint in between,
   * so that a job started from the savepoint continues the output with no gap and no
   * duplicate (Flink's stop-with-savepoint).
   */
  stopWithSavepoint(): Promise<string> {
    return this.run.stopWithSavepoint();
  }

  /**
   * A sample of every operator subtask of the running attempt: records in and out and
   * their rates, input watermark, back-pressure (Flink's metric names). Counters belong to
   * the current attempt: a restart starts them from zero. Once the job ended (or while it
   * restarts), the final counters of its last attempt.
   */
  getMetrics(): Promise<JobMetrics> {
    return this.run.sampleMetrics();
  }

  /**
   * Checkpoint statistics as the checkpoint coordinator saw them: counts, the last 32
   * checkpoints newest first, the latest completed and the latest restored one.
   */
  getCheckpointStats(): Promise<CheckpointStatsSnapshot> {
    return Promise.resolve(this.run.checkpointStats.snapshot());
  }

  /**
   * Calls `listener` with the job's events as they happen: every status change of a
   * checkpoint (IN_PROGRESS, then COMPLETED or FAILED), every restore from a checkpoint,
   * job status changes, and a `metrics` sample every `metricsIntervalMs` (default 1000)
   * until the job ends. Returns the unsubscribe function. A listener that throws is
   * reported through the job's warnings and keeps its subscription.
   */
  subscribe(listener: (event: JobEvent) => void, options: SubscribeOptions = {}): () => void {
    const interval = options.metricsIntervalMs ?? 1000;
    if (!(interval > 0))
      throw new ConfigurationError(`subscribe: metricsIntervalMs must be a positive number of ms, got ${String(interval)}`, { component: 'job-client' });
    let active = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const remove = this.run.events.add((event) => {
      if (event.type === 'status' && TERMINAL.has(event.status)) stopTimer();
      listener(event);
    });
    const stopTimer = () => {
      clearTimeout(timer);
      timer = undefined;
    };
    const tick = () => {
      timer = undefined;
      void this.run.sampleMetrics().then(
        (metrics) => {
          if (!active) return;
          this.run.events.deliver(listener, { type: 'metrics', metrics });
          if (!TERMINAL.has(this.run.status)) timer = setTimeout(tick, interval);
        },
        () => {
          if (active && !TERMINAL.has(this.run.status)) timer = setTimeout(tick, interval);
        },
      );
    };
    if (!TERMINAL.has(this.run.status)) timer = setTimeout(tick, interval);
    return () => {
      active = false;
      stopTimer();
      remove();
    };
  }

  /**
   * Reads everything `key` holds in the keyed operator with uid `operatorUid` of the
   * running job: every state (not only some marked queryable, unlike Flink's deprecated
   * queryable state), its TTL remaining, and its pending timers. The query goes to the
   * subtask and worker that own the key's key group and runs there between two records,
   * so the view is consistent; it changes nothing (no TTL refresh) and leaves out
   * expired values. Resolves to undefined for a key with no state and no timer. Window
   * contents (state per window) are not included. Rejects with INVALID_ARGUMENT for an
   * unknown uid or an operator that is not keyed, INVALID_KEY for a bad key, and
   * JOB_NOT_RUNNING unless the job is RUNNING.
   */
  queryState<K>(operatorUid: string, key: K): Promise<KeyStateView | undefined> {
    return this.run.queryState(operatorUid, key);
  }
}
