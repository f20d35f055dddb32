/**
 * Triggers (Flink's `Trigger`): when a window is evaluated (FIRE) and when its contents
 * are dropped (PURGE). A trigger is called per record, per timer it registered, on merges
 * of session windows, and once when its window is cleared. Its own state lives in the
 * window (`ctx.getPartitionedState`). Methods may return a Promise (state access is
 * asynchronous).
 */
import type { Awaitable } from '../functions.ts';
import {
  ReducingStateDescriptor,
  type StateDescriptor,
  type AggregatingStateDescriptor,
  type ListStateDescriptor,
  type MapStateDescriptor,
  type ValueStateDescriptor,
} from '../descriptors.ts';
import { ConfigurationError } from '../errors.ts';
import type { AggregatingState, ListState, MapState, MapStateKey, ReducingState, ValueState } from '../state.ts';
import type { Window } from './windows.ts';

/** What a trigger decides (Flink's `TriggerResult`). */
export class TriggerResult {
  /** Do nothing. */
  static readonly CONTINUE = new TriggerResult(false, false, 'CONTINUE');
  /** Evaluate the window and emit the result; keep the contents. */
  static readonly FIRE = new TriggerResult(true, false, 'FIRE');
  /** Drop the window's contents without evaluating it. */
  static readonly PURGE = new TriggerResult(false, true, 'PURGE');
  /** Evaluate the window, then drop its contents. */
  static readonly FIRE_AND_PURGE = new TriggerResult(true, true, 'FIRE_AND_PURGE');

  private constructor(
    private readonly fire: boolean,
    private readonly purge: boolean,
    private readonly name: string,
  ) {}
  isFire(): boolean {
    return this.fire;
  }
  isPurge(): boolean {
    return this.purge;
  }
  toString(): string {
    return this.name;
  }
}

/** What a trigger can do while it is called: timers and per-window state (Flink's `TriggerContext`). */
export interface TriggerContext {
  getCurrentProcessingTime(): number;
  getCurrentWatermark(): number;
  /** A timer for this key and window; `onProcessingTime` is called when it fires. */
  registerProcessingTimeTimer(time: number): void;
  /** A timer for this key and window; `onEventTime` is called when the watermark passes it. */
  registerEventTimeTimer(time: number): void;
  deleteProcessingTimeTimer(time: number): void;
  deleteEventTimeTimer(time: number): void;
  /** State of this key and window. */
  getPartitionedState<T>(descriptor: ValueStateDescriptor<T>): ValueState<T>;
  getPartitionedState<T>(descriptor: ListStateDescriptor<T>): ListState<T>;
  getPartitionedState<T>(descriptor: ReducingStateDescriptor<T>): ReducingState<T>;
  getPartitionedState<IN, ACC, OUT>(descriptor: AggregatingStateDescriptor<IN, ACC, OUT>): AggregatingState<IN, OUT>;
  getPartitionedState<K extends MapStateKey, V>(descriptor: MapStateDescriptor<K, V>): MapState<K, V>;
}

/** The context of `onMerge`: it can also merge the state of the merged windows into the result. */
export interface OnMergeContext extends TriggerContext {
  /** Merges the (list, reducing or aggregating) state of the merged windows into this one. */
  mergePartitionedState(descriptor: StateDescriptor): Promise<void>;
}

/** Decides when a window fires (Flink's `Trigger`). Subclass it for a custom trigger. */
export abstract class Trigger<T, W extends Window> {
  /** Called for every record added to `window`. */
  abstract onElement(element: T, timestamp: number, win: W, ctx: TriggerContext): Awaitable<TriggerResult>;
  /** Called when a processing-time timer of this trigger fires. */
  abstract onProcessingTime(time: number, win: W, ctx: TriggerContext): Awaitable<TriggerResult>;
  /** Called when an event-time timer of this trigger fires. */
  abstract onEventTime(time: number, win: W, ctx: TriggerContext): Awaitable<TriggerResult>;
  /** Whether this trigger supports merging windows (sessions). */
  canMerge(): boolean {
    return false;
  }
  /** Called when windows merged into `window` (only if `canMerge()`). */
  onMerge(_win: W, _ctx: OnMergeContext): Awaitable<void> {
    throw new ConfigurationError(`${this.constructor.name} does not support merging windows`, { component: 'windows' });
  }
  /** Called when the window is purged: delete the timers and state this trigger keeps for it. */
  abstract clear(win: W, ctx: TriggerContext): Awaitable<void>;
}

