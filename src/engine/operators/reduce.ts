/** `KeyedStream.reduce`: a rolling fold per key that emits every intermediate result. */
import { ValueStateDescriptor } from '../../api/descriptors.ts';
import type { ReduceFn } from '../../api/functions.ts';
import type { ValueState } from '../../api/state.ts';
import { AbstractStreamOperator } from './base.ts';
import type { OutputBuffer, RecordBatch } from './operator.ts';

/** Flink's `StreamGroupedReduceOperator`. */
export class KeyedReduceOperator<T> extends AbstractStreamOperator<ReduceFn<T>> {
  private state!: ValueState<T>;
  private readonly call: (a: T, b: T) => T | Promise<T>;
  constructor(fn: ReduceFn<T>) {
    super(fn);
    this.call = typeof fn === 'function' ? fn : (a, b) => fn.reduce(a, b);
  }

  override async open(): Promise<void> {
    this.state = this.runtimeContext.getState(new ValueStateDescriptor<T>('_reduce'));
    await super.open();
  }

  processBatch(batch: RecordBatch, out: OutputBuffer): Promise<void> {
    return this.forEachRecord(batch, out, 'reduce', async (v, o) => {
      const current = await this.state.value();
      const next = current === undefined ? (v as T) : await this.call(current, v as T);
      await this.state.update(next);
      o.collect(next);
    });
  }
}
