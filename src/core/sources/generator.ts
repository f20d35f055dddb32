/**
 * The source behind `fromGenerator`: `count` records made by `generate(i)`, split into
 * contiguous index ranges, one per subtask; optionally throttled to a total rate.
 * Replayable: the position is the next index.
 */
import type { GeneratorOptions, Source, SourceReader, SourceReaderContext } from '../../api/sources.ts';

/** Generates records from their index. */
export class GeneratorSource<T> implements Source<T> {
  readonly boundedness = 'bounded' as const;
  readonly replayable = true;
  constructor(
    private readonly generate: (index: number) => T,
    private readonly options: GeneratorOptions,
  ) {}

  createReader(ctx: SourceReaderContext): SourceReader<T> {
    const { count, ratePerSecond } = this.options;
    const start = Math.floor((count * ctx.subtaskIndex) / ctx.parallelism);
    const end = Math.floor((count * (ctx.subtaskIndex + 1)) / ctx.parallelism);
    const generate = this.generate;
    const perSubtaskRate = ratePerSecond === undefined ? undefined : ratePerSecond / ctx.parallelism;
    let next = start;
    let startedAt: number | undefined;
    let emitted = 0;
    return {
      async poll(max) {
        if (next >= end) return null;
        let n = Math.min(max, end - next);
        if (perSubtaskRate !== undefined) {
          startedAt ??= Date.now();
          // Sleep until the rate allows at least one more record, then hand out what it allows.
          const allowed = Math.floor(((Date.now() - startedAt) / 1000) * perSubtaskRate) + 1 - emitted;
          if (allowed <= 0) {
            await new Promise((r) => setTimeout(r, Math.max(1, Math.ceil(1000 / perSubtaskRate))));
            return [];
          }
          n = Math.min(n, allowed);
        }
        const batch = new Array<T>(n);
        for (let i = 0; i < n; i++) batch[i] = generate(next + i);
        next += n;
        emitted += n;
        return batch;
      },
      snapshotPosition: () => next,
      restorePosition(position) {
        if (typeof position !== 'number' || !Number.isInteger(position) || position < start || position > end) {
          throw new RangeError(`[eddy] [source:generator] cannot restore subtask ${ctx.subtaskIndex} to position ${String(position)} (its range is ${start}..${end})`);
        }
        next = position;
      },
    };
  }
}
