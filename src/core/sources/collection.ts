/** The source behind `fromCollection` and `fromElements`: non-parallel and replayable. */
import type { Source, SourceReader } from '../../api/sources.ts';

/** Hands out the elements of an array in order; its position is the next index. */
export class CollectionSource<T> implements Source<T> {
  readonly boundedness = 'bounded' as const;
  readonly maxParallelism = 1;
  readonly replayable = true;
  constructor(private readonly elements: readonly T[]) {}

  createReader(): SourceReader<T> {
    const elements = this.elements;
    let next = 0;
    return {
      poll(max) {
        if (next >= elements.length) return null;
        const batch = elements.slice(next, next + max);
        next += batch.length;
        return batch;
      },
      snapshotPosition: () => next,
      restorePosition(position) {
        if (typeof position !== 'number' || !Number.isInteger(position) || position < 0 || position > elements.length) {
          throw new RangeError(`[eddy] [source:collection] cannot restore to position ${String(position)} of a collection of ${elements.length}`);
        }
        next = position;
      },
    };
  }
}
