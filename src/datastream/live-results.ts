/**
 * The results of `executeAndCollectAsync()`: an async iterator over what a running
 * (possibly unbounded) job emits, as in Flink's `executeAndCollect()` iterator. With
 * checkpointing, records arrive as the checkpoints that cover them complete, exactly once
 * across restarts (the collect sink is a two-phase-commit sink); without, they arrive as
 * they are emitted, and a restart after some were delivered fails the iteration (they
 * would repeat). Leaving the iteration (`break`, `return()`) cancels the job.
 */
import { EddyError } from '../api/errors.ts';
import type { CollectTarget } from '../engine/graph.ts';
import type { JobClient } from './job-client.ts';

/** The prefix of the ids an uncheckpointed collect sink commits under: `live:<attempt>:<n>`. */
export const LIVE_COMMIT_PREFIX = 'live:';

/** An async iterator of a running job's results; also the job's collect target. */
export class LiveResults<T> implements AsyncIterableIterator<T>, CollectTarget {
  /** Tells this execution's transactions from those of the job a savepoint was taken of. */
  readonly id = Math.random().toString(36).slice(2);
  private values: T[] = [];
  private head = 0;
  private readonly committed = new Set<string>();
  private attempt: string | undefined;
  private finished = false;
  private failure: { error: unknown } | undefined;
  private stopped = false;
  private wake: (() => void) | undefined;
  private client: Promise<JobClient> | undefined;

  constructor(
    /** True without checkpointing: records are handed over as they are emitted. */
    readonly immediate: boolean,
  ) {}

  /** @internal Starts the job; its end ends the iteration, its failure fails it. */
  start(run: () => Promise<JobClient>): void {
    this.client = run();
    this.client.then(
      (c) =>
        c.result.then(
          () => this.end(undefined),
          (e: unknown) => this.end({ error: e }),
        ),
      (e: unknown) => this.end({ error: e }),
    );
  }

  /** The running job's client (savepoints, status, cancel). */
  jobClient(): Promise<JobClient> {
    return this.client ?? Promise.reject(new EddyError('INVALID_CONFIG', 'the job was not started', { component: 'collect' }));
  }

  /** @internal Appends a committed transaction's records (repeats, replayed after a restore, are ignored). */
  commit(transactionId: string, records: readonly unknown[]): void {
    if (this.stopped || this.finished) return;
    if (transactionId.startsWith(LIVE_COMMIT_PREFIX)) {
      const attempt = transactionId.slice(LIVE_COMMIT_PREFIX.length, transactionId.lastIndexOf(':'));
      if (this.attempt !== undefined && attempt !== this.attempt) {
        this.end({
          error: new EddyError(
            'JOB_FAILED',
            'the job restarted without checkpointing after results were delivered: they would repeat. Enable checkpointing for exactly-once results across restarts',
            { component: 'collect' },
          ),
        });
        void this.cancelJob();
        return;
      }
      this.attempt = attempt;
    } else {
      if (this.committed.has(transactionId)) return;
      this.committed.add(transactionId);
    }
    for (const r of records) this.values.push(r as T);
    this.signal();
  }

  async next(): Promise<IteratorResult<T, undefined>> {
    for (;;) {
      if (this.head < this.values.length) {
        const value = this.values[this.head];
        this.values[this.head++] = undefined as T;
        if (this.head === this.values.length) {
          this.values = [];
          this.head = 0;
        }
        return { value, done: false };
      }
      if (this.failure !== undefined) {
        const { error } = this.failure;
        this.failure = undefined;
        throw error;
      }
      if (this.finished) return { value: undefined, done: true };
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /** Stops the iteration and cancels the job (called by `break` in `for await`); resolves once the job stopped. */
  async return(): Promise<IteratorResult<T, undefined>> {
    if (!this.finished) {
      this.stopped = true;
      this.finished = true;
      this.values = [];
      this.head = 0;
      this.signal();
      await this.cancelJob();
    }
    return { value: undefined, done: true };
  }

  private async cancelJob(): Promise<void> {
    const client = await this.client?.catch(() => undefined);
    if (client && !['FINISHED', 'FAILED', 'CANCELED'].includes(client.getJobStatus())) await client.cancel().catch(() => {});
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private end(failure: { error: unknown } | undefined): void {
    if (this.finished) return;
    this.finished = true;
    this.failure = failure;
    this.signal();
  }

  private signal(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
