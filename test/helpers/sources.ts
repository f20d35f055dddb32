/** Test sources: replayable, and slow enough that checkpoints happen in the middle of them. */
import type { Source } from '../../src/index.ts';

/**
 * `count` records made by `make(i)`, `perPoll` at a time with a macrotask pause between
 * polls; split into index ranges per subtask, checkpointed as `{ next, end }` splits.
 * While `hold(next)` is true a subtask hands out nothing (an empty poll) and asks again.
 */
export function pacedSource<T>(count: number, make: (i: number) => T, perPoll = 10, hold?: (next: number) => boolean): Source<T> {
  return {
    boundedness: 'bounded',
    replayable: true,
    createReader({ subtaskIndex, parallelism }) {
      let splits = [{ next: Math.floor((count * subtaskIndex) / parallelism), end: Math.floor((count * (subtaskIndex + 1)) / parallelism) }];
      return {
        async poll() {
          await new Promise((r) => setTimeout(r, 0));
          splits = splits.filter((s) => s.next < s.end);
          const s = splits[0];
          if (!s) return null;
          if (hold?.(s.next)) return [];
          const n = Math.min(perPoll, s.end - s.next);
          const out = Array.from({ length: n }, (_, j) => make(s.next + j));
          s.next += n;
          return out;
        },
        snapshotSplits: () => splits.filter((s) => s.next < s.end).map((s) => ({ ...s })),
        restoreSplits(restored) {
          splits = (restored as Array<{ next: number; end: number }>).map((s) => ({ ...s }));
        },
      };
    },
  };
}
