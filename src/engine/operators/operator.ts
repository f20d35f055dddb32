/**
 * The operator contract executors drive. Records move in batches (parallel arrays of
 * values, timestamps and, after a `keyBy`, keys and key groups); watermarks and
 * processing-time wake-ups arrive between batches. An operator writes what it emits into
 * an {@link OutputBuffer}, which the task hands to the next operator or the network.
 */
import type { Clock } from '../../api/clock.ts';
import type { Collector } from '../../api/functions.ts';
import type { Key } from '../../format/key-bytes.ts';
import type { KeyGroupRange } from '../../format/key-groups.ts';
import type { StateBackend } from '../../state/backend.ts';
import type { OperatorSnapshot, OperatorStateSnapshot } from '../../format/checkpoint-format.ts';
import type { KeyedStateSnapshot } from '../../format/snapshot-format.ts';
import type { KeyedStateBackend } from '../../state/backend.ts';
import type { OperatorTimers } from '../timers.ts';

export type { OperatorSnapshot } from '../../format/checkpoint-format.ts';

/** A batch of records. `NaN` in `timestamps` means "no timestamp". */
export interface RecordBatch {
  readonly values: unknown[];
  /** Per record event time, or undefined when no record of the batch has one. */
  readonly timestamps: number[] | undefined;
  /** Per record key, set on batches that crossed a `keyBy`. */
  readonly keys?: Key[];
  /** Per record key group, alongside `keys`. */
  readonly keyGroups?: ArrayLike<number>;
}

/** Collects what an operator emits, stamping each record with the current timestamp. */
export class OutputBuffer implements Collector<unknown> {
  private values: unknown[] = [];
  private timestamps: number[] | undefined = undefined;
  /** The timestamp given to collected records (NaN: none). */
  timestamp = NaN;

  collect(value: unknown): void {
    if (this.watermark !== undefined) this.cutAtWatermark();
    const ts = this.timestamp;
    if (this.timestamps !== undefined) this.timestamps.push(ts);
    else if (ts === ts) {
      // First timestamped record: earlier ones had none.
      this.timestamps = new Array<number>(this.values.length).fill(NaN);
      this.timestamps.push(ts);
    }
    this.values.push(value);
  }

  get size(): number {
    return this.values.length;
  }

  /**
   * Collects many records without timestamps at once (a source without a watermark
   * strategy). `handedOver`: nobody else holds or changes `values` any more, so it may
   * become the batch itself instead of a copy.
   */
  collectAll(values: readonly unknown[], handedOver = false): void {
    if (this.timestamps !== undefined || !Number.isNaN(this.timestamp) || this.watermark !== undefined) {
      for (const v of values) this.collect(v);
      return;
    }
    const target = this.values;
    // A copy in one go when nothing is pending (the usual case: one poll per batch).
    if (target.length === 0) this.values = handedOver ? (values as unknown[]) : values.slice();
    else for (let i = 0; i < values.length; i++) target.push(values[i]);
  }

  private watermark: number | undefined = undefined;
  /** The highest watermark emitted since the last `takeSegments`, pending or cut. */
  private lastWatermark = -Infinity;
  /**
   * Watermarks that records followed (Flink's punctuated watermarks: a watermark emitted
   * mid-batch reaches downstream before the records after it), as flattened pairs of
   * [number of records before it, watermark]. Undefined on the usual path.
   */
  private cuts: number[] | undefined = undefined;

  /** Emits a watermark after the records collected so far; one not above the last is ignored. */
  emitWatermark(timestamp: number): void {
    if (timestamp <= this.lastWatermark) return;
    this.watermark = timestamp;
    this.lastWatermark = timestamp;
  }

  /** A record follows the pending watermark: the watermark keeps its place before it. */
  private cutAtWatermark(): void {
    (this.cuts ??= []).push(this.values.length, this.watermark!);
    this.watermark = undefined;
  }

  /** Idleness to forward: true (idle) after what was emitted so far, false (active) before it. */
  private idleness: boolean | undefined = undefined;

