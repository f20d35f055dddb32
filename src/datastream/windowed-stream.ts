/**
 * `WindowedStream` (Flink's `WindowedStream`): trigger, evictor, allowed lateness and the
 * late-data side output, then `reduce`, `aggregate`, `process` or `apply`. The untyped base
 * builds the configuration and the operator; `WindowedStream` adds the typed results.
 */
import { ConfigurationError } from '../api/errors.ts';
import { aggregationFunction, type FieldExpression } from '../api/aggregation.ts';
import type { Collector } from '../api/functions.ts';
import { checkOutputTag, type OutputTag } from '../api/output-tag.ts';
import type { AggregateFunction, ReduceFunction } from '../api/state.ts';
import { MergingWindowAssigner, WindowAssigner } from '../api/windowing/assigners.ts';
import type { Evictor } from '../api/windowing/evictors.ts';
import type { ProcessWindowFunctionLike, WindowFunction } from '../api/windowing/functions.ts';
import { Trigger } from '../api/windowing/triggers.ts';
import type { Window } from '../api/windowing/windows.ts';
import type { Key } from '../format/key-bytes.ts';
import { instantiate } from '../engine/operators/function-copy.ts';
import type { StreamOperator } from '../engine/operators/operator.ts';
import { WindowOperator, type InternalWindowFunction, type WindowContents } from '../engine/operators/window.ts';
import type { DataStream } from './datastream.ts';

/** A window function given to `reduce`/`aggregate`: a `ProcessWindowFunction` or a `WindowFunction`. */
export type WindowFunctionArg<IN, OUT, KEY, W extends Window> = ProcessWindowFunctionLike<IN, OUT, KEY, W> | WindowFunction<IN, OUT, KEY, W>;

/** Adds the keyed window operator to the graph (given by `KeyedStream`). */
export type AddKeyedOperator = (name: string, create: () => StreamOperator, fn: unknown) => unknown;

function isFunctionObject(fn: unknown, method: string): boolean {
  return typeof fn === 'object' && fn !== null && typeof (fn as Record<string, unknown>)[method] === 'function';
}

/** The untyped base of `WindowedStream`: configuration and the window operator. */
export abstract class WindowedStreamBase<T, K extends Key, W extends Window> {
  private triggerValue: Trigger<T, W>;
  private evictorValue: Evictor<T, W> | undefined;
  private lateness = 0;
  private lateTag: string | undefined;

  /** @internal Made by `KeyedStream.window`. */
  protected constructor(
    private readonly addOperator: AddKeyedOperator,
    private readonly assigner: WindowAssigner<T, W>,
  ) {
    if (!(assigner instanceof WindowAssigner))
      throw new ConfigurationError('window() needs a WindowAssigner (e.g. TumblingEventTimeWindows.of(1000))', { component: 'datastream' });
    this.triggerValue = assigner.getDefaultTrigger();
  }

  /** Replaces the assigner's default trigger. */
  trigger(trigger: Trigger<T, W>): this {
    if (!(trigger instanceof Trigger)) throw new ConfigurationError('trigger() needs a Trigger (e.g. CountTrigger.of(10))', { component: 'datastream' });
    if (this.assigner instanceof MergingWindowAssigner && !trigger.canMerge()) {
      throw new ConfigurationError(
        `a merging window assigner (${String(this.assigner)}) cannot be used with a trigger that does not support merging (${String(trigger)})`,
        { component: 'datastream' },
      );
    }
    this.triggerValue = trigger;
    return this;
  }

  /** Removes records from windows before and/or after evaluation; windows then keep their records. */
  evictor(evictor: Evictor<T, W>): this {
    if (!isFunctionObject(evictor, 'evictBefore') || !isFunctionObject(evictor, 'evictAfter')) {
      throw new ConfigurationError('evictor() needs an Evictor with evictBefore and evictAfter (e.g. CountEvictor.of(10))', { component: 'datastream' });
    }
    this.evictorValue = evictor;
    return this;
  }

