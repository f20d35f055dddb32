/**
 * Window assigners (Flink's `WindowAssigner` and its standard implementations): which
 * windows a record belongs to, the default trigger, and for sessions how windows merge.
 * Durations are numbers of milliseconds.
 */
import { ConfigurationError } from '../errors.ts';
import { EventTimeTrigger, NeverTrigger, ProcessingTimeTrigger, type Trigger } from './triggers.ts';
import { GlobalWindow, TimeWindow, type Window } from './windows.ts';

/** What an assigner may ask while it assigns windows. */
export interface WindowAssignerContext {
  /** The current processing time (the environment's clock). */
  getCurrentProcessingTime(): number;
}

/** Assigns each record to zero or more windows (Flink's `WindowAssigner`). */
export abstract class WindowAssigner<T, W extends Window> {
  /** The windows `element` with event time `timestamp` (NaN when it has none) belongs to. */
  abstract assignWindows(element: T, timestamp: number, context: WindowAssignerContext): W[];
  /** The trigger used when `WindowedStream.trigger` is not called. */
  abstract getDefaultTrigger(): Trigger<T, W>;
  /** True when windows are in event time (late data and cleanup follow the watermark). */
  abstract isEventTime(): boolean;
}

/** An assigner whose windows may merge (sessions; Flink's `MergingWindowAssigner`). */
export abstract class MergingWindowAssigner<T, W extends Window> extends WindowAssigner<T, W> {
  /** Calls `callback` for every group of `windows` that merges, with the merged window. */
  abstract mergeWindows(windows: readonly W[], callback: (toBeMerged: W[], mergeResult: W) => void): void;
}

function checkDuration(value: unknown, what: string, component: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ConfigurationError(`${what} must be a finite number of milliseconds, got ${String(value)}`, { component });
  }
  return value;
}

function eventTimestamp(timestamp: number, assigner: string): number {
  if (timestamp !== timestamp) {
    throw new ConfigurationError(
      `${assigner} got a record without a timestamp: did you forget assignTimestampsAndWatermarks(...) or a source watermark strategy, or mean the processing-time assigner?`,
      { component: 'windows' },
    );
  }
  return timestamp;
}

/** Fixed-size, non-overlapping event-time windows (Flink's `TumblingEventTimeWindows`). */
export class TumblingEventTimeWindows<T = unknown> extends WindowAssigner<T, TimeWindow> {
  protected constructor(
    readonly size: number,
    readonly offset: number,
  ) {
    super();
  }
  /** Windows of `size` ms starting at multiples of `size` shifted by `offset` (|offset| < size). */
  static of<T = unknown>(size: number, offset = 0): TumblingEventTimeWindows<T> {
    checkTumbling(size, offset, 'TumblingEventTimeWindows');
    return new TumblingEventTimeWindows<T>(size, offset);
  }
  assignWindows(_element: T, timestamp: number, _context?: WindowAssignerContext): TimeWindow[] {
    const start = TimeWindow.getWindowStartWithOffset(eventTimestamp(timestamp, 'TumblingEventTimeWindows'), this.offset % this.size, this.size);
    return [new TimeWindow(start, start + this.size)];
  }
  getDefaultTrigger(): Trigger<T, TimeWindow> {
    return EventTimeTrigger.create();
  }
  isEventTime(): boolean {
    return true;
  }
  override toString(): string {
    return `TumblingEventTimeWindows(${this.size})`;
  }
}

/** Fixed-size, non-overlapping processing-time windows (Flink's `TumblingProcessingTimeWindows`). */
export class TumblingProcessingTimeWindows<T = unknown> extends WindowAssigner<T, TimeWindow> {
  protected constructor(
    readonly size: number,
    readonly offset: number,
  ) {
    super();
  }
  /** Windows of `size` ms starting at multiples of `size` shifted by `offset` (|offset| < size). */
  static of<T = unknown>(size: number, offset = 0): TumblingProcessingTimeWindows<T> {
    checkTumbling(size, offset, 'TumblingProcessingTimeWindows');
    return new TumblingProcessingTimeWindows<T>(size, offset);
  }
  assignWindows(_element: T, _timestamp: number, context: WindowAssignerContext): TimeWindow[] {
    const start = TimeWindow.getWindowStartWithOffset(context.getCurrentProcessingTime(), this.offset % this.size, this.size);
    return [new TimeWindow(start, start + this.size)];
  }
  getDefaultTrigger(): Trigger<T, TimeWindow> {
    return ProcessingTimeTrigger.create();
  }
  isEventTime(): boolean {
    return false;
  }
  override toString(): string {
    return `TumblingProcessingTimeWindows(${this.size})`;
  }
}

