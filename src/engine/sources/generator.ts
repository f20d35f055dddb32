/**
 * The source behind `fromGenerator`: `count` records made by `generate(i)`, split into
 * contiguous index ranges, one per subtask; optionally throttled to a total rate.
 * Replayable: a split is the rest of a range, `{ next, end }`.
 */
import { setLongTimeout } from '../long-timer.ts';
import type { GeneratorOptions, Source, SourceReader, SourceReaderContext } from '../../api/sources.ts';

interface RangeSplit {
  next: number;
  end: number;
}

function isRangeSplit(s: unknown): s is RangeSplit {
  const r = s as RangeSplit;
  return !!r && Number.isInteger(r.next) && Number.isInteger(r.end) && r.next >= 0 && r.next <= r.end;
}

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
    let splits: RangeSplit[] = start < end ? [{ next: start, end }] : [];
    let startedAt: number | undefined;
    let emitted = 0;
    return {
      async poll(max) {
        while (splits.length > 0 && splits[0].next >= splits[0].end) splits.shift();
        const split = splits[0];
        if (split === undefined) return null;
        let n = Math.min(max, split.end - split.next);
        if (perSubtaskRate !== undefined) {
          startedAt ??= Date.now();
          // Sleep until the rate allows at least one more record, then hand out what it allows.
          const allowed = Math.floor(((Date.now() - startedAt) / 1000) * perSubtaskRate) + 1 - emitted;
          if (allowed <= 0) {
            await new Promise<void>((r) => setLongTimeout(r, Math.max(1, Math.ceil(1000 / perSubtaskRate))));
            return [];
          }
          n = Math.min(n, allowed);
        }
        const batch = new Array<T>(n);
        for (let i = 0; i < n; i++) batch[i] = generate(split.next + i);
        split.next += n;
        emitted += n;
        return batch;
      },
      snapshotSplits: () => splits.filter((s) => s.next < s.end).map((s) => ({ next: s.next, end: s.end })),
      restoreSplits(restored) {
        if (!restored.every(isRangeSplit)) {
          throw new RangeError(`[eddy] [source:generator] cannot restore splits ${JSON.stringify(restored)}`);
        }
        splits = restored.map((s) => ({ next: s.next, end: s.end }));
      },
    };
  }
}
