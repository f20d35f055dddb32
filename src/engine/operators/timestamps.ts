/**
 * Assigns event-time timestamps and generates watermarks (Flink's
 * `TimestampsAndWatermarksOperator`); shared by `assignTimestampsAndWatermarks` and
 * sources created with a watermark strategy.
 */
import { MAX_WATERMARK, type WatermarkGenerator, type WatermarkOutput, type WatermarkStrategy } from '../../api/watermarks.ts';
import { EddyError, UserFunctionError } from '../../api/errors.ts';
import { AbstractStreamOperator } from './base.ts';
import type { OperatorContext, OutputBuffer, RecordBatch } from './operator.ts';

/**
 * Stamps records and asks the generator for a watermark after every batch and, every
 * `ctx.autoWatermarkInterval` ms of processing time, between batches, so that event time
 * advances while a source is quiet (Flink's periodic watermark emission). Passes on the
 * generator's idleness: idle until the next record or watermark.
 */
export class TimestampAssignment<T> {
  private generator!: WatermarkGenerator<T>;
  private ctx!: OperatorContext;
  private out: OutputBuffer | undefined;
  private idle = false;
  private ended = false;
  private readonly output: WatermarkOutput = {
    emitWatermark: (ts: number) => {
      // Watermarks are longs in Flink; NaN, Infinity or anything past the final watermark
      // would stop event time for good (no timer fires again), so they are refused.
      if (typeof ts !== 'number' || !Number.isFinite(ts) || Math.abs(ts) > MAX_WATERMARK) {
        throw new UserFunctionError(
          `the watermark generator emitted a watermark of ${String(ts)}; a watermark must be a finite number of ms of at most Number.MAX_SAFE_INTEGER (MAX_WATERMARK, the end of input)`,
          { component: 'watermarks', operator: this.ctx.displayName },
          undefined,
        );
      }
      this.markActive();
      this.out?.emitWatermark(ts);
    },
    markIdle: () => {
      if (this.idle || this.out === undefined) return;
      this.idle = true;
      this.out.emitIdleness(true);
    },
    markActive: () => this.markActive(),
  };

  constructor(private readonly strategy: WatermarkStrategy<T>) {}

  /** Creates the generator (it may read the job's clock) and starts the periodic emission. */
  open(ctx: OperatorContext): void {
    this.ctx = ctx;
    this.generator = this.strategy.createWatermarkGenerator({ currentProcessingTime: () => ctx.clock.now() });
    this.schedule();
  }

  /** Collects the records of `values` into `out` with their assigned timestamps, then emits a watermark. */
  assign(values: readonly unknown[], timestamps: readonly number[] | undefined, out: OutputBuffer): void {
    const assigner = this.strategy.timestampAssigner;
    const operator = this.ctx.displayName;
    this.out = out;
    if (values.length > 0) this.markActive();
    for (let i = 0; i < values.length; i++) {
      const v = values[i] as T;
      const previous = timestamps === undefined ? NaN : timestamps[i];
      let ts = previous;
      if (assigner) {
        try {
          ts = assigner(v, previous === previous ? previous : undefined);
        } catch (e) {
          throw e instanceof EddyError ? e : new UserFunctionError(`timestamp assigner threw: ${e instanceof Error ? e.message : String(e)}`, { operator }, e);
        }
        if (typeof ts !== 'number' || !Number.isFinite(ts) || Math.abs(ts) > MAX_WATERMARK) {
          throw new UserFunctionError(
            `timestamp assigner returned ${String(ts)}; it must return a finite number of ms of at most Number.MAX_SAFE_INTEGER`,
            { component: 'watermarks', operator },
            undefined,
          );
        }
      }
      out.timestamp = ts;
      out.collect(v);
      if (ts === ts) this.generator.onEvent(v, ts, this.output);
    }
    this.generator.onPeriodicEmit(this.output);
    this.out = undefined;
  }

  /** The periodic emission's wake-up (from the operator's `onProcessingTime`). */
  onProcessingTime(out: OutputBuffer): void {
    if (this.ended) return;
    this.out = out;
    this.generator.onPeriodicEmit(this.output);
    this.out = undefined;
    this.schedule();
  }

  /** The input ended (the final watermark goes out): no more periodic watermarks. */
  end(): void {
    this.ended = true;
  }

  private schedule(): void {
    const interval = this.ctx.autoWatermarkInterval;
    if (interval > 0) this.ctx.scheduleProcessingTime(this.ctx.clock.now() + interval);
  }

  private markActive(): void {
    if (!this.idle) return;
    this.idle = false;
    this.out?.emitIdleness(false);
  }
}

/** The operator behind `DataStream.assignTimestampsAndWatermarks`. */
export class TimestampsAndWatermarksOperator<T> extends AbstractStreamOperator<undefined> {
  private readonly assignment: TimestampAssignment<T>;
  constructor(strategy: WatermarkStrategy<T>) {
    super(undefined);
    this.assignment = new TimestampAssignment(strategy);
  }
  override async open(): Promise<void> {
    await super.open();
    this.assignment.open(this.ctx);
  }
  processBatch(batch: RecordBatch, out: OutputBuffer): void {
    this.assignment.assign(batch.values, batch.timestamps, out);
  }
  /** Upstream watermarks (and idleness) are replaced by this operator's own, except the final watermark. */
  override async processWatermark(watermark: number, out: OutputBuffer): Promise<void> {
    if (watermark !== MAX_WATERMARK) return;
    this.assignment.end();
    out.emitWatermark(watermark);
  }
  override processIdleness(): void {}
  override async onProcessingTime(_now: number, out: OutputBuffer): Promise<void> {
    this.assignment.onProcessingTime(out);
  }
}
