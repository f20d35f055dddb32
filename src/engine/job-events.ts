/**
 * What a running job tells its subscribers (`JobClient.subscribe`): metrics samples,
 * checkpoint status changes, restores and job status changes, each to every listener in
 * the order they happened. A listener that throws is reported and skipped; it cannot stop
 * the job or the other listeners.
 */
import type { CheckpointStats, RestoredCheckpointStats } from './checkpoint-stats.ts';
import type { JobMetrics } from './metrics.ts';

/** The states of a job, as Flink names them. */
export type JobStatus = 'CREATED' | 'RUNNING' | 'RESTARTING' | 'FINISHED' | 'FAILED' | 'CANCELED';

/** One event of a running job. */
export type JobEvent =
  | { readonly type: 'metrics'; readonly metrics: JobMetrics }
  /** A checkpoint or savepoint changed status (IN_PROGRESS, then COMPLETED or FAILED). */
  | { readonly type: 'checkpoint'; readonly checkpoint: CheckpointStats }
  /** An attempt was deployed from a checkpoint or savepoint (a restart, or a start from a savepoint). */
  | { readonly type: 'restored'; readonly restored: RestoredCheckpointStats }
  | { readonly type: 'status'; readonly status: JobStatus };

/** The listeners of one job. */
export class JobEventHub {
  private readonly listeners = new Set<(event: JobEvent) => void>();

  constructor(private readonly warn: (message: string) => void) {}

  /** Adds a listener; returns its removal. */
  add(listener: (event: JobEvent) => void): () => void {
    // A wrapper per subscription: the same function subscribed twice gets every event twice and unsubscribes once.
    const entry = (event: JobEvent) => listener(event);
    this.listeners.add(entry);
    return () => void this.listeners.delete(entry);
  }

  /** Delivers `event` to every listener. */
  emit(event: JobEvent): void {
    for (const listener of this.listeners) this.deliver(listener, event);
  }

  /** Delivers `event` to one listener; what it throws is reported, not passed on. */
  deliver(listener: (event: JobEvent) => void, event: JobEvent): void {
    try {
      listener(event);
    } catch (e) {
      this.warn(`[eddy] [job] a JobClient.subscribe() listener threw on a ${event.type} event: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}
