/**
 * The checkpoint coordinator (Flink's `CheckpointCoordinator`): triggers checkpoints on
 * the interval by asking source tasks to inject barriers, collects every task's
 * acknowledgement, writes one part per operator subtask, and completes the checkpoint
 * by writing its manifest (the files themselves: `checkpoint-writer.ts`). Only then are
 * operators notified (sinks commit) and old checkpoints deleted. Failed checkpoints are
 * counted against the tolerance.
 */
import { CheckpointError, EddyError } from '../api/errors.ts';
import type { OperatorSnapshot } from './operators/operator.ts';
import type { CheckpointHooks, CoordinatedTask, StreamTask } from './task.ts';
import { encodePart, type Manifest, type PartSource } from '../format/checkpoint-format.ts';
import type { CheckpointStorage } from '../format/checkpoint-storage.ts';
import { setLongTimeout } from './long-timer.ts';
import { CheckpointRetention } from './checkpoint-retention.ts';
import { fullSizeOf, type CheckpointStatsTracker } from './checkpoint-stats.ts';
import { CheckpointWriter, type Chains, type OperatorLayout } from './checkpoint-writer.ts';

/** What the coordinator is configured with. */
export interface CoordinatorSettings {
  readonly jobId: string;
  readonly storage: CheckpointStorage;
  readonly intervalMs: number;
  readonly aligned: boolean;
  readonly minPauseMs: number;
  readonly timeoutMs: number;
  readonly tolerableFailures: number;
  readonly maxRetained: number;
  /** Write deltas over the last completed checkpoint where backends support it. */
  readonly incremental: boolean;
  readonly maxParallelism: number;
  /** The first checkpoint id to use (after those already in storage). */
  readonly firstCheckpointId: number;
}

/** The part of the `i`-th operator of `task`'s chain for `snapshot`, encoded when asked for. */
export function partSourceOf(task: StreamTask, i: number, snapshot: OperatorSnapshot): PartSource {
  const member = task.members[i];
  return {
    operatorId: member.operatorId,
    subtaskIndex: member.subtaskIndex,
    incremental: snapshot.keyed?.incremental !== undefined,
    bytes: () => encodePart(snapshot),
  };
}

interface PendingCheckpoint {
  readonly id: number;
  readonly timestamp: number;
  readonly savepoint: boolean;
  readonly dir: string;
  readonly incremental: boolean;
  readonly chains: Chains;
  readonly waiting: Set<CoordinatedTask>;
  /** Tasks whose parts arrived (or are being written): a finished task is asked only once. */
  readonly acknowledged: Set<CoordinatedTask>;
  readonly done: { resolve(path: string): void; reject(e: unknown): void };
  cancelTimer?: () => void;
  failed: boolean;
  /** Its manifest is being written: an abort then leaves the deleting to complete(), after the write. */
  committing?: boolean;
}

/** With incremental checkpoints, every this-many-th checkpoint is full, which bounds the chains. */
export const FULL_CHECKPOINT_EVERY = 8;

export class CheckpointCoordinator implements CheckpointHooks {
  readonly aligned: boolean;
  private nextId: number;
  private tasks: readonly CoordinatedTask[] = [];
  private layout: OperatorLayout = new Map();
  private pending: PendingCheckpoint | undefined;
  /** The completion of the last checkpoint, while it notifies and drops old ones. */
  private completing: Promise<void> = Promise.resolve();
  private cancelTrigger: (() => void) | undefined;
  private running = false;
  /** Tasks of the attempt that finished: later checkpoints take their final state (Flink's checkpoints after tasks finish). */
  private readonly finished = new Set<CoordinatedTask>();
  private consecutiveFailures = 0;
  /** Which completed checkpoints are kept and which are discarded. */
  private readonly retention: CheckpointRetention;
  /** Completed checkpoint directories of this run, oldest first (what its restarts restore). */
  readonly completed: string[];
  /** Writes the parts and manifests, and keeps the base chains of deltas. */
  private readonly writer: CheckpointWriter;
  private completedCount = 0;