  /** Keeps event-time windows `ms` past their end: late records within it fire them again. */
  allowedLateness(ms: number): this {
    if (typeof ms !== 'number' || !(ms >= 0) || !Number.isFinite(ms))
      throw new ConfigurationError(`allowedLateness() needs a non-negative number of ms, got ${String(ms)}`, { component: 'datastream' });
    this.lateness = ms;
    return this;
  }

  /** Sends records that arrive after their windows' lateness to side output `tag` instead of dropping them. */
  sideOutputLateData(tag: OutputTag<T>): this {
    checkOutputTag(tag, 'window');
    this.lateTag = tag.id;
    return this;
  }

  /** @internal */
  protected reduceOperator(reduceFn: ReduceFunction<T>, windowFn: WindowFunctionArg<T, unknown, K, W> | undefined): unknown {
    if (typeof reduceFn !== 'function' && !isFunctionObject(reduceFn, 'reduce'))
      throw new ConfigurationError('reduce() needs a function (a, b) => value or an object with reduce(a, b)', { component: 'datastream' });
    return this.build('Reduce', windowFn, () => {
      const fn = instantiate(reduceFn);
      return { kind: 'reduce', reduce: (typeof fn === 'function' ? fn : (a: T, b: T) => fn.reduce(a, b)) as (a: unknown, b: unknown) => unknown };
    });
  }

  /** @internal */
  protected aggregateOperator<ACC, V>(aggregateFn: AggregateFunction<T, ACC, V>, windowFn: WindowFunctionArg<V, unknown, K, W> | undefined): unknown {
    const f = aggregateFn;
    if (!f || typeof f.createAccumulator !== 'function' || typeof f.add !== 'function' || typeof f.getResult !== 'function') {
      throw new ConfigurationError('aggregate() needs an AggregateFunction with createAccumulator(), add(value, acc) and getResult(acc)', {
        component: 'datastream',
      });
    }
    if (this.assigner instanceof MergingWindowAssigner && typeof f.merge !== 'function') {
      throw new ConfigurationError(`aggregate() on merging windows (${String(this.assigner)}) needs AggregateFunction.merge(a, b)`, {
        component: 'datastream',
      });
    }
    return this.build('Aggregate', windowFn as WindowFunctionArg<never, unknown, K, W> | undefined, () => ({
      kind: 'aggregate',
      fn: instantiate(f) as AggregateFunction<unknown, unknown, unknown>,
    }));
  }

  /** @internal */
  protected processOperator(fn: ProcessWindowFunctionLike<T, unknown, K, W>): unknown {
    if (!isFunctionObject(fn, 'process'))
      throw new ConfigurationError('process() needs a ProcessWindowFunction (an object with process(key, context, elements, out))', {
        component: 'datastream',
      });
    return this.build('Process', fn, () => ({ kind: 'list' }));
  }

  /** @internal */
  protected applyOperator(fn: WindowFunction<T, unknown, K, W>): unknown {
    if (!isFunctionObject(fn, 'apply'))
      throw new ConfigurationError('apply() needs a WindowFunction (an object with apply(key, window, input, out))', { component: 'datastream' });
    return this.build('Apply', fn, () => ({ kind: 'list' }));
  }

  private build(what: string, windowFn: WindowFunctionArg<never, unknown, K, W> | undefined, contents: () => WindowContents): unknown {
    if (windowFn !== undefined && !isFunctionObject(windowFn, 'process') && !isFunctionObject(windowFn, 'apply')) {
      throw new ConfigurationError('the window function must be a ProcessWindowFunction (process) or a WindowFunction (apply)', { component: 'datastream' });
    }
    const { assigner, triggerValue: trigger, evictorValue: evictor, lateness, lateTag } = this;
    const name = `Window(${String(assigner)}, ${String(trigger)}${evictor ? `, ${evictor.constructor.name}` : ''}, ${what})`;
    return this.addOperator(
      name,
      () => {
        const fn = windowFn === undefined ? undefined : instantiate(windowFn);
        let apply: InternalWindowFunction;
        if (fn === undefined) apply = (_k, _w, _ctx, input, out) => out.collect(input[0]);
        else if (isFunctionObject(fn, 'process')) {
          const p = fn as ProcessWindowFunctionLike<unknown, unknown, Key, Window>;
          apply = (k, _w, ctx, input, out) => p.process(k, ctx, input, out as Collector<unknown>);
        } else {
          const a = fn as WindowFunction<unknown, unknown, Key, Window>;
          apply = (k, w, _ctx, input, out) => a.apply(k, w, input, out as Collector<unknown>);
        }
        const clearFn = fn !== undefined && isFunctionObject(fn, 'clear') ? (fn as ProcessWindowFunctionLike<unknown, unknown, Key, Window>) : undefined;
        return new WindowOperator(fn, {
          assigner: assigner as WindowAssigner<unknown, Window>,
          trigger: trigger as unknown as Trigger<unknown, Window>,
          evictor: evictor as Evictor<unknown, Window> | undefined,
          allowedLateness: lateness,
          lateDataTag: lateTag,
          contents: contents(),
          apply,
          clear: clearFn ? (ctx) => clearFn.clear!(ctx) : undefined,
        });
      },
      windowFn,
    );
  }
}

