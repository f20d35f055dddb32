/** `map`, `flatMap` and `filter`: one user call per record, keyed or not. */
import type { Collector, FilterFunction, FlatMapFunction, MapFunction } from '../../api/functions.ts';
import { AbstractStreamOperator, isThenable } from './base.ts';
import type { OutputBuffer, RecordBatch } from './operator.ts';

/** Flink's `StreamMap`. */
export class MapOperator<IN, OUT> extends AbstractStreamOperator<MapFunction<IN, OUT>> {
  private readonly call: (value: IN) => OUT | Promise<OUT>;
  constructor(fn: MapFunction<IN, OUT>) {
    super(fn);
    this.call = typeof fn === 'function' ? fn : (v) => fn.map(v);
  }
  processBatch(batch: RecordBatch, out: OutputBuffer): void | Promise<void> {
    return this.forEachRecord(batch, out, 'map', (v, o) => {
      const r = this.call(v as IN);
      if (isThenable(r)) return r.then((x) => o.collect(x));
      o.collect(r);
    });
  }
}

/** Flink's `StreamFlatMap`. */
export class FlatMapOperator<IN, OUT> extends AbstractStreamOperator<FlatMapFunction<IN, OUT>> {
  private readonly call: (value: IN, out: Collector<OUT>) => void | Promise<void>;
  constructor(fn: FlatMapFunction<IN, OUT>) {
    super(fn);
    this.call = typeof fn === 'function' ? fn : (v, out) => fn.flatMap(v, out);
  }
  processBatch(batch: RecordBatch, out: OutputBuffer): void | Promise<void> {
    return this.forEachRecord(batch, out, 'flatMap', (v, o) => this.call(v as IN, o as Collector<OUT>));
  }
}

/** Flink's `StreamFilter`. */
export class FilterOperator<T> extends AbstractStreamOperator<FilterFunction<T>> {
  private readonly call: (value: T) => boolean | Promise<boolean>;
  constructor(fn: FilterFunction<T>) {
    super(fn);
    this.call = typeof fn === 'function' ? fn : (v) => fn.filter(v);
  }
  processBatch(batch: RecordBatch, out: OutputBuffer): void | Promise<void> {
    return this.forEachRecord(batch, out, 'filter', (v, o) => {
      const r = this.call(v as T);
      if (isThenable(r)) return r.then((keep) => void (keep && o.collect(v)));
      if (r) o.collect(v);
    });
  }
}