  constructor(
    private readonly settings: CoordinatorSettings,
    /** Fails the running attempt (a checkpoint failure past the tolerance). */
    private readonly failJob: (error: EddyError) => void,
    /** Hears every status change of a checkpoint (for `JobClient.getCheckpointStats()`). */
    private readonly stats?: CheckpointStatsTracker,
  ) {
    this.aligned = settings.aligned;
    this.nextId = settings.firstCheckpointId;
    this.retention = new CheckpointRetention(settings.jobId, settings.storage, settings.maxRetained);
    this.completed = this.retention.completed;
    this.writer = new CheckpointWriter(settings.jobId, settings.storage, settings.maxParallelism, stats);
  }

  /**
   * Starts triggering checkpoints for a new attempt's tasks; `restored` is the manifest
   * the attempt was restored from (its chains are the base of the first deltas).
   */
  attach(tasks: readonly CoordinatedTask[], layout: OperatorLayout, restored?: Manifest): void {
    this.tasks = tasks;
    this.layout = layout;
    if (restored) this.writer.setBase(restored);
    this.running = true;
    this.finished.clear();
    this.scheduleNext(this.settings.intervalMs);
  }

  /**
   * Stops triggering; a pending checkpoint of the attempt is abandoned. Resolves once a
   * completion already under way (notifications, retention) has finished.
   */
  async detach(cause?: unknown): Promise<void> {
    this.running = false;
    this.cancelTrigger?.();
    const pending = this.pending;
    if (pending) {
      const why = cause === undefined ? 'the job attempt ended' : `the job attempt failed: ${cause instanceof Error ? cause.message : String(cause)}`;
      this.abort(
        pending,
        new CheckpointError(
          'CHECKPOINT_FAILED',
          `${pending.savepoint ? 'savepoint' : 'checkpoint'} ${pending.id} was abandoned: ${why}`,
          { component: 'checkpoint-coordinator' },
          { cause },
        ),
        false,
      );
    }
    await this.completing;
  }

  /** Takes a savepoint now (waits for a running checkpoint first); resolves to its directory. */
  async triggerSavepoint(): Promise<string> {
    while (this.pending) await new Promise((r) => setTimeout(r, 1));
    return this.trigger(true);
  }

  /** Starts checkpoint `nextId`: every source task captures its state and injects a barrier. */
  trigger(savepoint = false): Promise<string> {
    if (!this.running || this.pending) {
      const why = !this.running ? 'the job is not running' : 'another checkpoint is in progress';
      return Promise.reject(
        new CheckpointError('CHECKPOINT_FAILED', `cannot take a ${savepoint ? 'savepoint' : 'checkpoint'}: ${why}`, { component: 'checkpoint-coordinator' }),
      );
    }
    const id = this.nextId++;
    const timestamp = Date.now();
    const dir = this.writer.dirOf(id, savepoint);
    let done!: PendingCheckpoint['done'];
    const promise = new Promise<string>((resolve, reject) => (done = { resolve, reject }));
    const chains = this.writer.emptyChains(this.layout);
    // Savepoints are always self-contained; every few checkpoints a full one compacts the chains.
    const incremental = this.settings.incremental && !savepoint && (this.completedCount + 1) % FULL_CHECKPOINT_EVERY !== 0;
    const pending: PendingCheckpoint = {
      id,
      timestamp,
      savepoint,
      dir,
      incremental,
      chains,
      waiting: new Set(this.tasks),
      acknowledged: new Set(),
      done,
      failed: false,
    };
    this.pending = pending;
    this.stats?.reportPending(id, timestamp, savepoint, incremental);
    pending.cancelTimer = setLongTimeout(() => {
      const waiting = [...pending.waiting].map((t) => t.name).join(', ');
      const error = new CheckpointError(
        'CHECKPOINT_FAILED',
        `${savepoint ? 'savepoint' : 'checkpoint'} ${id} expired after ${this.settings.timeoutMs} ms; not acknowledged by ${waiting || 'no task (its state was still being written)'} (a source whose poll() stays pending, or a user function that does not return, holds the barrier back)`,
        { component: 'checkpoint-coordinator' },
      );
      // As in Flink, a failed savepoint fails only its caller, not the job.
      this.abort(pending, error, !savepoint);
    }, this.settings.timeoutMs);
    // Running sources inject barriers; finished tasks (of any kind) capture their final state.
    for (const t of this.tasks) if (t.isSource || this.finished.has(t)) t.triggerCheckpoint(id, timestamp, incremental);
    return promise;
  }

