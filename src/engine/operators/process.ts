/** `process`: Flink's `ProcessOperator` and `KeyedProcessOperator`, with timers. */
import { MAX_WATERMARK } from '../../api/watermarks.ts';
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
  private readonly noTimers: TimerService = {
    currentProcessingTime: () => this.ctx.clock.now(),
    currentWatermark: () => this.watermark,
    registerEventTimeTimer: () => this.refuse(),
    registerProcessingTimeTimer: () => this.refuse(),
    deleteEventTimeTimer: () => this.refuse(),
    deleteProcessingTimeTimer: () => this.refuse(),
  };
  private watermark = -Infinity;

  processBatch(batch: RecordBatch, out: OutputBuffer): Promise<void> {
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

  private refuse(): never {
    throw new StateError('NO_KEY_CONTEXT', 'timers can only be used on a keyed stream: call keyBy() before process()', {
      component: 'timers',
      operator: this.ctx.displayName,
    });
  }
}

/** Runs a `KeyedProcessFunction`: keyed state, timers, `onTimer`. */
export class KeyedProcessOperator<K extends Key, IN, OUT> extends AbstractStreamOperator<KeyedProcessFunctionLike<K, IN, OUT>> {
  private timestamp = NaN;
  private domain: TimeDomain = 'EVENT_TIME';
  private readonly timerService: TimerService = {
    currentProcessingTime: () => this.ctx.clock.now(),
    currentWatermark: () => this.timers!.watermark,
    registerEventTimeTimer: (t) => this.register('EVENT_TIME', t),
    registerProcessingTimeTimer: (t) => {
      if (this.register('PROCESSING_TIME', t)) this.ctx.scheduleProcessingTime(t);
    },
    deleteEventTimeTimer: (t) => this.timers!.delete('EVENT_TIME', this.currentKey(), t),
    deleteProcessingTimeTimer: (t) => this.timers!.delete('PROCESSING_TIME', this.currentKey(), t),
  };
  private readonly context: OnTimerContext<K> = {
    timestamp: () => (this.timestamp === this.timestamp ? this.timestamp : undefined),
    timerService: () => this.timerService,
    getCurrentKey: () => this.currentKey() as K,
    timeDomain: () => this.domain,
    output: (tag, value) => emitToSide(this.out, tag, value, this.ctx.displayName),
  };
  private out: OutputBuffer | undefined;

  processBatch(batch: RecordBatch, out: OutputBuffer): Promise<void> {
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

  private currentKey(): Key {
    const key = this.backend!.getCurrentKey();
    if (key === undefined) {
      throw new StateError('NO_KEY_CONTEXT', 'timers can only be registered or deleted while a record or timer is processed (not in open() or close())', {
        component: 'timers',
        operator: this.ctx.displayName,
      });
    }
    return key;
  }

  private register(domain: TimeDomain, time: number): boolean {
    // Timers are longs in Flink: a timestamp past the final watermark (MAX_WATERMARK,
    // Number.MAX_SAFE_INTEGER) could never fire, not even at the end of the input.
    if (typeof time !== 'number' || !Number.isFinite(time) || Math.abs(time) > MAX_WATERMARK) {
      throw new StateError(
        'INVALID_ARGUMENT',
        `a ${domain === 'EVENT_TIME' ? 'event' : 'processing'}-time timer needs a finite timestamp in ms of at most Number.MAX_SAFE_INTEGER (MAX_WATERMARK, which fires at the end of input), got ${String(time)}`,
        { component: 'timers', operator: this.ctx.displayName, key: this.backend!.getCurrentKey() },
      );
    }
    const key = this.currentKey();
    return this.timers!.register(domain, key, this.currentKeyGroup, time);
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
