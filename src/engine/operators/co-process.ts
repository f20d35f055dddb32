/**
 * Operators of connected streams (Flink's `CoStreamMap`, `CoStreamFlatMap`,
 * `CoProcessOperator`, `KeyedCoProcessOperator`): `processBatch` takes the first input,
 * `processBatch2` the second. The task gives them the minimum of both inputs' watermarks
 * and aligns barriers over both, so a timer fires only once both inputs passed it.
 */
import type { CoFlatMapFunction, CoMapFunction, CoProcessFunctionLike, KeyedCoProcessFunctionLike } from '../../api/co-functions.ts';
import type { Collector, KeyedProcessContext, OnTimerContext, ProcessContext, TimeDomain, TimerService } from '../../api/functions.ts';
import type { Key } from '../../format/key-bytes.ts';
import type { Timer } from '../timers.ts';
import { AbstractStreamOperator, isThenable } from './base.ts';
import type { OutputBuffer, RecordBatch } from './operator.ts';
import { emitToSide } from './process.ts';

/** `connect(...).map(coMap)`: `map1` for the first input, `map2` for the second. */
export class CoMapOperator<IN1, IN2, OUT> extends AbstractStreamOperator<CoMapFunction<IN1, IN2, OUT>> {
  processBatch(batch: RecordBatch, out: OutputBuffer): void | Promise<void> {
    return this.forEachRecord(batch, out, 'map1', (v, o) => collectResult(this.fn.map1(v as IN1), o));
  }
  processBatch2(batch: RecordBatch, out: OutputBuffer): void | Promise<void> {
    return this.forEachRecord(batch, out, 'map2', (v, o) => collectResult(this.fn.map2(v as IN2), o));
  }
}

function collectResult(r: unknown, out: OutputBuffer): unknown {
  if (isThenable(r)) return r.then((x) => out.collect(x));
  out.collect(r);
  return undefined;
}

/** `connect(...).flatMap(coFlatMap)`: `flatMap1` for the first input, `flatMap2` for the second. */
export class CoFlatMapOperator<IN1, IN2, OUT> extends AbstractStreamOperator<CoFlatMapFunction<IN1, IN2, OUT>> {
  processBatch(batch: RecordBatch, out: OutputBuffer): void | Promise<void> {
    return this.forEachRecord(batch, out, 'flatMap1', (v, o) => this.fn.flatMap1(v as IN1, o as Collector<OUT>));
  }
  processBatch2(batch: RecordBatch, out: OutputBuffer): void | Promise<void> {
    return this.forEachRecord(batch, out, 'flatMap2', (v, o) => this.fn.flatMap2(v as IN2, o as Collector<OUT>));
  }
}

/** `connect(...).process(coProcessFunction)` on streams that are not keyed: timers are refused. */
export class CoProcessOperator<IN1, IN2, OUT> extends AbstractStreamOperator<CoProcessFunctionLike<IN1, IN2, OUT>> {
  private timestamp = NaN;
  private watermark = -Infinity;
  private out: OutputBuffer | undefined;
  private readonly noTimers: TimerService = this.refusingTimerService(() => this.watermark);
  private readonly context: ProcessContext = {
    timestamp: () => (this.timestamp === this.timestamp ? this.timestamp : undefined),
    timerService: () => this.noTimers,
    output: (tag, value) => emitToSide(this.out, tag, value, this.ctx.displayName),
  };

  processBatch(batch: RecordBatch, out: OutputBuffer): void | Promise<void> {
    this.out = out;
    return this.forEachRecord(batch, out, 'processElement1', (v, o) => {
      this.timestamp = o.timestamp;
      return this.fn.processElement1(v as IN1, this.context, o as Collector<OUT>);
    });
  }

  processBatch2(batch: RecordBatch, out: OutputBuffer): void | Promise<void> {
    this.out = out;
    return this.forEachRecord(batch, out, 'processElement2', (v, o) => {
      this.timestamp = o.timestamp;
      return this.fn.processElement2(v as IN2, this.context, o as Collector<OUT>);
    });
  }

  override processWatermark(watermark: number, out: OutputBuffer): Promise<void> {
    this.watermark = watermark;
    return super.processWatermark(watermark, out);
  }
}

/** `connect(...).keyBy(keyA, keyB).process(keyedCoProcessFunction)`: keyed state and timers shared by both inputs. */
export class KeyedCoProcessOperator<K extends Key, IN1, IN2, OUT> extends AbstractStreamOperator<KeyedCoProcessFunctionLike<K, IN1, IN2, OUT>> {
  private timestamp = NaN;
  private domain: TimeDomain = 'EVENT_TIME';
  private out: OutputBuffer | undefined;
  private readonly timerService: TimerService = this.keyedTimerService();
  private readonly context: OnTimerContext<K> = {
    timestamp: () => (this.timestamp === this.timestamp ? this.timestamp : undefined),
    timerService: () => this.timerService,
    getCurrentKey: () => this.timerKey() as K,
    timeDomain: () => this.domain,
    output: (tag, value) => emitToSide(this.out, tag, value, this.ctx.displayName),
  };

  processBatch(batch: RecordBatch, out: OutputBuffer): void | Promise<void> {
    this.out = out;
    return this.forEachRecord(batch, out, 'processElement1', (v, o) => {
      this.timestamp = o.timestamp;
      return this.fn.processElement1(v as IN1, this.context as KeyedProcessContext<K>, o as Collector<OUT>);
    });
  }

  processBatch2(batch: RecordBatch, out: OutputBuffer): void | Promise<void> {
    this.out = out;
    return this.forEachRecord(batch, out, 'processElement2', (v, o) => {
      this.timestamp = o.timestamp;
      return this.fn.processElement2(v as IN2, this.context as KeyedProcessContext<K>, o as Collector<OUT>);
    });
  }

  protected override onTimer(timer: Timer, out: OutputBuffer): unknown {
    this.timestamp = timer.timestamp;
    this.domain = timer.domain;
    this.out = out;
    return this.fn.onTimer?.(timer.timestamp, this.context, out as Collector<OUT>);
  }
}
