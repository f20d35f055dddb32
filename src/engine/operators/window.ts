/**
 * The window operator (Flink's `WindowOperator` and `EvictingWindowOperator`): assigns
 * each record to windows, keeps per window either one accumulator (reduce, aggregate) or
 * the records (process, evictors) in keyed state under the window's namespace, asks the
 * trigger when to fire and purge, and clears a window's state and timers at its cleanup
 * time (max timestamp + allowed lateness). Everything lives in the keyed backend and the
 * timer service, so windows are checkpointed and rescaled like any keyed state.
 */
import { StateError } from '../../api/errors.ts';
import { AggregatingStateDescriptor, ListStateDescriptor, ReducingStateDescriptor, type StateDescriptor } from '../../api/descriptors.ts';
import type { Awaitable, Collector } from '../../api/functions.ts';
import type { AggregateFunction, ListState, ValueState } from '../../api/state.ts';
import { MergingWindowAssigner, type WindowAssigner, type WindowAssignerContext } from '../../api/windowing/assigners.ts';
import type { Evictor, EvictorContext } from '../../api/windowing/evictors.ts';
import { TimestampedValue } from '../../api/windowing/evictors.ts';
import type { ProcessWindowContext } from '../../api/windowing/functions.ts';
import type { OnMergeContext, Trigger, TriggerResult } from '../../api/windowing/triggers.ts';
import { windowOfNamespace, type Window } from '../../api/windowing/windows.ts';
import { MAX_WATERMARK } from '../../api/watermarks.ts';
import type { Key } from '../../format/key-bytes.ts';
import type { InternalKvState } from '../../state/keyed-states.ts';
import type { Timer } from '../timers.ts';
import { AbstractStreamOperator, isThenable } from './base.ts';
import type { OperatorContext, OperatorRestore, OutputBuffer, PendingSnapshot, RecordBatch, SnapshotOptions } from './operator.ts';
import { emitToSide } from './process.ts';
import {
  MergingWindowSet,
  MERGING_WINDOW_SET,
  mergeNamespaces,
  renamed,
  scoped,
  stateOf,
  syncContentsOf,
  windowStateStore,
  type SyncContents,
} from './window-state.ts';

/** How a window's contents are kept and handed to the window function. */
export type WindowContents =
  /** The records, in a list (process window functions). */
  | { readonly kind: 'list' }
  /** One value, reduced record by record. */
  | { readonly kind: 'reduce'; readonly reduce: (a: unknown, b: unknown) => unknown }
  /** One accumulator (aggregate functions). */
  | { readonly kind: 'aggregate'; readonly fn: AggregateFunction<unknown, unknown, unknown> };

/** Evaluates a fired window: the pre-aggregated value or the records in `input`. */
export type InternalWindowFunction = (
  key: Key,
  window: Window,
  ctx: ProcessWindowContext<Window>,
  input: unknown[],
  out: Collector<unknown>,
) => Awaitable<void>;

/** What `WindowedStream` configures. */
export interface WindowOperatorSpec {
  readonly assigner: WindowAssigner<unknown, Window>;
  readonly trigger: Trigger<unknown, Window>;
  readonly evictor?: Evictor<unknown, Window>;
  readonly allowedLateness: number;
  /** Tag id of the late-data side output. */
  readonly lateDataTag?: string;
  readonly contents: WindowContents;
  readonly apply: InternalWindowFunction;
  /** The user's window function, for `clear(context)`. */
  readonly clear?: (ctx: ProcessWindowContext<Window>) => Awaitable<void>;
}

/** Names of the operator's own states; user state names cannot start with `_window/`. */
const CONTENTS = '_window/contents';
const TRIGGER_PREFIX = '_window/trigger/';
const WINDOW_STATE_PREFIX = '_window/state/';
const WATERMARK = '_window/watermark';

