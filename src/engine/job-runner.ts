/**
 * Runs a job through its attempts: deploys it, lets the checkpoint coordinator take
 * checkpoints, and after a failure restarts it — under the restart strategy — from the
 * latest complete checkpoint (falling back to an older one if the latest is corrupt).
 * On success it takes the final checkpoint, so two-phase-commit sinks commit.
 */
import type { Clock } from '../api/clock.ts';
import { EddyError, SnapshotError } from '../api/errors.ts';
import { CheckpointCoordinator, type CoordinatorSettings } from './checkpoint-coordinator.ts';
import { listCompletedCheckpoints, loadCheckpoint, loadNewestIntact, type LoadedCheckpoint } from './checkpoint-restore.ts';
import { unrestoredOperators, type SavepointRestoreSettings } from '../engine/restore-match.ts';
import type { CheckpointStorage, StorageLock } from '../format/checkpoint-storage.ts';
import { commitsOnCheckpoint, type JobGraph } from './graph.ts';
import type { StateBackend } from '../state/backend.ts';
import type { Deployment, Executor } from './executor.ts';
import { LocalExecutor } from './local-executor.ts';
import type { RestartStrategy } from '../api/restart-strategies.ts';
import { setLongTimeout } from './long-timer.ts';
import { RestartBackoff } from './restart-backoff.ts';
import { loadLatestForResume, notResumingWarning, previousCheckpoints } from './resume.ts';
import { CheckpointStatsTracker } from './checkpoint-stats.ts';
import { JobEventHub, type JobStatus } from './job-events.ts';
import { MetricsView, type JobMetrics, type SubtaskSample } from './metrics.ts';
import { notRunning, type KeyStateView } from './state-query.ts';

export type { JobStatus };

/** Checkpointing settings of a job (absent: no checkpoints). */
export interface CheckpointSettings extends Omit<CoordinatorSettings, 'jobId' | 'maxParallelism' | 'firstCheckpointId' | 'storage'> {
  readonly storage: CheckpointStorage;
  /** `cancel()` deletes the job's retained checkpoints (savepoints stay). */
  readonly discardOnCancel: boolean;
}

/** Everything a job run needs besides its graph. */
export interface JobRunOptions {
  readonly jobId: string;
  readonly stateBackend: StateBackend;
  readonly clock: Clock;
  readonly restart: RestartStrategy;
  readonly checkpointing?: CheckpointSettings;
  /** A savepoint or retained checkpoint directory to start from, and the storage it is in. */
  readonly initialState?: { readonly storage: CheckpointStorage; readonly path: string; readonly settings?: SavepointRestoreSettings };
  /**
   * Resume from the newest completed checkpoint that an earlier run of this job id left in
   * the checkpoint storage, if any (then `initialState` is not used).
   */
  readonly resume?: { readonly settings?: SavepointRestoreSettings };
  /** Who deploys the attempts; default the {@link LocalExecutor}. */
  readonly executor?: Executor;
  /** Where warnings go (non-replayable sources, corrupt checkpoints). */
  readonly warn: (message: string) => void;
  /** How long a failed attempt's tasks may take to stop before they are abandoned. */
  readonly cancellationTimeoutMs?: number;
}

/** The last failure of a job that restarts (or failed), for `JobClient.getLastFailure()`. */
export interface JobFailureInfo {
  /** What failed the attempt. */
  readonly error: unknown;
  /** When (ms since the epoch). */
  readonly timestamp: number;
  /** How many failures in a row had this same message (1: a new cause). */
  readonly repeats: number;
  /** The delay before the restart it caused, in ms; undefined when it failed the job. */
  readonly restartDelayMs: number | undefined;
}

/** A running job: status, cancel, savepoints, and its result. */
export class JobRun {
  status: JobStatus = 'CREATED';
  /** Restarts so far (Flink's `numRestarts`). */
  restarts = 0;
  /** The last attempt failure, if any. */
  lastFailure: JobFailureInfo | undefined;
  private wakeFromDelay: (() => void) | undefined;
  private readonly started = Date.now();
  private current: Deployment | undefined;
  private coordinator: CheckpointCoordinator | undefined;
  private cancelled: EddyError | undefined;
  /** Stopped with a savepoint: the retained checkpoints are older than it, and go. */
  private superseded = false;
  private statusWaiters: Array<() => void> = [];
  /** Resolves when the job finished; rejects with its failure. */
  readonly result: Promise<void>;
  /** Subscribers of `JobClient.subscribe` (status, checkpoints, restores; metrics are sampled by the client). */
  readonly events: JobEventHub;
  /** Checkpoint counts, history, latest completed and restored (fed by the coordinator and the restarts). */
  readonly checkpointStats = new CheckpointStatsTracker();
  private readonly metricsView = new MetricsView();
  private lastSamples: SubtaskSample[] | undefined;

