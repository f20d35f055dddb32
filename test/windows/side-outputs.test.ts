import { describe, expect, it } from 'vitest';
import {
  ConfigurationError,
  KeyedProcessFunction,
  OutputTag,
  ProcessFunction,
  StreamExecutionEnvironment,
  WatermarkStrategy,
  type Collector,
  type KeyedProcessContext,
  type OnTimerContext,
  type ProcessContext,
} from '../../src/index.ts';

type Ev = { key: string; ts: number; n: number };
const events: Ev[] = Array.from({ length: 60 }, (_, i) => ({ key: `k${i % 4}`, ts: i * 10, n: i }));
const odd = new OutputTag<string>('odd');
const big = new OutputTag<number>('big');

/** Splits records: evens to the main output, odds and big numbers to side outputs, with the timestamp seen. */
class Splitter extends ProcessFunction<Ev, number> {
  processElement(e: Ev, ctx: ProcessContext, out: Collector<number>) {
    if (e.n % 2 === 0) out.collect(e.n);
    else ctx.output(odd, `odd:${e.n}`);
    if (e.n >= 50) ctx.output(big, e.n);
  }
}

function source(env: StreamExecutionEnvironment) {
  return env.fromCollection(events).assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<Ev>().withTimestampAssigner((e) => e.ts));
}

/** Reads each record's timestamp downstream, to pin that side-output records carry theirs. */
class WithTimestamp<T> extends ProcessFunction<T, string> {
  processElement(v: T, ctx: ProcessContext, out: Collector<string>) {
    out.collect(`${String(v)}@${ctx.timestamp()}`);
  }
}

describe('side outputs', () => {
  for (const parallelism of [1, 3]) {
    it(`ProcessFunction: main output and two side outputs are disjoint and complete (parallelism ${parallelism})`, async () => {
      const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(parallelism);
      const main = source(env).rebalance().process(new Splitter());
      const odds = main.getSideOutput(odd).process(new WithTimestamp<string>());
      const bigs = main.getSideOutput(new OutputTag<number>('big')); // same id, same side output
      const all = main
        .map((n) => `main:${n}`)
        .union(
          odds,
          bigs.map((n) => `big:${n}`),
        );
      const got = (await all.executeAndCollect()) as string[];
      const expected = [
        ...events.filter((e) => e.n % 2 === 0).map((e) => `main:${e.n}`),
        ...events.filter((e) => e.n % 2 === 1).map((e) => `odd:${e.n}@${e.ts}`),
        ...events.filter((e) => e.n >= 50).map((e) => `big:${e.n}`),
      ];
      expect(got.sort()).toEqual(expected.sort());
    });
  }

  it('KeyedProcessFunction: ctx.output in processElement and in onTimer (timer timestamp), side output read at another parallelism', async () => {
    const late = new OutputTag<string>('timers');
    class Fn extends KeyedProcessFunction<string, Ev, string> {
      processElement(e: Ev, ctx: KeyedProcessContext<string>, out: Collector<string>) {
        out.collect(`${e.key}:${e.n}`);
        if (e.n % 4 === 0) ctx.timerService().registerEventTimeTimer(e.ts + 5);
        ctx.output(late, `el:${e.n}`);
      }
      override onTimer(ts: number, ctx: OnTimerContext<string>) {
        ctx.output(late, `timer:${ctx.getCurrentKey()}@${ts}`);
      }
    }
    const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(3);
    const main = source(env)
      .keyBy((e) => e.key)
      .process(new Fn());
    const side = main.getSideOutput(late).process(new WithTimestamp<string>()).setParallelism(2);
    const got = ((await main.union(side).executeAndCollect()) as string[]).sort();
    const expected = [
      ...events.map((e) => `${e.key}:${e.n}`),
      ...events.map((e) => `el:${e.n}@${e.ts}`),
      ...events.filter((e) => e.n % 4 === 0).map((e) => `timer:${e.key}@${e.ts + 5}@${e.ts + 5}`),
    ].sort();
    expect(got).toEqual(expected);
  });

  it('side outputs nobody reads are dropped; the main output is unchanged', async () => {
    const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(2);
    const got = (await source(env).process(new Splitter()).executeAndCollect()) as number[];
    expect(got.sort((a, b) => a - b)).toEqual(events.filter((e) => e.n % 2 === 0).map((e) => e.n));
  });

  it('bad tags and configuring a side output are refused with typed errors', () => {
    expect(() => new OutputTag('')).toThrow(ConfigurationError);
    const env = StreamExecutionEnvironment.getExecutionEnvironment();
    const side = source(env).process(new Splitter()).getSideOutput(odd);
    expect(() => side.setParallelism(2)).toThrow(/parallelism of the operator that produced it/);
    expect(() => side.getSideOutput(odd)).toThrow(/not on a side output/);
    expect(() =>
      source(env)
        .process(new Splitter())
        .getSideOutput('odd' as never),
    ).toThrow(ConfigurationError);
  });

  it('output() with something other than a tag fails the job with a typed error naming the operator', async () => {
    const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(1);
    const s = source(env).process({ processElement: (_e: Ev, ctx: ProcessContext) => ctx.output('x' as never, 1) });
    await expect(s.executeAndCollect()).rejects.toThrow(/output\(\) needs an OutputTag/);
  });
});
