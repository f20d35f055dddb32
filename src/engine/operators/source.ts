/** Drives a {@link Source} reader in a source task: batches out, timestamps, watermarks. */
import type { Source, SourceReader } from '../../api/sources.ts';
import type { WatermarkStrategy } from '../../api/watermarks.ts';
import { StateError } from '../../api/errors.ts';
import type { Awaitable } from '../../api/functions.ts';
import { AbstractStreamOperator, isThenable } from './base.ts';
import type { OperatorContext, OperatorRestore, OperatorSnapshot, OutputBuffer } from './operator.ts';
import { TimestampAssignment } from './timestamps.ts';

/**
 * Marks an engine-made reader whose every polled array is new and never touched by it
 * again (fromCollection's slices), so the array may become the batch without a copy: 8
 * bytes per record less to allocate. A user's reader may reuse its arrays, so those are
 * still copied.
 */
export const HANDS_OVER_BATCHES: unique symbol = Symbol('eddy.handsOverBatches');

/** The head operator of a source task (Flink's `SourceOperator`). */
export class SourceOperator<T> extends AbstractStreamOperator<undefined> {
  private reader: SourceReader<T> | undefined;
  /** The reader's polled arrays may become batches as they are (see {@link HANDS_OVER_BATCHES}). */
  private handsOver = false;
  private restoredSplits: unknown[] | undefined = undefined;
  private readonly assignment: TimestampAssignment<T> | undefined;

  constructor(
    private source: Source<T> | undefined,
    strategy: WatermarkStrategy<T> | undefined,
  ) {
    super(undefined);
    this.assignment = strategy ? new TimestampAssignment(strategy) : undefined;
  }

  override async initializeState(ctx: OperatorContext, restore?: OperatorRestore): Promise<void> {
    await super.initializeState(ctx, restore);
    this.restoredSplits = restore?.sourceSplits;
  }

  override async open(): Promise<void> {
    await this.callUser('createReader', async () => {
      const reader = await this.source!.createReader({ subtaskIndex: this.ctx.subtaskIndex, parallelism: this.ctx.parallelism });
      if (!reader || typeof (reader as SourceReader<T>).poll !== 'function') {
        throw new StateError(
          'INVALID_ARGUMENT',
          `createReader() returned ${describe(reader)}, not a SourceReader: return an object with poll(max) (and snapshotSplits/restoreSplits to be replayable)`,
          { component: 'source', operator: this.ctx.displayName },
        );
      }
      this.reader = reader;
      this.handsOver = (reader as { [HANDS_OVER_BATCHES]?: unknown })[HANDS_OVER_BATCHES] === true;
      if (this.restoredSplits !== undefined) {
        if (!this.reader.restoreSplits) {
          throw new StateError('SNAPSHOT_INCOMPATIBLE', 'the source reader has no restoreSplits(), so it cannot resume from a checkpoint', {
            component: 'source',
            operator: this.ctx.displayName,
          });
        }
        await this.reader.restoreSplits(this.restoredSplits);
      }
    });
    this.assignment?.open(this.ctx);
  }

  /** A periodic watermark while the source is quiet (the task runs this between polls). */
  override async onProcessingTime(_now: number, out: OutputBuffer): Promise<void> {
    this.assignment?.onProcessingTime(out);
  }

  /**
   * Asks the reader for up to `max` records: the records, `null` once it is finished, or
   * a Promise of either (the task keeps its timers and cancellation going meanwhile).
   */
  poll(max: number): readonly T[] | null | Promise<readonly T[] | null> {
    let r: Awaitable<readonly T[] | null>;
    try {
      r = this.reader!.poll(max);
    } catch (e) {
      throw this.userError(e, 'poll', undefined);
    }
    if (isThenable(r)) {
      return (r as Promise<readonly T[] | null>).then(
        (records) => this.checked(records),
        (e: unknown) => Promise.reject(this.userError(e, 'poll', undefined)),
      );
    }
    return this.checked(r as readonly T[] | null);
  }

  /**
   * The reader's availability future (see `SourceReader.isAvailable`), or undefined
   * when it has none; a failing future fails the task like a failing poll.
   */
  available(): Promise<void> | undefined {
    const reader = this.reader!;
    if (typeof reader.isAvailable !== 'function') return undefined;
    let r: Promise<void>;
    try {
      r = reader.isAvailable();
    } catch (e) {
      return Promise.reject(this.userError(e, 'isAvailable', undefined));
    }
    return Promise.resolve(r).catch((e: unknown) => Promise.reject(this.userError(e, 'isAvailable', undefined)));
  }

  /** Hands polled records on, with timestamps and watermarks when a strategy is set. */
  emit(records: readonly T[], out: OutputBuffer): void {
    if (this.assignment) this.assignment.assign(records, undefined, out);
    else {
      out.timestamp = NaN;
      out.collectAll(records, this.handsOver);
    }
  }

  /** Emits up to `max` records into `out`; false once the source is finished. */
  async emitNext(out: OutputBuffer, max: number): Promise<boolean> {
    const records = await this.poll(max);
    if (records === null) return false;
    this.emit(records, out);
    return true;
  }

  private checked(records: unknown): readonly T[] | null {
    if (records === null || Array.isArray(records)) return records as readonly T[] | null;
    throw new StateError(
      'INVALID_ARGUMENT',
      `poll() returned ${describe(records)}: a SourceReader's poll must return an array of records ([] for none right now), null once finished, or a Promise of either`,
      { component: 'source', operator: this.ctx.displayName },
    );
  }

  processBatch(): never {
    throw new StateError('INVALID_ARGUMENT', 'a source has no input', { component: 'runtime', operator: this.ctx.displayName });
  }

  /** Whether the reader can report and restore its position. */
  get replayable(): boolean {
    return this.source?.replayable === true && typeof this.reader?.snapshotSplits === 'function';
  }

  protected override snapshotExtra(checkpointId: number): Partial<OperatorSnapshot> {
    const splits = this.reader?.snapshotSplits?.(checkpointId);
    return splits === undefined ? {} : { sourceSplits: splits };
  }

  /** Tells the reader too (a log-backed reader truncates its log up to the checkpoint). */
  override async notifyCheckpointComplete(checkpointId: number): Promise<void> {
    await super.notifyCheckpointComplete(checkpointId);
    if (this.reader?.notifyCheckpointComplete) await this.callUser('notifyCheckpointComplete', () => this.reader!.notifyCheckpointComplete!(checkpointId));
  }

  override async close(): Promise<void> {
    try {
      if (this.reader?.close) await this.callUser('close', () => this.reader!.close!());
    } finally {
      // The closed operator may be kept for its shape (warm-shapes.ts): not its records.
      this.reader = undefined;
      this.source = undefined;
      await super.close();
    }
  }
}

function describe(v: unknown): string {
  if (v === undefined || v === null) return String(v);
  if (typeof v === 'object') return `an object (${Object.prototype.toString.call(v).slice(8, -1)})`;
  return `a ${typeof v} (${String(v).slice(0, 40)})`;
}
