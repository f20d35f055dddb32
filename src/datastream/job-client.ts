/** `JobClient`: a handle on a job started with `executeAsync` (Flink's `JobClient`). */
import type { JobRun, JobStatus, JobFailureInfo } from '../engine/job-runner.ts';

export type { JobFailureInfo, JobStatus };

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
}
