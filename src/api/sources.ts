/**
 * Sources (in the spirit of Flink's FLIP-27 `Source`, without its ceremony): a source
 * creates one reader per parallel subtask; a reader hands out records in batches. A
 * replayable reader describes its work as *splits* (structured data, e.g. `{ next, end }`
 * of a range) with their positions; the runtime checkpoints them, and on restore — at
 * any parallelism — hands them back, spread evenly over the new readers, so a restored
 * job resumes exactly where its checkpoint was taken.
 */
import type { Awaitable } from './functions.ts';

/** Bounded sources end; unbounded ones run until cancelled. */
export type Boundedness = 'bounded' | 'unbounded';

/** What a reader is created with. */
export interface SourceReaderContext {
  /** Index of the reader's subtask. */
  subtaskIndex: number;
  /** Number of parallel readers. */
  parallelism: number;
}

/** Reads records for one subtask. */
export interface SourceReader<T> {
  /**
   * Up to `max` next records, or `null` when the input is finished. An empty array means
   * "nothing right now"; a Promise may wait until records exist. While a poll is
   * pending, timers fire and a cancel ends the task, but checkpoints wait for it (so
   * that no snapshot sees a position ahead of the records handed out): resolve within
   * the checkpoint timeout, with `[]` if nothing came. Anything but an array or `null`
   * fails the job with INVALID_ARGUMENT.
   */
  poll(max: number): Awaitable<readonly T[] | null>;
  /**
   * Resolves once `poll` may have records again, or the end (Flink's
   * `SourceReader.isAvailable()`). A reader with it answers `poll` at once (`[]` when
   * nothing is buffered) and the task waits on this future instead: unlike a pending
   * poll, it does not hold up checkpoints, so an unbounded source that waits for input
   * never blocks them. Without it, an empty poll is retried on the next turn of the loop.
   */
  isAvailable?(): Promise<void>;
  /**
   * The reader's unfinished splits, positioned after the records handed out so far;
   * `checkpointId` names the checkpoint they go into (Flink's `snapshotState(checkpointId)`),
   * so that {@link notifyCheckpointComplete} can tell which position became durable.
   */
  snapshotSplits?(checkpointId: number): unknown[];
  /**
   * Replaces the reader's work with splits reported earlier by any reader of the same
   * source (called before the first poll of a restored job; may be empty).
   */
  restoreSplits?(splits: unknown[]): Awaitable<void>;
  /**
   * Checkpoint `checkpointId` completed (Flink's `SourceReader.notifyCheckpointComplete`):
   * the positions it snapshotted are durable, so input before them may be released (a
   * log truncated). Never called for a checkpoint that failed.
   */
  notifyCheckpointComplete?(checkpointId: number): Awaitable<void>;
  close?(): Awaitable<void>;
}

/** A source of records (Flink's `Source`). */
export interface Source<T> {
  readonly boundedness: Boundedness;
  /**
   * How many parallel readers the source supports; `1` for a non-parallel source such as
   * a collection. Undefined means any.
   */
  readonly maxParallelism?: number;
  /**
   * Whether the source can replay from a checkpointed position (needed for exactly-once
   * results after a restore). Sources whose readers implement `snapshotSplits` and
   * `restoreSplits` set this.
   */
  readonly replayable?: boolean;
  createReader(ctx: SourceReaderContext): Awaitable<SourceReader<T>>;
}

/** Options of `env.fromGenerator`. */
export interface GeneratorOptions {
  /** How many records to generate in total (across all subtasks). */
  count: number;
  /** Total records per second across all subtasks; unlimited when absent. */
  ratePerSecond?: number;
}

/**
 * What a live source whose producer cannot be paused (an `EventTarget`, a `WebSocket`, a
 * `BroadcastChannel`, an `EventSource`) does when its buffer is full because the job reads
 * slower than events come: `'fail'` fails the job with a `SourceError` of code
 * `SOURCE_BUFFER_FULL` (nothing is dropped silently; the default), `'drop-oldest'` drops
 * the oldest buffered event, `'drop-newest'` drops the event that arrived. Drops are
 * counted (`getDroppedCount()` of the source).
 */
export type OverflowPolicy = 'fail' | 'drop-oldest' | 'drop-newest';

/** The buffer of a live source that cannot be paused. */
export interface LiveBufferOptions {
  /** Events buffered (per reader) before `onOverflow` applies; default 10,000. */
  bufferSize?: number;
  /** What happens to an event that finds the buffer full; default `'fail'`. */
  onOverflow?: OverflowPolicy;
}
