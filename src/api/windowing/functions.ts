/** Window functions (Flink's `ProcessWindowFunction`, `WindowFunction`) and what they see. */
import type { AggregatingStateDescriptor, ListStateDescriptor, MapStateDescriptor, ReducingStateDescriptor, ValueStateDescriptor } from '../descriptors.ts';
import { AbstractRichFunction, type Awaitable, type Collector, type RichFunction } from '../functions.ts';
import type { OutputTag } from '../output-tag.ts';
import type { AggregatingState, ListState, MapState, MapStateKey, ReducingState, ValueState } from '../state.ts';
import type { Window } from './windows.ts';

/** Keyed state of one scope: a window, or the key across windows (Flink's `KeyedStateStore`). */
export interface KeyedStateStore {
  getState<T>(descriptor: ValueStateDescriptor<T>): ValueState<T>;
  getListState<T>(descriptor: ListStateDescriptor<T>): ListState<T>;
  getMapState<K extends MapStateKey, V>(descriptor: MapStateDescriptor<K, V>): MapState<K, V>;
  getReducingState<T>(descriptor: ReducingStateDescriptor<T>): ReducingState<T>;
  getAggregatingState<IN, ACC, OUT>(descriptor: AggregatingStateDescriptor<IN, ACC, OUT>): AggregatingState<IN, OUT>;
}

/** What a `ProcessWindowFunction` sees of the window it evaluates (Flink's `ProcessWindowFunction.Context`). */
export interface ProcessWindowContext<W extends Window> {
  /** The window being evaluated. */
  window(): W;
  currentProcessingTime(): number;
  currentWatermark(): number;
  /** State of the current key and this window; clear it in `clear()`. */
  windowState(): KeyedStateStore;
  /** State of the current key, shared by all its windows. */
  globalState(): KeyedStateStore;
  /** Emits `value` to side output `tag`, with the window's max timestamp. */
  output<X>(tag: OutputTag<X>, value: X): void;
}

/** Shape of a process window function. */
export interface ProcessWindowFunctionLike<IN, OUT, KEY, W extends Window> extends RichFunction {
  process(key: KEY, context: ProcessWindowContext<W>, elements: Iterable<IN>, out: Collector<OUT>): Awaitable<void>;
  /** Called when the window is purged: delete its per-window state here. */
  clear?(context: ProcessWindowContext<W>): Awaitable<void>;
}

/**
 * Evaluates a window with all its records, or with the single pre-aggregated result of a
 * `reduce`/`aggregate` (Flink's `ProcessWindowFunction`).
 */
export abstract class ProcessWindowFunction<IN, OUT, KEY, W extends Window> extends AbstractRichFunction implements ProcessWindowFunctionLike<IN, OUT, KEY, W> {
  abstract process(key: KEY, context: ProcessWindowContext<W>, elements: Iterable<IN>, out: Collector<OUT>): Awaitable<void>;
  clear(_context: ProcessWindowContext<W>): Awaitable<void> {}
}

/** Shape of a (legacy) window function (Flink's `WindowFunction`). */
export interface WindowFunction<IN, OUT, KEY, W extends Window> extends RichFunction {
  apply(key: KEY, win: W, input: Iterable<IN>, out: Collector<OUT>): Awaitable<void>;
}
