/**
 * The state backend contract: the one plug-in point through which operators reach keyed
 * state. A backend stores three shapes of data (a value, a list, a map) per
 * (state, key, namespace); the five user-facing state kinds and TTL are built on top of
 * these shapes once, in core, for every backend.
 *
 * The contract is batch-friendly underneath: the operator sets the current key per record
 * (cheap), may announce the keys of a whole input batch with `prefetch()` before it
 * processes them (a persistent backend loads them in one query), and every table method
 * may answer synchronously (in-memory) or with a Promise (IndexedDB, SQLite).
 *
 * Keyed state is organised by key group: a backend snapshots and restores whole key-group
 * ranges, which is what makes restore at another parallelism (rescaling) possible.
 */
import type { Key } from '../format/key-bytes.ts';
import type { KeyGroupRange } from '../format/key-groups.ts';
import type { KeyedStateSnapshot, StateMetaInfo, TtlMetaInfo } from '../format/snapshot-format.ts';

/** A value or a Promise of it: in-memory backends answer at once, persistent ones later. */
export type MaybePromise<T> = T | Promise<T>;

/** What a checkpoint asks of a keyed snapshot. */
export interface KeyedSnapshotOptions {
  /** The checkpoint the snapshot is for. */
  readonly checkpointId?: number;
  /**
   * A delta is welcome: the backend may answer with an incremental snapshot over a
   * completed checkpoint it was notified of (or with a full one, always correct).
   */
  readonly incremental?: boolean;
}

/** The namespace used when a state has none (Flink's `VoidNamespace`). */
export const VOID_NAMESPACE = '';

/** What a backend needs to know about the operator subtask it serves. */
export interface KeyedStateBackendOptions {
  /** Stable id of the job; persistent backends name their database after it. */
  jobId: string;
  /** Stable id of the operator within the job. */
  operatorId: string;
  /** Human-readable operator name with subtask, used in error messages. */
  operatorName: string;
  subtaskIndex: number;
  parallelism: number;
  maxParallelism: number;
  /** The key groups this subtask owns; state of other key groups is never stored here. */
  keyGroupRange: KeyGroupRange;
}

/** A factory of keyed state backends, one per keyed operator subtask (Flink's `StateBackend`). */
export interface StateBackend {
  /** Short name used in error messages: `[backend:NAME]`. */
  readonly name: string;
  createKeyedStateBackend(options: KeyedStateBackendOptions): MaybePromise<KeyedStateBackend>;
}

/**
 * What a backend is told about a state when its table is requested (today: time-to-live,
 * see `src/api/ttl.ts`). Every field is optional to honour: TTL itself is enforced in core
 * over any backend; a backend that ignores a field only loses that cleanup. A later request
 * of the same table with options replaces them (a restored table learns its filter).
 */
export interface StateTableOptions {
  /**
   * The state has TTL: it is reported as `StateMetaInfo.ttl` in `states()` and in every
   * snapshot (`KeyedBackendBase` does that for every backend; the values stay opaque).
   */
  readonly ttl?: TtlMetaInfo;
  /**
   * How the state's stored elements may be shared and copied (see {@link StoredValues});
   * without it they are plain user values (`PLAIN_VALUES`).
   */
  readonly values?: StoredValues;
  /**
   * Full-snapshot cleanup: `snapshot()` calls this once while it captures and leaves out
   * every stored element (a value; a list element; a map value) for which the returned
   * predicate is true, dropping lists and maps left empty. The working state is unchanged.
   */
  readonly snapshotFilter?: () => (stored: unknown) => boolean;
  /**
   * Backend-native TTL cleanup, given only to backends that declare `nativeTtlCleanup`:
   * `expiryOf(stored)` is a stored element's deadline (expired once `deadline <= now()`),
   * meant for an index (an SQL column, an IndexedDB index) that expired elements are
   * deleted by, when the backend likes and at the latest on `flush()`.
   */
  readonly expiry?: { expiryOf(stored: unknown): number; now(): number };
}

/**
 * What core tells a backend about the elements (a value; a list element; a map value) it
 * stores for one state, so that a backend keeping live objects stays safe and fast
 * without knowing what core stores in them. Both functions are pure and need no `this`.
 */