  acknowledge(task: StreamTask, checkpointId: number, snapshots: Promise<OperatorSnapshot[]>, syncMs?: number): void {
    this.acknowledgeParts(
      task,
      checkpointId,
      snapshots.then((list) => list.map((snapshot, i) => partSourceOf(task, i, snapshot))),
      syncMs,
    );
  }

  /** A task captured its chain for checkpoint `id`; `parts` resolve to its encoded parts (from a worker, or encoded here). */
  acknowledgeParts(task: CoordinatedTask, checkpointId: number, parts: Promise<readonly PartSource[]>, syncMs?: number): void {
    const pending = this.pending;
    if (!pending || pending.id !== checkpointId || pending.failed || pending.acknowledged.has(task)) {
      parts.catch(() => {});
      return;
    }
    pending.acknowledged.add(task);
    if (syncMs !== undefined) this.stats?.reportSync(checkpointId, syncMs);
    // Writing happens off the task's path: the task goes on processing records.
    void this.writeParts(pending, task, parts).catch((e) =>
      this.abort(
        pending,
        e instanceof CheckpointError
          ? e
          : new CheckpointError(
              'CHECKPOINT_FAILED',
              `checkpoint ${checkpointId}: writing the state of ${task.name} failed: ${e instanceof Error ? e.message : String(e)}`,
              { component: 'checkpoint-coordinator' },
              { cause: e },
            ),
        true,
      ),
    );
  }

  taskFinished(task: CoordinatedTask): void {
    this.finished.add(task);
    const pending = this.pending;
    // A task that finished before its barrier reached it captures its final state instead.
    if (pending && !pending.failed && !pending.acknowledged.has(task)) task.triggerCheckpoint(pending.id, pending.timestamp, pending.incremental);
  }

  private async writeParts(pending: PendingCheckpoint, task: CoordinatedTask, parts: Promise<readonly PartSource[]>): Promise<void> {
    for (const part of await parts) {
      if (pending.failed) return;
      await this.writer.writePart(pending.dir, pending.chains, pending.id, part);
    }
    if (pending.failed) return;
    pending.waiting.delete(task);
    if (pending.waiting.size === 0) {
      const completion = this.complete(pending);
      this.completing = completion.catch(() => {});
      await completion;
    }
  }

  private async complete(pending: PendingCheckpoint): Promise<void> {
    const manifest = this.writer.manifestOf(pending.id, pending.timestamp, pending.savepoint, pending.chains);
    // The manifest is the commit point: before it lands, the checkpoint does not exist.
    if (pending.failed) return;
    pending.committing = true;
    try {
      await this.writer.writeManifest(pending.dir, manifest);
    } catch (e) {
      pending.committing = false; // the abort that follows deletes the parts
      throw e;
    }
    if (pending.failed) {
      // Aborted while the manifest was being written: take the commit back.
      await this.retention.deleteDir(pending.dir);
      return;
    }
    pending.cancelTimer?.();
    this.pending = undefined;
    this.consecutiveFailures = 0;
    if (!pending.savepoint) this.recordCompleted(pending.dir, manifest);
    this.stats?.reportCompleted(pending.id, pending.dir, fullSizeOf(manifest));
    const next = () => this.scheduleNext(Math.max(this.settings.minPauseMs, this.settings.intervalMs - (Date.now() - pending.timestamp)));
    // The next periodic checkpoint does not wait for the notifications below: a task stuck
    // in a user function never takes them, and without a next checkpoint (and its timeout)
    // nothing would ever fail the attempt. Each task gets them in order all the same.
    if (!pending.savepoint) next();
    // Sinks commit here; a savepoint's caller learns of it only after they did, so that
    // stopping the job right after cannot lose output the savepoint covers.
    await Promise.all(this.tasks.map((t) => t.notifyCheckpointComplete(pending.id).catch((e) => this.failJob(asEddyError(e)))));
    pending.done.resolve(pending.dir);
    await this.retention.dropOldCheckpoints();
    // After a savepoint, stop-with-savepoint suspends the coordinator before any next checkpoint.
    if (pending.savepoint) next();
  }

