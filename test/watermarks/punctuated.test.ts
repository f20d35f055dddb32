/**
 * Punctuated watermarks (issue 16): a watermark a generator emits from `onEvent` takes
 * effect right after that event, even in the middle of a batch, so lateness is
 * deterministic however the source happens to batch its records.
 */
import { describe, expect, it } from 'vitest';
import {
  OutputTag,
  ProcessWindowFunction,
  StreamExecutionEnvironment,
  TumblingEventTimeWindows,
  WatermarkStrategy,
  type Collector,
  type ProcessWindowContext,
  type TimeWindow,
  type WatermarkGenerator,
  type WatermarkOutput,
} from '../../src/index.ts';

/** An event; `mark` events carry a watermark (Flink's punctuated watermarks). */
type Ev = { key: string; ts: number; mark?: number };

/** Emits a record's `mark` as the watermark as soon as the record is seen. */
class Punctuated implements WatermarkGenerator<Ev> {
  onEvent(e: Ev, _ts: number, output: WatermarkOutput): void {
    if (e.mark !== undefined) output.emitWatermark(e.mark);
  }
  onPeriodicEmit(): void {}
}

class CountWindow extends ProcessWindowFunction<Ev, string, string, TimeWindow> {
  process(key: string, ctx: ProcessWindowContext<TimeWindow>, elements: Iterable<Ev>, out: Collector<string>): void {
    out.collect(`${key}[${ctx.window().start},${ctx.window().end}):${[...elements].length}`);
  }
}

const late = new OutputTag<Ev>('late');

async function run(events: Ev[], parallelism: number): Promise<{ windows: string[]; late: string[] }> {
  const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(parallelism);
  const stream = env
    .fromCollection(events)
    .setParallelism(1)
    // One generator sees every record (at parallelism 3 each generator would see a third).
    .assignTimestampsAndWatermarks(WatermarkStrategy.forGenerator<Ev>(() => new Punctuated()).withTimestampAssigner((e) => e.ts))
    .setParallelism(1)
    .keyBy((e) => e.key)
    .window(TumblingEventTimeWindows.of(1000))
    .sideOutputLateData(late)
    .process(new CountWindow());
  const lateOut = stream.getSideOutput(late).map((e) => `late:${e.key}@${e.ts}`);
  const all = (await stream.union(lateOut).executeAndCollect()) as string[];
  return { windows: all.filter((s) => !s.startsWith('late:')).sort(), late: all.filter((s) => s.startsWith('late:')).sort() };
}

describe('punctuated watermarks', () => {
  // All events fit one source batch, so before the fix the watermark came after all of them.
  const events: Ev[] = [
    { key: 'a', ts: 100 },
    { key: 'b', ts: 200 },
    { key: 'a', ts: 500, mark: 999 }, // closes [0, 1000) right here
    { key: 'a', ts: 800 }, // late now
    { key: 'b', ts: 900 }, // late now
    { key: 'a', ts: 1200 },
    { key: 'b', ts: 1500, mark: 1999 }, // closes [1000, 2000)
    { key: 'b', ts: 1700 }, // late
    { key: 'a', ts: 2100 },
  ];

  for (const parallelism of [1, 3]) {
    it(`a watermark emitted from onEvent mid-batch makes the records after it late (parallelism ${parallelism})`, async () => {
      const got = await run(events, parallelism);
      expect(got.windows).toEqual(['a[0,1000):2', 'a[1000,2000):1', 'a[2000,3000):1', 'b[0,1000):1', 'b[1000,2000):1'].sort());
      expect(got.late).toEqual(['late:a@800', 'late:b@900', 'late:b@1700'].sort());
    });
  }

  it('the result does not depend on how the records are batched (one record per batch gives the same)', async () => {
    const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(1);
    const perRecord = env
      .fromSource(
        {
          boundedness: 'bounded',
          createReader() {
            let i = 0;
            return { poll: () => (i < events.length ? [events[i++]] : null) };
          },
        },
        WatermarkStrategy.forGenerator<Ev>(() => new Punctuated()).withTimestampAssigner((e) => e.ts),
        'one-by-one',
      )
      .keyBy((e) => e.key)
      .window(TumblingEventTimeWindows.of(1000))
      .sideOutputLateData(late)
      .process(new CountWindow());
    const all = (await perRecord.union(perRecord.getSideOutput(late).map((e) => `late:${e.key}@${e.ts}`)).executeAndCollect()) as string[];
    const batched = await run(events, 1);
    expect(all.filter((s) => !s.startsWith('late:')).sort()).toEqual(batched.windows);
    expect(all.filter((s) => s.startsWith('late:')).sort()).toEqual(batched.late);
  });
});