/** Flink's `WindowOperator` (with an evictor: `EvictingWindowOperator`). */
export class WindowOperator<F> extends AbstractStreamOperator<F> {
  private contents!: { add(v: unknown): Promise<void>; get(): Promise<unknown>; clear(): Promise<void> } & InternalKvState;
  private contentsDescriptor!: StateDescriptor;
  /** The same contents, synchronously (see {@link processElementNow}). */
  private syncContents!: SyncContents;
  /** The contents as list state (process windows and evicting windows). */
  private listState!: ListState<unknown> & InternalKvState;
  private mergingState: ValueState<Array<[string, string]>> | undefined;
  private readonly merging: MergingWindowAssigner<unknown, Window> | undefined;
  private readonly eventTime: boolean;
  private out!: OutputBuffer;
  private key: Key = 0;
  /** The window the trigger context and process context refer to. */
  private window!: Window;
  private mergedWindows: Window[] = [];
  private readonly assignerContext: WindowAssignerContext = { getCurrentProcessingTime: () => this.ctx.clock.now() };
  private readonly triggerContext: OnMergeContext;
  private readonly processContext: ProcessWindowContext<Window>;
  private readonly evictorContext: EvictorContext;

  constructor(
    fn: F,
    private readonly spec: WindowOperatorSpec,
  ) {
    super(fn);
    this.merging = spec.assigner instanceof MergingWindowAssigner ? spec.assigner : undefined;
    this.eventTime = spec.assigner.isEventTime();
    this.triggerContext = {
      getCurrentProcessingTime: () => this.ctx.clock.now(),
      getCurrentWatermark: () => this.timers!.watermark,
      registerEventTimeTimer: (t) => void this.timers!.register('EVENT_TIME', this.key, this.currentKeyGroup, t, this.window.namespace()),
      registerProcessingTimeTimer: (t) => {
        if (this.timers!.register('PROCESSING_TIME', this.key, this.currentKeyGroup, t, this.window.namespace())) this.ctx.scheduleProcessingTime(t);
      },
      deleteEventTimeTimer: (t) => this.timers!.delete('EVENT_TIME', this.key, t, this.window.namespace()),
      deleteProcessingTimeTimer: (t) => this.timers!.delete('PROCESSING_TIME', this.key, t, this.window.namespace()),
      getPartitionedState: ((d: StateDescriptor) =>
        scoped(stateOf(this.keyedStore!, renamed(d, TRIGGER_PREFIX + d.name)) as object, this.window.namespace())) as OnMergeContext['getPartitionedState'],
      mergePartitionedState: (d) =>
        mergeNamespaces(
          this.keyedStore!,
          this.backend!,
          renamed(d, TRIGGER_PREFIX + d.name),
          this.window.namespace(),
          this.mergedWindows.map((w) => w.namespace()),
          this.ctx.displayName,
        ),
    };
    this.processContext = {
      window: () => this.window,
      currentProcessingTime: () => this.ctx.clock.now(),
      currentWatermark: () => this.timers!.watermark,
      windowState: () => windowStateStore(this.keyedStore!, WINDOW_STATE_PREFIX, this.window.namespace()),
      globalState: () => this.runtimeContext,
      output: (tag, value) => emitToSide(this.out, tag, value, this.ctx.displayName),
    };
    this.evictorContext = { getCurrentProcessingTime: () => this.ctx.clock.now(), getCurrentWatermark: () => this.timers!.watermark };
  }

  /**
   * Unlike Flink, the operator keeps its watermark in its snapshot (union list state,
   * the minimum of every old subtask's on restore) and never goes back below it: a
   * restored job then takes the same late-or-not decisions for replayed records as the
   * run that failed, whenever its source replays the same watermarks.
   */
  private watermarkState!: ListState<number>;

  override async initializeState(ctx: OperatorContext, restore?: OperatorRestore): Promise<void> {
    await super.initializeState(ctx, restore);
    this.watermarkState = this.operatorState.getUnionListState(new ListStateDescriptor<number>(WATERMARK));
    const restored = await this.watermarkState.get();
    if (restored.length > 0) this.timers!.watermark = Math.min(...restored);
  }

