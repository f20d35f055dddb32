/**
 * The five user-facing keyed states, written once over the backend's three table shapes
 * so that every backend behaves the same. Each state checks that a key is set, validates
 * what it is given, and turns the backend's maybe-synchronous answers into Promises.
 * This file holds their common base and the value state; the other kinds have a file
 * each (`list-state.ts`, `map-state.ts`, `reducing-state.ts`, `aggregating-state.ts`).
 */
import type { ValueState } from '../api/state.ts';
import { InvalidKeyError, StateError } from '../api/errors.ts';
import { cloneValue } from '../format/value-clone.ts';
import { unserializableProblem } from '../format/value-check.ts';
import { keyProblem, type Key } from '../format/key-bytes.ts';
import { VOID_NAMESPACE, type KeyedStateBackend, type MaybePromise, type ValueTable } from './backend.ts';
import { isPromise } from './maybe-promise.ts';

/** Internal view of a keyed state: the namespace it reads and writes (Flink's `InternalKvState`). */
export interface InternalKvState {
  setCurrentNamespace(namespace: string): void;
}

/** Applies `f` now, or when `v` resolves, and always answers with a Promise. */
export function settle<T, R>(v: MaybePromise<T>, f: (t: T) => R): Promise<R> {
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
export function guarded<R>(body: () => Promise<R>): Promise<R> {
  try {
    return body();
  } catch (e) {
    return rejected(e);
  }
}

/** Discards a result (a write answers with nothing). */
export const toVoid = (): void => undefined;
/** One shared settled Promise for writes that completed synchronously. */
const RESOLVED: Promise<void> = Promise.resolve();

/** @internal The common part of the keyed states: key, value and user-key checks. */
export abstract class KvState implements InternalKvState {
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
