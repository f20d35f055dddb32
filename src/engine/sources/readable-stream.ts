/**
 * A live source over a WHATWG `ReadableStream` (fetch bodies, Streams API pipelines,
 * `TextDecoderStream`, Node's web streams). Streams can be paused, so this source has real
 * back-pressure: it reads the next chunk only when the task polls, which it does only when
 * the operators downstream have room; an unread stream fills its own queue up to its
 * high-water mark and then stops pulling from its producer. The end of the stream ends the
 * source; a stream error fails the job with it.
 */
import { ConfigurationError } from '../../api/errors.ts';
import type { Source, SourceReader, SourceReaderContext } from '../../api/sources.ts';
import type { Provided } from './push-source.ts';

/**
 * The members of a `ReadableStream` the source uses (`getReader`). The platform overloads
 * `getReader` (a BYOB reader for byte streams), which hides the chunk type from inference,
 * so it is read off `pipeTo`'s signature instead (never called): `new
 * ReadableStreamSource(stream)` then infers the chunk type of any real stream.
 */
export interface ReadableStreamLike<R> {
  getReader(): NoInfer<ReadableStreamReaderLike<R>>;
  pipeTo(destination: { getWriter(): { write(chunk?: R): Promise<void> } }): Promise<void>;
}

/** The members of a `ReadableStreamDefaultReader` the source uses. */
export interface ReadableStreamReaderLike<R> {
  read(): Promise<{ done: boolean; value?: R }>;
  cancel(reason?: unknown): Promise<void>;
  releaseLock(): void;
}

/** Options of {@link ReadableStreamSource}. */
export interface ReadableStreamSourceOptions<R, T> {
  /** Makes the record of a chunk; default the chunk itself. */
  map?: (chunk: R) => T;
}

/**
 * Records from the chunks of a `ReadableStream`, in order. A given stream feeds one reader
 * and is released (not cancelled) when the job stops; a factory `(ctx) => stream` is called
 * per reader and attempt, and its stream is cancelled when the reader closes.
 */
export class ReadableStreamSource<R, T = R> implements Source<T> {
  readonly boundedness = 'unbounded' as const;
  readonly replayable = false;
  readonly maxParallelism: number | undefined;
  private readonly map: (chunk: R) => T;
  private readonly component = 'source:readable-stream';

  private readonly provided: Provided<ReadableStreamLike<R>>;

  constructor(provided: Provided<ReadableStreamLike<R>>, options?: ReadableStreamSourceOptions<R, T>) {
    this.provided = provided;
    if (typeof provided !== 'function' && (typeof provided !== 'object' || provided === null || typeof provided.getReader !== 'function')) {
      throw new ConfigurationError(`needs a ReadableStream or a factory (ctx) => ReadableStream, got ${String(provided)}`, { component: this.component });
    }
    if (options?.map !== undefined && typeof options.map !== 'function')
      throw new ConfigurationError('map must be a function (chunk) => record', { component: this.component });
    this.map = options?.map ?? ((c: R) => c as unknown as T);
    this.maxParallelism = typeof provided === 'function' ? undefined : 1;
  }

  createReader(ctx: SourceReaderContext): SourceReader<T> {
    const owned = typeof this.provided === 'function';
    const stream = owned ? (this.provided as (ctx: SourceReaderContext) => ReadableStreamLike<R>)(ctx) : (this.provided as ReadableStreamLike<R>);
    if (typeof stream?.getReader !== 'function') throw new ConfigurationError('the factory did not return a ReadableStream', { component: this.component });
    const reader = stream.getReader();
    const map = this.map;
    // At most one read in flight; its chunk waits in `ready` until polled.
    let inFlight: Promise<void> | undefined;
    let ready: { chunk: R } | undefined;
    let done = false;
    let failure: { error: unknown } | undefined;
    const read = (): Promise<void> => {
      inFlight ??= reader.read().then(
        (r) => {
          inFlight = undefined;
          if (r.done) done = true;
          else ready = { chunk: r.value as R };
        },
        (error: unknown) => {
          inFlight = undefined;
          failure = { error };
        },
      );
      return inFlight;
    };
    return {
      poll() {
        if (ready !== undefined) {
          const { chunk } = ready;
          ready = undefined;
          return [map(chunk)];
        }
        if (failure !== undefined) throw failure.error;
        if (done) return null;
        void read();
        return [];
      },
      isAvailable: () => (ready !== undefined || done || failure !== undefined ? Promise.resolve() : read()),
      async close() {
        if (owned) return reader.cancel().catch(() => {});
        // The caller's stream stays open for them: releasing the lock rejects a pending read
        // without taking its chunk (runtimes that still refuse to release during a read get it after that read).
        try {
          reader.releaseLock();
        } catch {
          void inFlight?.then(() => reader.releaseLock());
        }
      },
    };
  }
}