  /** Declares this output idle (Flink's WatermarkStatus.IDLE) or active again. */
  emitIdleness(idle: boolean): void {
    this.idleness = this.idleness === !idle ? undefined : idle;
  }

  /** The pending idleness change, if any, which is then forgotten. */
  takeIdleness(): boolean | undefined {
    const i = this.idleness;
    this.idleness = undefined;
    return i;
  }

  /** The pending watermark, if any, which is then forgotten. */
  takeWatermark(): number | undefined {
    const w = this.watermark;
    this.watermark = undefined;
    this.lastWatermark = -Infinity;
    return w;
  }

  /**
   * The records collected before each watermark that records followed, with that
   * watermark, in order; undefined when no record followed a watermark. The records
   * after the last cut stay for `take()`, the pending watermark for `takeWatermark()`.
   */
  takeSegments(): { batch: RecordBatch; watermark: number }[] | undefined {
    const cuts = this.cuts;
    if (cuts === undefined) return undefined;
    this.cuts = undefined;
    const { values, timestamps } = this.take();
    const segments: { batch: RecordBatch; watermark: number }[] = [];
    let from = 0;
    for (let i = 0; i < cuts.length; i += 2) {
      const to = cuts[i];
      segments.push({ batch: { values: values.slice(from, to), timestamps: timestamps?.slice(from, to) }, watermark: cuts[i + 1] });
      from = to;
    }
    this.values = values.slice(from);
    this.timestamps = timestamps?.slice(from);
    return segments;
  }

  /** Side-output buffers by tag id, created on first use (see {@link sideOutput}). */
  private sides: Map<string, OutputBuffer> | undefined = undefined;

  /**
   * The buffer of side output `tagId`, its records stamped with this buffer's current
   * timestamp (Flink: side-output records carry the timestamp of the record or timer
   * that emitted them). The task hands its records to the consumers of that side output.
   */
  sideOutput(tagId: string): OutputBuffer {
    const sides = (this.sides ??= new Map());
    let side = sides.get(tagId);
    if (side === undefined) sides.set(tagId, (side = new OutputBuffer()));
    side.timestamp = this.timestamp;
    return side;
  }

  /** The side-output records collected so far by tag id (undefined when none), which are then forgotten. */
  takeSides(): Map<string, RecordBatch> | undefined {
    const sides = this.sides;
    if (sides === undefined) return undefined;
    let out: Map<string, RecordBatch> | undefined;
    for (const [id, side] of sides) if (side.size > 0) (out ??= new Map()).set(id, side.take());
    return out;
  }

  /** True when nothing waits to be handed on: no record, watermark, idleness change or side output (a task then skips its drain). */
  get isEmpty(): boolean {
    return this.values.length === 0 && this.cuts === undefined && this.watermark === undefined && this.idleness === undefined && this.sides === undefined;
  }

  /** Hands out what was collected and starts over. */
  take(): RecordBatch {
    const batch = { values: this.values, timestamps: this.timestamps };
    this.values = [];
    this.timestamps = undefined;
    return batch;
  }
}

/** What an operator knows about where it runs. */
export interface OperatorContext {
  readonly jobName: string;
  readonly jobId: string;
  /** Stable id of the operator (its uid or a generated one). */
  readonly operatorId: string;
  /** The operator's name without subtask. */
  readonly name: string;
  /** `name (i+1/p)`, used in every error message. */
  readonly displayName: string;
  readonly subtaskIndex: number;
  readonly parallelism: number;
  readonly maxParallelism: number;
  /** Key groups owned by this subtask (keyed operators only). */
  readonly keyGroupRange: KeyGroupRange;
  /** Whether the operator's input is keyed (it may then use keyed state and timers). */
  readonly keyed: boolean;
  readonly clock: Clock;
  readonly stateBackend: StateBackend;
  /** Processing-time ms between periodic watermark emissions (0: only after batches). */
  readonly autoWatermarkInterval: number;
  /** Asks the task to call `onProcessingTime` once the clock reaches `time`. */
  scheduleProcessingTime(time: number): void;
  /** True when mail (a due processing-time timer) waits; operators check it between records. */
  hasMail(): boolean;
  /** Runs the waiting mail, so that timers fire between records as in Flink's mailbox model. */
  runMail(): Promise<void>;
}