  override async snapshotState(checkpointId: number, timestamp: number, options?: SnapshotOptions): Promise<PendingSnapshot> {
    const w = this.timers!.watermark;
    await this.watermarkState.update(Number.isFinite(w) ? [w] : []);
    return super.snapshotState(checkpointId, timestamp, options);
  }

  override async processWatermark(watermark: number, out: OutputBuffer): Promise<void> {
    // A restarted upstream may begin below the restored watermark: event time does not go back.
    if (watermark <= this.timers!.watermark) return;
    await super.processWatermark(watermark, out);
  }

  override async open(): Promise<void> {
    const store = this.keyedStore!;
    const { contents } = this.spec;
    this.contentsDescriptor =
      this.spec.evictor !== undefined || contents.kind === 'list'
        ? new ListStateDescriptor(CONTENTS)
        : contents.kind === 'reduce'
          ? new ReducingStateDescriptor(CONTENTS, contents.reduce)
          : new AggregatingStateDescriptor(CONTENTS, contents.fn);
    const state = stateOf(store, this.contentsDescriptor) as ListState<unknown> & InternalKvState;
    this.listState = state;
    // A list's get() answers [] when empty; the operator treats that as "no contents".
    this.contents =
      this.contentsDescriptor.kind === 'list'
        ? {
            setCurrentNamespace: (ns) => state.setCurrentNamespace(ns),
            add: (v) => state.add(v),
            get: () => state.get().then((l) => (l.length === 0 ? undefined : l)),
            clear: () => state.clear(),
          }
        : (state as unknown as typeof this.contents);
    this.syncContents = syncContentsOf(store, this.contentsDescriptor);
    if (this.merging !== undefined) this.mergingState = store.getState(MERGING_WINDOW_SET);
    await super.open();
  }

  processBatch(batch: RecordBatch, out: OutputBuffer): Promise<void> {
    this.out = out;
    return this.forEachRecord(batch, out, 'window', this.processRecord);
  }

  private readonly processRecord = (v: unknown, o: OutputBuffer): unknown => this.processElementNow(v, o.timestamp);

  /**
   * The synchronous path of {@link processElement}: where every assigned window's contents
   * are resident and the trigger answers at once without firing (the common case of
   * event-time windows), the record costs no Promise. Anything else continues on the
   * asynchronous path from the window it reached, so both take the same decisions.
   */
  private processElementNow(value: unknown, timestamp: number): Promise<void> | undefined {
    if (this.merging !== undefined) return this.processElement(value, timestamp);
    const windows = this.spec.assigner.assignWindows(value, timestamp, this.assignerContext);
    const sync = this.syncContents;
    if (this.backend!.syncAccess !== 'always') {
      for (const w of windows) {
        sync.setCurrentNamespace(w.namespace());
        if (!sync.isResident()) return this.processElement(value, timestamp, windows);
      }
    }
    this.key = this.backend!.getCurrentKey()!;
    const stored = this.spec.evictor !== undefined ? [value, timestamp === timestamp ? timestamp : null] : value;
    let skipped = true;
    for (let i = 0; i < windows.length; i++) {
      const window = windows[i];
      if (this.isWindowLate(window)) continue;
      skipped = false;
      const ns = window.namespace();
      sync.setCurrentNamespace(ns);
      sync.add(stored);
      this.window = window;
      const result = this.spec.trigger.onElement(value, timestamp, window, this.triggerContext);
      if (isThenable(result) || result.isFire())
        return this.afterTrigger(window, ns, result).then(() => this.processElement(value, timestamp, windows, i + 1, false));
      if (result.isPurge()) {
        sync.setCurrentNamespace(ns);
        sync.clear();
      }
      this.registerCleanupTimer(window);
    }
    this.sideOutputLate(skipped, value, timestamp);
    return undefined;
  }

