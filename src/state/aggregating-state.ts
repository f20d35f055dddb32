/**
 * The aggregating keyed state (see `keyed-states.ts` for what every keyed state does).
 */
import type { AggregateFunction, AggregatingState } from '../api/state.ts';
import type { KeyedStateBackend, ValueTable } from './backend.ts';
import { guarded, KvState, settle, toVoid } from './keyed-states.ts';

/** {@link AggregatingState}: the accumulator lives in a value table. */
export class AggregatingStateImpl<IN, ACC, OUT> extends KvState implements AggregatingState<IN, OUT> {
  constructor(
    backend: KeyedStateBackend,
    operator: string,
    name: string,
    private readonly table: ValueTable<ACC>,
    private readonly fn: AggregateFunction<IN, ACC, OUT>,
  ) {
    super(backend, operator, name);
  }

  get(): Promise<OUT | undefined> {
    return guarded(() => {
      this.checkKey();
      return settle(this.table.get(this.namespace), (acc) => (acc === undefined ? undefined : this.fn.getResult(acc)));
    });
  }

  add(value: IN): Promise<void> {
    return guarded(() => {
      this.checkKey();
      const ns = this.namespace;
      return settle(this.table.get(ns), (current) => {
        const acc = this.fn.add(value, current === undefined ? this.fn.createAccumulator() : current);
        this.checkValue(acc);
        return this.table.put(ns, acc);
      }).then(toVoid);
    });
  }

  clear(): Promise<void> {
    return guarded(() => {
      this.checkKey();
      return settle(this.table.remove(this.namespace), toVoid);
    });
  }
}
