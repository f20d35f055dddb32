/**
 * The state side of the window operator: per-window ("namespaced") views of keyed state,
 * merging of namespaces when session windows merge, and the per-key set of in-flight
 * merging windows (Flink's `MergingWindowSet`).
 */
import type { StateDescriptor } from '../../api/descriptors.ts';
import { ListStateDescriptor, ValueStateDescriptor } from '../../api/descriptors.ts';
import { ConfigurationError } from '../../api/errors.ts';
import type { AggregateFunction, ListState, ReducingState, ValueState } from '../../api/state.ts';
import type { KeyedStateStore as UserKeyedStateStore } from '../../api/windowing/functions.ts';
import type { MergingWindowAssigner } from '../../api/windowing/assigners.ts';
import { windowOfNamespace, type Window } from '../../api/windowing/windows.ts';
import type { KeyedStateBackend } from '../../state/backend.ts';
import type { InternalKvState } from '../../state/keyed-states.ts';
import type { KeyedStateStore } from '../../state/keyed-state-store.ts';

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

/** The descriptor of the per-key set of in-flight merging windows. */
export const MERGING_WINDOW_SET = new ValueStateDescriptor<Array<[string, string]>>('_window/merging-window-set');

/**
 * The in-flight windows of one key of a merging assigner, each with the window its state
 * is kept under (Flink's `MergingWindowSet`): merging moves no state to the merged
 * window, it keeps one of the merged windows' state and merges the others into it.
 */
export class MergingWindowSet {
  /** Window namespace → state window namespace. */
  private readonly mapping: Map<string, string>;
  private changed = false;

  private constructor(
    private readonly assigner: MergingWindowAssigner<unknown, Window>,
    private readonly state: ValueState<Array<[string, string]>>,
    entries: Array<[string, string]> | undefined,
  ) {
    this.mapping = new Map(entries ?? []);
  }

  /** The set of the current key, read from its state. */
  static async load(assigner: MergingWindowAssigner<unknown, Window>, state: ValueState<Array<[string, string]>>): Promise<MergingWindowSet> {
    return new MergingWindowSet(assigner, state, await state.value());
  }

  /** The window whose namespace holds `window`'s state, if `window` is in flight. */
  getStateWindow(window: Window): string | undefined {
    return this.mapping.get(window.namespace());
  }

  /** Removes a window from the set (it was purged or is late). */
  retireWindow(window: Window): void {
    if (!this.mapping.delete(window.namespace()))
      throw new ConfigurationError(`window ${String(window)} is not in the in-flight window set`, { component: 'windows' });
    this.changed = true;
  }

  /**
   * Adds `newWindow`, merging it with in-flight windows as the assigner says; `merge` is
   * called for every merge (with the merged windows other than `newWindow`, the state
   * window of the result, and the state windows to fold into it). Returns the window
   * `newWindow` ended up in.
   */
  async addWindow(newWindow: Window, merge: (result: Window, merged: Window[], stateResult: string, mergedStates: string[]) => Promise<void>): Promise<Window> {
    const newNs = newWindow.namespace();
    // A new window equal to an in-flight one is that window (windows are values).
    const inFlight = this.mapping.has(newNs);
    const windows = [...this.mapping.keys()].map(windowOfNamespace);
    if (!inFlight) windows.push(newWindow);
    const results: Array<[Window, Window[]]> = [];
    this.assigner.mergeWindows(windows, (toBeMerged, result) => results.push([result, toBeMerged]));
    let resultWindow = newWindow;
    let mergedNewWindow = false;
    for (const [result, toBeMerged] of results) {
      // The new window never had state of its own: it is not among the merged windows.
      const merged = inFlight ? toBeMerged : toBeMerged.filter((w) => w.namespace() !== newNs);
      if (toBeMerged.some((w) => w.namespace() === newNs)) {
        mergedNewWindow = true;
        resultWindow = result;
      }
      // The result keeps the state window of one merged window; the others' state folds into it.
      const stateResult = this.mapping.get(merged[0].namespace())!;
      const mergedStates: string[] = [];
      for (const w of merged) {
        const s = this.mapping.get(w.namespace());
        this.mapping.delete(w.namespace());
        if (s !== undefined && s !== stateResult) mergedStates.push(s);
      }
      this.mapping.set(result.namespace(), stateResult);
      this.changed = true;
      // Not a merge when an in-flight window merely absorbed the new one without growing.
      if (!(merged.length === 1 && merged[0].namespace() === result.namespace())) await merge(result, merged, stateResult, mergedStates);
    }
    if (!inFlight && !mergedNewWindow) {
      this.mapping.set(newNs, newNs);
      this.changed = true;
    }
    return resultWindow;
  }

  /** Writes the set back if it changed (removes it when empty). */
  async persist(): Promise<void> {
    if (!this.changed) return;
    this.changed = false;
    await this.state.update(this.mapping.size === 0 ? undefined : [...this.mapping]);
  }
}

/** The list of a window with an evictor: values with their timestamps (null: none). */
export const EVICTING_CONTENTS = (name: string) => new ListStateDescriptor<[unknown, number | null]>(name);
