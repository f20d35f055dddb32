/** The source behind `fromAsyncIterable`: reads an (async) iterable once; it cannot replay. */
import type { Source, SourceReader } from '../../api/sources.ts';

/** A non-parallel, non-replayable source over an iterable. */
export class AsyncIterableSource<T> implements Source<T> {
  readonly boundedness = 'bounded' as const;
  readonly maxParallelism = 1;
  readonly replayable = false;
  constructor(private readonly iterable: AsyncIterable<T> | Iterable<T>) {}

  createReader(): SourceReader<T> {
    const it =
      Symbol.asyncIterator in this.iterable ? (this.iterable as AsyncIterable<T>)[Symbol.asyncIterator]() : (this.iterable as Iterable<T>)[Symbol.iterator]();
    return {
      // One value per poll: the iterable decides the pace, and may wait between values.
      async poll() {
        const r = await it.next();
        return r.done ? null : [r.value];
      },
      async close() {
        await it.return?.();
      },
    };
  }
}
