/**
 * The state side of the window operator: per-window ("namespaced") views of keyed state,
 * and merging of namespaces when session windows merge.
 */
import type { StateDescriptor } from '../../api/descriptors.ts';
import { ListStateDescriptor } from '../../api/descriptors.ts';
import type { Awaitable } from '../../api/functions.ts';
import { ConfigurationError } from '../../api/errors.ts';
import type { AggregateFunction, ListState, ReducingState } from '../../api/state.ts';
import type { KeyedStateStore as UserKeyedStateStore } from '../../api/windowing/functions.ts';
import type { KeyedStateBackend, ListTable, ValueTable } from '../../state/backend.ts';
import type { InternalKvState } from '../../state/keyed-states.ts';
import type { KeyedStateStore } from '../../state/keyed-state-store.ts';
import { andThen, forEachStep } from './steps.ts';

/** A descriptor under another name (same kind, function and TTL), so that internal and per-window states never collide with the user's. */
export function renamed<D extends StateDescriptor>(descriptor: D, name: string): D {
  return Object.create(descriptor, { name: { value: name, enumerable: true } }) as D;
}

/** The state object a descriptor names, of any kind. */
export function stateOf(store: KeyedStateStore, d: StateDescriptor): unknown {
  switch (d.kind) {
    case 'value':
      return store.getState(d as never);
    case 'list':
      return store.getListState(d as never);
    case 'map':
      return store.getMapState(d as never);
    case 'reducing':
      return store.getReducingState(d as never);
    case 'aggregating':
      return store.getAggregatingState(d as never);
  }
}

/** The synchronous contents of a window (list, reducing or aggregating state), as the window operator uses them. */
export interface SyncContents extends InternalKvState {
  add(value: unknown): void;
  /** The contents of the current namespace: a list ([] when empty), the reduced value or the aggregate's result. */
  get(): unknown;
  clear(): void;
  /** Whether the current key's contents in the current namespace answer at once. */
  isResident(): boolean;
}

/** The synchronous handle of a list, reducing or aggregating state (the window operator's contents). */
export function syncContentsOf(store: KeyedStateStore, d: StateDescriptor): SyncContents {
  switch (d.kind) {
    case 'list':
      return store.getSyncListState(d as never) as unknown as SyncContents;
    case 'reducing':
      return store.getSyncReducingState(d as never) as unknown as SyncContents;
    case 'aggregating':
      return store.getSyncAggregatingState(d as never) as unknown as SyncContents;
    default:
      throw new ConfigurationError(`window contents cannot be ${d.kind} state`, { component: 'windows', state: d.name });
  }
}

/**
 * `state` with every method call made in namespace `namespace()`: per-window state handed
 * to user code stays in its window even when the code keeps it across calls.
 */
export function scoped<S extends object>(state: S, namespace: string): S {
  const kv = state as unknown as InternalKvState;
  return new Proxy(state, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        kv.setCurrentNamespace(namespace);
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

/** Window-scoped state for user functions: names prefixed, every call in the window's namespace. */
export function windowStateStore(store: KeyedStateStore, prefix: string, namespace: string): UserKeyedStateStore {
  const get = (d: StateDescriptor) => scoped(stateOf(store, renamed(d, `${prefix}${d.name}`)) as object, namespace);
  return {
    getState: (d) => get(d) as never,
    getListState: (d) => get(d) as never,
    getMapState: (d) => get(d) as never,
    getReducingState: (d) => get(d) as never,
    getAggregatingState: (d) => get(d) as never,
  };
}

/**
 * Merges the state of `sources` into `target` and removes it from the sources (Flink's
 * `mergeNamespaces`): lists are concatenated, reducing state reduced, aggregating state
 * merged with `AggregateFunction.merge`.
 */
export async function mergeNamespaces(
  store: KeyedStateStore,
  backend: KeyedStateBackend,
  d: StateDescriptor,
  target: string,
  sources: readonly string[],
  operator: string,
): Promise<void> {
  if (sources.length === 0) return;
  const state = stateOf(store, d) as InternalKvState;
  if (d.kind === 'list') {
    const list = state as unknown as ListState<unknown>;
    for (const source of sources) {
      state.setCurrentNamespace(source);
      const values = await list.get();
      await list.clear();
      state.setCurrentNamespace(target);
      if (values.length > 0) await list.addAll(values);
    }
  } else if (d.kind === 'reducing') {
    const reducing = state as unknown as ReducingState<unknown>;
    for (const source of sources) {
      state.setCurrentNamespace(source);
      const value = await reducing.get();
      await reducing.clear();
      state.setCurrentNamespace(target);
      if (value !== undefined) await reducing.add(value);
    }
  } else if (d.kind === 'aggregating') {
    // Accumulators, not results: straight from the table the state is stored in.
    const fn = (d as unknown as { aggregateFunction: AggregateFunction<unknown, unknown, unknown> }).aggregateFunction;
    if (typeof fn.merge !== 'function') {
      throw new ConfigurationError(`merging windows need AggregateFunction.merge(a, b) for state "${d.name}"`, { operator });
    }
    const table = backend.valueTable<unknown>(d.name, 'aggregating');
    let acc = await table.get(target);
    for (const source of sources) {
      const other = await table.get(source);
      if (other === undefined) continue;
      await table.remove(source);
      acc = acc === undefined ? other : fn.merge(acc, other);
    }
    if (acc !== undefined) await table.put(target, acc);
  } else {
    throw new ConfigurationError(`state "${d.name}" is ${d.kind} state, which cannot be merged (only list, reducing and aggregating state)`, { operator });
  }
  state.setCurrentNamespace(target);
}

/** The tables a window's contents live in: a list, or one value (reduced value or accumulator). */
export type ContentsTable = { readonly kind: 'list'; readonly table: ListTable<unknown> } | { readonly kind: 'value'; readonly table: ValueTable<unknown> };

/**
 * {@link mergeNamespaces} for the window's own contents, straight over their table: a
 * Promise only when the backend answers one (a state window not in memory), so that a
 * session merge of resident windows costs none. `fold` combines two stored values
 * (reduce function, `AggregateFunction.merge`); lists are concatenated.
 */
export function mergeContents(
  contents: ContentsTable,
  target: string,
  sources: readonly string[],
  fold?: (a: unknown, b: unknown) => unknown,
): Awaitable<void> {
  if (contents.kind === 'list') {
    const table = contents.table;
    return forEachStep(sources.length, (i) =>
      andThen(table.get(sources[i]), (values) =>
        andThen(table.remove(sources[i]), () => (values !== undefined && values.length > 0 ? table.addAll(target, values) : undefined)),
      ),
    );
  }
  const table = contents.table;
  return andThen(table.get(target), (first) => {
    let acc = first;
    let folded = false;
    return andThen(
      forEachStep(sources.length, (i) =>
        andThen(table.get(sources[i]), (other) => {
          if (other === undefined) return undefined;
          acc = acc === undefined ? other : fold!(acc, other);
          folded = true;
          return table.remove(sources[i]);
        }),
      ),
      () => (folded ? table.put(target, acc) : undefined),
    );
  });
}

/** The list of a window with an evictor: values with their timestamps (null: none). */
export const EVICTING_CONTENTS = (name: string) => new ListStateDescriptor<[unknown, number | null]>(name);
