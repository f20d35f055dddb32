/**
 * The five keyed states read and written synchronously (Flink's original state API, see
 * `src/api/state.ts`), over the same tables as the Promise-based ones. A backend whose
 * tables always answer at once (`syncAccess: 'always'`) is called straight; one that
 * answers at once only for what it holds in memory (`'resident'`) is asked first, so that
 * a miss throws `STATE_NOT_RESIDENT` before anything was read or written — never a guess,
 * never a half-done read-modify-write.
 */
import { StateError } from '../api/errors.ts';
import type { AggregateFunction, MapStateKey, SyncAggregatingState, SyncListState, SyncMapState, SyncReducingState, SyncValueState } from '../api/state.ts';
import { cloneValue } from '../format/value-clone.ts';
import type { Key } from '../format/key-bytes.ts';
import type { KeyedStateBackend, ListTable, MapTable, MaybePromise, ValueTable } from './backend.ts';
import { KvState, toVoid } from './keyed-states.ts';
import { isPromise } from './maybe-promise.ts';

/** What a table says about residency (every table shape has it, optionally). */
interface Residency {
  resident?(namespace: string, userKey?: Key): boolean;
}

/** @internal The common part of the synchronous states: residency and settled answers. */
export abstract class SyncKvState extends KvState {
  /** True when every table call answers at once (no residency to ask about). */
  protected readonly always: boolean;

  constructor(backend: KeyedStateBackend, operator: string, name: string) {
    super(backend, operator, name);
    this.always = backend.syncAccess === 'always';
  }

  /** Checks the key, and that the table can answer at once (per entry when `userKey` is given). */
  protected enter(table: Residency, userKey?: Key): void {
    this.checkKey();
    if (!this.always && !this.residentIn(table, userKey)) throw this.notResident();
  }

  /** Whether the table answers at once for the current key and namespace (the key must be set). */
  protected residentIn(table: Residency, userKey?: Key): boolean {
    return this.always || (this.backend.syncAccess === 'resident' && table.resident !== undefined && table.resident(this.namespace, userKey));
  }

  /** A read's answer; a Promise here would be a backend breaking its word, refused rather than returned. */
  protected now<R>(r: MaybePromise<R>): R {
    if (isPromise(r)) {
      r.catch(toVoid);
      throw this.notResident();
    }
    return r;
  }

  /**
   * A write's answer: the write is done; a Promise is the write-behind flush it started,
   * whose failure the backend keeps and throws on every later call (and at the checkpoint).
   */
  protected done(r: MaybePromise<void>): void {
    if (isPromise(r)) r.catch(toVoid);
  }

  private notResident(): StateError {
    const key = this.backend.getCurrentKey();
    const why =
      this.backend.syncAccess === undefined
        ? `backend "${this.backend.name}" offers no synchronous access (its answers come from another thread or over the network)`
        : `the state of this key is not in memory on backend "${this.backend.name}" (it loads the state of each batch's and timer's keys before they run; this access reached past them, e.g. another namespace or a map of a state first used after the batch started)`;
    return new StateError(
      'STATE_NOT_RESIDENT',
      `synchronous access to state "${this.name}" is not possible: ${why}; use the Promise-based state (getState(), ...) here`,
      {
        component: `backend:${this.backend.name}`,
        operator: this.operator,
        state: this.name,
        key,
      },
    );
  }
}

/** {@link SyncValueState} over a value table. */
export class SyncValueStateImpl<T> extends SyncKvState implements SyncValueState<T> {
  constructor(
    backend: KeyedStateBackend,
    operator: string,
    name: string,
    private readonly table: ValueTable<T>,
    private readonly defaultValue: T | undefined,
  ) {
    super(backend, operator, name);
  }

  // value() and update() are the hot path of a synchronous counter: no closure, no Promise,
  // no allocation. Their usual case (a backend that always answers at once, a key set, a
  // value stored) is written out and the rest is called: V8 inlines only so much bytecode
  // into the user's function, and a counter class used both with and without TTL inlines
  // both tables' paths at each call (see TtlValueTable).
  value(): T | undefined {
    if (!this.always || this.backend.getCurrentKey() === undefined) return this.valueChecked();
    const v = this.table.get(this.namespace);
    return v !== undefined && !isPromise(v) ? v : this.orDefault(v);
  }

