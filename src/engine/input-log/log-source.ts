/**
 * The source that reads a {@link DurableLog}: its one split is `{ log, offset }`, the next
 * offset to read (Flink's split state). On `notifyCheckpointComplete(id)` it truncates the
 * log to the offset checkpoint `id` recorded — only then, so an entry is dropped only once
 * a completed checkpoint covers it.
 */
import type { Source, SourceReader } from '../../api/sources.ts';
import { deserializeValue } from '../../format/value-codec.ts';
import { InputLogError, type EddyErrorCode } from '../../api/errors.ts';

/** What the source needs of a `DurableLog` (an interface, so the two files do not import each other). */
export interface ReadableLog {
  readonly name: string;
  readonly firstOffset: number;
  readonly durableOffset: number;
  readEntries(from: number, max: number): Promise<Uint8Array[]>;
  waitForData(offset: number, timeoutMs: number): Promise<void>;
  truncate(before: number): Promise<void>;
}

/** An error of the log named `name`. */
export function logError(code: EddyErrorCode, name: string, message: string): InputLogError {
  return new InputLogError(code, message, { component: `input-log:${name}` });
}

/** Options of `DurableLog.source()`. */
export interface DurableLogSourceOptions {
  /** Finish once this offset is reached (a bounded read, e.g. for tests); unbounded when absent. */
  stopAtOffset?: number;
  /** How long a poll waits for new entries before it returns none (default 50 ms; checkpoints wait for a pending poll). */
  idlePollMs?: number;
}

/** What the source checkpoints. */
interface LogSplit {
  log: string;
  offset: number;
}

/** A replayable, non-parallel source over a durable log. */
export class DurableLogSource<T> implements Source<T> {
  readonly boundedness: 'bounded' | 'unbounded';
  readonly maxParallelism = 1;
  readonly replayable = true;

  constructor(
    private readonly log: ReadableLog,
    private readonly options: DurableLogSourceOptions,
  ) {
    const stop = options.stopAtOffset;
    if (stop !== undefined && (!Number.isInteger(stop) || stop < 0)) {
      throw logError('INVALID_ARGUMENT', log.name, `stopAtOffset must be a non-negative integer, got ${String(stop)}`);
    }
    this.boundedness = stop === undefined ? 'unbounded' : 'bounded';
  }

  createReader(): SourceReader<T> {
    const log = this.log;
    const stop = this.options.stopAtOffset ?? Number.POSITIVE_INFINITY;
    const idleMs = this.options.idlePollMs ?? 50;
    // A fresh start reads everything retained: no completed checkpoint covers it.
    let offset = log.firstOffset;
    /** Offsets recorded per checkpoint, until it completes (or a later one does). */
    const recorded = new Map<number, number>();
    return {
      async poll(max) {
        if (offset >= stop) return null;
        if (offset >= log.durableOffset) {
          await log.waitForData(offset, idleMs);
          if (offset >= log.durableOffset) return [];
        }
        const entries = await log.readEntries(offset, Math.min(max, stop - offset));
        offset += entries.length;
        return entries.map((e) => deserializeValue(e) as T);
      },
      snapshotSplits(checkpointId) {
        recorded.set(checkpointId, offset);
        return [{ log: log.name, offset } satisfies LogSplit];
      },
      restoreSplits(splits) {
        const split = splits[0] as Partial<LogSplit> | undefined;
        if (splits.length !== 1 || split === undefined || typeof split.offset !== 'number' || !Number.isInteger(split.offset)) {
          throw logError(
            'SNAPSHOT_INCOMPATIBLE',
            log.name,
            `cannot restore the log source from splits ${JSON.stringify(splits)}: expected one { log, offset }`,
          );
        }
        if (split.log !== log.name) {
          throw logError('SNAPSHOT_INCOMPATIBLE', log.name, `the checkpoint was taken reading log "${String(split.log)}", not this one`);
        }
        if (split.offset < log.firstOffset) {
          throw logError(
            'SNAPSHOT_INCOMPATIBLE',
            log.name,
            `the checkpoint resumes at offset ${split.offset}, but the log was truncated up to ${log.firstOffset} by a later completed checkpoint: restore the newest checkpoint`,
          );
        }
        if (split.offset > log.durableOffset) {
          throw logError(
            'SNAPSHOT_INCOMPATIBLE',
            log.name,
            `the checkpoint resumes at offset ${split.offset}, past the end of the log (${log.durableOffset}): is it another log's checkpoint?`,
          );
        }
        offset = split.offset;
      },
      async notifyCheckpointComplete(checkpointId) {
        const at = recorded.get(checkpointId);
        if (at === undefined) return;
        for (const id of recorded.keys()) if (id <= checkpointId) recorded.delete(id);
        await log.truncate(at);
      },
    };
  }
}