  private abort(pending: PendingCheckpoint, error: EddyError, countsAsFailure: boolean): void {
    if (pending.failed || this.pending !== pending) return;
    pending.failed = true;
    pending.cancelTimer?.();
    this.pending = undefined;
    this.stats?.reportFailed(pending.id, error.message);
    pending.done.reject(error);
    // Flink's notifyCheckpointAborted, while the attempt runs (a failing attempt's tasks are going away).
    if (this.running) for (const t of this.tasks) t.notifyCheckpointAborted?.(pending.id);
    // Deleting the parts while the manifest is still being written could leave, after a
    // crash, a manifest whose parts are gone: a torn checkpoint that blocks a resume.
    if (!pending.committing) void this.retention.deleteDir(pending.dir);
    if (countsAsFailure && ++this.consecutiveFailures > this.settings.tolerableFailures) {
      this.failJob(
        new CheckpointError(
          'CHECKPOINT_FAILED',
          `${this.consecutiveFailures} consecutive checkpoint failures exceed the tolerance of ${this.settings.tolerableFailures}: ${error.message}`,
          { component: 'checkpoint-coordinator' },
          { cause: error },
        ),
      );
      return;
    }
    this.scheduleNext(Math.max(this.settings.minPauseMs, this.settings.intervalMs));
  }

  private scheduleNext(delayMs: number): void {
    this.cancelTrigger?.();
    if (!this.running) return;
    this.cancelTrigger = setLongTimeout(() => {
      if (!this.running || this.pending) return;
      this.trigger().catch(() => {
        // Failures are handled in abort(); the rejection only informs savepoint callers.
      });
    }, delayMs);
  }

  /** Takes over the completed checkpoints that earlier runs of the job left (see `CheckpointRetention.inherit`). */
  inherit(previous: ReadonlyArray<{ readonly dir: string; readonly manifest?: Manifest }>): void {
    this.retention.inherit(previous);
  }

  /** Deletes every retained checkpoint of the job (a cancel under DELETE_ON_CANCELLATION); savepoints stay. */
  discardAll(): Promise<void> {
    return this.retention.discardAll();
  }

  /** A fresh checkpoint id (for the final checkpoint of a job run in workers). */
  reserveCheckpointId(): number {
    return this.nextId++;
  }

  /**
   * Writes the final checkpoint of a finished attempt: every part and the manifest, which
   * makes it the checkpoint a restart restores from. Called after `detach()`, before any
   * sink is told to commit.
   */
  async commitFinalCheckpoint(checkpointId: number, parts: readonly PartSource[]): Promise<void> {
    const dir = this.writer.dirOf(checkpointId, false);
    const chains = this.writer.emptyChains(this.layout);
    for (const part of parts) await this.writer.writePart(dir, chains, checkpointId, part);
    const manifest = this.writer.manifestOf(checkpointId, Date.now(), false, chains);
    await this.writer.writeManifest(dir, manifest);
    this.recordCompleted(dir, manifest);
    await this.retention.dropOldCheckpoints();
  }

  /** A periodic (or final) checkpoint is complete: it is retained and becomes the base of deltas. */
  private recordCompleted(dir: string, manifest: Manifest): void {
    this.retention.record(dir, manifest);
    this.writer.setBase(manifest);
    this.completedCount++;
  }

  /** Stops triggering checkpoints (after a stop-with-savepoint). */
  suspend(): void {
    this.running = false;
    this.cancelTrigger?.();
  }
}

function asEddyError(e: unknown): EddyError {
  return e instanceof EddyError
    ? e
    : new CheckpointError(
        'CHECKPOINT_FAILED',
        `notifyCheckpointComplete failed: ${e instanceof Error ? e.message : String(e)}`,
        { component: 'checkpoint-coordinator' },
        { cause: e },
      );
}
