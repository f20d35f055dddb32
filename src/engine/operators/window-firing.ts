/**
 * Firing and cleanup of windows (Flink's `WindowOperator.onEventTime`/`onProcessingTime`,
 * `emitWindowContents`, `clearAllState`): what follows a trigger's answer, the window
 * function (with an evictor: `EvictingWindowOperator`), and a window's end at its cleanup
 * time. Every step is synchronous while state is resident and the user's code answers at
 * once; from the first Promise on, the rest follows it in the same order.
 */
import type { Awaitable } from '../../api/functions.ts';
import { TimestampedValue } from '../../api/windowing/evictors.ts';
import type { TriggerResult } from '../../api/windowing/triggers.ts';
import { windowOfNamespace, type Window } from '../../api/windowing/windows.ts';
import type { Timer } from '../timers.ts';
import { isThenable } from './base.ts';
import { MergingWindowSet } from './merging-window-set.ts';
import type { OutputBuffer } from './operator.ts';
import { andThen } from './steps.ts';
import type { WindowCore } from './window-core.ts';

/** Runs the window function on `contents`, results stamped with the window's max timestamp. */
export function emit(core: WindowCore, window: Window, stateNs: string, contents: unknown): Awaitable<void> {
  core.window = window;
  const out = core.out;
  out.timestamp = window.maxTimestamp();
  const { spec } = core;
  // Without an evictor a Promise only when the window function answers one.
  if (spec.evictor === undefined)
    return spec.apply(core.key, window, core.processContext, spec.contents.kind === 'list' ? (contents as unknown[]) : [contents], out);
  return emitEvicting(core, window, stateNs, contents);
}

async function emitEvicting(core: WindowCore, window: Window, stateNs: string, contents: unknown): Promise<void> {
  const out = core.out;
  const evictor = core.spec.evictor!;
  const elements = (contents as Array<[unknown, number | null]>).map(([v, t]) => new TimestampedValue(v, t ?? undefined));
  evictor.evictBefore(elements, elements.length, window, core.evictorContext);
  const values = elements.map((e) => e.getValue());
  const spec = core.spec.contents;
  let input: unknown[] = values;
  if (spec.kind === 'reduce') input = values.length === 0 ? [] : [values.reduce((a, b) => spec.reduce(a, b))];
  else if (spec.kind === 'aggregate') input = [spec.fn.getResult(values.reduce((acc, v) => spec.fn.add(v, acc), spec.fn.createAccumulator()))];
  if (input.length > 0) await core.spec.apply(core.key, window, core.processContext, input, out);
  evictor.evictAfter(elements, elements.length, window, core.evictorContext);
  const list = core.contents;
  list.setCurrentNamespace(stateNs);
  await list.update(elements.map((e) => [e.getValue(), e.getTimestamp() ?? null] as [unknown, number | null]));
}

/** Fires the window if `result` says so: its contents under `stateNs`, if any, to the window function. */
function fireIf(core: WindowCore, result: TriggerResult, window: Window, stateNs: string): Awaitable<void> {
  if (!result.isFire()) return undefined;
  return andThen(core.getContents(stateNs), (contents) => (contents === undefined ? undefined : emit(core, window, stateNs, contents)));
}

/** What follows the trigger's answer to a record: fire, purge, cleanup timer. */
export function afterElementTrigger(core: WindowCore, window: Window, stateNs: string, answer: Awaitable<TriggerResult>): Awaitable<void> {
  return andThen(answer, (result) =>
    andThen(fireIf(core, result, window, stateNs), () =>
      andThen(result.isPurge() ? core.clearContents(stateNs) : undefined, () => core.registerCleanupTimer(window)),
    ),
  );
}

/** Whether `timer` is the cleanup timer of `window` (its state goes then). */
function isCleanupTimer(core: WindowCore, timer: Timer, window: Window): boolean {
  return (timer.domain === 'EVENT_TIME') === core.eventTime && core.cleanupTime(window) === timer.timestamp;
}

function askTrigger(core: WindowCore, timer: Timer, window: Window): Awaitable<TriggerResult> {
  const { trigger } = core.spec;
  return timer.domain === 'EVENT_TIME'
    ? trigger.onEventTime(timer.timestamp, window, core.triggerContext)
    : trigger.onProcessingTime(timer.timestamp, window, core.triggerContext);
}

/** A window's end: its contents, its trigger's state and timers, the function's window state, its place in the merging set. */
function clearAllState(core: WindowCore, window: Window, stateNs: string, set: MergingWindowSet | undefined): Awaitable<void> {
  return andThen(core.clearContents(stateNs), () => {
    core.window = window;
    return andThen(core.spec.trigger.clear(window, core.triggerContext), () =>
      andThen(core.spec.clear?.(core.processContext), () => set?.retireWindow(window)),
    );
  });
}

/** What follows a timer's firing: purge, at the window's cleanup time all of its state, and the merging set written back. */
function afterTimerFire(
  core: WindowCore,
  timer: Timer,
  window: Window,
  stateNs: string,
  result: TriggerResult,
  set: MergingWindowSet | undefined,
): Awaitable<void> {
  return andThen(result.isPurge() ? core.clearContents(stateNs) : undefined, () =>
    andThen(isCleanupTimer(core, timer, window) ? clearAllState(core, window, stateNs, set) : undefined, () => set?.persist()),
  );
}

/** A timer of the window in `stateNs` (its state window), after the trigger answered. */
function fireTimer(
  core: WindowCore,
  timer: Timer,
  window: Window,
  stateNs: string,
  set: MergingWindowSet | undefined,
  answer: Awaitable<TriggerResult>,
): Awaitable<void> {
  return andThen(answer, (result) => andThen(fireIf(core, result, window, stateNs), () => afterTimerFire(core, timer, window, stateNs, result, set)));
}

/**
 * A timer of the window operator. Without merging and evictors, the common case takes a
 * path without closures (the windows of thousands of keys often fire at one watermark);
 * merging windows look their state window up in the key's merging set first.
 */
export function onWindowTimer(core: WindowCore, timer: Timer, out: OutputBuffer): Awaitable<void> {
  core.out = out;
  core.key = timer.key;
  const window = windowOfNamespace(timer.namespace);
  core.window = window;
  if (core.merging !== undefined) {
    return andThen(MergingWindowSet.load(core.merging, core.mergingSet!), (set) => {
      const stateNs = set.getStateWindow(window);
      // A timer of a window that was merged away or purged: nothing to do.
      if (stateNs === undefined) return undefined;
      return fireTimer(core, timer, window, stateNs, set, askTrigger(core, timer, window));
    });
  }
  const stateNs = timer.namespace;
  if (core.spec.evictor !== undefined || !core.resident(stateNs)) return fireTimer(core, timer, window, stateNs, undefined, askTrigger(core, timer, window));
  const answer = askTrigger(core, timer, window);
  if (isThenable(answer)) return fireTimer(core, timer, window, stateNs, undefined, answer);
  const sync = core.syncContents;
  if (answer.isFire()) {
    sync.setCurrentNamespace(stateNs);
    const contents = core.nonEmpty(sync.get());
    if (contents !== undefined) {
      const applied = emit(core, window, stateNs, contents);
      if (isThenable(applied)) return applied.then(() => afterTimerFire(core, timer, window, stateNs, answer, undefined));
    }
  }
  if (answer.isPurge()) {
    sync.setCurrentNamespace(stateNs);
    sync.clear();
  }
  if (!isCleanupTimer(core, timer, window)) return undefined;
  return clearAllState(core, window, stateNs, undefined);
}
