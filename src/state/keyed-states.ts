/**
 * The five user-facing keyed states, written once over the backend's three table shapes
 * so that every backend behaves the same. Each state checks that a key is set, validates
 * what it is given, and turns the backend's maybe-synchronous answers into Promises.
 */
import type { AggregatingState, AggregateFunction, ListState, MapState, MapStateKey, ReducingState, ValueState } from '../api/state.ts';
import { InvalidKeyError, StateError } from '../api/errors.ts';
import { cloneValue } from '../format/value-clone.ts';
import { unserializableProblem } from '../format/value-check.ts';
import { keyProblem, type Key } from '../format/key-bytes.ts';
import { VOID_NAMESPACE, type KeyedStateBackend, type ListTable, type MapTable, type MaybePromise, type ValueTable } from './backend.ts';
import { isPromise } from './maybe-promise.ts';

/** Internal view of a keyed state: the namespace it reads and writes (Flink's `InternalKvState`). */
export interface InternalKvState {
  setCurrentNamespace(namespace: string): void;
}

/** Applies `f` now, or when `v` resolves, and always answers with a Promise. */
function settle<T, R>(v: MaybePromise<T>, f: (t: T) => R): Promise<R> {
  return isPromise(v) ? v.then(f) : Promise.resolve(f(v));
}

/**
 * The answer to a failed state call. An access outside its record was also reported to
 * the task, which fails with it: the Promise is marked handled so that a caller who never
 * awaits it (a late write in a `setTimeout`) does not add an unhandled rejection.
 */
function rejected<R>(e: unknown): Promise<R> {
  const p = Promise.reject(e);
  if (e instanceof StateError && e.code === 'NO_KEY_CONTEXT') p.catch(toVoid);
  return p;
}

/** Runs `body`, turning a synchronous throw into a rejected Promise. */
function guarded<R>(body: () => Promise<R>): Promise<R> {
  try {
    return body();
  } catch (e) {
    return rejected(e);
  }
}

const toVoid = (): void => undefined;
/** One shared settled Promise for writes that completed synchronously. */
const RESOLVED: Promise<void> = Promise.resolve();

abstract class KvState implements InternalKvState {
  protected namespace = VOID_NAMESPACE;
  /** Where an access outside any record or timer is reported, so that the task fails with it. */
  private misuse: ((error: StateError) => void) | undefined;
  constructor(
    protected readonly backend: KeyedStateBackend,
    protected readonly operator: string,
    protected readonly name: string,
  ) {}

  setCurrentNamespace(namespace: string): void {
    this.namespace = namespace;
  }

  /** @internal Reports accesses outside any record or timer to `report` (the subtask's task). */
  reportMisuseTo(report: (error: StateError) => void): void {
    this.misuse = report;
  }

  // checkKey and checkValue run on every state call: their common path is kept tiny (the
  // errors are built elsewhere) so that the compiler inlines them into the caller.
  protected checkKey(): void {
    if (this.backend.getCurrentKey() === undefined) throw this.noKeyError();
  }

  protected checkValue(value: unknown): void {
    const t = typeof value;
    if (t !== 'number' && t !== 'string' && t !== 'boolean' && value !== null) this.checkOtherValue(value);
  }

  // Without AsyncContext, JavaScript cannot tell which record a continuation belongs to;
  // what the backend can tell, for free, is that no record or timer of this subtask is
  // being processed (the operator clears the key between them). Such an access is a bug
  // that would otherwise read or write under no key at all, or vanish as an unhandled
  // rejection: it fails the task.
  private noKeyError(): StateError {
    const error = new StateError(
      'NO_KEY_CONTEXT',
      'keyed state was used while no record or timer of this subtask was being processed. State belongs to the record or timer whose code uses it, ' +
        'and a handle to the subtask whose open() obtained it: not in open() or close(), not after the Promise of processElement/onTimer settled ' +
        '(a setTimeout, or an un-awaited call that outlives its record), and not from another subtask (a handle shared through a class instance ' +
        'or a module variable; plain-data fields of a function are copied per subtask, class instances are shared). The task fails',
      { component: `backend:${this.backend.name}`, operator: this.operator, state: this.name },
    );
    this.misuse?.(error);
    return error;
  }

  private checkOtherValue(value: unknown): void {
    if (value === undefined)
      throw new StateError(
        'INVALID_ARGUMENT',
        'undefined cannot be stored as state (a reduce or aggregate function must return its result; to remove state, call clear())',
        { component: `backend:${this.backend.name}`, operator: this.operator, state: this.name, key: this.backend.getCurrentKey() },
      );
    const problem = unserializableProblem(value);
    if (problem !== undefined) {
      throw new StateError('UNSERIALIZABLE_VALUE', problem, {
        component: `backend:${this.backend.name}`,
        operator: this.operator,
        state: this.name,
        key: this.backend.getCurrentKey(),
      });
    }
  }

