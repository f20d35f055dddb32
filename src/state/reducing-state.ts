/**
 * The reducing keyed state (see `keyed-states.ts` for what every keyed state does).
 */
import type { ReducingState } from '../api/state.ts';
import type { KeyedStateBackend, ValueTable } from './backend.ts';
import { guarded, KvState, settle, toVoid } from './keyed-states.ts';

/** {@link ReducingState}: the folded value lives in a value table. */
export class ReducingStateImpl<T> extends KvState implements ReducingState<T> {
  constructor(
    backend: KeyedStateBackend,
    operator: string,
    name: string,
    private readonly table: ValueTable<T>,
    private readonly reduce: (a: T, b: T) => T,
  ) {
    super(backend, operator, name);
  }

  get(): Promise<T | undefined> {
    return guarded(() => {
      this.checkKey();
      return settle(this.table.get(this.namespace), (v) => v);
    });
  }

  add(value: T): Promise<void> {
    return guarded(() => {
      this.checkKey();
      this.checkValue(value);
      const ns = this.namespace;
      return settle(this.table.get(ns), (current) => {
        const next = current === undefined ? value : this.reduce(current, value);
        this.checkValue(next);
        return this.table.put(ns, next);
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
