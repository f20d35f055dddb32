/**
 * Checkpoint statistics (Flink's `CheckpointStatsTracker`, as the web UI's checkpoint
 * tab shows them): counts, a bounded history newest first, the latest completed and the
 * latest restored checkpoint. The checkpoint coordinator reports each status change, the
 * job runner each restore; listeners hear every change as it happens.
 */
import type { Manifest } from '../format/checkpoint-format.ts';

/** The status of a checkpoint, by Flink's names. */
export type CheckpointStatus = 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';

/** One checkpoint or savepoint as the statistics know it. */
export interface CheckpointStats {
  readonly checkpointId: number;
  readonly status: CheckpointStatus;
  readonly isSavepoint: boolean;
  /** Keyed state was asked for as a delta over the last completed checkpoint. */
  readonly incremental: boolean;
  /** When it was triggered (ms since the epoch). */
  readonly triggerTimestamp: number;
  /** From the trigger to the completion (or failure). */
  readonly endToEndDurationMs?: number;
  /** The longest synchronous snapshot pause of any subtask (the time it held up records). */
  readonly syncDurationMs?: number;
  /** The full size of the checkpoint's state: every part it refers to, deltas of earlier ones included. */
  readonly stateSizeBytes?: number;
  /** The bytes this checkpoint wrote (less than the full size when incremental). */
  readonly checkpointedSizeBytes?: number;
  readonly failureMessage?: string;
  /** Its directory in the checkpoint storage (completed ones). */
  readonly externalPath?: string;
}

/** The checkpoint a job (re)started from. */
export interface RestoredCheckpointStats {
  readonly checkpointId: number;
  readonly isSavepoint: boolean;
  readonly externalPath?: string;
  /** When the restored attempt was deployed (ms since the epoch). */
  readonly restoreTimestamp: number;
  /** How long loading the checkpoint and deploying the attempt took. */
  readonly durationMs: number;
}

/** What `JobClient.getCheckpointStats()` returns. */
export interface CheckpointStatsSnapshot {
  readonly counts: { readonly completed: number; readonly failed: number; readonly inProgress: number; readonly restored: number };
  /** Newest first, at most {@link DEFAULT_CHECKPOINT_HISTORY_SIZE} (Flink's `web.checkpoints.history`). */
  readonly history: CheckpointStats[];
  readonly latestCompleted?: CheckpointStats;
  readonly latestRestored?: RestoredCheckpointStats;
}

/** How many checkpoints the history keeps (Flink's `web.checkpoints.history` default). */
export const DEFAULT_CHECKPOINT_HISTORY_SIZE = 32;

/** What a tracker tells its listeners. */
export type CheckpointStatsEvent =
  | { readonly type: 'checkpoint'; readonly checkpoint: CheckpointStats }
  | { readonly type: 'restored'; readonly restored: RestoredCheckpointStats };

interface Pending {
  stats: CheckpointStats;
  syncMs: number;
  writtenBytes: number;
}

/** Collects the statistics of one job run. */
export class CheckpointStatsTracker {
  private readonly history: CheckpointStats[] = [];
  private readonly pending = new Map<number, Pending>();
  private completed = 0;
  private failed = 0;
  private restored = 0;
  private latestCompleted: CheckpointStats | undefined;
  private latestRestored: RestoredCheckpointStats | undefined;
  /** Hears every change. */
  onEvent: (event: CheckpointStatsEvent) => void = () => {};

  constructor(private readonly historySize = DEFAULT_CHECKPOINT_HISTORY_SIZE) {}

  /** A checkpoint (or savepoint) was triggered. */
  reportPending(checkpointId: number, triggerTimestamp: number, isSavepoint: boolean, incremental: boolean): void {
    const stats: CheckpointStats = { checkpointId, status: 'IN_PROGRESS', isSavepoint, incremental, triggerTimestamp };
    this.pending.set(checkpointId, { stats, syncMs: 0, writtenBytes: 0 });
    this.put(stats);
  }

  /** A subtask of checkpoint `checkpointId` paused `syncMs` to capture its state. */
  reportSync(checkpointId: number, syncMs: number): void {
    const p = this.pending.get(checkpointId);
    if (p !== undefined && syncMs > p.syncMs) p.syncMs = syncMs;
  }

  /** A part of `bytes` bytes of checkpoint `checkpointId` was written. */
  reportWritten(checkpointId: number, bytes: number): void {
    const p = this.pending.get(checkpointId);
    if (p !== undefined) p.writtenBytes += bytes;
  }

  /** The manifest of checkpoint `checkpointId` landed: it is complete. `stateSizeBytes` counts every part it refers to. */
  reportCompleted(checkpointId: number, externalPath: string, stateSizeBytes: number, now = Date.now()): void {
    const p = this.pending.get(checkpointId);
    if (p === undefined) return;
    this.pending.delete(checkpointId);
    const stats: CheckpointStats = {
      ...p.stats,
      status: 'COMPLETED',
      endToEndDurationMs: now - p.stats.triggerTimestamp,
      syncDurationMs: p.syncMs,
      stateSizeBytes,
      checkpointedSizeBytes: p.writtenBytes,
      externalPath,
    };
    this.completed++;
    this.latestCompleted = stats;
    this.put(stats);
  }

  /** Checkpoint `checkpointId` failed (expired, a write failed, the attempt ended). */
  reportFailed(checkpointId: number, failureMessage: string, now = Date.now()): void {
    const p = this.pending.get(checkpointId);
    if (p === undefined) return;
    this.pending.delete(checkpointId);
    const stats: CheckpointStats = {
      ...p.stats,
      status: 'FAILED',
      endToEndDurationMs: now - p.stats.triggerTimestamp,
      ...(p.syncMs > 0 ? { syncDurationMs: p.syncMs } : {}),
      checkpointedSizeBytes: p.writtenBytes,
      failureMessage,
    };
    this.failed++;
    this.put(stats);
  }

  /** An attempt was deployed from a checkpoint or savepoint. */
  reportRestored(restored: RestoredCheckpointStats): void {
    this.restored++;
    this.latestRestored = restored;
    this.onEvent({ type: 'restored', restored });
  }

  /** The statistics as they are now (copies: later changes do not show in them). */
  snapshot(): CheckpointStatsSnapshot {
    return {
      counts: { completed: this.completed, failed: this.failed, inProgress: this.pending.size, restored: this.restored },
      history: this.history.slice(),
      ...(this.latestCompleted !== undefined ? { latestCompleted: this.latestCompleted } : {}),
      ...(this.latestRestored !== undefined ? { latestRestored: this.latestRestored } : {}),
    };
  }

  /** Replaces the entry of the same checkpoint in the history (or adds it on top) and tells the listeners. */
  private put(stats: CheckpointStats): void {
    const i = this.history.findIndex((s) => s.checkpointId === stats.checkpointId);
    if (i >= 0) this.history[i] = stats;
    else {
      this.history.unshift(stats);
      if (this.history.length > this.historySize) this.history.length = this.historySize;
    }
    this.onEvent({ type: 'checkpoint', checkpoint: stats });
  }
}

/** Bytes of every part a checkpoint refers to (a delta's base parts included). */
export function fullSizeOf(manifest: Manifest): number {
  let size = 0;
  for (const op of manifest.operators) for (const chain of op.parts) for (const handle of chain ?? []) size += handle.size;
  return size;
}