function checkTumbling(size: number, offset: number, name: string): void {
  checkDuration(size, 'size', name);
  checkDuration(offset, 'offset', name);
  if (size <= 0 || Math.abs(offset) >= size)
    throw new ConfigurationError(`${name} parameters must satisfy abs(offset) < size, got size ${size} and offset ${offset}`, { component: 'windows' });
}

function checkSliding(size: number, slide: number, offset: number, name: string): void {
  checkDuration(size, 'size', name);
  checkDuration(slide, 'slide', name);
  checkDuration(offset, 'offset', name);
  if (slide <= 0 || Math.abs(offset) >= slide || size <= 0) {
    throw new ConfigurationError(`${name} parameters must satisfy abs(offset) < slide and size > 0, got size ${size}, slide ${slide}, offset ${offset}`, {
      component: 'windows',
    });
  }
}

function slidingWindows(timestamp: number, size: number, slide: number, offset: number): TimeWindow[] {
  const windows: TimeWindow[] = [];
  const lastStart = TimeWindow.getWindowStartWithOffset(timestamp, offset, slide);
  for (let start = lastStart; start > timestamp - size; start -= slide) windows.push(new TimeWindow(start, start + size));
  return windows;
}

/** Windows of `size` ms every `slide` ms in event time (Flink's `SlidingEventTimeWindows`). */
export class SlidingEventTimeWindows<T = unknown> extends WindowAssigner<T, TimeWindow> {
  protected constructor(
    readonly size: number,
    readonly slide: number,
    readonly offset: number,
  ) {
    super();
  }
  /** Windows of `size` ms starting every `slide` ms, shifted by `offset` (|offset| < slide). */
  static of<T = unknown>(size: number, slide: number, offset = 0): SlidingEventTimeWindows<T> {
    checkSliding(size, slide, offset, 'SlidingEventTimeWindows');
    return new SlidingEventTimeWindows<T>(size, slide, offset);
  }
  assignWindows(_element: T, timestamp: number, _context?: WindowAssignerContext): TimeWindow[] {
    return slidingWindows(eventTimestamp(timestamp, 'SlidingEventTimeWindows'), this.size, this.slide, this.offset);
  }
  getDefaultTrigger(): Trigger<T, TimeWindow> {
    return EventTimeTrigger.create();
  }
  isEventTime(): boolean {
    return true;
  }
  override toString(): string {
    return `SlidingEventTimeWindows(${this.size}, ${this.slide})`;
  }
}

/** Windows of `size` ms every `slide` ms in processing time (Flink's `SlidingProcessingTimeWindows`). */
export class SlidingProcessingTimeWindows<T = unknown> extends WindowAssigner<T, TimeWindow> {
  protected constructor(
    readonly size: number,
    readonly slide: number,
    readonly offset: number,
  ) {
    super();
  }
  /** Windows of `size` ms starting every `slide` ms, shifted by `offset` (|offset| < slide). */
  static of<T = unknown>(size: number, slide: number, offset = 0): SlidingProcessingTimeWindows<T> {
    checkSliding(size, slide, offset, 'SlidingProcessingTimeWindows');
    return new SlidingProcessingTimeWindows<T>(size, slide, offset);
  }
  assignWindows(_element: T, _timestamp: number, context: WindowAssignerContext): TimeWindow[] {
    return slidingWindows(context.getCurrentProcessingTime(), this.size, this.slide, this.offset);
  }
  getDefaultTrigger(): Trigger<T, TimeWindow> {
    return ProcessingTimeTrigger.create();
  }
  isEventTime(): boolean {
    return false;
  }
  override toString(): string {
    return `SlidingProcessingTimeWindows(${this.size}, ${this.slide})`;
  }
}

/** Extracts a session gap (ms) from a record (Flink's `SessionWindowTimeGapExtractor`). */
export type SessionWindowTimeGapExtractor<T> = (element: T) => number;

function sessionGap<T>(gap: number | SessionWindowTimeGapExtractor<T>, element: T, name: string): number {
  const g = typeof gap === 'function' ? gap(element) : gap;
  if (typeof g !== 'number' || !(g > 0) || !Number.isFinite(g)) {
    throw new ConfigurationError(`${name} parameters must satisfy 0 < gap, got ${String(g)}`, { component: 'windows' });
  }
  return g;
}

function checkGap<T>(gap: number | SessionWindowTimeGapExtractor<T>, name: string): void {
  if (typeof gap === 'function') return;
  if (typeof gap !== 'number' || !(gap > 0) || !Number.isFinite(gap)) {
    throw new ConfigurationError(`${name} parameters must satisfy 0 < gap, got ${String(gap)}`, { component: 'windows' });
  }
}