/** Fires once the watermark passes the window's end (Flink's `EventTimeTrigger`). */
export class EventTimeTrigger<T = unknown> extends Trigger<T, Window> {
  private constructor() {
    super();
  }
  /** The trigger of the event-time assigners. */
  static create<T = unknown>(): EventTimeTrigger<T> {
    return new EventTimeTrigger<T>();
  }
  onElement(_element: T, _timestamp: number, win: Window, ctx: TriggerContext): TriggerResult {
    // Already past the watermark (a late record within the allowed lateness): fire at once.
    if (win.maxTimestamp() <= ctx.getCurrentWatermark()) return TriggerResult.FIRE;
    ctx.registerEventTimeTimer(win.maxTimestamp());
    return TriggerResult.CONTINUE;
  }
  onEventTime(time: number, win: Window): TriggerResult {
    return time === win.maxTimestamp() ? TriggerResult.FIRE : TriggerResult.CONTINUE;
  }
  onProcessingTime(): TriggerResult {
    return TriggerResult.CONTINUE;
  }
  clear(win: Window, ctx: TriggerContext): void {
    ctx.deleteEventTimeTimer(win.maxTimestamp());
  }
  override canMerge(): boolean {
    return true;
  }
  override onMerge(win: Window, ctx: OnMergeContext): void {
    // Only a timer the watermark has not passed yet: a passed one would fire a merged window twice.
    if (win.maxTimestamp() > ctx.getCurrentWatermark()) ctx.registerEventTimeTimer(win.maxTimestamp());
  }
  override toString(): string {
    return 'EventTimeTrigger()';
  }
}

/** Fires once the processing time passes the window's end (Flink's `ProcessingTimeTrigger`). */
export class ProcessingTimeTrigger<T = unknown> extends Trigger<T, Window> {
  private constructor() {
    super();
  }
  /** The trigger of the processing-time assigners. */
  static create<T = unknown>(): ProcessingTimeTrigger<T> {
    return new ProcessingTimeTrigger<T>();
  }
  onElement(_element: T, _timestamp: number, win: Window, ctx: TriggerContext): TriggerResult {
    ctx.registerProcessingTimeTimer(win.maxTimestamp());
    return TriggerResult.CONTINUE;
  }
  onEventTime(): TriggerResult {
    return TriggerResult.CONTINUE;
  }
  onProcessingTime(): TriggerResult {
    return TriggerResult.FIRE;
  }
  clear(win: Window, ctx: TriggerContext): void {
    ctx.deleteProcessingTimeTimer(win.maxTimestamp());
  }
  override canMerge(): boolean {
    return true;
  }
  override onMerge(win: Window, ctx: OnMergeContext): void {
    if (win.maxTimestamp() > ctx.getCurrentProcessingTime()) ctx.registerProcessingTimeTimer(win.maxTimestamp());
  }
  override toString(): string {
    return 'ProcessingTimeTrigger()';
  }
}

const sum = (a: number, b: number) => a + b;

/** Fires every `maxCount` records of a window (Flink's `CountTrigger`). */
export class CountTrigger<T = unknown> extends Trigger<T, Window> {
  private readonly stateDesc = new ReducingStateDescriptor<number>('count', sum);
  private constructor(readonly maxCount: number) {
    super();
  }
  /** Fires when a window has received `maxCount` records since it last fired. */
  static of<T = unknown>(maxCount: number): CountTrigger<T> {
    if (!Number.isInteger(maxCount) || maxCount < 1)
      throw new ConfigurationError(`CountTrigger.of() needs a positive integer, got ${String(maxCount)}`, { component: 'windows' });
    return new CountTrigger<T>(maxCount);
  }
  async onElement(_element: T, _timestamp: number, _win: Window, ctx: TriggerContext): Promise<TriggerResult> {
    const count = ctx.getPartitionedState(this.stateDesc);
    await count.add(1);
    if (((await count.get()) ?? 0) >= this.maxCount) {
      await count.clear();
      return TriggerResult.FIRE;
    }
    return TriggerResult.CONTINUE;
  }
  onEventTime(): TriggerResult {
    return TriggerResult.CONTINUE;
  }
  onProcessingTime(): TriggerResult {
    return TriggerResult.CONTINUE;
  }
  async clear(_win: Window, ctx: TriggerContext): Promise<void> {
    await ctx.getPartitionedState(this.stateDesc).clear();
  }
  override canMerge(): boolean {
    return true;
  }
  override async onMerge(_win: Window, ctx: OnMergeContext): Promise<void> {
    await ctx.mergePartitionedState(this.stateDesc);
  }
  override toString(): string {
    return `CountTrigger(${this.maxCount})`;
  }
}

