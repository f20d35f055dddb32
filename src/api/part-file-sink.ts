/**
 * The part-file protocol of exactly-once file sinks (Flink's `FileSink`, row format),
 * independent of where the files live; `FileSink` (Node, Deno) and `OpfsSink` (browsers)
 * supply the directory operations.
 *
 * Records go to an in-progress part file `.<prefix>-<subtask>-<uid>-<counter><suffix>.inprogress`
 * (hidden: a leading dot). When a checkpoint is taken the file is flushed, made durable
 * and closed: it is now pending, and the checkpoint records its name (a transaction of
 * `TwoPhaseCommitSink`). When the checkpoint completes, each pending file is renamed to
 * its final name `<prefix>-<subtask>-<uid>-<counter><suffix>` — the only moment output
 * becomes visible. After a restore, the pending files the checkpoint recorded are
 * committed again (a file already renamed is skipped, so nothing is doubled); the files
 * of attempts that never completed a checkpoint stay hidden and are removed once the first
 * checkpoint after the restart completes (then every subtask has finished recovering).
 *
 * `uid` is new for every run of a subtask (time first, so names sort by run), as Flink's
 * part-file uid: a restarted subtask can never reuse the name of a file an earlier attempt
 * left behind, so no recovery has to find the highest counter on disk.
 */
import { EddyError, type EddyErrorCode, SinkError } from './errors.ts';
import type { RuntimeContext, SinkContext } from './functions.ts';
import { type RecordEncoder, jsonLinesEncoder } from './sink-encoders.ts';
import { TwoPhaseCommitSink } from './two-phase-commit.ts';

/** Options shared by the part-file sinks. */
export interface PartFileSinkOptions<T> {
  /** Record to bytes; default {@link jsonLinesEncoder} (one JSON value per line). */
  readonly encoder?: RecordEncoder<T>;
  /** Part files start with this (Flink's `OutputFileConfig` part prefix); default `part`. */
  readonly prefix?: string;
  /** Part files end with this, e.g. `.jsonl`; default none. */
  readonly suffix?: string;
  /**
   * Rolls to a new part file once the current one holds at least this many bytes
   * (Flink's `DefaultRollingPolicy` max part size). Files also roll at every checkpoint.
   * Default: only at checkpoints.
   */
  readonly rollSize?: number;
}

/** A transaction of a part-file sink: the final names of the part files written in it (checkpointed). */
export interface PartFileTransaction {
  readonly parts: string[];
}

/** An in-progress part file open for appending. */
export interface PartFileWriter {
  /** Appends bytes. */
  write(bytes: Uint8Array): Promise<void>;
  /** Makes the bytes durable (fsync where the platform can) and closes the file. */
  close(): Promise<void>;
  /** Closes the file without caring for its bytes (it is about to be removed). */
  discard(): Promise<void>;
}

/** Bytes buffered in memory before they are appended to the part file. */
const FLUSH_BYTES = 64 * 1024;
const NAME_PIECE = /^[A-Za-z0-9._-]*$/;
/** The end of the name of the file `open` writes to test the directory. */
const PROBE = '.probe';
const encoder = new TextEncoder();

/** The base of {@link FileSink}-like sinks: a platform implements the directory operations. */
export abstract class PartFileSink<T> extends TwoPhaseCommitSink<T, PartFileTransaction> {
  protected readonly component: string;
  private readonly encode: RecordEncoder<T>;
  private readonly prefix: string;
  private readonly suffix: string;
  private readonly rollSize: number;
  private operator: string | undefined;
  private subtask = -1;
  private parallelism = 1;
  private uid = '';
  private counter = 0;
  private active: PartFileTransaction | undefined;
  private writer: PartFileWriter | undefined;
  private buffered: Uint8Array[] = [];
  private bufferedBytes = 0;
  private partBytes = 0;
  private cleaned = false;

