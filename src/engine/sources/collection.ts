/** The source behind `fromCollection` and `fromElements`: non-parallel and replayable. */
import type { Source, SourceReader } from '../../api/sources.ts';
import { HANDS_OVER_BATCHES } from '../operators/source.ts';

/**
 * Hands out the first `length` elements of an array in order; its one split is the next
 * index. The array is read where it is, not copied (copying a user's array of a million
 * records cost as much as a quarter of a keyed count over it): elements pushed after the
 * source was made are not read, and a restore reads the array again from its position.
 */
export class CollectionSource<T> implements Source<T> {
  readonly boundedness = 'bounded' as const;
  readonly maxParallelism = 1;
  readonly replayable = true;
  /** The array's length when the source was made: what it reads. */
  private readonly length: number;
  constructor(private readonly elements: readonly T[]) {
    this.length = elements.length;
  }

  createReader(): SourceReader<T> {
    const elements = this.elements;
    const length = this.length;
    let next = 0;
    const reader: SourceReader<T> & { [HANDS_OVER_BATCHES]: true } = {
      // Every batch below is a fresh slice that this reader forgets.
      [HANDS_OVER_BATCHES]: true,
      poll(max) {
        if (next >= length) return null;
        const end = Math.min(length, next + max);
        const batch = elements.slice(next, end);
        next = end;
        // A hole of a sparse array is an undefined record, as when the array was copied
        // with Array.from (slice keeps holes, which forEach and map would skip).
        for (let i = 0; i < batch.length; i++) if (batch[i] === undefined) (batch as (T | undefined)[])[i] = undefined;
        return batch;
      },
      snapshotSplits: () => [{ next }],
      restoreSplits(splits) {
        const split = splits[0] as { next?: unknown } | undefined;
        const position = split === undefined ? length : split.next;
        if (splits.length > 1 || typeof position !== 'number' || !Number.isInteger(position) || position < 0 || position > length) {
          throw new RangeError(`[eddy] [source:collection] cannot restore ${JSON.stringify(splits)} into a collection of ${length}`);
        }
        next = position;
      },
    };
    return reader;
  }
}