  protected checkUserKey(userKey: unknown): asserts userKey is Key {
    const problem = keyProblem(userKey);
    if (problem !== undefined) {
      throw new InvalidKeyError(`invalid map state key: ${problem}`, {
        component: `backend:${this.backend.name}`,
        operator: this.operator,
        state: this.name,
        key: this.backend.getCurrentKey(),
      });
    }
  }
}

/** {@link ValueState} over a value table. */
export class ValueStateImpl<T> extends KvState implements ValueState<T> {
  constructor(
    backend: KeyedStateBackend,
    operator: string,
    name: string,
    private readonly table: ValueTable<T>,
    private readonly defaultValue: T | undefined,
  ) {
    super(backend, operator, name);
  }

  // value() and update() are the hot path of most jobs: no closures, one Promise each.
  value(): Promise<T | undefined> {
    try {
      this.checkKey();
      const v = this.table.get(this.namespace);
      if (isPromise(v)) return v.then((x) => (x === undefined ? this.freshDefault() : x));
      return Promise.resolve(v === undefined ? this.freshDefault() : v);
    } catch (e) {
      return rejected(e);
    }
  }

  /** A copy of the default per read, so that mutating it for one key cannot change it for others (as in Flink). */
  private freshDefault(): T | undefined {
    const d = this.defaultValue;
    return d !== null && typeof d === 'object' ? cloneValue(d) : d;
  }

  update(value: T | undefined): Promise<void> {
    try {
      this.checkKey();
      const r = value === undefined ? this.table.remove(this.namespace) : (this.checkValue(value), this.table.put(this.namespace, value));
      return isPromise(r) ? r.then(toVoid) : RESOLVED;
    } catch (e) {
      return rejected(e);
    }
  }

  clear(): Promise<void> {
    return guarded(() => {
      this.checkKey();
      return settle(this.table.remove(this.namespace), toVoid);
    });
  }
}

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

/** {@link MapState} over a map table. */
export class MapStateImpl<K extends MapStateKey, V> extends KvState implements MapState<K, V> {
  constructor(
    backend: KeyedStateBackend,
    operator: string,
    name: string,
    private readonly table: MapTable<V>,
  ) {
    super(backend, operator, name);
  }

  get(key: K): Promise<V | undefined> {
    return guarded(() => {
      this.checkKey();
      this.checkUserKey(key);
      return settle(this.table.get(this.namespace, key), (v) => v);
    });
  }

  put(key: K, value: V): Promise<void> {
    return guarded(() => {
      this.checkKey();
      this.checkUserKey(key);
      this.checkMapValue(value);
      return settle(this.table.put(this.namespace, key, value), toVoid);
    });
  }

  putAll(entries: Iterable<readonly [K, V]> | Map<K, V>): Promise<void> {
    return guarded(() => {
      this.checkKey();
      const list: Array<readonly [Key, V]> = [];
      for (const [k, v] of entries) {
        this.checkUserKey(k);
        this.checkMapValue(v);
        list.push([k, v]);
      }
      return list.length === 0 ? Promise.resolve() : settle(this.table.putAll(this.namespace, list), toVoid);
    });
  }

  remove(key: K): Promise<void> {
    return guarded(() => {
      this.checkKey();
      this.checkUserKey(key);
      return settle(this.table.delete(this.namespace, key), toVoid);
    });
  }

  contains(key: K): Promise<boolean> {
    return guarded(() => {
      this.checkKey();
      this.checkUserKey(key);
      return settle(this.table.contains(this.namespace, key), (b) => b);
    });
  }

  isEmpty(): Promise<boolean> {
    return guarded(() => {
      this.checkKey();
      return settle(this.table.isEmpty(this.namespace), (b) => b);
    });
  }

  entries(): AsyncIterable<[K, V]> {
    this.checkKey();
    // The key is captured now: the iteration keeps reading this key's map.
    return this.table.entries(this.namespace) as AsyncIterable<[K, V]>;
  }

  keys(): AsyncIterable<K> {
    const entries = this.entries();
    return (async function* () {
      for await (const [k] of entries) yield k;
    })();
  }

  values(): AsyncIterable<V> {
    const entries = this.entries();
    return (async function* () {
      for await (const [, v] of entries) yield v;
    })();
  }

  clear(): Promise<void> {
    return guarded(() => {
      this.checkKey();
      return settle(this.table.remove(this.namespace), toVoid);
    });
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