  /** @param kind shows in errors as `[sink:<kind>]`. */
  constructor(kind: string, options: PartFileSinkOptions<T> = {}) {
    super();
    this.component = `sink:${kind}`;
    const { encoder: encode = jsonLinesEncoder, prefix = 'part', suffix = '', rollSize = Number.POSITIVE_INFINITY } = options;
    if (typeof encode !== 'function') throw this.failure('INVALID_CONFIG', 'encoder must be a function (record) => string | Uint8Array');
    if (prefix.length === 0 || prefix.startsWith('.') || !NAME_PIECE.test(prefix) || !NAME_PIECE.test(suffix)) {
      throw this.failure(
        'INVALID_CONFIG',
        `prefix "${prefix}" and suffix "${suffix}" may hold only letters, digits, '.', '_' and '-' (and the prefix must not be empty or start with '.')`,
      );
    }
    if (!(rollSize > 0)) throw this.failure('INVALID_CONFIG', `rollSize must be a positive number of bytes, not ${String(rollSize)}`);
    this.encode = encode;
    this.prefix = prefix;
    this.suffix = suffix;
    this.rollSize = rollSize;
  }

  /**
   * Checks that the output directory is there and writable, e.g. by creating and removing
   * the hidden file `probe`; throws a {@link SinkError} (`INVALID_CONFIG`) if not.
   */
  protected abstract openOutput(probe: string): Promise<void>;
  /** Creates the hidden file `name` for appending. */
  protected abstract createPart(name: string): Promise<PartFileWriter>;
  /** Renames `hidden` to `final` (durably, with {@link syncOutput} after); a missing `hidden` means it was done before. */
  protected abstract publishPart(hidden: string, final: string): Promise<void>;
  /** Removes the file `name`; a missing one is fine. */
  protected abstract removePart(name: string): Promise<void>;
  /** The names of the files in the output directory. */
  protected abstract listParts(): Promise<string[]>;
  /** Makes new names and renames in the directory durable (fsync of the directory, where possible). */
  protected abstract syncOutput(): Promise<void>;

  override async open(ctx: RuntimeContext): Promise<void> {
    this.subtask = ctx.getIndexOfThisSubtask();
    this.parallelism = ctx.getNumberOfParallelSubtasks();
    this.operator = ctx.getTaskNameWithSubtasks();
    this.uid = Date.now().toString(36).padStart(9, '0') + Math.random().toString(36).slice(2, 8).padEnd(6, '0');
    await this.openOutput(`.${this.prefix}-${this.subtask}-${this.uid}${PROBE}`);
  }

  beginTransaction(): PartFileTransaction {
    this.active = { parts: [] };
    return this.active;
  }

  invoke(txn: PartFileTransaction, value: T, _ctx: SinkContext): void | Promise<void> {
    let bytes: string | Uint8Array;
    try {
      bytes = this.encode(value);
      if (typeof bytes === 'string') bytes = encoder.encode(bytes);
      else if (!(bytes instanceof Uint8Array)) throw new TypeError(`the encoder returned ${typeof bytes}, not a string or Uint8Array`);
    } catch (e) {
      throw this.failure('UNSERIALIZABLE_VALUE', `${this.who()} cannot write a record: ${describe(e)}`, e);
    }
    this.buffered.push(bytes);
    this.bufferedBytes += bytes.byteLength;
    this.partBytes += bytes.byteLength;
    if (this.partBytes >= this.rollSize) return this.closePart(txn);
    if (this.bufferedBytes >= FLUSH_BYTES) return this.flush(txn);
  }

  /** Closes the in-progress part file durably: it is now pending, and the checkpoint will name it. */
  async preCommit(txn: PartFileTransaction): Promise<void> {
    await this.closePart(txn);
    if (txn.parts.length > 0) await this.io('sync the directory of', txn.parts.at(-1)!, () => this.syncOutput());
  }

  /** Renames the transaction's pending files to their final names; idempotent (a file renamed before is skipped). */
  async commit(txn: PartFileTransaction): Promise<void> {
    if (txn.parts.length === 0) return;
    for (const part of txn.parts) await this.io('commit', part, () => this.publishPart(hiddenName(part), part));
    await this.io('sync the directory of', txn.parts[0]!, () => this.syncOutput());
  }

