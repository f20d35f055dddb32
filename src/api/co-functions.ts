/**
 * The functions of connected streams (`a.connect(b)`), Flink's names: one method per
 * input, each seeing only its own input's records. On connected streams that were keyed
 * with `keyBy(keyA, keyB)` both methods share the keyed state and timers of the key.
 */
import type { Awaitable, Collector, KeyedProcessContext, OnTimerContext, ProcessContext, RichFunction } from './functions.ts';
import { AbstractRichFunction } from './functions.ts';

/** The function of `ConnectedStreams.map`: one output per record of either input (Flink's `CoMapFunction`). */
export interface CoMapFunction<IN1, IN2, OUT> extends RichFunction {
  map1(value: IN1): Awaitable<OUT>;
  map2(value: IN2): Awaitable<OUT>;
}

/** The function of `ConnectedStreams.flatMap`: any number of outputs per record of either input (Flink's `CoFlatMapFunction`). */
export interface CoFlatMapFunction<IN1, IN2, OUT> extends RichFunction {
  flatMap1(value: IN1, out: Collector<OUT>): Awaitable<void>;
  flatMap2(value: IN2, out: Collector<OUT>): Awaitable<void>;
}

/** Base class of a co-map function with `open`/`close` (Flink's `RichCoMapFunction`). */
export abstract class RichCoMapFunction<IN1, IN2, OUT> extends AbstractRichFunction implements CoMapFunction<IN1, IN2, OUT> {
  abstract map1(value: IN1): Awaitable<OUT>;
  abstract map2(value: IN2): Awaitable<OUT>;
}

/** Base class of a co-flat-map function with `open`/`close` (Flink's `RichCoFlatMapFunction`). */
export abstract class RichCoFlatMapFunction<IN1, IN2, OUT> extends AbstractRichFunction implements CoFlatMapFunction<IN1, IN2, OUT> {
  abstract flatMap1(value: IN1, out: Collector<OUT>): Awaitable<void>;
  abstract flatMap2(value: IN2, out: Collector<OUT>): Awaitable<void>;
}

/**
 * Shape of a co-process function on connected streams that are not keyed: no keyed state,
 * and timers are refused as in Flink (`ctx.timerService()` only reads the times).
 */
export interface CoProcessFunctionLike<IN1, IN2, OUT> extends RichFunction {
  processElement1(value: IN1, ctx: ProcessContext, out: Collector<OUT>): Awaitable<void>;
  processElement2(value: IN2, ctx: ProcessContext, out: Collector<OUT>): Awaitable<void>;
}

/** Base class of a co-process function (Flink's `CoProcessFunction`). */
export abstract class CoProcessFunction<IN1, IN2, OUT> extends AbstractRichFunction implements CoProcessFunctionLike<IN1, IN2, OUT> {
  abstract processElement1(value: IN1, ctx: ProcessContext, out: Collector<OUT>): Awaitable<void>;
  abstract processElement2(value: IN2, ctx: ProcessContext, out: Collector<OUT>): Awaitable<void>;
}

/**
 * Shape of a keyed co-process function (connected streams keyed with `keyBy(keyA, keyB)`):
 * both inputs share the keyed state and the timers of the current key; `onTimer` fires
 * once the operator's watermark — the minimum of both inputs' watermarks — passes a timer.
 */
export interface KeyedCoProcessFunctionLike<K, IN1, IN2, OUT> extends RichFunction {
  processElement1(value: IN1, ctx: KeyedProcessContext<K>, out: Collector<OUT>): Awaitable<void>;
  processElement2(value: IN2, ctx: KeyedProcessContext<K>, out: Collector<OUT>): Awaitable<void>;
  onTimer?(timestamp: number, ctx: OnTimerContext<K>, out: Collector<OUT>): Awaitable<void>;
}

/** Base class of a keyed co-process function (Flink's `KeyedCoProcessFunction`). */
export abstract class KeyedCoProcessFunction<K, IN1, IN2, OUT> extends AbstractRichFunction implements KeyedCoProcessFunctionLike<K, IN1, IN2, OUT> {
  abstract processElement1(value: IN1, ctx: KeyedProcessContext<K>, out: Collector<OUT>): Awaitable<void>;
  abstract processElement2(value: IN2, ctx: KeyedProcessContext<K>, out: Collector<OUT>): Awaitable<void>;
  onTimer(_timestamp: number, _ctx: OnTimerContext<K>, _out: Collector<OUT>): Awaitable<void> {}
}