/** Sessions in event time: windows that merge while records are less than a gap apart (Flink's `EventTimeSessionWindows`). */
export class EventTimeSessionWindows<T = unknown> extends MergingWindowAssigner<T, TimeWindow> {
  protected constructor(readonly gap: number | SessionWindowTimeGapExtractor<T>) {
    super();
  }
  /** Sessions that close after `gap` ms without records. */
  static withGap<T = unknown>(gap: number): EventTimeSessionWindows<T> {
    checkGap(gap, 'EventTimeSessionWindows');
    return new EventTimeSessionWindows<T>(gap);
  }
  /** Sessions whose gap each record gives (`extractor(record)` ms). */
  static withDynamicGap<T>(extractor: SessionWindowTimeGapExtractor<T>): EventTimeSessionWindows<T> {
    if (typeof extractor !== 'function') throw new ConfigurationError('withDynamicGap() needs a function (element) => gap in ms', { component: 'windows' });
    return new EventTimeSessionWindows<T>(extractor);
  }
  assignWindows(element: T, timestamp: number, _context?: WindowAssignerContext): TimeWindow[] {
    const ts = eventTimestamp(timestamp, 'EventTimeSessionWindows');
    return [new TimeWindow(ts, ts + sessionGap(this.gap, element, 'EventTimeSessionWindows'))];
  }
  mergeWindows(windows: readonly TimeWindow[], callback: (toBeMerged: TimeWindow[], mergeResult: TimeWindow) => void): void {
    TimeWindow.mergeWindows(windows, callback);
  }
  getDefaultTrigger(): Trigger<T, TimeWindow> {
    return EventTimeTrigger.create();
  }
  isEventTime(): boolean {
    return true;
  }
  override toString(): string {
    return `EventTimeSessionWindows(${typeof this.gap === 'number' ? this.gap : 'dynamic'})`;
  }
}

/** Sessions in processing time (Flink's `ProcessingTimeSessionWindows`). */
export class ProcessingTimeSessionWindows<T = unknown> extends MergingWindowAssigner<T, TimeWindow> {
  protected constructor(readonly gap: number | SessionWindowTimeGapExtractor<T>) {
    super();
  }
  /** Sessions that close after `gap` ms without records. */
  static withGap<T = unknown>(gap: number): ProcessingTimeSessionWindows<T> {
    checkGap(gap, 'ProcessingTimeSessionWindows');
    return new ProcessingTimeSessionWindows<T>(gap);
  }
  /** Sessions whose gap each record gives (`extractor(record)` ms). */
  static withDynamicGap<T>(extractor: SessionWindowTimeGapExtractor<T>): ProcessingTimeSessionWindows<T> {
    if (typeof extractor !== 'function') throw new ConfigurationError('withDynamicGap() needs a function (element) => gap in ms', { component: 'windows' });
    return new ProcessingTimeSessionWindows<T>(extractor);
  }
  assignWindows(element: T, _timestamp: number, context: WindowAssignerContext): TimeWindow[] {
    const now = context.getCurrentProcessingTime();
    return [new TimeWindow(now, now + sessionGap(this.gap, element, 'ProcessingTimeSessionWindows'))];
  }
  mergeWindows(windows: readonly TimeWindow[], callback: (toBeMerged: TimeWindow[], mergeResult: TimeWindow) => void): void {
    TimeWindow.mergeWindows(windows, callback);
  }
  getDefaultTrigger(): Trigger<T, TimeWindow> {
    return ProcessingTimeTrigger.create();
  }
  isEventTime(): boolean {
    return false;
  }
  override toString(): string {
    return `ProcessingTimeSessionWindows(${typeof this.gap === 'number' ? this.gap : 'dynamic'})`;
  }
}

/** Every record in one global window; needs a trigger to fire (Flink's `GlobalWindows`). */
export class GlobalWindows<T = unknown> extends WindowAssigner<T, GlobalWindow> {
  private constructor() {
    super();
  }
  /** The global-window assigner; its default trigger never fires. */
  static create<T = unknown>(): GlobalWindows<T> {
    return new GlobalWindows<T>();
  }
  assignWindows(): GlobalWindow[] {
    return [GlobalWindow.get()];
  }
  getDefaultTrigger(): Trigger<T, GlobalWindow> {
    return new NeverTrigger<T>();
  }
  isEventTime(): boolean {
    return false;
  }
  override toString(): string {
    return 'GlobalWindows()';
  }
}
