/**
 * Assigns event-time timestamps and generates watermarks (Flink's
 * `TimestampsAndWatermarksOperator`); shared by `assignTimestampsAndWatermarks` and
 * sources created with a watermark strategy.
 */
import { MAX_WATERMARK, type WatermarkGenerator, type WatermarkStrategy } from '../../api/watermarks.ts';
import { EddyError, UserFunctionError } from '../../api/errors.ts';
import { AbstractStreamOperator } from './base.ts';
import type { OutputBuffer, RecordBatch } from './operator.ts';

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
    markIdle: () => this.out?.markIdle(),
    markActive: () => this.out?.markActive(),
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
}

/** The operator behind `DataStream.assignTimestampsAndWatermarks`. */
export class TimestampsAndWatermarksOperator<T> extends AbstractStreamOperator<undefined> {
  private readonly assignment: TimestampAssignment<T>;
  constructor(strategy: WatermarkStrategy<T>) {
    super(undefined);
    this.assignment = new TimestampAssignment(strategy);
  }
  processBatch(batch: RecordBatch, out: OutputBuffer): void {
    this.assignment.assign(batch.values, batch.timestamps, out, this.ctx.displayName);
  }
  /** Upstream idleness is replaced by this operator's own (its generator decides), as its watermarks are. */
  processWatermarkStatus(): void {}
  /** Upstream watermarks are replaced by this operator's own, except the final one. */
  override async processWatermark(watermark: number, out: OutputBuffer): Promise<void> {
    if (watermark === MAX_WATERMARK) out.emitWatermark(watermark);
  }
}
