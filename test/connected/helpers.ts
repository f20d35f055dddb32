/** Shared pieces of the two-input tests: timestamped test sources and a tolerant run. */
import { WatermarkStrategy, type DataStream, type StreamExecutionEnvironment } from '../../src/index.ts';
import { pacedSource } from '../helpers/sources.ts';

/** A timestamped record of the two-input tests. */
export type Rec = { key: string; ts: number; v: number; seq: number };

/**
 * `recs` from one source subtask, `perPoll` per poll, with timestamps `ts` and the
 * watermark of forMonotonousTimestamps, or of forBoundedOutOfOrderness(bound) when given.
 */
export function recSource(env: StreamExecutionEnvironment, name: string, recs: readonly Rec[], perPoll = 1, bound?: number): DataStream<Rec> {
  const strategy = bound === undefined ? WatermarkStrategy.forMonotonousTimestamps<Rec>() : WatermarkStrategy.forBoundedOutOfOrderness<Rec>(bound);
  return env
    .fromSource(
      pacedSource(recs.length, (i) => recs[i], perPoll),
      strategy.withTimestampAssigner((r) => r.ts),
      name,
    )
    .setParallelism(1)
    .uid(name);
}

/** Runs `body` with console.warn silenced (restarts warn about non-replayable sources and failures). */
export async function quietly<T>(body: () => Promise<T>): Promise<T> {
  const warn = console.warn;
  console.warn = () => {};
  try {
    return await body();
  } finally {
    console.warn = warn;
  }
}
