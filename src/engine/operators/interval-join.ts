/**
 * The interval join (Flink's `IntervalJoinOperator`): per key, each record of either side
 * waits in a buffer (a map state by timestamp) and is joined with every buffered record of
 * the other side whose timestamp lies within [left + lower, left + upper]. A record is
 * buffered until the watermark passes the last time a record of the other side could
 * still join it; an event-time cleanup timer then removes its bucket, so no state is
 * left behind once the watermark passed. Records behind the watermark are late: dropped,
 * or sent to a late-data side output.
 */
import { MapStateDescriptor } from '../../api/descriptors.ts';
import { StateError } from '../../api/errors.ts';
import type { Collector } from '../../api/functions.ts';
import type { ProcessJoinContext, ProcessJoinFunctionLike } from '../../api/join-functions.ts';
import type { MapState } from '../../api/state.ts';
import type { Timer } from '../timers.ts';
import { AbstractStreamOperator } from './base.ts';
import type { OperatorContext, OperatorRestore, OutputBuffer, RecordBatch } from './operator.ts';
import { emitToSide } from './process.ts';

/** The bounds of an interval join, as the user gave them. */
export interface IntervalJoinBounds {
  readonly lower: number;
  readonly upper: number;
  readonly lowerInclusive: boolean;
  readonly upperInclusive: boolean;
  /** Side outputs for late records of either side (tag ids), if any. */
  readonly leftLateTag?: string;
  readonly rightLateTag?: string;
}

// Flink's names, so that the states read the same in a checkpoint.
const LEFT_BUFFER = 'LEFT_BUFFER';
const RIGHT_BUFFER = 'RIGHT_BUFFER';
const CLEANUP_LEFT = 'CLEANUP_LEFT';
const CLEANUP_RIGHT = 'CLEANUP_RIGHT';

/** Joins the records of two keyed streams that lie within an interval of each other. */
export class IntervalJoinOperator<IN1, IN2, OUT> extends AbstractStreamOperator<ProcessJoinFunctionLike<IN1, IN2, OUT>> {
  /** Inclusive bounds (exclusive ones moved by 1 ms, as in Flink). */
  private readonly lower: number;
  private readonly upper: number;
  private leftBuffer!: MapState<number, unknown[]>;
  private rightBuffer!: MapState<number, unknown[]>;
  private out: OutputBuffer | undefined;
  private leftTimestamp = NaN;
  private rightTimestamp = NaN;
  private readonly context: ProcessJoinContext = {
    getLeftTimestamp: () => this.leftTimestamp,
    getRightTimestamp: () => this.rightTimestamp,
    getTimestamp: () => Math.max(this.leftTimestamp, this.rightTimestamp),
    output: (tag, value) => emitToSide(this.out, tag, value, this.ctx.displayName),
  };

  constructor(
    fn: ProcessJoinFunctionLike<IN1, IN2, OUT>,
    private readonly bounds: IntervalJoinBounds,
  ) {
    super(fn);
    this.lower = bounds.lowerInclusive ? bounds.lower : bounds.lower + 1;
    this.upper = bounds.upperInclusive ? bounds.upper : bounds.upper - 1;
  }

  override async initializeState(ctx: OperatorContext, restore?: OperatorRestore): Promise<void> {
    await super.initializeState(ctx, restore);
    this.leftBuffer = this.keyedStore!.getMapState(new MapStateDescriptor<number, unknown[]>(LEFT_BUFFER));
    this.rightBuffer = this.keyedStore!.getMapState(new MapStateDescriptor<number, unknown[]>(RIGHT_BUFFER));
  }

  processBatch(batch: RecordBatch, out: OutputBuffer): void | Promise<void> {
    this.out = out;
    return this.forEachRecord(batch, out, 'processElement', (v, o) => this.processElement(v, o, true));
  }

  processBatch2(batch: RecordBatch, out: OutputBuffer): void | Promise<void> {
    this.out = out;
    return this.forEachRecord(batch, out, 'processElement', (v, o) => this.processElement(v, o, false));
  }

  private async processElement(value: unknown, out: OutputBuffer, isLeft: boolean): Promise<void> {
    const ts = out.timestamp;
    if (ts !== ts) {
      throw new StateError(
        'INVALID_ARGUMENT',
        `a record of the ${isLeft ? 'left' : 'right'} input has no timestamp: an interval join works in event time, so assign timestamps (assignTimestampsAndWatermarks or a source's WatermarkStrategy) to both inputs`,
        { component: 'interval-join', operator: this.ctx.displayName, key: this.backend!.getCurrentKey() },
      );
    }
    const watermark = this.timers!.watermark;
    if (ts < watermark) {
      const tag = isLeft ? this.bounds.leftLateTag : this.bounds.rightLateTag;
      if (tag !== undefined) out.sideOutput(tag).collect(value);
      return;
    }
    const [ours, other] = isLeft ? [this.leftBuffer, this.rightBuffer] : [this.rightBuffer, this.leftBuffer];
    // The other side's timestamps that join this record.
    const from = isLeft ? ts + this.lower : ts - this.upper;
    const to = isLeft ? ts + this.upper : ts - this.lower;
    // A new list rather than the stored one changed in place: a backend may share it with a snapshot.
    await ours.put(ts, [...((await ours.get(ts)) ?? []), value]);
    for await (const [otherTs, values] of other.entries()) {
      if (otherTs < from || otherTs > to) continue;
      for (const o of values) {
        if (isLeft) await this.collect(value, o, ts, otherTs, out);
        else await this.collect(o, value, otherTs, ts, out);
      }
    }
    const relativeUpper = isLeft ? this.upper : -this.lower;
    const cleanupTime = relativeUpper > 0 ? ts + relativeUpper : ts;
    this.timers!.register('EVENT_TIME', this.backend!.getCurrentKey()!, this.currentKeyGroup, cleanupTime, isLeft ? CLEANUP_LEFT : CLEANUP_RIGHT);
  }

  private async collect(left: unknown, right: unknown, leftTs: number, rightTs: number, out: OutputBuffer): Promise<void> {
    this.leftTimestamp = leftTs;
    this.rightTimestamp = rightTs;
    const saved = out.timestamp;
    out.timestamp = Math.max(leftTs, rightTs);
    try {
      await this.fn.processElement(left as IN1, right as IN2, this.context, out as Collector<OUT>);
    } finally {
      out.timestamp = saved;
    }
  }

  /** Removes the bucket whose last chance to join has passed (the inverse of the cleanup time above). */
  protected override async onTimer(timer: Timer): Promise<void> {
    if (timer.namespace === CLEANUP_LEFT) await this.leftBuffer.remove(this.upper <= 0 ? timer.timestamp : timer.timestamp - this.upper);
    else if (timer.namespace === CLEANUP_RIGHT) await this.rightBuffer.remove(this.lower <= 0 ? timer.timestamp + this.lower : timer.timestamp);
  }
}