/** The records of a keyed stream grouped into windows (Flink's `WindowedStream`). */
export class WindowedStream<T, K extends Key, W extends Window> extends WindowedStreamBase<T, K, W> {
  /** @internal Made by `KeyedStream.window`. */
  constructor(addOperator: AddKeyedOperator, assigner: WindowAssigner<T, W>) {
    super(addOperator, assigner);
  }
  /** Folds each window's records into one value with `reduceFn` (kept incrementally, synchronous), optionally passed to `windowFn`. */
  reduce(reduceFn: ReduceFunction<T>): DataStream<T>;
  reduce<R>(reduceFn: ReduceFunction<T>, windowFn: WindowFunctionArg<T, R, K, W>): DataStream<R>;
  reduce<R>(reduceFn: ReduceFunction<T>, windowFn?: WindowFunctionArg<T, R, K, W>): DataStream<R | T> {
    return this.reduceOperator(reduceFn, windowFn) as DataStream<R | T>;
  }
  /** Aggregates each window incrementally (one accumulator per window), optionally passing the result to `windowFn`. */
  aggregate<ACC, V>(aggregateFn: AggregateFunction<T, ACC, V>): DataStream<V>;
  aggregate<ACC, V, R>(aggregateFn: AggregateFunction<T, ACC, V>, windowFn: WindowFunctionArg<V, R, K, W>): DataStream<R>;
  aggregate<ACC, V, R>(aggregateFn: AggregateFunction<T, ACC, V>, windowFn?: WindowFunctionArg<V, R, K, W>): DataStream<R | V> {
    return this.aggregateOperator(aggregateFn, windowFn) as DataStream<R | V>;
  }
  /** Evaluates each window with all its records (a `ProcessWindowFunction`). */
  process<R>(fn: ProcessWindowFunctionLike<T, R, K, W>): DataStream<R> {
    return this.processOperator(fn) as DataStream<R>;
  }
  /** Evaluates each window with all its records through a `WindowFunction`. */
  apply<R>(fn: WindowFunction<T, R, K, W>): DataStream<R> {
    return this.applyOperator(fn) as DataStream<R>;
  }
  /** Per window, the sum of `field`; the other fields are those of the window's first record. */
  sum(field: FieldExpression): DataStream<T> {
    return this.reduce(aggregationFunction<T>('SUM', field));
  }
  /** Per window, the minimum of `field`; the other fields are those of the window's first record. */
  min(field: FieldExpression): DataStream<T> {
    return this.reduce(aggregationFunction<T>('MIN', field));
  }
  /** Per window, the maximum of `field`; the other fields are those of the window's first record. */
  max(field: FieldExpression): DataStream<T> {
    return this.reduce(aggregationFunction<T>('MAX', field));
  }
  /** Per window, the record with the smallest `field` (on ties the first, or the last when `first` is false). */
  minBy(field: FieldExpression, first = true): DataStream<T> {
    return this.reduce(aggregationFunction<T>('MINBY', field, first));
  }
  /** Per window, the record with the largest `field` (on ties the first, or the last when `first` is false). */
  maxBy(field: FieldExpression, first = true): DataStream<T> {
    return this.reduce(aggregationFunction<T>('MAXBY', field, first));
  }
}
