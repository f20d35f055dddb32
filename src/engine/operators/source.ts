/** Drives a {@link Source} reader in a source task: batches out, timestamps, watermarks. */
import type { Source, SourceReader } from '../../api/sources.ts';
import type { WatermarkStrategy } from '../../api/watermarks.ts';
import { StateError } from '../../api/errors.ts';
import { AbstractStreamOperator } from './base.ts';
import type { OperatorContext, OperatorRestore, OperatorSnapshot, OutputBuffer } from './operator.ts';
import { TimestampAssignment } from './timestamps.ts';

/** The head operator of a source task (Flink's `SourceOperator`). */
export class SourceOperator<T> extends AbstractStreamOperator<undefined> {
  private reader: SourceReader<T> | undefined;
  private restoredSplits: unknown[] | undefined = undefined;
  private readonly assignment: TimestampAssignment<T> | undefined;

  constructor(
    private readonly source: Source<T>,
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
      this.reader = await this.source.createReader({ subtaskIndex: this.ctx.subtaskIndex, parallelism: this.ctx.parallelism });
      if (this.restoredSplits !== undefined) {
        if (!this.reader.restoreSplits) {
          throw new StateError('SNAPSHOT_INCOMPATIBLE', 'the source reader has no restoreSplits(), so it cannot resume from a checkpoint', { component: 'source', operator: this.ctx.displayName });
        }
        await this.reader.restoreSplits(this.restoredSplits);
      }
    });
  }

  /** Emits up to `max` records into `out`; false once the source is finished. */
  async emitNext(out: OutputBuffer, max: number): Promise<boolean> {
    let records: readonly T[] | null;
    try {
      records = await this.reader!.poll(max);
    } catch (e) {
      throw this.userError(e, 'poll', undefined);
    }
    if (records === null) return false;
    if (this.assignment) this.assignment.assign(records, undefined, out, this.ctx.displayName);
    else {
      out.timestamp = NaN;
      out.collectAll(records);
    }
    return true;
  }

  processBatch(): never {
    throw new StateError('INVALID_ARGUMENT', 'a source has no input', { component: 'runtime', operator: this.ctx.displayName });
  }

  /** Whether the reader can report and restore its position. */
  get replayable(): boolean {
    return this.source.replayable === true && typeof this.reader?.snapshotSplits === 'function';
  }

  protected override snapshotExtra(): Partial<OperatorSnapshot> {
    const splits = this.reader?.snapshotSplits?.();
    return splits === undefined ? {} : { sourceSplits: splits };
  }

  override async close(): Promise<void> {
    try {
      if (this.reader?.close) await this.callUser('close', () => this.reader!.close!());
    } finally {
      await super.close();
    }
  }
}