export interface StoredValues {
  /**
   * A copy of a written element that the caller's later changes cannot reach: the element
   * itself when nothing in it can change.
   */
  copy<T>(value: T): T;
  /**
   * True when the element can never change and the codec encodes it: it may then be kept
   * decoded and handed to every reader as it is (changed in place only by a reader that
   * owns it, see `ValueTable.ownedReads`).
   */
  shareable(value: unknown): boolean;
}

/** A single value per (key, namespace): backs ValueState, ReducingState, AggregatingState. */
export interface ValueTable<T> {
  /**
   * Whether the current key's entry under `namespace` is in memory, so that every method
   * answers synchronously (only tables of backends with `syncAccess: 'resident'` have it).
   */
  resident?(namespace: string): boolean;
  /**
   * True when `get` answers synchronously with the stored object itself, private to the
   * caller for the current access: changed in place, it may be written back with `put`
   * (the heap backend, which copies a stored object on its first read while a snapshot
   * still encodes it; SQLite's cache, which copies a cached array a delta still holds; the
   * Durable Object backend, whose writes encode at once and whose snapshots are synchronous).
   * A backend that can refuse that `put` (a row limit) keeps what it stored, read as before.
   * TTL uses it to renew its pairs without allocating new ones.
   */
  readonly ownedReads?: boolean;
  /**
   * With {@link ownedReads}: records as written the object that `get` answered for the
   * current key and namespace, after the caller changed it in place within the same record
   * — what `put` of that very object would do, without storing it again (it is stored).
   */
  rewritten?(namespace: string): void;
  get(namespace: string): MaybePromise<T | undefined>;
  put(namespace: string, value: T): MaybePromise<void>;
  remove(namespace: string): MaybePromise<void>;
}

/** A list per (key, namespace); `add` appends without rewriting the list. */
export interface ListTable<T> {
  /** As {@link ValueTable.resident}: the current key's list under `namespace` is in memory. */
  resident?(namespace: string): boolean;
  /** A fresh array the caller may keep, or `undefined` when the list is empty. */
  get(namespace: string): MaybePromise<T[] | undefined>;
  add(namespace: string, value: T): MaybePromise<void>;
  addAll(namespace: string, values: readonly T[]): MaybePromise<void>;
  /** Replaces the list; an empty array removes it. */
  update(namespace: string, values: readonly T[]): MaybePromise<void>;
  remove(namespace: string): MaybePromise<void>;
}

/** A map of user keys to values per (key, namespace), one entry per user key. */
export interface MapTable<V> {
  /**
   * As {@link ValueTable.resident}: with `userKey`, whether that entry (or its absence) is
   * known in memory; without, whether the whole map is (iteration, `isEmpty`).
   */
  resident?(namespace: string, userKey?: Key): boolean;
  get(namespace: string, userKey: Key): MaybePromise<V | undefined>;
  put(namespace: string, userKey: Key, value: V): MaybePromise<void>;
  putAll(namespace: string, entries: ReadonlyArray<readonly [Key, V]>): MaybePromise<void>;
  delete(namespace: string, userKey: Key): MaybePromise<void>;
  contains(namespace: string, userKey: Key): MaybePromise<boolean>;
  isEmpty(namespace: string): MaybePromise<boolean>;
  /** Streams the entries; a large map is never loaded whole. */
  entries(namespace: string): AsyncIterable<[Key, V]>;
  /**
   * The entries, synchronously (tables of backends with `syncAccess`; for 'resident' ones
   * only when the whole map is resident). Keys are bound now, as for `entries()`.
   */
  syncEntries?(namespace: string): Iterable<[Key, V]>;
  remove(namespace: string): MaybePromise<void>;
}

/**
 * The keyed state of one operator subtask. Implementations: `HashMapStateBackend`
 * (in memory) and the persistent backends, each extending `KeyedBackendBase` (key
 * context, state registry, restore checks: the rules every backend shares). Every
 * implementation passes `test/conformance/state-backend/` unchanged. A backend
 * failure is a `StateBackendError` naming the component `backend:<name>`.
 */
export interface KeyedStateBackend {
  /** The backend's short name, as in {@link StateBackend.name}. */
  readonly name: string;
  readonly keyGroupRange: KeyGroupRange;
  readonly maxParallelism: number;

