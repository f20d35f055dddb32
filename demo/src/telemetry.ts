/**
 * The page's view of a running job, read through `JobClient`'s metrics API
 * (`getMetrics`, `getCheckpointStats`, `subscribe`, `queryState`). The types mirror that
 * API; where a client lacks it (an eddy without job metrics) the demo's own counters fill
 * in what they can: committed checkpoints announced by the sink, and no per-operator
 * metrics.
 */
import type { JobClient } from 'eddy';

/** One operator subtask's metrics. */
export interface SubtaskMetricsView {
  readonly operatorId?: string;
  readonly operatorName?: string;
  readonly subtaskIndex?: number;
  readonly numRecordsIn: number;
  readonly numRecordsOut: number;
  readonly numRecordsInPerSecond: number;
  readonly numRecordsOutPerSecond: number;
  readonly currentInputWatermark?: number;
  readonly isBackPressured?: boolean;
  readonly backPressuredTimeMsPerSecond?: number;
  readonly worker?: number;
  readonly stateSizeBytes?: number;
}

/** One checkpoint, as in Flink's checkpoint history. */
export interface CheckpointView {
  readonly checkpointId: number;
  readonly status: 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';
  readonly isSavepoint: boolean;
  readonly incremental: boolean;
  readonly triggerTimestamp: number;
  readonly endToEndDurationMs?: number;
  readonly syncDurationMs?: number;
  readonly stateSizeBytes?: number;
  readonly checkpointedSizeBytes?: number;
  readonly failureMessage?: string;
}

/** Where the running attempt came from. */
export interface RestoredView {
  readonly checkpointId: number;
  readonly isSavepoint: boolean;
  readonly externalPath?: string;
  readonly restoreTimestamp: number;
  readonly durationMs: number;
}

/** One key's live state. */
export interface KeyStateView {
  readonly key: unknown;
  readonly keyGroup: number;
  readonly subtaskIndex: number;
  readonly worker?: number;
  readonly states: Record<string, { readonly kind: string; readonly value: unknown; readonly ttlRemainingMs?: number }>;
  readonly timers: { readonly eventTime: readonly number[]; readonly processingTime: readonly number[] };
}

/** What the host tells the page about checkpoints and operators. */
export interface TelemetrySnapshot {
  /** True when the client has eddy's metrics API. */
  readonly api: boolean;
  readonly subtasks: readonly SubtaskMetricsView[];
  /** Newest first. */
  readonly checkpoints: readonly CheckpointView[];
  readonly counts?: Record<string, number>;
  readonly latestCompleted?: CheckpointView;
  readonly latestRestored?: RestoredView;
}

type MetricsClient = {
  getMetrics(): Promise<unknown>;
  getCheckpointStats(): Promise<{
    counts?: Record<string, number>;
    history: CheckpointView[];
    latestCompleted?: CheckpointView;
    latestRestored?: RestoredView;
  }>;
  queryState(operatorUid: string, key: unknown): Promise<KeyStateView | undefined>;
};

function hasMetricsApi(client: JobClient): boolean {
  const c = client as unknown as Partial<MetricsClient>;
  return typeof c.getMetrics === 'function' && typeof c.getCheckpointStats === 'function';
}

/** The subtask entries of a metrics object, whatever its nesting (operators → subtasks). */
function subtasksOf(metrics: unknown): SubtaskMetricsView[] {
  const out: SubtaskMetricsView[] = [];
  const visit = (x: unknown, operator?: { id?: string; name?: string }) => {
    if (Array.isArray(x)) {
      for (const y of x) visit(y, operator);
      return;
    }
    if (typeof x !== 'object' || x === null) return;
    const o = x as Record<string, unknown>;
    if (typeof o.numRecordsIn === 'number' && typeof o.numRecordsOut === 'number') {
      out.push({ operatorId: operator?.id, operatorName: operator?.name, ...(o as unknown as SubtaskMetricsView) });
      return;
    }
    const here =
      typeof o.operatorId === 'string' || typeof o.name === 'string'
        ? { id: (o.operatorId ?? o.uid ?? o.id) as string, name: (o.operatorName ?? o.name) as string }
        : operator;
    for (const v of Object.values(o)) visit(v, here);
  };
  visit(metrics);
  return out;
}

/** Reads a job's telemetry; keeps the sink's announcements as the fallback history. */
export class Telemetry {
  private readonly announced: CheckpointView[] = [];
  constructor(private readonly client: JobClient) {}

  /** True when the client has eddy's metrics API. */
  get api(): boolean {
    return hasMetricsApi(this.client);
  }

  /** The sink committed the transactions of `checkpointId` (the fallback's only checkpoint signal). */
  onCommitted(checkpointId: number, at: number): void {
    if (this.announced.some((c) => c.checkpointId === checkpointId)) return;
    this.announced.unshift({ checkpointId, status: 'COMPLETED', isSavepoint: false, incremental: false, triggerTimestamp: at });
    this.announced.length = Math.min(this.announced.length, 50);
  }

  /** The newest checkpoint the sink announced as committed. */
  latestAnnounced(): number | undefined {
    return this.announced[0]?.checkpointId;
  }

  async snapshot(): Promise<TelemetrySnapshot> {
    if (!this.api) return { api: false, subtasks: [], checkpoints: this.announced, latestCompleted: this.announced[0] };
    const c = this.client as unknown as MetricsClient;
    const [metrics, stats] = await Promise.all([c.getMetrics(), c.getCheckpointStats()]);
    return {
      api: true,
      subtasks: subtasksOf(metrics),
      checkpoints: stats.history.slice(0, 50),
      counts: stats.counts,
      latestCompleted: stats.latestCompleted,
      latestRestored: stats.latestRestored,
    };
  }

  /** One key's live state, or undefined (also when the client cannot query state). */
  async queryState(operatorUid: string, key: string): Promise<KeyStateView | undefined> {
    const c = this.client as unknown as Partial<MetricsClient>;
    if (typeof c.queryState !== 'function') return undefined;
    return c.queryState(operatorUid, key);
  }
}
