/**
 * Assigns event-time timestamps and generates watermarks (Flink's
 * `TimestampsAndWatermarksOperator`); shared by `assignTimestampsAndWatermarks` and
 * sources created with a watermark strategy.
 */
import { MAX_WATERMARK, type WatermarkGenerator, type WatermarkStrategy } from '../../api/watermarks.ts';
import { EddyError, UserFunctionError } from '../../api/errors.ts';
import { AbstractStreamOperator } from './base.ts';
import type { OperatorContext, OutputBuffer, RecordBatch } from './operator.ts';

/** Stamps records and asks the generator for a watermark after every batch. */
export class TimestampAssignment<T> {
  private readonly generator: WatermarkGenerator<T>;
  private operator = '';
  private readonly output = {
    emitWatermark: (ts: number) => {
      // Watermarks are longs in Flink; NaN, Infinity or anything past the final watermark
      // would stop event time for good (no timer fires again), so they are refused.
      if (typeof ts !== 'number' || !Number.isFinite(ts) || Math.abs(ts) > MAX_WATERMARK) {
        throw new UserFunctionError(
          `the watermark generator emitted a watermark of ${String(ts)}; a watermark must be a finite number of ms of at most Number.MAX_SAFE_INTEGER (MAX_WATERMARK, the end of input)`,
          { component: 'watermarks', operator: this.operator },
          undefined,
        );
      }
      this.out?.emitWatermark(ts);
    },
  };
  private out: OutputBuffer | undefined;
  constructor(private readonly strategy: WatermarkStrategy<T>) {
    this.generator = strategy.createWatermarkGenerator();
  }

  /** Collects the records of `values` into `out` with their assigned timestamps, then emits a watermark. */
  assign(values: readonly unknown[], timestamps: readonly number[] | undefined, out: OutputBuffer, operator: string): void {
    const assigner = this.strategy.timestampAssigner;
    this.out = out;
    this.operator = operator;
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

  /** Asks the generator for a watermark between batches (the auto-watermark interval). */
  periodicEmit(out: OutputBuffer, operator: string): void {
    this.out = out;
    this.operator = operator;
    this.generator.onPeriodicEmit(this.output);
    this.out = undefined;
  }
}

/**
 * Asks `assignment`'s generator for a watermark every `ctx.autoWatermarkInterval` ms of
 * processing time, so that event time advances while a source is quiet (Flink's periodic
 * watermark emission). Call `start()` from `open()` and `tick()` from `onProcessingTime`.
 */
export class PeriodicWatermarks {
  private stopped = false;
  constructor(
    private readonly assignment: TimestampAssignment<unknown> | undefined,
    private readonly ctx: OperatorContext,
  ) {}

  start(): void {
    if (this.assignment !== undefined && this.ctx.autoWatermarkInterval > 0)
      this.ctx.scheduleProcessingTime(this.ctx.clock.now() + this.ctx.autoWatermarkInterval);
  }

  tick(out: OutputBuffer): void {
    if (this.assignment === undefined || this.stopped) return;
    this.assignment.periodicEmit(out, this.ctx.displayName);
    this.start();
  }

  /** The input ended (the final watermark went out): no more periodic watermarks. */
  stop(): void {
    this.stopped = true;
  }
}

/** The operator behind `DataStream.assignTimestampsAndWatermarks`. */
export class TimestampsAndWatermarksOperator<T> extends AbstractStreamOperator<undefined> {
  private readonly assignment: TimestampAssignment<T>;
  private periodic!: PeriodicWatermarks;
  constructor(strategy: WatermarkStrategy<T>) {
    super(undefined);
    this.assignment = new TimestampAssignment(strategy);
  }
  override async open(): Promise<void> {
    await super.open();
    this.periodic = new PeriodicWatermarks(this.assignment as TimestampAssignment<unknown>, this.ctx);
    this.periodic.start();
  }
  processBatch(batch: RecordBatch, out: OutputBuffer): void {
    this.assignment.assign(batch.values, batch.timestamps, out, this.ctx.displayName);
  }
  /** Upstream watermarks are replaced by this operator's own, except the final one. */
  override async processWatermark(watermark: number, out: OutputBuffer): Promise<void> {
    if (watermark !== MAX_WATERMARK) return;
    this.periodic.stop();
    out.emitWatermark(watermark);
  }
  override async onProcessingTime(_now: number, out: OutputBuffer): Promise<void> {
    this.periodic.tick(out);
  }
}