  /** Sets the key (and its precomputed key group) that every table access refers to. */
  setCurrentKey(key: Key, keyGroup: number): void;
  /** Forgets the current key: state access then fails with `NO_KEY_CONTEXT`. */
  clearCurrentKey(): void;
  /** The current key, or `undefined` outside of a keyed context. */
  getCurrentKey(): Key | undefined;

  /**
   * The table that stores a state. The first call creates it; a later call with the same
   * name and another kind throws `STATE_KIND_MISMATCH`. (`KeyedBackendBase` implements
   * these checks once for every backend.)
   */
  valueTable<T>(name: string, kind: 'value' | 'reducing' | 'aggregating', options?: StateTableOptions): ValueTable<T>;
  listTable<T>(name: string, options?: StateTableOptions): ListTable<T>;
  mapTable<V>(name: string, options?: StateTableOptions): MapTable<V>;

  /**
   * Incremental TTL cleanup (optional): walks the stored entries of one state (an entry is
   * one key and namespace) with a cursor the backend keeps per state, visiting up to
   * `limit` entries from where the previous call stopped; after the last entry, the next
   * call starts over. In each visited entry it removes the stored elements (a value; list
   * elements; map values) for which `isStale` is true; lists and maps left empty vanish.
   * It neither uses nor changes the current key. Returns the number of entries visited:
   * fewer than `limit` means this call reached the end. A walk (from a call that starts
   * over to the one that reaches the end) visits every entry that existed when it began
   * and was not removed since; core relies on that to skip walks that cannot find anything.
   * Without it a backend gets no incremental cleanup (expired state is still never returned).
   */
  pruneEntries?(stateName: string, limit: number, isStale: (stored: unknown) => boolean): MaybePromise<number>;

  /** True when the backend deletes expired TTL state by itself (see {@link StateTableOptions.expiry}). */
  readonly nativeTtlCleanup?: boolean;

  /**
   * A hint that the given keys are about to be accessed (one input batch). Persistent
   * backends load them in one query; in-memory backends need not implement it. A backend
   * with `syncAccess: 'resident'` keeps them resident until the next batch's prefetch;
   * `more` (a timer's key, within or between batches) adds keys without releasing the batch's.
   */
  prefetch?(keys: readonly Key[], keyGroups: ArrayLike<number>, more?: boolean): MaybePromise<void>;

  /**
   * Synchronous state access (the `getSync*State` handles): `'always'` when every table
   * method answers synchronously (in memory, SQLite-WASM); `'resident'` when they do for
   * what is in memory, which the tables' `resident()` tells and `prefetch()` loads
   * (IndexedDB); absent: not offered (a proxy to another thread), every synchronous access
   * fails with `STATE_NOT_RESIDENT`.
   */
  readonly syncAccess?: 'always' | 'resident';

  /**
   * A state will be accessed synchronously: from now on `prefetch()` loads all of its
   * current key's data (whole maps included). Only backends with `syncAccess: 'resident'`.
   */
  requireResident?(stateName: string): void;

  /**
   * Takes a snapshot of every state in canonical form. The state is captured
   * synchronously within this call (later writes do not show up in the result); encoding
   * and I/O may finish later. Pending writes are part of the snapshot.
   */
  snapshot(options?: KeyedSnapshotOptions): Promise<KeyedStateSnapshot>;

  /**
   * Checkpoint `checkpointId` completed: a backend that writes incremental snapshots may
   * from now on write deltas over the snapshot it took for it.
   */
  notifyCheckpointComplete?(checkpointId: number): void;

  /**
   * Loads snapshots (of any backend) into this empty backend: every key group of each
   * snapshot that falls in this backend's range; the rest is ignored. Several snapshots
   * are given when restoring at a smaller parallelism. A restored state keeps its
   * `StateMetaInfo.ttl` in `states()` (core refuses to register it with TTL switched).
   */
  restore(snapshots: readonly KeyedStateSnapshot[]): Promise<void>;

  /** The keys that have state under a name and namespace (Flink's `getKeys`). */
  keys(stateName: string, namespace: string): AsyncIterable<Key>;

  /** The registered states with their kinds (and TTL metadata, for states with TTL). */
  states(): ReadonlyArray<StateMetaInfo>;

  /** Writes out what is buffered (write-behind caches); in-memory backends do nothing. */
  flush?(): Promise<void>;

  /** Releases every resource; the backend is unusable afterwards. */
  dispose(): Promise<void>;
}
