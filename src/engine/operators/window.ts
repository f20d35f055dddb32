/**
 * The window operator (Flink's `WindowOperator` and `EvictingWindowOperator`): assigns
 * each record to windows, keeps per window either one accumulator (reduce, aggregate) or
 * the records (process, evictors) in keyed state under the window's namespace, asks the
 * trigger when to fire and purge, and clears a window's state and timers at its cleanup
 * time (max timestamp + allowed lateness). Everything lives in the keyed backend and the
 * timer service, so windows are checkpointed and rescaled like any keyed state.
 *
 * The parts: `window-core.ts` (what they share), `window-merging.ts` (session windows),
 * `window-firing.ts` (firing and cleanup), `merging-window-set.ts`, `window-state.ts`.
 */
import { ListStateDescriptor } from '../../api/descriptors.ts';
import type { Awaitable } from '../../api/functions.ts';
import type { ListState } from '../../api/state.ts';
import type { Window } from '../../api/windowing/windows.ts';
import type { Timer } from '../timers.ts';
import { AbstractStreamOperator, isThenable } from './base.ts';
import type { OperatorContext, OperatorRestore, OutputBuffer, PendingSnapshot, RecordBatch, SnapshotOptions } from './operator.ts';
import { WindowCore, type WindowOperatorSpec } from './window-core.ts';
import { afterElementTrigger, onWindowTimer } from './window-firing.ts';
import { mergingElementProcessor } from './window-merging.ts';

export type { InternalWindowFunction, WindowContents, WindowOperatorSpec } from './window-core.ts';

const WATERMARK = '_window/watermark';

/** Flink's `WindowOperator` (with an evictor: `EvictingWindowOperator`). */
export class WindowOperator<F> extends AbstractStreamOperator<F> {
  private core!: WindowCore;
  /** The record path of merging assigners (session windows), if the assigner merges. */
  private processMerging: ((value: unknown, timestamp: number) => Awaitable<void>) | undefined;

  constructor(
    fn: F,
    private readonly spec: WindowOperatorSpec,
  ) {
    super(fn);
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
    this.core = new WindowCore(this.spec, {
      ctx: this.ctx,
      timers: this.timers!,
      backend: this.backend!,
      store: this.keyedStore!,
      runtimeContext: this.runtimeContext,
      keyGroup: () => this.currentKeyGroup,
    });
    if (this.core.merging !== undefined) this.processMerging = mergingElementProcessor(this.core);
    await super.open();
  }

  processBatch(batch: RecordBatch, out: OutputBuffer): void | Promise<void> {
    this.core.out = out;
    return this.forEachRecord(batch, out, 'window', this.processRecord);
  }

  private readonly processRecord = (v: unknown, o: OutputBuffer): unknown =>
    this.processMerging !== undefined ? this.processMerging(v, o.timestamp) : this.processElementNow(v, o.timestamp);

  /**
   * The synchronous path of a record of a non-merging assigner: where every assigned
   * window's contents are resident and the trigger and window function answer at once,
   * the record costs no Promise (and no closure while the trigger does not fire).
   * Anything else continues on the asynchronous path from the window it reached, so both
   * take the same decisions.
   */
  private processElementNow(value: unknown, timestamp: number): Promise<void> | undefined {
    const core = this.core;
    const windows = this.spec.assigner.assignWindows(value, timestamp, core.assignerContext);
    if (!core.always) {
      for (const w of windows) if (!core.resident(w.namespace())) return this.processElement(value, timestamp, windows);
    }
    core.key = this.backend!.getCurrentKey()!;
    const sync = core.syncContents;
    const stored = this.spec.evictor !== undefined ? [value, timestamp === timestamp ? timestamp : null] : value;
    let skipped = true;
    for (let i = 0; i < windows.length; i++) {
      const window = windows[i];
      if (core.isWindowLate(window)) continue;
      skipped = false;
      const ns = window.namespace();
      sync.setCurrentNamespace(ns);
      sync.add(stored);
      core.window = window;
      const result = this.spec.trigger.onElement(value, timestamp, window, core.triggerContext);
      if (isThenable(result) || result.isFire()) {
        const fired = afterElementTrigger(core, window, ns, result);
        // The window function ran: on a backend that may evict, the next windows' residency is asked anew.
        if (isThenable(fired) || !core.always) return Promise.resolve(fired).then(() => this.processElement(value, timestamp, windows, i + 1, false));
        continue;
      }
      if (result.isPurge()) {
        sync.setCurrentNamespace(ns);
        sync.clear();
      }
      core.registerCleanupTimer(window);
    }
    core.sideOutputLate(skipped, value, timestamp);
    return undefined;
  }

  /** The asynchronous path; `windows` (assigned already) from index `from` on, for the synchronous path's hand-over. */
  private async processElement(value: unknown, timestamp: number, windows: readonly Window[], from = 0, skippedSoFar = true): Promise<void> {
    const core = this.core;
    core.key = this.backend!.getCurrentKey()!;
    let skipped = skippedSoFar;
    const stored = this.spec.evictor !== undefined ? [value, timestamp === timestamp ? timestamp : null] : value;
    for (let i = from; i < windows.length; i++) {
      const window = windows[i];
      if (core.isWindowLate(window)) continue;
      skipped = false;
      const ns = window.namespace();
      await core.addContents(ns, stored);
      core.window = window;
      await afterElementTrigger(core, window, ns, this.spec.trigger.onElement(value, timestamp, window, core.triggerContext));
    }
    core.sideOutputLate(skipped, value, timestamp);
  }

  /** A window's timer: see `window-firing.ts`; a Promise only where something answered one. */
  protected override onTimer(timer: Timer, out: OutputBuffer): Awaitable<void> {
    return onWindowTimer(this.core, timer, out);
  }
}
