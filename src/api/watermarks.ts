/**
 * Event time: where records get their timestamps and how watermarks are generated.
 * A watermark `w` says no record with timestamp ≤ `w` is still to come; event-time timers
 * with a time ≤ `w` fire. Generators are asked for a watermark after every batch of
 * records (the batch plays the part of Flink's periodic emit interval).
 */
import { ConfigurationError } from './errors.ts';

/** The watermark a finished bounded input emits: fires every pending event-time timer. */
export const MAX_WATERMARK = Number.MAX_SAFE_INTEGER;

/** Receives watermarks from a generator. */
export interface WatermarkOutput {
  emitWatermark(timestamp: number): void;
  /**
   * Marks the output idle (Flink's `markIdle`): downstream operators leave it out of their
   * event time (the minimum over their inputs) until it emits a record or watermark again,
   * so a quiet source or partition does not hold event time back for the others.
   */
  markIdle(): void;
  /** Marks the output active again (emitting a record does it too). */
  markActive(): void;
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
    private readonly generatorFactory: () => WatermarkGenerator<T>,
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
  static forGenerator<T>(factory: () => WatermarkGenerator<T>): WatermarkStrategy<T> {
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
   * The same strategy, marking the stream idle once no record came for `idleTimeoutMs`
   * (Flink's `withIdleness`): a quiet source subtask then stops holding back the event
   * time of the operators it feeds, whose windows and timers fire on the watermarks of
   * their other inputs. It becomes active again with its next record. When every input
   * of an operator is idle, its event time stays where it is (as in Flink).
   */
  withIdleness(idleTimeoutMs: number): WatermarkStrategy<T> {
    if (!(typeof idleTimeoutMs === 'number' && idleTimeoutMs > 0 && Number.isFinite(idleTimeoutMs))) {
      throw new ConfigurationError(`withIdleness() takes a positive number of ms, got ${String(idleTimeoutMs)}`, { component: 'watermarks' });
    }
    const factory = this.generatorFactory;
    return new WatermarkStrategy<T>(() => new WatermarksWithIdleness<T>(factory(), idleTimeoutMs), this.timestampAssigner);
  }

  /** A fresh generator, one per parallel subtask. */
  createWatermarkGenerator(): WatermarkGenerator<T> {
    return this.generatorFactory();
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

/** Wraps a generator: idle once no event came for the timeout (wall-clock time, as Flink's `WatermarksWithIdleness`). */
class WatermarksWithIdleness<T> implements WatermarkGenerator<T> {
  private lastActivity = Date.now();
  private idle = false;
  constructor(
    private readonly inner: WatermarkGenerator<T>,
    private readonly timeoutMs: number,
  ) {}
  onEvent(event: T, timestamp: number, output: WatermarkOutput): void {
    this.lastActivity = Date.now();
    if (this.idle) {
      this.idle = false;
      output.markActive();
    }
    this.inner.onEvent(event, timestamp, output);
  }
  onPeriodicEmit(output: WatermarkOutput): void {
    if (this.idle) return;
    if (Date.now() - this.lastActivity >= this.timeoutMs) {
      this.idle = true;
      output.markIdle();
      return;
    }
    this.inner.onPeriodicEmit(output);
  }
}
