/**
 * The per-key set of in-flight merging windows (Flink's `MergingWindowSet`), read and
 * written through {@link MergingSetStore} so that it costs no Promise where the backend
 * answers at once. Merging moves no state to the merged window: the result keeps one of
 * the merged windows' state window and the others' state folds into it.
 */
import { ConfigurationError } from '../../api/errors.ts';
import type { Awaitable } from '../../api/functions.ts';
import type { MergingWindowAssigner } from '../../api/windowing/assigners.ts';
import { windowOfNamespace, type Window } from '../../api/windowing/windows.ts';
import { andThen, forEachStep } from './steps.ts';

/** The stored form of a set: [window namespace, state window namespace] pairs. */
export type MergingSetEntries = Array<[string, string]>;

/** Where a key's set is kept (the window operator's value state of the current key). */
export interface MergingSetStore {
  read(): Awaitable<MergingSetEntries | undefined>;
  /** `undefined` removes the set. */
  write(entries: MergingSetEntries | undefined): Awaitable<void>;
}

/**
 * Called for every merge: the merged windows other than the new one, the state window of
 * the result, and the state windows to fold into it.
 */
export type MergeFunction = (result: Window, merged: Window[], stateResult: string, mergedStates: string[]) => Awaitable<void>;

/** The in-flight windows of one key of a merging assigner, each with the window its state is kept under. */
export class MergingWindowSet {
  /** Window namespace → state window namespace. */
  private readonly mapping: Map<string, string>;
  private changed = false;

  private constructor(
    private readonly assigner: MergingWindowAssigner<unknown, Window>,
    private readonly store: MergingSetStore,
    entries: MergingSetEntries | undefined,
  ) {
    this.mapping = new Map(entries ?? []);
  }

  /** The set of the current key; a Promise only when the store answers one. */
  static load(assigner: MergingWindowAssigner<unknown, Window>, store: MergingSetStore): Awaitable<MergingWindowSet> {
    return andThen(store.read(), (entries) => new MergingWindowSet(assigner, store, entries));
  }

  /** The state windows of every in-flight window (what a record of this key may touch). */
  stateWindows(): IterableIterator<string> {
    return this.mapping.values();
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
   * Adds `newWindow`, merging it with in-flight windows as the assigner says, calling
   * `merge` for every merge in turn. Returns the window `newWindow` ended up in; a Promise
   * only when a `merge` call answers one.
   */
  addWindow(newWindow: Window, merge: MergeFunction): Awaitable<Window> {
    const newNs = newWindow.namespace();
    // A new window equal to an in-flight one is that window (windows are values).
    const inFlight = this.mapping.has(newNs);
    const windows = [...this.mapping.keys()].map(windowOfNamespace);
    if (!inFlight) windows.push(newWindow);
    const results: Array<[Window, Window[]]> = [];
    this.assigner.mergeWindows(windows, (toBeMerged, result) => results.push([result, toBeMerged]));
    let resultWindow = newWindow;
    let mergedNewWindow = false;
    const merging = forEachStep(results.length, (i) => {
      const [result, toBeMerged] = results[i];
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
      if (!(merged.length === 1 && merged[0].namespace() === result.namespace())) return merge(result, merged, stateResult, mergedStates);
      return undefined;
    });
    const added = (): Window => {
      if (!inFlight && !mergedNewWindow) {
        this.mapping.set(newNs, newNs);
        this.changed = true;
      }
      return resultWindow;
    };
    return merging === undefined ? added() : merging.then(added);
  }

  /** Writes the set back if it changed (removes it when empty). */
  persist(): Awaitable<void> {
    if (!this.changed) return undefined;
    this.changed = false;
    return this.store.write(this.mapping.size === 0 ? undefined : [...this.mapping]);
  }
}