  constructor(
    private readonly graph: JobGraph,
    private readonly options: JobRunOptions,
  ) {
    this.events = new JobEventHub(options.warn);
    this.checkpointStats.onEvent = (event) => this.events.emit(event);
    this.result = this.run();
    // The caller may never look at `result` (a cancelled job): do not report it as unhandled.
    this.result.catch(() => {});
  }

  /** Cancels the job; its result then rejects with code JOB_CANCELLED. */
  async cancel(): Promise<void> {
    if (this.status === 'FINISHED' || this.status === 'FAILED' || this.status === 'CANCELED') return;
    this.cancelled = new EddyError('JOB_CANCELLED', `job ${this.options.jobId} was cancelled`, { component: 'job' });
    this.current?.fail(this.cancelled);
    this.wakeFromDelay?.();
    await this.result.catch(() => {});
  }

  /** Takes a savepoint, then cancels the job with no checkpoint in between; resolves to the savepoint's directory. */
  async stopWithSavepoint(): Promise<string> {
    const path = await this.triggerSavepoint();
    this.coordinator!.suspend();
    // As in Flink, where the job then FINISHES: its checkpoints are deleted whatever the
    // retention. They are older than the savepoint, and a restart from the latest of them
    // (fromLatestCheckpoint) would commit again what the savepoint's sinks committed.
    this.superseded = true;
    await this.cancel();
    return path;
  }

  /**
   * Takes a savepoint of the running job; resolves to its directory in the checkpoint storage.
   * Asked right after the start or during a restart, it waits until the job runs (a cancel or
   * failure meanwhile rejects it).
   */
  async triggerSavepoint(): Promise<string> {
    while (this.options.checkpointing && (this.status === 'CREATED' || this.status === 'RESTARTING')) {
      await new Promise<void>((resolve) => this.statusWaiters.push(resolve));
    }
    if (!this.coordinator || this.status !== 'RUNNING') {
      throw new EddyError(
        'CHECKPOINT_FAILED',
        this.coordinator ? `the job is ${this.status}, not RUNNING` : 'savepoints need checkpointing: call env.enableCheckpointing(interval) first',
        { component: 'job' },
      );
    }
    return this.coordinator.triggerSavepoint();
  }

  /** Samples the counters of every operator subtask of the running attempt. */
  async sampleMetrics(): Promise<JobMetrics> {
    const current = this.status === 'RUNNING' ? this.current : undefined;
    const live = await current?.sampleMetrics?.().catch(() => undefined);
    return this.metricsView.compute(live ?? this.lastSamples ?? [], Date.now());
  }

  /** Keeps the final counters of an attempt that ended (workers forget theirs when reset). */
  private async keepLastSamples(deployment: Deployment): Promise<void> {
    this.lastSamples = (await deployment.sampleMetrics?.().catch(() => undefined)) ?? this.lastSamples;
  }

  /** Reads one key's state in the running attempt (see state-query.ts). */
  queryState(operatorUid: string, key: unknown): Promise<KeyStateView | undefined> {
    const current = this.current;
    if (this.status !== 'RUNNING' || current?.queryState === undefined) return Promise.reject(notRunning(this.status));
    return current.queryState(operatorUid, key);
  }

  private setStatus(status: JobStatus): void {
    const changed = this.status !== status || status === 'RESTARTING';
    this.status = status;
    if (changed) this.events.emit({ type: 'status', status });
    const waiters = this.statusWaiters;
    this.statusWaiters = [];
    for (const wake of waiters) wake();
  }

