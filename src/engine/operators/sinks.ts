/** Sinks: a `SinkFunction`, a Sink V2 writer, and the collector behind `executeAndCollect`. */
import type { CheckpointListener, Sink, SinkContext, SinkFunction, SinkWriter } from '../../api/functions.ts';
import { TwoPhaseCommitSink } from '../../api/two-phase-commit.ts';
import type { CollectTarget } from '../graph.ts';
import { AbstractStreamOperator } from './base.ts';
import type { OutputBuffer, PendingSnapshot, RecordBatch, SnapshotOptions } from './operator.ts';

abstract class SinkBase<F> extends AbstractStreamOperator<F> {
  protected watermark = -Infinity;
  protected timestamp = NaN;
  protected readonly sinkContext: SinkContext = {
    timestamp: () => (this.timestamp === this.timestamp ? this.timestamp : undefined),
    currentWatermark: () => this.watermark,
    currentProcessingTime: () => this.ctx.clock.now(),
  };

  override processWatermark(watermark: number, out: OutputBuffer): Promise<void> {
    this.watermark = watermark;
    return super.processWatermark(watermark, out);
  }
}

/** Calls a `SinkFunction` (a plain function, an object with `invoke`, or a `TwoPhaseCommitSink`) per record. */
export class SinkFunctionOperator<T> extends SinkBase<SinkFunction<T> | TwoPhaseCommitSink<T, unknown>> {
  private readonly call: (value: T, ctx: SinkContext) => void | Promise<void>;
  constructor(fn: SinkFunction<T> | TwoPhaseCommitSink<T, unknown>) {
    super(fn);
    if (fn instanceof TwoPhaseCommitSink) this.call = (v, ctx) => fn.write(v, ctx);
    else this.call = typeof fn === 'function' ? (v) => fn(v) : (v, ctx) => fn.invoke(v, ctx);
  }
  processBatch(batch: RecordBatch, out: OutputBuffer): void | Promise<void> {
    return this.forEachRecord(batch, out, 'invoke', (v, o) => {
      this.timestamp = o.timestamp;
      return this.call(v as T, this.sinkContext);
    });
  }
}

/** Writes records through the writer a {@link Sink} creates per subtask. */
export class SinkWriterOperator<T> extends SinkBase<undefined> {
  private writer!: SinkWriter<T>;
  constructor(private readonly sink: Sink<T>) {
    super(undefined);
  }
  override async open(): Promise<void> {
    await this.callUser('createWriter', async () => {
      this.writer = await this.sink.createWriter({
        getSubtaskId: () => this.ctx.subtaskIndex,
        getNumberOfParallelSubtasks: () => this.ctx.parallelism,
      });
    });
  }
  processBatch(batch: RecordBatch, out: OutputBuffer): void | Promise<void> {
    return this.forEachRecord(batch, out, 'write', (v, o) => {
      this.timestamp = o.timestamp;
      return this.writer.write(v as T, this.sinkContext);
    });
  }
  override async finish(): Promise<void> {
    this.endOfInput = true;
    await this.callUser('flush', () => this.writer.flush?.(true));
  }
  private endOfInput = false;

  /**
   * Sink V2: the writer flushes what it buffered before every checkpoint (`flush(false)`,
   * Flink's `prepareSnapshotPreBarrier`), so that the checkpoint covers it; after the end
   * of input the final `flush(true)` did it.
   */
  override async snapshotState(checkpointId: number, timestamp: number, options?: SnapshotOptions): Promise<PendingSnapshot> {
    if (!this.endOfInput && this.writer) await this.callUser('flush', () => this.writer.flush?.(false));
    return super.snapshotState(checkpointId, timestamp, options);
  }
  /** A writer that is a `CheckpointListener` hears of completed checkpoints too. */
  override async notifyCheckpointComplete(checkpointId: number): Promise<void> {
    await super.notifyCheckpointComplete(checkpointId);
    const w = this.writer as Partial<CheckpointListener> | undefined;
    if (typeof w?.notifyCheckpointComplete === 'function') await this.callUser('notifyCheckpointComplete', () => w.notifyCheckpointComplete!(checkpointId));
  }
  /** ... and of failed or aborted ones. */
  override async notifyCheckpointAborted(checkpointId: number): Promise<void> {
    await super.notifyCheckpointAborted(checkpointId);
    const w = this.writer as Partial<CheckpointListener> | undefined;
    if (typeof w?.notifyCheckpointAborted === 'function') await this.callUser('notifyCheckpointAborted', () => w.notifyCheckpointAborted!(checkpointId));
  }
  override async close(): Promise<void> {
    if (this.writer) await this.callUser('close', () => this.writer.close?.());
    await super.close();
  }
}

/** The records `executeAndCollect` resolves to; committed transactions are applied once. */
export class CollectResults<T> implements CollectTarget {
  readonly records: T[] = [];
  /** Tells this execution's transactions from those of the job a savepoint was taken of. */
  readonly id = Math.random().toString(36).slice(2);
  private readonly committed = new Set<string>();
  /** Appends a transaction's records unless it was committed before (commits are replayed after a restore). */
  commit(id: string, records: readonly unknown[]): void {
    if (this.committed.has(id)) return;
    this.committed.add(id);
    for (const r of records) this.records.push(r as T);
  }
}

/**
 * The sink behind `executeAndCollect`: a two-phase-commit sink whose transactions are
 * lists of records, so that what the caller receives is exactly-once across restarts.
 */
export class CollectSink<T> extends TwoPhaseCommitSink<T, CollectTransaction<T>> {
  private nonce = '';
  private counter = 0;
  constructor(private readonly results: CollectTarget) {
    super();
  }
  beginTransaction(): CollectTransaction<T> {
    if (this.nonce === '') this.nonce = Math.random().toString(36).slice(2);
    return { results: this.results.id, id: `${this.nonce}-${this.counter++}`, records: [] };
  }
  invoke(txn: CollectTransaction<T>, value: T): void {
    txn.records.push(value);
  }
  preCommit(): void {}
  commit(txn: CollectTransaction<T>): void {
    this.results.commit(txn.id, txn.records);
  }
  /**
   * Transactions restored from a savepoint of another execution went to that
   * execution's caller (the savepoint's completion committed them there); only this
   * execution's own are committed again.
   */
  override recoverAndCommit(txn: CollectTransaction<T>): void {
    if (txn.results === this.results.id) this.commit(txn);
  }
  abort(): void {}
}

/**
 * The collect sink without checkpointing: hands every record over at once under a
 * `live:<attempt>:<n>` id, so that the receiver notices a restarted attempt.
 */
export class ImmediateCollectSink<T> {
  private attempt = '';
  private counter = 0;
  constructor(private readonly results: CollectTarget) {}
  invoke(value: T): void {
    if (this.attempt === '') this.attempt = Math.random().toString(36).slice(2);
    this.results.commit(`live:${this.attempt}:${this.counter++}`, [value]);
  }
}

/** A transaction of the collect sink: the records of one checkpoint interval. */
interface CollectTransaction<T> {
  readonly results: string;
  readonly id: string;
  readonly records: T[];
}
