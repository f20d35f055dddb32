/** The source behind `fromCollection` and `fromElements`: non-parallel and replayable. */
import type { Source, SourceReader } from '../../api/sources.ts';

/** Hands out the elements of an array in order; its one split is the next index. */
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
      snapshotSplits: () => [{ next }],
      restoreSplits(splits) {
        const split = splits[0] as { next?: unknown } | undefined;
        const position = split === undefined ? elements.length : split.next;
        if (splits.length > 1 || typeof position !== 'number' || !Number.isInteger(position) || position < 0 || position > elements.length) {
          throw new RangeError(`[eddy] [source:collection] cannot restore ${JSON.stringify(splits)} into a collection of ${elements.length}`);
        }
        next = position;
      },
    };
  }
}
