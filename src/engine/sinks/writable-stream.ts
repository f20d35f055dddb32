/**
 * A Sink V2 over a WHATWG `WritableStream` (a file handle's stream, a fetch upload, a
 * `TransformStream`'s writable side, Node's web streams). Back-pressure is the stream's:
 * each write first awaits `writer.ready`, so a slow consumer (a full queue past its
 * high-water mark) holds the job back instead of buffering without bound. `flush(false)`
 * at every checkpoint waits until the stream accepted every written record; the end of
 * input closes the stream. At-least-once: records written after the last checkpoint are
 * written again after a restart (a stream cannot take writes back).
 */
import { ConfigurationError } from '../../api/errors.ts';
import type { Sink, SinkInitContext, SinkWriter } from '../../api/functions.ts';

/** The members of a `WritableStream` the sink uses. */
export interface WritableStreamLike<W> {
  getWriter(): WritableStreamWriterLike<W>;
}

/** The members of a `WritableStreamDefaultWriter` the sink uses. */
export interface WritableStreamWriterLike<W> {
  readonly ready: Promise<unknown>;
  write(chunk: W): Promise<void>;
  close(): Promise<void>;
  abort(reason?: unknown): Promise<void>;
  releaseLock(): void;
}

/** Options of {@link WritableStreamSink}. */
export interface WritableStreamSinkOptions<T, W> {
  /** Makes the chunk written for a record; default the record itself. */
  map?: (record: T) => W;
  /** Close the stream at the end of input (default true); false only releases the writer. */
  closeAtEnd?: boolean;
}

const COMPONENT = 'sink:writable-stream';

/**
 * Writes every record to a `WritableStream`. A given stream takes one writer (parallelism
 * 1); a factory `(ctx) => stream` is called per subtask (and attempt), e.g. one file per subtask.
 */
export class WritableStreamSink<T, W = T> implements Sink<T> {
  private readonly map: (record: T) => W;
  private readonly closeAtEnd: boolean;

  constructor(
    private readonly provided: WritableStreamLike<W> | ((ctx: SinkInitContext) => WritableStreamLike<W>),
    options: WritableStreamSinkOptions<T, W> = {},
  ) {
    if (typeof provided !== 'function' && (typeof provided !== 'object' || provided === null || typeof provided.getWriter !== 'function')) {
      throw new ConfigurationError(`needs a WritableStream or a factory (ctx) => WritableStream, got ${String(provided)}`, { component: COMPONENT });
    }
    if (options.map !== undefined && typeof options.map !== 'function')
      throw new ConfigurationError('map must be a function (record) => chunk', { component: COMPONENT });
    this.map = options.map ?? ((r: T) => r as unknown as W);
    this.closeAtEnd = options.closeAtEnd !== false;
  }

  createWriter(ctx: SinkInitContext): SinkWriter<T> {
    let stream: WritableStreamLike<W>;
    const owned = typeof this.provided === 'function';
    if (owned) stream = (this.provided as (ctx: SinkInitContext) => WritableStreamLike<W>)(ctx);
    else if (ctx.getNumberOfParallelSubtasks() > 1) {
      throw new ConfigurationError(
        `a given WritableStream takes one writer, but the sink runs in ${ctx.getNumberOfParallelSubtasks()} subtasks: call setParallelism(1) on the sink, or pass a factory (ctx) => stream`,
        { component: COMPONENT },
      );
    } else stream = this.provided;
    const writer = stream.getWriter();
    const map = this.map;
    const closeAtEnd = this.closeAtEnd;
    // The newest write: the stream settles writes in order, so it settling means all did.
    let last: Promise<void> = Promise.resolve();
    let failure: { error: unknown } | undefined;
    let released = false;
    const check = () => {
      if (failure !== undefined) throw failure.error;
    };
    return {
      async write(record) {
        check();
        await writer.ready;
        check();
        last = writer.write(map(record));
        last.catch((error: unknown) => (failure ??= { error }));
      },
      async flush(endOfInput) {
        await last;
        check();
        if (endOfInput) {
          released = true;
          if (closeAtEnd) await writer.close();
          else writer.releaseLock();
        }
      },
      async close() {
        if (released) return;
        released = true;
        // Stopped before its end (cancel, failure): a stream the factory made is aborted; a given one stays open for its owner.
        if (owned) await writer.abort('the job stopped').catch(() => {});
        else writer.releaseLock();
      },
    };
  }
}
