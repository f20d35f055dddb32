/**
 * The running count the recovery tests use: records `0, 1, 2, …` keyed by `v % keys`, each
 * emitted as `<key>:<count so far>`, so that a lost or repeated record shows in the output.
 */
import { RichMapFunction, type RuntimeContext, ValueStateDescriptor, type ValueState } from '../../src/index.ts';

/** Counts per key in `ValueState` and emits `${v % keys}:${count}` (key the stream by `v % keys`). */
export class RunningCount extends RichMapFunction<number, string> {
  private c!: ValueState<number>;
  constructor(private readonly keys: number) {
    super();
  }
  override open(ctx: RuntimeContext) {
    this.c = ctx.getState(new ValueStateDescriptor<number>('c'));
  }
  async map(v: number) {
    const n = ((await this.c.value()) ?? 0) + 1;
    await this.c.update(n);
    return `${v % this.keys}:${n}`;
  }
}

/** What {@link RunningCount} emits for the records `0 … records - 1` without failures, sorted. */
export function expectedRunningCounts(records: number, keys: number): string[] {
  const counts = new Map<number, number>();
  const out: string[] = [];
  for (let i = 0; i < records; i++) {
    const n = (counts.get(i % keys) ?? 0) + 1;
    counts.set(i % keys, n);
    out.push(`${i % keys}:${n}`);
  }
  return out.sort();
}
