/**
 * `KeyedStream`: a stream partitioned by key (`DataStream.keyBy`), whose operators may use
 * keyed state and timers, and from which windows, rolling aggregations and keyed two-input
 * operators start. It extends `DataStream`, so `datastream.ts` cannot import it (an import
 * cycle): the environment constructs it for `keyBy` (`StreamGraphBuilder.keyedStream`), and
 * this file gives `keyBy` its type through `KeyedStreamTypes`.
 */
import { ConfigurationError } from '../api/errors.ts';
import type { FilterFunction, FlatMapFunction, KeyedProcessFunctionLike, MapFunction, ReduceFn } from '../api/functions.ts';
import { aggregationFunction, type FieldExpression } from '../api/aggregation.ts';
import { GlobalWindows, type WindowAssigner } from '../api/windowing/assigners.ts';
import { CountEvictor } from '../api/windowing/evictors.ts';
import { CountTrigger, PurgingTrigger } from '../api/windowing/triggers.ts';
import type { GlobalWindow, Window } from '../api/windowing/windows.ts';
import type { GraphNode } from '../engine/graph.ts';
import type { Key } from '../format/key-bytes.ts';
import type { StreamOperator } from '../engine/operators/operator.ts';
import { instantiate } from '../engine/operators/function-copy.ts';
import { FilterOperator, FlatMapOperator, MapOperator } from '../engine/operators/simple.ts';
import { KeyedProcessOperator } from '../engine/operators/process.ts';
import { KeyedReduceOperator } from '../engine/operators/reduce.ts';
import { checkFunction, className, classNamed, type CollectedOutput, type MapOutput } from './stream-functions.ts';
import { BroadcastConnectedStream, BroadcastStream, ConnectedStreams, IntervalJoin } from './connected-streams.ts';
import { DataStream, type StreamGraphBuilder } from './datastream.ts';
import { WindowedStream } from './windowed-stream.ts';

declare module './datastream.ts' {
  /** `keyBy` returns a `KeyedStream` (see `KeyedStreamOf`). */
  interface KeyedStreamTypes<T, K extends Key> {
    keyed: KeyedStream<T, K>;
  }
}

/** A stream partitioned by key; its operators may use keyed state (and timers in `process`). */
export class KeyedStream<T, K extends Key> extends DataStream<T> {
  /** @internal */
  constructor(
    env: StreamGraphBuilder,
    sources: readonly GraphNode[],
    private readonly keySelector: (value: T) => K,
  ) {
    super(env, sources);
  }

  /**
   * As `DataStream.connect`; connected to another keyed stream, both inputs stay keyed
   * (a `KeyedCoProcessFunction` may follow), and to a broadcast stream it takes a
   * `KeyedBroadcastProcessFunction`.
   */
  override connect<T2>(other: BroadcastStream<T2>): BroadcastConnectedStream<T, T2, K>;
  override connect<T2>(other: DataStream<T2>): ConnectedStreams<T, T2>;
  override connect<T2>(other: DataStream<T2> | BroadcastStream<T2>): ConnectedStreams<T, T2> | BroadcastConnectedStream<T, T2, K> {
    if (other instanceof BroadcastStream) return new BroadcastConnectedStream<T, T2, K>(this.connectInputs(other.sources), this.keySelector, other);
    if (other instanceof KeyedStream) return new ConnectedStreams<T, T2>(this.connectInputs(other.sources), [this.keySelector, other.keySelector]);
    return super.connect(other);
  }

  /** Joins this stream with `other` by key and event-time interval (Flink's `intervalJoin`); give the interval with `between`. */
  intervalJoin<T2>(other: KeyedStream<T2, K>): IntervalJoin<T, T2, K> {
    if (!(other instanceof KeyedStream))
      throw new ConfigurationError('intervalJoin() needs a KeyedStream (keyBy() the other stream)', { component: 'datastream' });
    return new IntervalJoin<T, T2, K>(this.connectInputs(other.sources), [this.keySelector, other.keySelector]);
  }

  private keyed<R>(name: string, create: () => StreamOperator, fn: unknown): DataStream<R> {
    return this.transform<R>(name, { type: 'hash', keySelector: this.keySelector as (v: unknown) => Key }, true, create, undefined, fn);
  }