/** Turns every FIRE of the nested trigger into FIRE_AND_PURGE (Flink's `PurgingTrigger`). */
export class PurgingTrigger<T, W extends Window> extends Trigger<T, W> {
  private constructor(readonly nestedTrigger: Trigger<T, W>) {
    super();
  }
  /** Wraps `nestedTrigger`. */
  static of<T, W extends Window>(nestedTrigger: Trigger<T, W>): PurgingTrigger<T, W> {
    if (!(nestedTrigger instanceof Trigger)) throw new ConfigurationError('PurgingTrigger.of() needs a Trigger', { component: 'windows' });
    return new PurgingTrigger(nestedTrigger);
  }
  async onElement(element: T, timestamp: number, win: W, ctx: TriggerContext): Promise<TriggerResult> {
    return purging(await this.nestedTrigger.onElement(element, timestamp, win, ctx));
  }
  async onEventTime(time: number, win: W, ctx: TriggerContext): Promise<TriggerResult> {
    return purging(await this.nestedTrigger.onEventTime(time, win, ctx));
  }
  async onProcessingTime(time: number, win: W, ctx: TriggerContext): Promise<TriggerResult> {
    return purging(await this.nestedTrigger.onProcessingTime(time, win, ctx));
  }
  clear(win: W, ctx: TriggerContext): Awaitable<void> {
    return this.nestedTrigger.clear(win, ctx);
  }
  override canMerge(): boolean {
    return this.nestedTrigger.canMerge();
  }
  override onMerge(win: W, ctx: OnMergeContext): Awaitable<void> {
    return this.nestedTrigger.onMerge(win, ctx);
  }
  override toString(): string {
    return `PurgingTrigger(${String(this.nestedTrigger)})`;
  }
}

function purging(r: TriggerResult): TriggerResult {
  return r.isFire() ? TriggerResult.FIRE_AND_PURGE : r;
}

const min = (a: number, b: number) => Math.min(a, b);

/**
 * Fires every `interval` ms of event time while the window is open, and at its end
 * (Flink's `ContinuousEventTimeTrigger`).
 */
export class ContinuousEventTimeTrigger<T = unknown> extends Trigger<T, Window> {
  private readonly stateDesc = new ReducingStateDescriptor<number>('fire-time', min);
  private constructor(readonly interval: number) {
    super();
  }
  /** Fires at every multiple of `interval` ms passed by the watermark, and at the window's end. */
  static of<T = unknown>(interval: number): ContinuousEventTimeTrigger<T> {
    if (typeof interval !== 'number' || !(interval > 0) || !Number.isFinite(interval)) {
      throw new ConfigurationError(`ContinuousEventTimeTrigger.of() needs a positive interval in ms, got ${String(interval)}`, { component: 'windows' });
    }
    return new ContinuousEventTimeTrigger<T>(interval);
  }
  async onElement(_element: T, timestamp: number, win: Window, ctx: TriggerContext): Promise<TriggerResult> {
    if (win.maxTimestamp() <= ctx.getCurrentWatermark()) return TriggerResult.FIRE;
    ctx.registerEventTimeTimer(win.maxTimestamp());
    const fireTimestamp = ctx.getPartitionedState(this.stateDesc);
    if ((await fireTimestamp.get()) === undefined) await this.registerNextFireTimestamp(timestamp - (timestamp % this.interval), win, ctx, fireTimestamp);
    return TriggerResult.CONTINUE;
  }
  async onEventTime(time: number, win: Window, ctx: TriggerContext): Promise<TriggerResult> {
    if (time === win.maxTimestamp()) return TriggerResult.FIRE;
    const state = ctx.getPartitionedState(this.stateDesc);
    const fireTimestamp = await state.get();
    if (fireTimestamp !== undefined && fireTimestamp === time) {
      await state.clear();
      await this.registerNextFireTimestamp(time, win, ctx, state);
      return TriggerResult.FIRE;
    }
    return TriggerResult.CONTINUE;
  }
  onProcessingTime(): TriggerResult {
    return TriggerResult.CONTINUE;
  }
  async clear(_win: Window, ctx: TriggerContext): Promise<void> {
    const state = ctx.getPartitionedState(this.stateDesc);
    const fireTimestamp = await state.get();
    if (fireTimestamp !== undefined) {
      ctx.deleteEventTimeTimer(fireTimestamp);
      await state.clear();
    }
  }
  override canMerge(): boolean {
    return true;
  }
  override async onMerge(_win: Window, ctx: OnMergeContext): Promise<void> {
    await ctx.mergePartitionedState(this.stateDesc);
    const next = await ctx.getPartitionedState(this.stateDesc).get();
    if (next !== undefined) ctx.registerEventTimeTimer(next);
  }
  private async registerNextFireTimestamp(time: number, win: Window, ctx: TriggerContext, state: ReducingState<number>): Promise<void> {
    const next = Math.min(time + this.interval, win.maxTimestamp());
    await state.add(next);
    ctx.registerEventTimeTimer(next);
  }
  override toString(): string {
    return `ContinuousEventTimeTrigger(${this.interval})`;
  }
}

/** The default trigger of `GlobalWindows`: never fires (Flink's `GlobalWindows.NeverTrigger`). */
export class NeverTrigger<T = unknown> extends Trigger<T, Window> {
  onElement(): TriggerResult {
    return TriggerResult.CONTINUE;
  }
  onEventTime(): TriggerResult {
    return TriggerResult.CONTINUE;
  }
  onProcessingTime(): TriggerResult {
    return TriggerResult.CONTINUE;
  }
  clear(): void {}
  override canMerge(): boolean {
    return true;
  }
  override onMerge(): void {}
}