  private async run(): Promise<void> {
    const { options, graph } = this;
    let lock: StorageLock | undefined;
    try {
      let restore: LoadedCheckpoint | undefined;
      // State of the savepoint that this job's operators do not take (see unrestoredOperators).
      let unrestored: ReadonlySet<string> = new Set();
      let existing: string[] = [];
      if (options.checkpointing) {
        lock = await options.checkpointing.storage.lock(options.jobId);
        existing = await listCompletedCheckpoints(options.checkpointing.storage, options.jobId);
        if (options.resume) {
          restore = await loadLatestForResume(options.checkpointing.storage, existing, graph, options.checkpointing.aligned, options.warn);
          if (restore) unrestored = unrestoredOperators(graph, options.jobId, restore, options.resume.settings ?? {}, options.warn);
        } else if (existing.length > 0 && !options.initialState) {
          options.warn(notResumingWarning(options.jobId, existing[0], existing.length));
        }
      }
      if (!restore && options.initialState) {
        restore = await loadCheckpoint(options.initialState.storage, options.initialState.path);
        unrestored = unrestoredOperators(graph, options.jobId, restore, options.initialState.settings ?? {}, options.warn);
      }
      // The checkpoint the start restores: only its state may be left out (unrestored).
      const initialPath = restore?.path;
      if (options.checkpointing) {
        const lastId = Math.max(restore?.manifest.checkpointId ?? 0, ...existing.map((d) => Number(/chk-(\d+)$/.exec(d)![1])));
        this.coordinator = new CheckpointCoordinator(
          { ...options.checkpointing, jobId: options.jobId, maxParallelism: graph.maxParallelism, firstCheckpointId: lastId + 1 },
          (e) => this.current?.fail(e),
          this.checkpointStats,
        );
        this.coordinator.inherit(await previousCheckpoints(options.checkpointing.storage, existing));
      }
      if (restore && restore.manifest.maxParallelism !== graph.maxParallelism) {
        throw new SnapshotError(
          'SNAPSHOT_INCOMPATIBLE',
          `${restore.path} was taken with max parallelism ${restore.manifest.maxParallelism}, the job runs with ${graph.maxParallelism}`,
          { component: 'job' },
        );
      }
      const backoff = new RestartBackoff(options.restart);
      let restoreStarted = this.started;
      for (let attempt = 0; ; attempt++) {
        this.setStatus(attempt === 0 ? 'CREATED' : 'RESTARTING');
        let deployment: Deployment | undefined;
        try {
          deployment = await (options.executor ?? new LocalExecutor()).deploy(graph, {
            jobId: options.jobId,
            stateBackend: options.stateBackend,
            clock: options.clock,
            restore: restore ? (id, i, p) => (unrestored.has(id) && restore!.path === initialPath ? undefined : restore!.restoreFor(id, i, p)) : undefined,
            checkpointHooks: this.coordinator,
            cancellationTimeoutMs: options.cancellationTimeoutMs,
            warn: options.warn,
          });
          this.current = deployment;
          if (restore) {
            const now = Date.now();
            const m = restore.manifest;
            this.checkpointStats.reportRestored({
              checkpointId: m.checkpointId,
              isSavepoint: m.savepoint,
              externalPath: restore.path,
              restoreTimestamp: now,
              durationMs: now - restoreStarted,
            });
          }
          if (attempt === 0 && this.coordinator && deployment.nonReplayableSources.length > 0) {
            options.warn(
              `[eddy] [job:${options.jobId}] source(s) ${deployment.nonReplayableSources.join(', ')} cannot replay from a checkpoint: after a failure their records are not re-read, so results are not exactly-once`,
            );
          }
          if (this.cancelled) deployment.fail(this.cancelled);
          this.setStatus('RUNNING');
          this.coordinator?.attach(deployment.tasks, deployment.layout, restore?.manifest);
          await deployment.run();
          await this.keepLastSamples(deployment);
          await this.coordinator?.detach();
          await deployment.finalCheckpoint();
          const closeError = await deployment.close();
          if (closeError !== undefined) throw closeError;
          this.setStatus('FINISHED');
          break;
        } catch (error) {
          if (deployment === undefined) {
            // Initializing state failed (Flink's initializeState runs in the task, so it
            // fails the attempt): transient trouble restarts, a job that cannot be
            // deployed as configured fails at once, since every retry would fail alike.
            if (!restartsOnDeployFailure(error)) throw error;
          } else {
            await this.keepLastSamples(deployment);
            await this.coordinator?.detach(error);
            await deployment.close();
          }
          if (this.cancelled) throw this.cancelled;
          const delay = backoff.onFailure(Date.now());
          this.recordFailure(error, delay);
          if (delay === undefined) throw error;
          const repeated = this.lastFailure!.repeats > 1 ? ` (the same failure ${this.lastFailure!.repeats} times in a row)` : '';
          options.warn(`[eddy] [job:${options.jobId}] attempt ${attempt + 1} failed${repeated}: ${messageOf(error)}; restarting in ${delay} ms`);
          await this.sleep(delay);
          if (this.cancelled) throw this.cancelled;
          this.restarts++;
          restoreStarted = Date.now();
          restore = (await this.latestCheckpoint()) ?? restore;
        }
      }
    } catch (error) {
      this.setStatus(this.cancelled ? 'CANCELED' : 'FAILED');
      if (this.cancelled && (options.checkpointing?.discardOnCancel || this.superseded)) {
        await this.coordinator
          ?.discardAll()
          .catch((e: unknown) => options.warn(`[eddy] [job:${options.jobId}] deleting the checkpoints of the cancelled job failed: ${messageOf(e)}`));
      }
      // Releasing the lock can fail for the same reason the job did (a directory made
      // read-only): that must not hide the real error, so it is only reported.
      await lock
        ?.release()
        .catch((releaseError: unknown) =>
          options.warn(
            `[eddy] [job:${options.jobId}] releasing the checkpoint storage lock failed too (${messageOf(releaseError)}) after the job failed: ${messageOf(error)}`,
          ),
        );
      throw error;
    }
    await lock?.release();
  }

