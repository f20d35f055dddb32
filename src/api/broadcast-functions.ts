/**
 * The broadcast state pattern (Flink's `BroadcastProcessFunction` and
 * `KeyedBroadcastProcessFunction`): one input is broadcast to every parallel instance and
 * written into broadcast state by `processBroadcastElement`; the other input reads that
 * state in `processElement`, where it is read-only, so that every instance keeps the same
 * copy (only the broadcast side, which every instance sees alike, may change it).
 */
import type { AggregatingStateDescriptor, ListStateDescriptor, MapStateDescriptor, ReducingStateDescriptor, ValueStateDescriptor } from './descriptors.ts';
import type { Awaitable, Collector, RichFunction, TimeDomain, TimerService } from './functions.ts';
import { AbstractRichFunction } from './functions.ts';
import type { OutputTag } from './output-tag.ts';
import type { AggregatingState, BroadcastState, ListState, MapState, MapStateKey, ReducingState, ValueState } from './state.ts';

/**
 * Broadcast state as `processElement` sees it (Flink's `ReadOnlyBroadcastState`): reads
 * only. The object still has the writing methods of {@link BroadcastState}, which throw a
 * `ReadOnlyStateError` (code `STATE_READ_ONLY`): a write there would make the parallel
 * instances' copies differ.
 */
export interface ReadOnlyBroadcastState<K extends MapStateKey, V> {
  get(key: K): Promise<V | undefined>;
  contains(key: K): Promise<boolean>;
  isEmpty(): Promise<boolean>;
  /** The entries (Flink's `immutableEntries`); the values must not be modified. */
  immutableEntries(): AsyncIterable<[K, V]>;
  entries(): AsyncIterable<[K, V]>;
  keys(): AsyncIterable<K>;
  values(): AsyncIterable<V>;
}

/** What both sides of a broadcast process function see (Flink's `BaseBroadcastProcessFunction.BaseContext`). */
export interface BroadcastBaseContext {
  /** The record's event-time timestamp, or `undefined` when it has none. */
  timestamp(): number | undefined;
  /** Emits `value` to the side output `tag`. */
  output<X>(tag: OutputTag<X>, value: X): void;
  currentProcessingTime(): number;
  currentWatermark(): number;
}

/** Context of `processBroadcastElement`: broadcast state may be written. */
export interface BroadcastContext extends BroadcastBaseContext {
  /** The broadcast state of `descriptor` (one of those given to `broadcast(...)`). */
  getBroadcastState<K extends MapStateKey, V>(descriptor: MapStateDescriptor<K, V>): BroadcastState<K, V>;
}

/** Context of `processElement`: broadcast state is read-only. */
export interface ReadOnlyBroadcastContext extends BroadcastBaseContext {
  /** The broadcast state of `descriptor`, read-only (writes throw `STATE_READ_ONLY`). */
  getBroadcastState<K extends MapStateKey, V>(descriptor: MapStateDescriptor<K, V>): ReadOnlyBroadcastState<K, V>;
}

/** Shape of a broadcast process function on a non-keyed stream. */
export interface BroadcastProcessFunctionLike<IN1, IN2, OUT> extends RichFunction {
  processElement(value: IN1, ctx: ReadOnlyBroadcastContext, out: Collector<OUT>): Awaitable<void>;
  processBroadcastElement(value: IN2, ctx: BroadcastContext, out: Collector<OUT>): Awaitable<void>;
}

/** Base class of a broadcast process function (Flink's `BroadcastProcessFunction`). */
export abstract class BroadcastProcessFunction<IN1, IN2, OUT> extends AbstractRichFunction implements BroadcastProcessFunctionLike<IN1, IN2, OUT> {
  abstract processElement(value: IN1, ctx: ReadOnlyBroadcastContext, out: Collector<OUT>): Awaitable<void>;
  abstract processBroadcastElement(value: IN2, ctx: BroadcastContext, out: Collector<OUT>): Awaitable<void>;
}

/** Applied to the state of every key by `applyToKeyedState` (Flink's `KeyedStateFunction`). */
export type KeyedStateFunction<K, S> = ((key: K, state: S) => Awaitable<void>) | { process(key: K, state: S): Awaitable<void> };

/** Context of the keyed variant's `processBroadcastElement`: also reaches the keyed state of every key. */
export interface KeyedBroadcastContext<K> extends BroadcastContext {
  /**
   * Calls `fn(key, state)` for every key of this instance that has state under
   * `descriptor`, with that key's state (Flink's `applyToKeyedState`); resolves when done.
   */
  applyToKeyedState<T>(descriptor: ValueStateDescriptor<T>, fn: KeyedStateFunction<K, ValueState<T>>): Promise<void>;
  applyToKeyedState<T>(descriptor: ListStateDescriptor<T>, fn: KeyedStateFunction<K, ListState<T>>): Promise<void>;
  applyToKeyedState<UK extends MapStateKey, V>(descriptor: MapStateDescriptor<UK, V>, fn: KeyedStateFunction<K, MapState<UK, V>>): Promise<void>;
  applyToKeyedState<T>(descriptor: ReducingStateDescriptor<T>, fn: KeyedStateFunction<K, ReducingState<T>>): Promise<void>;
  applyToKeyedState<IN, ACC, OUT>(descriptor: AggregatingStateDescriptor<IN, ACC, OUT>, fn: KeyedStateFunction<K, AggregatingState<IN, OUT>>): Promise<void>;
}

/** Context of the keyed variant's `processElement`: read-only broadcast state, the key, timers. */
export interface KeyedReadOnlyBroadcastContext<K> extends ReadOnlyBroadcastContext {
  timerService(): TimerService;
  getCurrentKey(): K;
}

/** Context of the keyed variant's `onTimer`. */
export interface KeyedBroadcastOnTimerContext<K> extends KeyedReadOnlyBroadcastContext<K> {
  timeDomain(): TimeDomain;
}

/** Shape of a keyed broadcast process function (`keyedStream.connect(broadcastStream)`). */
export interface KeyedBroadcastProcessFunctionLike<K, IN1, IN2, OUT> extends RichFunction {
  processElement(value: IN1, ctx: KeyedReadOnlyBroadcastContext<K>, out: Collector<OUT>): Awaitable<void>;
  processBroadcastElement(value: IN2, ctx: KeyedBroadcastContext<K>, out: Collector<OUT>): Awaitable<void>;
  onTimer?(timestamp: number, ctx: KeyedBroadcastOnTimerContext<K>, out: Collector<OUT>): Awaitable<void>;
}

/** Base class of a keyed broadcast process function (Flink's `KeyedBroadcastProcessFunction`). */
export abstract class KeyedBroadcastProcessFunction<K, IN1, IN2, OUT>
  extends AbstractRichFunction
  implements KeyedBroadcastProcessFunctionLike<K, IN1, IN2, OUT>
{
  abstract processElement(value: IN1, ctx: KeyedReadOnlyBroadcastContext<K>, out: Collector<OUT>): Awaitable<void>;
  abstract processBroadcastElement(value: IN2, ctx: KeyedBroadcastContext<K>, out: Collector<OUT>): Awaitable<void>;
  onTimer(_timestamp: number, _ctx: KeyedBroadcastOnTimerContext<K>, _out: Collector<OUT>): Awaitable<void> {}
}
