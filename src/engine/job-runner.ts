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
import { type Deployment, type Executor } from './executor.ts';
import { LocalExecutor } from './local-executor.ts';

/** The states of a job, as Flink names them. */
export type JobStatus = 'CREATED' | 'RUNNING' | 'RESTARTING' | 'FINISHED' | 'FAILED' | 'CANCELED';

/** Checkpointing settings of a job (absent: no checkpoints). */
export interface CheckpointSettings extends Omit<CoordinatorSettings, 'jobId' | 'maxParallelism' | 'firstCheckpointId' | 'storage'> {
  readonly storage: CheckpointStorage;
}

/** Everything a job run needs besides its graph. */
export interface JobRunOptions {
  readonly jobId: string;
  readonly stateBackend: StateBackend;
  readonly clock: Clock;
  readonly restart: { readonly maxAttempts: number; readonly delayMs: number };
  readonly checkpointing?: CheckpointSettings;
  /** A savepoint or retained checkpoint directory to start from, and the storage it is in. */
  readonly initialState?: { readonly storage: CheckpointStorage; readonly path: string; readonly settings?: SavepointRestoreSettings };
  /** Who deploys the attempts; default the {@link LocalExecutor}. */
  readonly executor?: Executor;
  /** Where warnings go (non-replayable sources, corrupt checkpoints). */
  readonly warn: (message: string) => void;
}

/** A running job: status, cancel, savepoints, and its result. */
export class JobRun {
  status: JobStatus = 'CREATED';
  private current: Deployment | undefined;
  private coordinator: CheckpointCoordinator | undefined;
  private cancelled: EddyError | undefined;
  /** Resolves when the job finished; rejects with its failure. */
  readonly result: Promise<void>;

  constructor(
    private readonly graph: JobGraph,
    private readonly options: JobRunOptions,
  ) {
    this.result = this.run();
    // The caller may never look at `result` (a cancelled job): do not report it as unhandled.
    this.result.catch(() => {});
  }

  /** Cancels the job; its result then rejects with code JOB_CANCELLED. */
  async cancel(): Promise<void> {
    if (this.status === 'FINISHED' || this.status === 'FAILED' || this.status === 'CANCELED') return;
    this.cancelled = new EddyError('JOB_CANCELLED', `job ${this.options.jobId} was cancelled`, { component: 'job' });
    this.current?.fail(this.cancelled);
    await this.result.catch(() => {});
  }

  /** Takes a savepoint, then cancels the job with no checkpoint in between; resolves to the savepoint's directory. */
  async stopWithSavepoint(): Promise<string> {
    const path = await this.triggerSavepoint();
    this.coordinator!.suspend();
    await this.cancel();
    return path;
  }

  /** Takes a savepoint of the running job; resolves to its directory in the checkpoint storage. */
  triggerSavepoint(): Promise<string> {
    if (!this.coordinator || this.status !== 'RUNNING') {
      return Promise.reject(new EddyError('CHECKPOINT_FAILED', this.coordinator ? `the job is ${this.status}, not RUNNING` : 'savepoints need checkpointing: call env.enableCheckpointing(interval) first', { component: 'job' }));
    }
    return this.coordinator.triggerSavepoint();
  }

  private async run(): Promise<void> {
    const { options, graph } = this;
    let lock: StorageLock | undefined;
    try {
      let restore: LoadedCheckpoint | undefined;
      // State of the savepoint that this job's operators do not take (see unrestoredOperators).
      let unrestored: ReadonlySet<string> = new Set();
      if (options.initialState) {
        restore = await loadCheckpoint(options.initialState.storage, options.initialState.path);
        unrestored = unrestoredOperators(graph, options.jobId, restore, options.initialState.settings ?? {}, options.warn);
      }
      if (options.checkpointing) {
        const storage = options.checkpointing.storage;
        lock = await storage.lock(options.jobId);
        const existing = await listCompletedCheckpoints(storage, options.jobId);
        const lastId = Math.max(restore?.manifest.checkpointId ?? 0, ...existing.map((d) => Number(/chk-(\d+)$/.exec(d)![1])));
        this.coordinator = new CheckpointCoordinator(
          { ...options.checkpointing, jobId: options.jobId, maxParallelism: graph.maxParallelism, firstCheckpointId: lastId + 1 },
          (e) => this.current?.fail(e),
        );
      }
      if (restore && restore.manifest.maxParallelism !== graph.maxParallelism) {
        throw new SnapshotError('SNAPSHOT_INCOMPATIBLE', `${restore.path} was taken with max parallelism ${restore.manifest.maxParallelism}, the job runs with ${graph.maxParallelism}`, { component: 'job' });
      }
      for (let attempt = 0; ; attempt++) {
        this.status = attempt === 0 ? 'CREATED' : 'RESTARTING';
        const deployment = await (options.executor ?? new LocalExecutor()).deploy(graph, {
          jobId: options.jobId,
          stateBackend: options.stateBackend,
          clock: options.clock,
          restore: restore ? (id, i, p) => (unrestored.has(id) && restore!.path === options.initialState?.path ? undefined : restore!.restoreFor(id, i, p)) : undefined,
          checkpointHooks: this.coordinator,
        });
        this.current = deployment;
        if (attempt === 0 && this.coordinator && deployment.nonReplayableSources.length > 0) {
          options.warn(`[eddy] [job:${options.jobId}] source(s) ${deployment.nonReplayableSources.join(', ')} cannot replay from a checkpoint: after a failure their records are not re-read, so results are not exactly-once`);
        }
        if (this.cancelled) deployment.fail(this.cancelled);
        this.status = 'RUNNING';
        this.coordinator?.attach(deployment.tasks, deployment.layout, restore?.manifest);
        try {
          await deployment.run();
          await this.coordinator?.detach();
          await deployment.finalCheckpoint();
          const closeError = await deployment.close();
          if (closeError !== undefined) throw closeError;
          this.status = 'FINISHED';
          return;
        } catch (error) {
          await this.coordinator?.detach();
          await deployment.close();
          if (this.cancelled) throw this.cancelled;
          if (attempt >= options.restart.maxAttempts) throw error;
          options.warn(`[eddy] [job:${options.jobId}] attempt ${attempt + 1} failed (${error instanceof Error ? error.message : String(error)}); restarting in ${options.restart.delayMs} ms`);
          await new Promise((r) => setTimeout(r, options.restart.delayMs));
          restore = (await this.latestCheckpoint()) ?? restore;
        }
      }
    } catch (error) {
      this.status = this.cancelled ? 'CANCELED' : 'FAILED';
      throw error;
    } finally {
      await lock?.release();
    }
  }

  /** The newest intact completed checkpoint of this run; an error if all of them are corrupt. */
  private async latestCheckpoint(): Promise<LoadedCheckpoint | undefined> {
    const coordinator = this.coordinator;
    if (!coordinator || coordinator.completed.length === 0) return undefined;
    const candidates = [...coordinator.completed].reverse();
    const loaded = await loadNewestIntact(this.options.checkpointing!.storage, candidates, this.options.warn);
    if (!loaded) throw new SnapshotError('SNAPSHOT_CORRUPT', `none of the retained checkpoints (${candidates.join(', ')}) can be restored; refusing to restart from scratch, which would repeat committed output`, { component: 'job' });
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
