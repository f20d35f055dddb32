/**
 * Evictors (Flink's `Evictor`): remove records from a window's contents before and/or
 * after the window function runs. A window with an evictor keeps its records (not an
 * accumulator), since an evictor needs to see them.
 */
import { ConfigurationError } from '../errors.ts';
import type { Window } from './windows.ts';

/** A record of a window with its timestamp (Flink's `TimestampedValue`). */
export class TimestampedValue<T> {
  constructor(
    private readonly value: T,
    private readonly timestamp: number | undefined,
  ) {}
  getValue(): T {
    return this.value;
  }
  /** The record's event time, or `undefined` when it has none. */
  getTimestamp(): number | undefined {
    return this.timestamp;
  }
  hasTimestamp(): boolean {
    return this.timestamp !== undefined;
  }
}

/** What an evictor may ask. */
export interface EvictorContext {
  getCurrentProcessingTime(): number;
  getCurrentWatermark(): number;
}

/**
 * Removes records from a window (Flink's `Evictor`). `elements` is the window's contents in
 * arrival order: remove records from the array in place (e.g. with `splice`).
 */
export interface Evictor<T, W extends Window> {
  evictBefore(elements: TimestampedValue<T>[], size: number, win: W, ctx: EvictorContext): void;
  evictAfter(elements: TimestampedValue<T>[], size: number, win: W, ctx: EvictorContext): void;
}

/** Keeps at most `maxCount` records, dropping the oldest (Flink's `CountEvictor`). */
export class CountEvictor<T = unknown> implements Evictor<T, Window> {
  private constructor(
    readonly maxCount: number,
    readonly doEvictAfter: boolean,
  ) {}
  /** Evicts before the window function unless `doEvictAfter`. */
  static of<T = unknown>(maxCount: number, doEvictAfter = false): CountEvictor<T> {
    if (!Number.isInteger(maxCount) || maxCount < 0)
      throw new ConfigurationError(`CountEvictor.of() needs a non-negative integer, got ${String(maxCount)}`, { component: 'windows' });
    return new CountEvictor<T>(maxCount, doEvictAfter);
  }
  evictBefore(elements: TimestampedValue<T>[], size: number): void {
    if (!this.doEvictAfter) this.evict(elements, size);
  }
  evictAfter(elements: TimestampedValue<T>[], size: number): void {
    if (this.doEvictAfter) this.evict(elements, size);
  }
  private evict(elements: TimestampedValue<T>[], size: number): void {
    if (size > this.maxCount) elements.splice(0, size - this.maxCount);
  }
}

/** Keeps the records within `windowSize` ms of the newest one (Flink's `TimeEvictor`). */
export class TimeEvictor<T = unknown> implements Evictor<T, Window> {
  private constructor(
    readonly windowSize: number,
    readonly doEvictAfter: boolean,
  ) {}
  /** Evicts before the window function unless `doEvictAfter`. */
  static of<T = unknown>(windowSize: number, doEvictAfter = false): TimeEvictor<T> {
    if (typeof windowSize !== 'number' || !Number.isFinite(windowSize) || windowSize < 0) {
      throw new ConfigurationError(`TimeEvictor.of() needs a non-negative number of ms, got ${String(windowSize)}`, { component: 'windows' });
    }
    return new TimeEvictor<T>(windowSize, doEvictAfter);
  }
  evictBefore(elements: TimestampedValue<T>[]): void {
    if (!this.doEvictAfter) this.evict(elements);
  }
  evictAfter(elements: TimestampedValue<T>[]): void {
    if (this.doEvictAfter) this.evict(elements);
  }
  private evict(elements: TimestampedValue<T>[]): void {
    // As in Flink: only when the first record has a timestamp; cut off at max - size.
    if (elements.length === 0 || !elements[0].hasTimestamp()) return;
    let max = -Infinity;
    for (const e of elements) max = Math.max(max, e.getTimestamp() ?? -Infinity);
    const cutoff = max - this.windowSize;
    for (let i = elements.length - 1; i >= 0; i--) if ((elements[i].getTimestamp() ?? -Infinity) <= cutoff) elements.splice(i, 1);
  }
}