  /** What follows the trigger's answer for one window: fire, purge, cleanup timer. */
  private async afterTrigger(window: Window, stateNs: string, answer: Awaitable<TriggerResult>): Promise<void> {
    const result = await answer;
    if (result.isFire()) {
      this.contents.setCurrentNamespace(stateNs);
      const contents = await this.contents.get();
      if (contents !== undefined) await this.emit(window, stateNs, contents);
    }
    if (result.isPurge()) {
      this.contents.setCurrentNamespace(stateNs);
      await this.contents.clear();
    }
    this.registerCleanupTimer(window);
  }

  /** A record that fell in no window because all were late goes to the late-data side output, if any. */
  private sideOutputLate(skipped: boolean, value: unknown, timestamp: number): void {
    if (skipped && this.eventTime && timestamp + this.spec.allowedLateness <= this.timers!.watermark) {
      if (this.spec.lateDataTag !== undefined) {
        this.out.timestamp = timestamp;
        this.out.sideOutput(this.spec.lateDataTag).collect(value);
      }
    }
  }

  private cleanupTime(window: Window): number {
    if (!this.eventTime) return window.maxTimestamp();
    const t = window.maxTimestamp() + this.spec.allowedLateness;
    return t >= window.maxTimestamp() && t < MAX_WATERMARK ? t : MAX_WATERMARK;
  }

  private isWindowLate(window: Window): boolean {
    return this.eventTime && this.cleanupTime(window) <= this.timers!.watermark;
  }

  /** The asynchronous path; `windows` (assigned already) from index `from` on, for the synchronous path's hand-over. */
  private async processElement(value: unknown, timestamp: number, assigned?: readonly Window[], from = 0, skippedSoFar = true): Promise<void> {
    this.key = this.backend!.getCurrentKey()!;
    const windows = assigned ?? this.spec.assigner.assignWindows(value, timestamp, this.assignerContext);
    let skipped = skippedSoFar;
    const stored = this.spec.evictor !== undefined ? [value, timestamp === timestamp ? timestamp : null] : value;
    const mergingWindows = this.merging !== undefined ? await MergingWindowSet.load(this.merging, this.mergingState!) : undefined;
    for (let i = from; i < windows.length; i++) {
      const assigned = windows[i];
      let window = assigned;
      let stateNs = window.namespace();
      if (mergingWindows !== undefined) {
        window = await mergingWindows.addWindow(assigned, (result, merged, stateResult, mergedStates) => this.merge(result, merged, stateResult, mergedStates));
        if (this.isWindowLate(window)) {
          mergingWindows.retireWindow(window);
          continue;
        }
        stateNs = mergingWindows.getStateWindow(window)!;
      } else if (this.isWindowLate(window)) continue;
      skipped = false;
      this.contents.setCurrentNamespace(stateNs);
      await this.contents.add(stored);
      this.window = window;
      await this.afterTrigger(window, stateNs, this.spec.trigger.onElement(value, timestamp, window, this.triggerContext));
    }
    if (mergingWindows !== undefined) await mergingWindows.persist();
    this.sideOutputLate(skipped, value, timestamp);
  }

  /** Merges in-flight session windows: trigger state and timers, cleanup timers, contents. */
  private async merge(result: Window, merged: Window[], stateResult: string, mergedStates: string[]): Promise<void> {
    if (this.eventTime ? this.cleanupTime(result) <= this.timers!.watermark : result.maxTimestamp() <= this.ctx.clock.now()) {
      throw new StateError(
        'INVALID_ARGUMENT',
        `the end of ${String(result)} cannot become earlier than the current ${this.eventTime ? 'watermark' : 'processing time'} by merging (the merging assigner produced a window that ends before the windows it merged)`,
        { component: 'windows', operator: this.ctx.displayName, key: this.key },
      );
    }
    this.window = result;
    this.mergedWindows = merged;
    await this.spec.trigger.onMerge(result, this.triggerContext);
    for (const m of merged) {
      this.window = m;
      await this.spec.trigger.clear(m, this.triggerContext);
      this.deleteCleanupTimer(m);
    }
    this.mergedWindows = [];
    await mergeNamespaces(this.keyedStore!, this.backend!, this.contentsDescriptor, stateResult, mergedStates, this.ctx.displayName);
  }

