/** `KeyedStream.reduce`: a rolling fold per key that emits every intermediate result. */
import { ValueStateDescriptor } from '../../api/descriptors.ts';
import type { ReduceFn } from '../../api/functions.ts';
import type { ValueState } from '../../api/state.ts';
import type { SyncValueStateImpl } from '../../state/sync-states.ts';
import { AbstractStreamOperator, isThenable } from './base.ts';
import type { OutputBuffer, RecordBatch } from './operator.ts';

/**
 * Flink's `StreamGroupedReduceOperator` (also behind sum/min/max/minBy/maxBy). The fold
 * runs synchronously where the key's state is resident (always in memory and SQLite; on
 * IndexedDB for the prefetched batch), so that a synchronous reduce function costs no
 * Promise per record; elsewhere, and after an asynchronous reduce function, it awaits.
 */
export class KeyedReduceOperator<T> extends AbstractStreamOperator<ReduceFn<T>> {
  private state!: ValueState<T>;
  private sync!: SyncValueStateImpl<T>;
  private readonly call: (a: T, b: T) => T | Promise<T>;
  constructor(fn: ReduceFn<T>) {
    super(fn);
    this.call = typeof fn === 'function' ? fn : (a, b) => fn.reduce(a, b);
  }

  override async open(): Promise<void> {
    const descriptor = new ValueStateDescriptor<T>('_reduce');
    this.state = this.runtimeContext.getState(descriptor);
    this.sync = this.keyedStore!.getSyncState(descriptor) as SyncValueStateImpl<T>;
    await super.open();
  }

  processBatch(batch: RecordBatch, out: OutputBuffer): void | Promise<void> {
    return this.forEachRecord(batch, out, 'reduce', this.reduceRecord);
  }

  private readonly reduceRecord = (v: unknown, o: OutputBuffer): unknown => {
    const sync = this.sync;
    if (!sync.isResident()) return this.reduceLater(v as T, o);
    const current = sync.value();
    const next = current === undefined ? (v as T) : this.call(current, v as T);
    if (isThenable(next)) return this.storeLater(next as Promise<T>, o);
    sync.update(next);
    o.collect(next);
    return undefined;
  };

  private async reduceLater(v: T, o: OutputBuffer): Promise<void> {
    const current = await this.state.value();
    const next = current === undefined ? v : await this.call(current, v);
    await this.state.update(next);
    o.collect(next);
  }

  private async storeLater(next: Promise<T>, o: OutputBuffer): Promise<void> {
    const value = await next;
    await this.state.update(value);
    o.collect(value);
  }
}