  /** Runs a `KeyedProcessFunction`: keyed state, timers and `onTimer`. */
  override process<F extends KeyedProcessFunctionLike<K, T, never>>(fn: F): DataStream<CollectedOutput<F, 'processElement'>> {
    checkFunction(fn, 'process', false);
    return classNamed(
      fn,
      this.keyed<CollectedOutput<F, 'processElement'>>(
        className(fn) ?? 'KeyedProcess',
        () => new KeyedProcessOperator(instantiate(fn as KeyedProcessFunctionLike<K, T, unknown>)),
        fn,
      ),
    );
  }

  override map<F extends MapFunction<T, unknown>>(fn: F): DataStream<MapOutput<F>> {
    checkFunction(fn, 'map', true);
    return this.keyed('Map', () => new MapOperator(instantiate(fn)), fn);
  }

  override flatMap<F extends FlatMapFunction<T, never>>(fn: F): DataStream<CollectedOutput<F, 'flatMap'>> {
    checkFunction(fn, 'flatMap', true);
    return this.keyed('FlatMap', () => new FlatMapOperator(instantiate(fn as FlatMapFunction<T, unknown>)), fn);
  }

  override filter<F extends FilterFunction<T>>(fn: F): DataStream<T> {
    checkFunction(fn, 'filter', true);
    return this.keyed('Filter', () => new FilterOperator(instantiate(fn)), fn);
  }

  /** Groups the records of each key into the windows `assigner` gives (Flink's `window`). */
  window<W extends Window>(assigner: WindowAssigner<T, W>): WindowedStream<T, K, W> {
    return new WindowedStream<T, K, W>((name, create, fn) => this.keyed(name, create, fn), assigner);
  }

  /**
   * Windows of `size` records per key; with `slide`, a window of the last `size` records
   * every `slide` records (Flink's `countWindow`).
   */
  countWindow(size: number, slide?: number): WindowedStream<T, K, GlobalWindow> {
    if (!Number.isInteger(size) || size < 1)
      throw new ConfigurationError(`countWindow() needs a positive integer size, got ${String(size)}`, { component: 'datastream' });
    const windowed = this.window(GlobalWindows.create<T>());
    if (slide === undefined) return windowed.trigger(PurgingTrigger.of(CountTrigger.of<T>(size)));
    if (!Number.isInteger(slide) || slide < 1)
      throw new ConfigurationError(`countWindow() needs a positive integer slide, got ${String(slide)}`, { component: 'datastream' });
    return windowed.evictor(CountEvictor.of<T>(size)).trigger(CountTrigger.of<T>(slide));
  }

  /** Folds the records of each key, emitting the running result for every record. */
  reduce(fn: ReduceFn<T>): DataStream<T> {
    checkFunction(fn, 'reduce', true);
    return this.keyed('Reduce', () => new KeyedReduceOperator(instantiate(fn)), fn);
  }

  /** Rolling sum of `field` per key; the other fields are those of the key's first record. */
  sum(field: FieldExpression): DataStream<T> {
    const fn = aggregationFunction<T>('SUM', field);
    return this.keyed('Keyed Aggregation', () => new KeyedReduceOperator(fn), undefined);
  }

  /** Rolling minimum of `field` per key; the other fields are those of the key's first record (use `minBy` for the record). */
  min(field: FieldExpression): DataStream<T> {
    const fn = aggregationFunction<T>('MIN', field);
    return this.keyed('Keyed Aggregation', () => new KeyedReduceOperator(fn), undefined);
  }

  /** Rolling maximum of `field` per key; the other fields are those of the key's first record (use `maxBy` for the record). */
  max(field: FieldExpression): DataStream<T> {
    const fn = aggregationFunction<T>('MAX', field);
    return this.keyed('Keyed Aggregation', () => new KeyedReduceOperator(fn), undefined);
  }

  /** The record with the smallest `field` so far per key; on ties the first such record, or the last when `first` is false. */
  minBy(field: FieldExpression, first = true): DataStream<T> {
    const fn = aggregationFunction<T>('MINBY', field, first);
    return this.keyed('Keyed Aggregation', () => new KeyedReduceOperator(fn), undefined);
  }

  /** The record with the largest `field` so far per key; on ties the first such record, or the last when `first` is false. */
  maxBy(field: FieldExpression, first = true): DataStream<T> {
    const fn = aggregationFunction<T>('MAXBY', field, first);
    return this.keyed('Keyed Aggregation', () => new KeyedReduceOperator(fn), undefined);
  }
}