  /** {@link value} with every check: the key and residency first. */
  private valueChecked(): T | undefined {
    this.enter(this.table);
    return this.orDefault(this.table.get(this.namespace));
  }

  /** A read's answer past its usual case: a Promise where none may be is refused; nothing stored is the default. */
  private orDefault(r: MaybePromise<T | undefined>): T | undefined {
    const v = this.now(r);
    if (v !== undefined) return v;
    const d = this.defaultValue;
    return d !== null && typeof d === 'object' ? cloneValue(d) : d;
  }

  update(value: T | undefined): void {
    if (!this.always || this.backend.getCurrentKey() === undefined || value === undefined) this.updateChecked(value);
    else {
      this.checkValue(value);
      const r = this.table.put(this.namespace, value);
      if (isPromise(r)) r.catch(toVoid);
    }
  }

  /** {@link update} with every check (see {@link SyncKvState.done} for a Promise answered). */
  private updateChecked(value: T | undefined): void {
    this.enter(this.table);
    if (value === undefined) this.done(this.table.remove(this.namespace));
    else {
      this.checkValue(value);
      this.done(this.table.put(this.namespace, value));
    }
  }

  /** @internal Whether a call now would answer rather than throw `STATE_NOT_RESIDENT` (built-in operators fall back to the Promise-based state then). */
  isResident(): boolean {
    return this.residentIn(this.table);
  }

  clear(): void {
    this.enter(this.table);
    this.done(this.table.remove(this.namespace));
  }
}

/** {@link SyncListState} over a list table. */
export class SyncListStateImpl<T> extends SyncKvState implements SyncListState<T> {
  constructor(
    backend: KeyedStateBackend,
    operator: string,
    name: string,
    private readonly table: ListTable<T>,
  ) {
    super(backend, operator, name);
  }

  get(): T[] {
    this.enter(this.table);
    return this.now(this.table.get(this.namespace)) ?? [];
  }

  add(value: T): void {
    this.enter(this.table);
    this.checkElement(value);
    this.done(this.table.add(this.namespace, value));
  }

  addAll(values: Iterable<T>): void {
    this.enter(this.table);
    const list = this.elements(values);
    if (list.length > 0) this.done(this.table.addAll(this.namespace, list));
  }

  update(values: Iterable<T>): void {
    this.enter(this.table);
    this.done(this.table.update(this.namespace, this.elements(values)));
  }

  /** @internal Whether a call now would answer rather than throw `STATE_NOT_RESIDENT` (built-in operators fall back to the Promise-based state then). */
  isResident(): boolean {
    return this.residentIn(this.table);
  }

  clear(): void {
    this.enter(this.table);
    this.done(this.table.remove(this.namespace));
  }

  private checkElement(value: unknown): void {
    if (value === undefined) throw this.invalid('list state elements cannot be undefined');
    this.checkValue(value);
  }

  private elements(values: Iterable<T>): T[] {
    if (values == null || typeof (values as Iterable<T>)[Symbol.iterator] !== 'function')
      throw this.invalid(`expected an iterable of elements, got ${values === null ? 'null' : typeof values}`);
    const list = Array.from(values);
    for (const v of list) this.checkElement(v);
    return list;
  }

  private invalid(message: string): StateError {
    return new StateError('INVALID_ARGUMENT', message, {
      component: `backend:${this.backend.name}`,
      operator: this.operator,
      state: this.name,
      key: this.backend.getCurrentKey(),
    });
  }
}

/** {@link SyncMapState} over a map table. */
export class SyncMapStateImpl<K extends MapStateKey, V> extends SyncKvState implements SyncMapState<K, V> {
  constructor(
    backend: KeyedStateBackend,
    operator: string,
    name: string,
    private readonly table: MapTable<V>,
  ) {
    super(backend, operator, name);
  }

  get(key: K): V | undefined {
    this.checkUserKey(key);
    this.enter(this.table, key);
    return this.now(this.table.get(this.namespace, key));
  }

  put(key: K, value: V): void {
    this.checkUserKey(key);
    this.enter(this.table, key);
    this.checkMapValue(value);
    this.done(this.table.put(this.namespace, key, value));
  }