  /**
   * The synchronous path of a timer: where the window's contents are resident, the trigger
   * answers at once and the window function returns no Promise, a timer costs no Promise
   * (the windows of thousands of keys often fire at one watermark). Merging windows and
   * evictors take the asynchronous path, and so does the rest of a timer from its first
   * Promise on, so both take the same steps in the same order.
   */
  protected override onTimer(timer: Timer, out: OutputBuffer): Promise<void> | undefined {
    if (this.merging !== undefined || this.spec.evictor !== undefined) return this.onTimerAsync(timer, out);
    const sync = this.syncContents;
    const stateNs = timer.namespace;
    sync.setCurrentNamespace(stateNs);
    if (this.backend!.syncAccess !== 'always' && !sync.isResident()) return this.onTimerAsync(timer, out);
    this.out = out;
    this.key = timer.key;
    const window = windowOfNamespace(stateNs);
    this.window = window;
    const answer =
      timer.domain === 'EVENT_TIME'
        ? this.spec.trigger.onEventTime(timer.timestamp, window, this.triggerContext)
        : this.spec.trigger.onProcessingTime(timer.timestamp, window, this.triggerContext);
    if (isThenable(answer)) return this.onTimerAsync(timer, out, answer);
    if (answer.isFire()) {
      sync.setCurrentNamespace(stateNs);
      const contents = sync.get();
      // A list's get() answers [] when empty; the operator treats that as "no contents".
      if (contents !== undefined && !(this.contentsDescriptor.kind === 'list' && (contents as unknown[]).length === 0)) {
        const applied = this.emit(window, stateNs, contents);
        if (isThenable(applied)) return Promise.resolve(applied).then(() => this.afterTimerFire(timer, window, stateNs, answer, undefined));
      }
    }
    if (answer.isPurge()) {
      sync.setCurrentNamespace(stateNs);
      sync.clear();
    }
    if (!this.isCleanupTimer(timer, window)) return undefined;
    sync.setCurrentNamespace(stateNs);
    sync.clear();
    this.window = window;
    const cleared = this.spec.trigger.clear(window, this.triggerContext);
    if (isThenable(cleared)) return Promise.resolve(cleared).then(() => this.clearUserWindowState());
    return this.clearUserWindowState();
  }

  /** The user window function's `clear(context)`, if it has one; a Promise only when it answers one. */
  private clearUserWindowState(): Promise<void> | undefined {
    const cleared = this.spec.clear?.(this.processContext);
    return isThenable(cleared) ? Promise.resolve(cleared).then(() => undefined) : undefined;
  }

  /** Whether `timer` is the cleanup timer of `window` (its state goes then). */
  private isCleanupTimer(timer: Timer, window: Window): boolean {
    return (timer.domain === 'EVENT_TIME') === this.eventTime && this.cleanupTime(window) === timer.timestamp;
  }

  /** The asynchronous path of a timer; `answer`: the trigger's answer, when the synchronous path already asked it. */
  private async onTimerAsync(timer: Timer, out: OutputBuffer, answer?: PromiseLike<TriggerResult>): Promise<void> {
    this.out = out;
    this.key = timer.key;
    const window = windowOfNamespace(timer.namespace);
    this.window = window;
    let stateNs = timer.namespace;
    let mergingWindows: MergingWindowSet | undefined;
    if (this.merging !== undefined) {
      mergingWindows = await MergingWindowSet.load(this.merging, this.mergingState!);
      const s = mergingWindows.getStateWindow(window);
      // A timer of a window that was merged away or purged: nothing to do.
      if (s === undefined) return;
      stateNs = s;
    }
    const result: TriggerResult = await (answer ??
      (timer.domain === 'EVENT_TIME'
        ? this.spec.trigger.onEventTime(timer.timestamp, window, this.triggerContext)
        : this.spec.trigger.onProcessingTime(timer.timestamp, window, this.triggerContext)));
    if (result.isFire()) {
      this.contents.setCurrentNamespace(stateNs);
      const contents = await this.contents.get();
      if (contents !== undefined) await this.emit(window, stateNs, contents);
    }
    await this.afterTimerFire(timer, window, stateNs, result, mergingWindows);
  }

