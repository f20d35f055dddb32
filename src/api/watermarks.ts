/**
 * Event time: where records get their timestamps and how watermarks are generated.
 * A watermark `w` says no record with timestamp ≤ `w` is still to come; event-time timers
 * with a time ≤ `w` fire. Generators are asked for a watermark after every batch of
 * records (the batch plays the part of Flink's periodic emit interval). A watermark a
 * generator emits from `onEvent` (Flink's punctuated watermarks) takes effect right after
 * that event, even in the middle of a batch, so lateness never depends on batching.
 */
import { ConfigurationError } from './errors.ts';

/** The watermark a finished bounded input emits: fires every pending event-time timer. */
export const MAX_WATERMARK = Number.MAX_SAFE_INTEGER;

/** Receives watermarks from a generator. */
export interface WatermarkOutput {
  emitWatermark(timestamp: number): void;
  /**
   * Declares the output idle: downstream operators leave it out of their watermark (the
   * minimum over their inputs) until it emits a record or a watermark again, so that a
   * quiet input does not hold event time back (Flink's `markIdle`).
   */
  markIdle?(): void;
  /** Declares the output active again (emitting a record or a watermark does so too). */
  markActive?(): void;
}

/** What a generator may ask of the subtask that runs it (Flink's `WatermarkGeneratorSupplier.Context`). */
export interface WatermarkGeneratorContext {
  /** The job's processing time (its clock), e.g. to detect idleness. */
  currentProcessingTime(): number;
}

/** Generates watermarks from events (Flink's `WatermarkGenerator`). */
export interface WatermarkGenerator<T> {
  onEvent(event: T, timestamp: number, output: WatermarkOutput): void;
  onPeriodicEmit(output: WatermarkOutput): void;
}

/** Extracts a record's event-time timestamp. */
export type TimestampAssigner<T> = (event: T, recordTimestamp: number | undefined) => number;

/** How a stream gets timestamps and watermarks (Flink's `WatermarkStrategy`). */
export class WatermarkStrategy<T> {
  private constructor(
    private readonly generatorFactory: (context: WatermarkGeneratorContext) => WatermarkGenerator<T>,
    /** The timestamp assigner; without one, records keep the timestamp they have. */
    readonly timestampAssigner?: TimestampAssigner<T>,
  ) {}

  /** Watermarks trail the largest timestamp seen by `maxOutOfOrdernessMs` (minus 1 ms, as in Flink). */
  static forBoundedOutOfOrderness<T>(maxOutOfOrdernessMs: number): WatermarkStrategy<T> {
    if (!(typeof maxOutOfOrdernessMs === 'number' && maxOutOfOrdernessMs >= 0 && Number.isFinite(maxOutOfOrdernessMs))) {
      throw new ConfigurationError(`forBoundedOutOfOrderness() takes a non-negative number of ms, got ${String(maxOutOfOrdernessMs)}`, {
        component: 'watermarks',
      });
    }
    return new WatermarkStrategy<T>(() => new BoundedOutOfOrdernessWatermarks<T>(maxOutOfOrdernessMs));
  }

  /** For timestamps that never decrease: the watermark is the largest timestamp minus 1. */
  static forMonotonousTimestamps<T>(): WatermarkStrategy<T> {
    return new WatermarkStrategy<T>(() => new BoundedOutOfOrdernessWatermarks<T>(0));
  }

  /** No watermarks (only the final one at the end of a bounded input). */
  static noWatermarks<T>(): WatermarkStrategy<T> {
    return new WatermarkStrategy<T>(() => ({ onEvent() {}, onPeriodicEmit() {} }));
  }

  /** A strategy from a custom generator factory. */
  static forGenerator<T>(factory: (context: WatermarkGeneratorContext) => WatermarkGenerator<T>): WatermarkStrategy<T> {
    return new WatermarkStrategy<T>(factory);
  }

  /** The same strategy, taking timestamps from `assigner`. */
  withTimestampAssigner(assigner: TimestampAssigner<T>): WatermarkStrategy<T> {
    if (typeof assigner !== 'function') {
      throw new ConfigurationError('withTimestampAssigner() takes a function (event, recordTimestamp) => number', { component: 'watermarks' });
    }
    return new WatermarkStrategy<T>(this.generatorFactory, assigner);
  }

  /**
   * The same strategy, marking the output idle once no record came for `idleTimeoutMs` of
   * processing time (checked at every periodic emission), so that a quiet source or
   * partition does not hold back event time downstream; the first record makes it active
   * again (Flink's `withIdleness`).
   */
  withIdleness(idleTimeoutMs: number): WatermarkStrategy<T> {
    if (!(typeof idleTimeoutMs === 'number' && idleTimeoutMs > 0 && Number.isFinite(idleTimeoutMs))) {
      throw new ConfigurationError(`withIdleness() takes a positive number of ms, got ${String(idleTimeoutMs)}`, { component: 'watermarks' });
    }
    const inner = this.generatorFactory;
    return new WatermarkStrategy<T>((context) => new WatermarksWithIdleness(inner(context), idleTimeoutMs, context), this.timestampAssigner);
  }

  /** A fresh generator, one per parallel subtask. */
  createWatermarkGenerator(context: WatermarkGeneratorContext = { currentProcessingTime: () => Date.now() }): WatermarkGenerator<T> {
    return this.generatorFactory(context);
  }
}

/** Wraps a generator: idle after a quiet `timeout`, active again on the next event. */
class WatermarksWithIdleness<T> implements WatermarkGenerator<T> {
  private events = 0;
  private eventsAtLastCheck = 0;
  /** Processing time since which no event came, or undefined while events keep coming. */
  private quietSince: number | undefined;
  private idle = false;
  constructor(
    private readonly inner: WatermarkGenerator<T>,
    private readonly timeout: number,
    private readonly context: WatermarkGeneratorContext,
  ) {}
  onEvent(event: T, timestamp: number, output: WatermarkOutput): void {
    this.inner.onEvent(event, timestamp, output);
    this.events++;
    this.idle = false;
  }
  onPeriodicEmit(output: WatermarkOutput): void {
    if (this.quietFor() > this.timeout) {
      if (!this.idle) output.markIdle?.();
      this.idle = true;
    } else this.inner.onPeriodicEmit(output);
  }
  /** How long no event came, as of this check (0 if one came since the last check). */
  private quietFor(): number {
    const now = this.context.currentProcessingTime();
    if (this.events !== this.eventsAtLastCheck || this.quietSince === undefined) {
      this.eventsAtLastCheck = this.events;
      this.quietSince = now;
      return 0;
    }
    return now - this.quietSince;
  }
}

class BoundedOutOfOrdernessWatermarks<T> implements WatermarkGenerator<T> {
  private maxTimestamp = -Infinity;
  constructor(private readonly outOfOrderness: number) {}
  onEvent(_event: T, timestamp: number): void {
    if (timestamp > this.maxTimestamp) this.maxTimestamp = timestamp;
  }
  onPeriodicEmit(output: WatermarkOutput): void {
    if (this.maxTimestamp !== -Infinity) output.emitWatermark(this.maxTimestamp - this.outOfOrderness - 1);
  }
}
