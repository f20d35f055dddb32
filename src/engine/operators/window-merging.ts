/**
 * Records of merging windows (session windows; Flink's `WindowOperator.processElement`
 * with a `MergingWindowAssigner`): each assigned window joins the key's set of in-flight
 * windows, merging with the ones it overlaps (the trigger's `onMerge`, the merged
 * windows' trigger state and cleanup timers cleared, their contents folded into the
 * result's state window), then is added to and asked like any window. Synchronous while
 * the set and the contents are resident and the trigger answers at once.
 */
import { StateError } from '../../api/errors.ts';
import type { Awaitable } from '../../api/functions.ts';
import type { Window } from '../../api/windowing/windows.ts';
import { MergingWindowSet, type MergeFunction } from './merging-window-set.ts';
import { andThen, forEachStep } from './steps.ts';
import type { WindowCore } from './window-core.ts';
import { afterElementTrigger } from './window-firing.ts';
import { mergeContents } from './window-state.ts';

/** Merges in-flight windows into `result`: trigger state and timers, cleanup timers, contents. */
function mergeWindows(core: WindowCore, result: Window, merged: Window[], stateResult: string, mergedStates: string[]): Awaitable<void> {
  const { host, spec } = core;
  if (core.eventTime ? core.cleanupTime(result) <= host.timers.watermark : result.maxTimestamp() <= host.ctx.clock.now()) {
    throw new StateError(
      'INVALID_ARGUMENT',
      `the end of ${String(result)} cannot become earlier than the current ${core.eventTime ? 'watermark' : 'processing time'} by merging (the merging assigner produced a window that ends before the windows it merged)`,
      { component: 'windows', operator: host.ctx.displayName, key: core.key },
    );
  }
  core.window = result;
  core.mergedWindows = merged;
  return andThen(spec.trigger.onMerge(result, core.triggerContext), () =>
    andThen(
      forEachStep(merged.length, (i) => {
        const m = merged[i];
        core.window = m;
        return andThen(spec.trigger.clear(m, core.triggerContext), () => core.deleteCleanupTimer(m));
      }),
      () => {
        core.mergedWindows = [];
        return mergeContents(core.contentsTable, stateResult, mergedStates, core.fold());
      },
    ),
  );
}

/** Processes records of a merging assigner for the current key; a Promise only where something answered one. */
export function mergingElementProcessor(core: WindowCore): (value: unknown, timestamp: number) => Awaitable<void> {
  const { spec } = core;
  const merge: MergeFunction = (result, merged, stateResult, mergedStates) => mergeWindows(core, result, merged, stateResult, mergedStates);
  return (value, timestamp) => {
    core.key = core.host.backend.getCurrentKey()!;
    const windows = spec.assigner.assignWindows(value, timestamp, core.assignerContext);
    const stored = spec.evictor !== undefined ? [value, timestamp === timestamp ? timestamp : null] : value;
    return andThen(MergingWindowSet.load(core.merging!, core.mergingSet!), (set) => {
      let skipped = true;
      const added = forEachStep(windows.length, (i) =>
        andThen(set.addWindow(windows[i], merge), (window) => {
          // Only a window that merged with nothing can be late here (merging into a late window throws): dropped.
          if (core.isWindowLate(window)) {
            set.retireWindow(window);
            return undefined;
          }
          skipped = false;
          const stateNs = set.getStateWindow(window)!;
          return andThen(core.addContents(stateNs, stored), () => {
            core.window = window;
            return afterElementTrigger(core, window, stateNs, spec.trigger.onElement(value, timestamp, window, core.triggerContext));
          });
        }),
      );
      return andThen(added, () => andThen(set.persist(), () => core.sideOutputLate(skipped, value, timestamp)));
    });
  };
}