  /** What follows a timer's firing: purge, and at the window's cleanup time all of its state. */
  private async afterTimerFire(
    timer: Timer,
    window: Window,
    stateNs: string,
    result: TriggerResult,
    mergingWindows: MergingWindowSet | undefined,
  ): Promise<void> {
    if (result.isPurge()) {
      this.contents.setCurrentNamespace(stateNs);
      await this.contents.clear();
    }
    if (this.isCleanupTimer(timer, window)) await this.clearAllState(window, stateNs, mergingWindows);
    if (mergingWindows !== undefined) await mergingWindows.persist();
  }

  private async clearAllState(window: Window, stateNs: string, mergingWindows: MergingWindowSet | undefined): Promise<void> {
    this.contents.setCurrentNamespace(stateNs);
    await this.contents.clear();
    this.window = window;
    await this.spec.trigger.clear(window, this.triggerContext);
    if (this.spec.clear !== undefined) await this.spec.clear(this.processContext);
    mergingWindows?.retireWindow(window);
  }

  private registerCleanupTimer(window: Window): void {
    const t = this.cleanupTime(window);
    if (t === MAX_WATERMARK) return;
    this.window = window;
    if (this.eventTime) this.triggerContext.registerEventTimeTimer(t);
    else this.triggerContext.registerProcessingTimeTimer(t);
  }

  private deleteCleanupTimer(window: Window): void {
    const t = this.cleanupTime(window);
    if (t === MAX_WATERMARK) return;
    this.window = window;
    if (this.eventTime) this.triggerContext.deleteEventTimeTimer(t);
    else this.triggerContext.deleteProcessingTimeTimer(t);
  }

  /** Runs the window function on `contents`, results stamped with the window's max timestamp. */
  private emit(window: Window, stateNs: string, contents: unknown): Awaitable<void> {
    this.window = window;
    const out = this.out;
    out.timestamp = window.maxTimestamp();
    // Without an evictor a Promise only when the window function answers one (the timer's synchronous path).
    if (this.spec.evictor === undefined)
      return this.spec.apply(this.key, window, this.processContext, this.spec.contents.kind === 'list' ? (contents as unknown[]) : [contents], out);
    return this.emitEvicting(window, stateNs, contents);
  }

  private async emitEvicting(window: Window, stateNs: string, contents: unknown): Promise<void> {
    const out = this.out;
    const evictor = this.spec.evictor!;
    const elements = (contents as Array<[unknown, number | null]>).map(([v, t]) => new TimestampedValue(v, t ?? undefined));
    evictor.evictBefore(elements, elements.length, window, this.evictorContext);
    const values = elements.map((e) => e.getValue());
    const spec = this.spec.contents;
    let input: unknown[] = values;
    if (spec.kind === 'reduce') input = values.length === 0 ? [] : [values.reduce((a, b) => spec.reduce(a, b))];
    else if (spec.kind === 'aggregate') input = [spec.fn.getResult(values.reduce((acc, v) => spec.fn.add(v, acc), spec.fn.createAccumulator()))];
    if (input.length > 0) await this.spec.apply(this.key, window, this.processContext, input, out);
    evictor.evictAfter(elements, elements.length, window, this.evictorContext);
    const list = this.listState;
    list.setCurrentNamespace(stateNs);
    await list.update(elements.map((e) => [e.getValue(), e.getTimestamp() ?? null] as [unknown, number | null]));
  }
}
