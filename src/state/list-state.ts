/**
 * The list keyed state (see `keyed-states.ts` for what every keyed state does).
 */
import type { ListState } from '../api/state.ts';
import { StateError } from '../api/errors.ts';
import type { KeyedStateBackend, ListTable } from './backend.ts';
import { guarded, KvState, settle, toVoid } from './keyed-states.ts';

/** {@link ListState} over a list table. */
export class ListStateImpl<T> extends KvState implements ListState<T> {
  constructor(
    backend: KeyedStateBackend,
    operator: string,
    name: string,
    private readonly table: ListTable<T>,
  ) {
    super(backend, operator, name);
  }

  get(): Promise<T[]> {
    return guarded(() => {
      this.checkKey();
      return settle(this.table.get(this.namespace), (list) => list ?? []);
    });
  }

  add(value: T): Promise<void> {
    return guarded(() => {
      this.checkKey();
      this.checkElement(value);
      return settle(this.table.add(this.namespace, value), toVoid);
    });
  }

  addAll(values: Iterable<T>): Promise<void> {
    return guarded(() => {
      this.checkKey();
      const list = this.elements(values);
      return list.length === 0 ? Promise.resolve() : settle(this.table.addAll(this.namespace, list), toVoid);
    });
  }

  update(values: Iterable<T>): Promise<void> {
    return guarded(() => {
      this.checkKey();
      return settle(this.table.update(this.namespace, this.elements(values)), toVoid);
    });
  }

  clear(): Promise<void> {
    return guarded(() => {
      this.checkKey();
      return settle(this.table.remove(this.namespace), toVoid);
    });
  }

  private checkElement(value: unknown): void {
    if (value === undefined) {
      throw new StateError('INVALID_ARGUMENT', 'list state elements cannot be undefined', {
        component: `backend:${this.backend.name}`,
        operator: this.operator,
        state: this.name,
        key: this.backend.getCurrentKey(),
      });
    }
    this.checkValue(value);
  }

  private elements(values: Iterable<T>): T[] {
    if (values == null || typeof (values as Iterable<T>)[Symbol.iterator] !== 'function') {
      throw new StateError('INVALID_ARGUMENT', `expected an iterable of elements, got ${values === null ? 'null' : typeof values}`, {
        component: `backend:${this.backend.name}`,
        operator: this.operator,
        state: this.name,
      });
    }
    const list = Array.from(values);
    for (const v of list) this.checkElement(v);
    return list;
  }
}