/** How a checkpoint wants operator state captured. */
export interface SnapshotOptions {
  /** Keyed state may be a delta over the last completed checkpoint (where the backend supports it). */
  readonly incremental?: boolean;
  /**
   * Nobody keeps this snapshot (the final checkpoint of a job that has no checkpoint
   * storage): the function's `snapshotState` still runs (sinks pre-commit), but no state
   * is captured or encoded.
   */
  readonly hooksOnly?: boolean;
}

/** A captured snapshot whose encoding may still be running. */
export interface PendingSnapshot {
  readonly snapshot: Promise<OperatorSnapshot>;
}

/** State an operator subtask starts from after a restore (already redistributed). */
export interface OperatorRestore {
  /** Keyed snapshots of every old subtask whose key groups overlap this one. */
  readonly keyed: readonly KeyedStateSnapshot[];
  readonly timers: ReadonlyArray<ReadonlyMap<number, Uint8Array>>;
  readonly operatorState?: OperatorStateSnapshot;
  /** Source splits assigned to this subtask (already redistributed). */
  readonly sourceSplits?: unknown[];
}

/** What a keyed operator subtask exposes to a state query (see state-query.ts). */
export interface QueryableState {
  readonly backend: KeyedStateBackend;
  readonly timers: OperatorTimers;
  /** TTL's time (processing time of the operator's clock). */
  now(): number;
}

/** One parallel instance of an operator. */
export interface StreamOperator {
  /** Creates the state (restored when `restore` is given) and calls `initializeState` of the function. */
  initializeState(ctx: OperatorContext, restore?: OperatorRestore): Promise<void>;
  /** Calls the function's `open`. */
  open(): Promise<void>;
  processBatch(batch: RecordBatch, out: OutputBuffer): void | Promise<void>;
  /**
   * Records of the second input of a two-input operator (Flink's `TwoInputStreamOperator`):
   * only operators of nodes with edges marked `input: 2` have it. The watermark and the
   * barriers of both inputs are combined by the task (minimum, alignment) as for any inputs.
   */
  processBatch2?(batch: RecordBatch, out: OutputBuffer): void | Promise<void>;
  /** The input watermark advanced: fires event-time timers, then emits the watermark to forward it. */
  processWatermark(watermark: number, out: OutputBuffer): void | Promise<void>;
  /** All of the input went idle (true) or part of it is active again (false); forwarded by default. */
  processIdleness(idle: boolean, out: OutputBuffer): void;
  /** The clock reached a scheduled time; fires processing-time timers. */
  onProcessingTime(now: number, out: OutputBuffer): void | Promise<void>;
  /** The input is finished (after the final watermark). */
  finish(out: OutputBuffer): void | Promise<void>;
  /** Calls the function's `close` and releases the state. */
  close(): Promise<void>;
  /**
   * Takes the operator's part of checkpoint `checkpointId`: calls the function's
   * `snapshotState`, then captures the state synchronously. Resolves once captured (the
   * task may go on processing); the returned `snapshot` completes the encoding later.
   */
  snapshotState(checkpointId: number, timestamp: number, options?: SnapshotOptions): Promise<PendingSnapshot>;
  notifyCheckpointComplete(checkpointId: number): Promise<void>;
  /** Checkpoint `checkpointId` failed or was aborted (Flink's `CheckpointListener.notifyCheckpointAborted`). */
  notifyCheckpointAborted?(checkpointId: number): Promise<void>;
  /** The keyed state and timers of the subtask, for `JobClient.queryState` (keyed operators only). */
  queryableState?(): QueryableState | undefined;
}
