/**
 * The keyed state a function reads and writes, scoped to the key of the record being
 * processed, which the runtime sets before calling the function. Two families:
 *
 * - `ValueState`, `ListState`, ... (from `getState()`, `getListState()`, ...): every
 *   method answers with a Promise, as in Flink's State V2, because persistent backends are
 *   asynchronous. They work on every backend, always.
 * - `SyncValueState`, `SyncListState`, ... (from `getSyncState()`, `getSyncListState()`,
 *   ...): Flink's original synchronous state interfaces, same method names, answering at
 *   once. They work where the current key's state is resident: always in memory and
 *   SQLite-WASM; on IndexedDB for the keys the runtime loaded with their batch (every
 *   record's and timer's key); elsewhere they throw `STATE_NOT_RESIDENT`, never guess.
 *
 * Both families may be used for the same state; they read and write the same data.
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

/** Common to every synchronous state (Flink's original `State`). */
export interface SyncState {
  /** Removes the value(s) of the current key. */
  clear(): void;
}

/** A single value per key, read and written synchronously (Flink's `ValueState`). */
export interface SyncValueState<T> extends SyncState {
  /** The current key's value, or the descriptor's default (normally `undefined`) when unset. */
  value(): T | undefined;
  /** Replaces the current key's value; `undefined` clears it. */
  update(value: T | undefined): void;
}

/** A list of elements per key, synchronously (Flink's `ListState`). */
export interface SyncListState<T> extends SyncState {
  /** The elements in insertion order (a fresh array); empty when unset. */
  get(): T[];
  add(value: T): void;
  addAll(values: Iterable<T>): void;
  /** Replaces the list; an empty iterable clears it. */
  update(values: Iterable<T>): void;
}

/** A map of user keys to values per key, synchronously (Flink's `MapState`). */
export interface SyncMapState<K extends MapStateKey, V> extends SyncState, Iterable<[K, V]> {
  get(key: K): V | undefined;
  put(key: K, value: V): void;
  putAll(entries: Iterable<readonly [K, V]> | Map<K, V>): void;
  remove(key: K): void;
  contains(key: K): boolean;
  /** Iterates the entries of the current key (bound now). Changes made while iterating may or may not be seen. */
  entries(): IterableIterator<[K, V]>;
  keys(): IterableIterator<K>;
  values(): IterableIterator<V>;
  isEmpty(): boolean;
}

/** Values folded with the descriptor's reduce function, synchronously (Flink's `ReducingState`). */
export interface SyncReducingState<T> extends SyncState {
  get(): T | undefined;
  add(value: T): void;
}

/** Values folded into an accumulator, synchronously (Flink's `AggregatingState`). */
export interface SyncAggregatingState<IN, OUT> extends SyncState {
  get(): OUT | undefined;
  add(value: IN): void;
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