  private recordFailure(error: unknown, restartDelayMs: number | undefined): void {
    const previous = this.lastFailure;
    const repeats = previous !== undefined && messageOf(previous.error) === messageOf(error) ? previous.repeats + 1 : 1;
    this.lastFailure = { error, timestamp: Date.now(), repeats, restartDelayMs };
  }

  /** Waits before a restart; a cancel ends the wait at once. */
  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const cancel = setLongTimeout(() => done(), ms);
      const done = () => {
        cancel();
        this.wakeFromDelay = undefined;
        resolve();
      };
      this.wakeFromDelay = done;
    });
  }

  /** The newest intact completed checkpoint of this run; an error if all of them are corrupt. */
  private async latestCheckpoint(): Promise<LoadedCheckpoint | undefined> {
    const coordinator = this.coordinator;
    if (!coordinator || coordinator.completed.length === 0) return undefined;
    const candidates = [...coordinator.completed].reverse();
    const loaded = await loadNewestIntact(this.options.checkpointing!.storage, candidates, this.options.warn);
    if (!loaded)
      throw new SnapshotError(
        'SNAPSHOT_CORRUPT',
        `none of the retained checkpoints (${candidates.join(', ')}) can be restored; refusing to restart from scratch, which would repeat committed output`,
        { component: 'job' },
      );
    // Every completed checkpoint has been (or is being) announced to the operators, and
    // sinks commit their transactions on that announcement. Restoring an older one rewinds
    // the sources to before output that is already committed: replay would commit it
    // again, and a committed transaction cannot be taken back (Flink's two-phase-commit
    // sinks recover only the transactions of the checkpoint they restore). Filtering the
    // replay is no way out either: what it produces need not match the committed records
    // one for one (processing time, arrival order across inputs). So with committing
    // operators and exactly-once checkpoints the fallback is refused; jobs whose output is
    // at-least-once anyway (no such operators, or AT_LEAST_ONCE mode) still fall back.
    const skipped = candidates.slice(0, candidates.indexOf(loaded.path));
    if (skipped.length > 0 && this.options.checkpointing!.aligned && commitsOnCheckpoint(this.graph)) {
      throw new SnapshotError(
        'SNAPSHOT_CORRUPT',
        `checkpoint ${skipped[0]} cannot be restored, and falling back to ${loaded.path} would not be exactly-once: ` +
          `sinks of this job already committed the output of ${skipped.join(', ')}, which a restart from ${loaded.path} would produce and commit again. ` +
          `The job fails instead of duplicating output; to accept duplicates, restore ${loaded.path} explicitly with env.fromSavepoint()`,
        { component: 'job' },
      );
    }
    return loaded;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Whether a failure while deploying an attempt (state being initialized or restored) is
 * worth a restart: a user function or storage that failed may succeed next time; a
 * configuration or a checkpoint that does not fit this job never will.
 */
function restartsOnDeployFailure(error: unknown): boolean {
  return (
    error instanceof EddyError &&
    ['USER_FUNCTION_FAILED', 'STORAGE_FAILURE', 'STORAGE_FULL', 'STORAGE_LOCKED', 'BACKEND_FAILURE', 'SOURCE_FAILED'].includes(error.code)
  );
}