  putAll(entries: Iterable<readonly [K, V]> | Map<K, V>): void {
    this.enter(this.table);
    const list: Array<readonly [Key, V]> = [];
    for (const [k, v] of entries) {
      this.checkUserKey(k);
      this.checkMapValue(v);
      list.push([k, v]);
    }
    if (list.length > 0) this.done(this.table.putAll(this.namespace, list));
  }

  remove(key: K): void {
    this.checkUserKey(key);
    this.enter(this.table, key);
    this.done(this.table.delete(this.namespace, key));
  }

  contains(key: K): boolean {
    this.checkUserKey(key);
    this.enter(this.table, key);
    return this.now(this.table.contains(this.namespace, key));
  }

  isEmpty(): boolean {
    this.enter(this.table);
    return this.now(this.table.isEmpty(this.namespace));
  }

  entries(): IterableIterator<[K, V]> {
    this.enter(this.table);
    // Bound to this key now, like the Promise-based entries().
    return (this.table.syncEntries!(this.namespace) as Iterable<[K, V]>)[Symbol.iterator]() as IterableIterator<[K, V]>;
  }

  *keys(): IterableIterator<K> {
    for (const [k] of this.entries()) yield k;
  }

  *values(): IterableIterator<V> {
    for (const [, v] of this.entries()) yield v;
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries();
  }

  clear(): void {
    this.enter(this.table);
    this.done(this.table.remove(this.namespace));
  }

  private checkMapValue(value: unknown): void {
    if (value === undefined) {
      throw new StateError('INVALID_ARGUMENT', 'map state values cannot be undefined (use remove())', {
        component: `backend:${this.backend.name}`,
        operator: this.operator,
        state: this.name,
        key: this.backend.getCurrentKey(),
      });
    }
    this.checkValue(value);
  }
}

/** {@link SyncReducingState}: the folded value lives in a value table. */
export class SyncReducingStateImpl<T> extends SyncKvState implements SyncReducingState<T> {
  constructor(
    backend: KeyedStateBackend,
    operator: string,
    name: string,
    private readonly table: ValueTable<T>,
    private readonly reduce: (a: T, b: T) => T,
  ) {
    super(backend, operator, name);
  }

  get(): T | undefined {
    this.enter(this.table);
    return this.now(this.table.get(this.namespace));
  }

  add(value: T): void {
    this.enter(this.table);
    this.checkValue(value);
    const current = this.now(this.table.get(this.namespace));
    const next = current === undefined ? value : this.reduce(current, value);
    this.checkValue(next);
    this.done(this.table.put(this.namespace, next));
  }

  /** @internal Whether a call now would answer rather than throw `STATE_NOT_RESIDENT` (built-in operators fall back to the Promise-based state then). */
  isResident(): boolean {
    return this.residentIn(this.table);
  }

  clear(): void {
    this.enter(this.table);
    this.done(this.table.remove(this.namespace));
  }
}

/** {@link SyncAggregatingState}: the accumulator lives in a value table. */
export class SyncAggregatingStateImpl<IN, ACC, OUT> extends SyncKvState implements SyncAggregatingState<IN, OUT> {
  constructor(
    backend: KeyedStateBackend,
    operator: string,
    name: string,
    private readonly table: ValueTable<ACC>,
    private readonly fn: AggregateFunction<IN, ACC, OUT>,
  ) {
    super(backend, operator, name);
  }

  get(): OUT | undefined {
    this.enter(this.table);
    const acc = this.now(this.table.get(this.namespace));
    return acc === undefined ? undefined : this.fn.getResult(acc);
  }

  add(value: IN): void {
    this.enter(this.table);
    const current = this.now(this.table.get(this.namespace));
    const acc = this.fn.add(value, current === undefined ? this.fn.createAccumulator() : current);
    this.checkValue(acc);
    this.done(this.table.put(this.namespace, acc));
  }

  /** @internal Whether a call now would answer rather than throw `STATE_NOT_RESIDENT` (built-in operators fall back to the Promise-based state then). */
  isResident(): boolean {
    return this.residentIn(this.table);
  }

  clear(): void {
    this.enter(this.table);
    this.done(this.table.remove(this.namespace));
  }
}
