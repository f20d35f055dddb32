/**
 * The keyed state a function reads and writes. Every method is asynchronous (as in
 * Flink's State V2) because persistent backends are; each is scoped to the key of the
 * record being processed, which the runtime sets before calling the function.
 */

/** Common to every state: `clear()` removes the current key's state at once. */
export interface State {
  /** Removes the value(s) of the current key. */
  clear(): Promise<void>;
}

/** A single value per key. */
export interface ValueState<T> extends State {
  /** The current key's value, or the descriptor's default (normally `undefined`) when unset. */
  value(): Promise<T | undefined>;
  /** Replaces the current key's value. `undefined` clears it, as Flink's `update(null)` does. */
  update(value: T | undefined): Promise<void>;
}

/** A list of elements per key; `add` appends without reading the list. */
export interface ListState<T> extends State {
  /** The elements in insertion order; an empty array when unset. */
  get(): Promise<T[]>;
  /** Appends one element. */
  add(value: T): Promise<void>;
  /** Appends all elements in order. */
  addAll(values: Iterable<T>): Promise<void>;
  /** Replaces the list; an empty iterable clears it. */
  update(values: Iterable<T>): Promise<void>;
}

/** Keys allowed in a {@link MapState}: the same kinds as stream keys. */
export type MapStateKey = string | number | bigint | boolean | readonly MapStateKey[];

/** A map of user keys to values per key; one entry is read without loading the whole map. */
export interface MapState<K extends MapStateKey, V> extends State {
  get(key: K): Promise<V | undefined>;
  put(key: K, value: V): Promise<void>;
  /** Puts every entry of an iterable of pairs, a `Map`, or a plain record. */
  putAll(entries: Iterable<readonly [K, V]> | Map<K, V>): Promise<void>;
  remove(key: K): Promise<void>;
  contains(key: K): Promise<boolean>;
  /** Iterates the entries. Changes made while iterating may or may not be seen. */
  entries(): AsyncIterable<[K, V]>;
  keys(): AsyncIterable<K>;
  values(): AsyncIterable<V>;
  isEmpty(): Promise<boolean>;
}

/** Values folded into one with the descriptor's reduce function. */
export interface ReducingState<T> extends State {
  /** The folded value, or `undefined` when nothing was added. */
  get(): Promise<T | undefined>;
  add(value: T): Promise<void>;
}

/** Values folded into an accumulator with the descriptor's {@link AggregateFunction}. */
export interface AggregatingState<IN, OUT> extends State {
  /** `getResult(accumulator)`, or `undefined` when nothing was added. */
  get(): Promise<OUT | undefined>;
  add(value: IN): Promise<void>;
}

/** Folds two values of the same type into one (Flink's `ReduceFunction`). */
export type ReduceFunction<T> = ((a: T, b: T) => T) | { reduce(a: T, b: T): T };

/** Flink's `AggregateFunction`: an accumulator built up value by value. */
export interface AggregateFunction<IN, ACC, OUT> {
  createAccumulator(): ACC;
  add(value: IN, accumulator: ACC): ACC;
  getResult(accumulator: ACC): OUT;
  /** Merges two accumulators (needed by merging windows, not by keyed state). */
  merge?(a: ACC, b: ACC): ACC;
}

/** Operator (non-keyed) broadcast state: the same map on every subtask. */
export interface BroadcastState<K extends MapStateKey, V> extends MapState<K, V> {}
