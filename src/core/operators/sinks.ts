/** Sinks: a `SinkFunction`, a Sink V2 writer, and the collector behind `executeAndCollect`. */
import type { Sink, SinkContext, SinkFunction, SinkWriter } from '../../api/functions.ts';
import { AbstractStreamOperator } from './base.ts';
import type { OutputBuffer, RecordBatch } from './operator.ts';

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

/** Calls a `SinkFunction` (a plain function or an object with `invoke`) per record. */
export class SinkFunctionOperator<T> extends SinkBase<SinkFunction<T>> {
  private readonly call: (value: T, ctx: SinkContext) => void | Promise<void>;
  constructor(fn: SinkFunction<T>) {
    super(fn);
    this.call = typeof fn === 'function' ? (v) => fn(v) : (v, ctx) => fn.invoke(v, ctx);
  }
  processBatch(batch: RecordBatch, out: OutputBuffer): Promise<void> {
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
  processBatch(batch: RecordBatch, out: OutputBuffer): Promise<void> {
    return this.forEachRecord(batch, out, 'write', (v, o) => {
      this.timestamp = o.timestamp;
      return this.writer.write(v as T, this.sinkContext);
    });
  }
  override async finish(): Promise<void> {
    await this.callUser('flush', () => this.writer.flush?.(true));
  }
  override async close(): Promise<void> {
    if (this.writer) await this.callUser('close', () => this.writer.close?.());
    await super.close();
  }
}

/** Appends every record to an array owned by the caller of `executeAndCollect`. */
export class CollectSinkOperator<T> extends AbstractStreamOperator<undefined> {
  constructor(private readonly results: T[]) {
    super(undefined);
  }
  processBatch(batch: RecordBatch): void {
    for (const v of batch.values) this.results.push(v as T);
  }
}