  /** Removes the transaction's in-progress and pending files. */
  async abort(txn: PartFileTransaction): Promise<void> {
    if (txn === this.active) {
      const writer = this.writer;
      this.writer = this.active = undefined;
      this.buffered = [];
      this.bufferedBytes = this.partBytes = 0;
      await writer?.discard().catch(() => undefined);
    }
    for (const part of txn.parts) await this.io('remove', hiddenName(part), () => this.removePart(hiddenName(part)));
  }

  /** Commits, then — once per run, at the first completed checkpoint — removes leftovers of attempts that never completed one. */
  override async notifyCheckpointComplete(checkpointId: number): Promise<void> {
    await super.notifyCheckpointComplete(checkpointId);
    if (this.cleaned || this.subtask < 0) return;
    this.cleaned = true;
    for (const name of await this.io('list', 'the output directory', () => this.listParts())) {
      const owner = this.leftoverOwner(name);
      if (owner !== undefined && owner % this.parallelism === this.subtask) await this.io('remove', name, () => this.removePart(name));
    }
  }

  /**
   * The subtask index in a hidden file of this sink written by another run (an in-progress
   * or pending part, or the writability probe of a run that died in `open`), else undefined.
   */
  private leftoverOwner(name: string): number | undefined {
    const head = `.${this.prefix}-`;
    const part = `${this.suffix}.inprogress`;
    let middle: string;
    if (name.startsWith(head) && name.endsWith(part) && name.length > head.length + part.length) middle = name.slice(head.length, -part.length);
    else if (name.startsWith(head) && name.endsWith(PROBE)) middle = `${name.slice(head.length, -PROBE.length)}-0`;
    else return undefined;
    const m = /^(\d+)-([0-9a-z]+)-\d+$/.exec(middle);
    if (m === null || m[2] === this.uid) return undefined;
    return Number(m[1]);
  }

  /** Appends what is buffered to the in-progress part file, creating it first if needed. */
  private async flush(txn: PartFileTransaction): Promise<void> {
    if (this.bufferedBytes === 0) return;
    if (this.writer === undefined) {
      const part = `${this.prefix}-${this.subtask}-${this.uid}-${this.counter++}${this.suffix}`;
      txn.parts.push(part);
      this.writer = await this.io('create', hiddenName(part), () => this.createPart(hiddenName(part)));
    }
    const chunk = concat(this.buffered, this.bufferedBytes);
    this.buffered = [];
    this.bufferedBytes = 0;
    const writer = this.writer;
    await this.io('write', txn.parts.at(-1)!, () => writer.write(chunk));
  }

  private async closePart(txn: PartFileTransaction): Promise<void> {
    await this.flush(txn);
    const writer = this.writer;
    this.writer = undefined;
    this.partBytes = 0;
    if (writer !== undefined) await this.io('close', txn.parts.at(-1)!, () => writer.close());
  }

  /** Runs a directory operation; what it throws becomes a {@link SinkError} naming the sink, subtask and file. */
  protected async io<R>(what: string, name: string, op: () => Promise<R>): Promise<R> {
    try {
      return await op();
    } catch (e) {
      if (e instanceof EddyError) throw e;
      const { code, name: kind } = (e ?? {}) as { code?: unknown; name?: unknown };
      const full = code === 'ENOSPC' || code === 'EDQUOT' || kind === 'QuotaExceededError';
      throw this.failure(full ? 'STORAGE_FULL' : 'STORAGE_FAILURE', `${this.who()} could not ${what} "${name}": ${describe(e)}`, e);
    }
  }

  /** The subtask, for messages; commits of a restore run before `open` tells the index. */
  private who(): string {
    return this.subtask < 0 ? 'a restoring subtask' : `subtask ${this.subtask}`;
  }

  /** A {@link SinkError} naming this sink and its subtask. */
  protected failure(code: EddyErrorCode, message: string, cause?: unknown): SinkError {
    return new SinkError(code, message, { component: this.component, operator: this.operator }, cause === undefined ? undefined : { cause });
  }
}

/** The in-progress (and pending) name of a part file. */
export function hiddenName(part: string): string {
  return `.${part}.inprogress`;
}

function concat(chunks: readonly Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

function describe(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}
