/** `process`: Flink's `ProcessOperator` and `KeyedProcessOperator`, with timers. */
import { StateError } from '../../api/errors.ts';
import type {
  Collector,
  KeyedProcessContext,
  KeyedProcessFunctionLike,
  OnTimerContext,
  ProcessContext,
  ProcessFunctionLike,
  TimeDomain,
  TimerService,
} from '../../api/functions.ts';
import type { Key } from '../../format/key-bytes.ts';
import { checkOutputTag, type OutputTag } from '../../api/output-tag.ts';
import type { Timer } from '../timers.ts';
import { AbstractStreamOperator } from './base.ts';
import type { OutputBuffer, RecordBatch } from './operator.ts';

/** Runs a `ProcessFunction` on a non-keyed stream; timers are refused. */
export class ProcessOperator<IN, OUT> extends AbstractStreamOperator<ProcessFunctionLike<IN, OUT>> {
  private timestamp = NaN;
  private readonly context: ProcessContext = {
    timestamp: () => (this.timestamp === this.timestamp ? this.timestamp : undefined),
    timerService: () => this.noTimers,
    output: (tag, value) => emitToSide(this.out, tag, value, this.ctx.displayName),
  };
  private out: OutputBuffer | undefined;
  private readonly noTimers: TimerService = this.refusingTimerService(() => this.watermark);
  private watermark = -Infinity;

  processBatch(batch: RecordBatch, out: OutputBuffer): void | Promise<void> {
    this.out = out;
    return this.forEachRecord(batch, out, 'processElement', (v, o) => {
      this.timestamp = o.timestamp;
      return this.fn.processElement(v as IN, this.context, o as Collector<OUT>);
    });
  }

  override processWatermark(watermark: number, out: OutputBuffer): Promise<void> {
    this.watermark = watermark;
    return super.processWatermark(watermark, out);
  }
}

/** Runs a `KeyedProcessFunction`: keyed state, timers, `onTimer`. */
export class KeyedProcessOperator<K extends Key, IN, OUT> extends AbstractStreamOperator<KeyedProcessFunctionLike<K, IN, OUT>> {
  private timestamp = NaN;
  private domain: TimeDomain = 'EVENT_TIME';
  private readonly timerService: TimerService = this.keyedTimerService();
  private readonly context: OnTimerContext<K> = {
    timestamp: () => (this.timestamp === this.timestamp ? this.timestamp : undefined),
    timerService: () => this.timerService,
    getCurrentKey: () => this.timerKey() as K,
    timeDomain: () => this.domain,
    output: (tag, value) => emitToSide(this.out, tag, value, this.ctx.displayName),
  };
  private out: OutputBuffer | undefined;

  processBatch(batch: RecordBatch, out: OutputBuffer): void | Promise<void> {
    this.out = out;
    return this.forEachRecord(batch, out, 'processElement', (v, o) => {
      this.timestamp = o.timestamp;
      return this.fn.processElement(v as IN, this.context as KeyedProcessContext<K>, o as Collector<OUT>);
    });
  }

  protected override onTimer(timer: Timer, out: OutputBuffer): unknown {
    this.timestamp = timer.timestamp;
    this.domain = timer.domain;
    this.out = out;
    return this.fn.onTimer?.(timer.timestamp, this.context, out as Collector<OUT>);
  }
}

/** `ctx.output(tag, value)`: into the side buffer of `tag`, stamped like a main-output record. */
export function emitToSide(out: OutputBuffer | undefined, tag: OutputTag<unknown>, value: unknown, operator: string): void {
  checkOutputTag(tag, operator);
  if (out === undefined) {
    throw new StateError('NO_KEY_CONTEXT', 'output() can only be called while a record or timer is processed', { component: 'datastream', operator });
  }
  out.sideOutput(tag.id).collect(value);
}
