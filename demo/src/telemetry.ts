/**
 * The page's view of a running job, read through `JobClient`'s public API: a
 * `subscribe()` stream of metrics samples (twice a second) and restores, plus
 * `getCheckpointStats()` for the checkpoint history and `queryState()` for the inspector.
 * What the host sends the page is plain data (comlink structured-clones it).
 */
import type { CheckpointStats, JobClient, JobStatus, KeyStateView, OperatorMetrics, RestoredCheckpointStats } from 'eddy';

export type { CheckpointStats, KeyStateView, OperatorMetrics, RestoredCheckpointStats };

/** What the host tells the page about checkpoints and operators. */
export interface TelemetrySnapshot {
  readonly subtasks: readonly OperatorMetrics[];
  /** Newest first. */
  readonly checkpoints: readonly CheckpointStats[];
  readonly completed: number;
  readonly latestCompleted?: CheckpointStats;
  readonly latestRestored?: RestoredCheckpointStats;
}

/** An empty snapshot (no job yet). */
export const NO_TELEMETRY: TelemetrySnapshot = { subtasks: [], checkpoints: [], completed: 0 };

/** Follows one job client; `close()` ends the subscription. */
export class Telemetry {
  private metrics: readonly OperatorMetrics[] = [];
  private readonly unsubscribe: () => void;

  constructor(
    private readonly client: JobClient,
    on: { restored(restored: RestoredCheckpointStats): void; status(status: JobStatus): void },
  ) {
    this.unsubscribe = client.subscribe(
      (e) => {
        if (e.type === 'metrics') this.metrics = e.metrics.operators;
        else if (e.type === 'restored') on.restored(e.restored);
        else if (e.type === 'status') on.status(e.status);
      },
      { metricsIntervalMs: 500 },
    );
  }

  async snapshot(): Promise<TelemetrySnapshot> {
    const stats = await this.client.getCheckpointStats();
    return {
      subtasks: this.metrics,
      checkpoints: stats.history,
      completed: stats.counts.completed,
      latestCompleted: stats.latestCompleted,
      latestRestored: stats.latestRestored,
    };
  }

  /** One key's live state in the operator with uid `operatorUid` (undefined: the key holds nothing). */
  queryState(operatorUid: string, key: string): Promise<KeyStateView | undefined> {
    return this.client.queryState(operatorUid, key);
  }

  close(): void {
    this.unsubscribe();
  }
}
