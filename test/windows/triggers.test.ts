/**
 * Triggers, evictors, count windows, window functions' state and side outputs, and
 * Flink's SessionWindowing example with its published expected output.
 */
import { describe, expect, it } from 'vitest';
import {
  ContinuousEventTimeTrigger,
  CountEvictor,
  CountTrigger,
  EventTimeSessionWindows,
  GlobalWindows,
  OutputTag,
  ProcessWindowFunction,
  PurgingTrigger,
  StreamExecutionEnvironment,
  TimeEvictor,
  type TimeWindow,
  Trigger,
  TriggerResult,
  TumblingEventTimeWindows,
  ValueStateDescriptor,
  WatermarkStrategy,
  ConfigurationError,
  type Collector,
  type GlobalWindow,
  type ProcessWindowContext,
  type TriggerContext,
  type Window,
} from '../../src/index.ts';
import { pacedSource } from '../helpers/sources.ts';
import { BACKENDS, LeftoverProbe } from './helpers.ts';
import { prng } from '../helpers/prng.ts';

type Rec = { key: string; ts: number; v: number };

/** In-order records, one per poll, with watermark = timestamp − 1 after each (forMonotonousTimestamps). */
function inOrder(env: StreamExecutionEnvironment, recs: Rec[]) {
  return env
    .fromSource(
      pacedSource(recs.length, (i) => recs[i], 1),
      WatermarkStrategy.forMonotonousTimestamps<Rec>().withTimestampAssigner((r) => r.ts),
      'records',
    )
    .setParallelism(1);
}

const describeWindow = {
  process(key: string, ctx: ProcessWindowContext<TimeWindow>, input: Iterable<Rec>, out: Collector<string>) {
    out.collect(`${key}@${ctx.window().start}:${[...input].map((r) => r.ts).join(',')}`);
  },
};

describe("Flink's SessionWindowing example", () => {
  it('gives the ITCase expected output (a,1,1) (c,6,1) (c,11,1) (b,1,3) (a,10,1)', async () => {
    // SessionWindowing.java: (id, timestamp, count), watermark timestamp − 1 after each, sessions with a 3 ms gap, sum of the count.
    const input: Array<[string, number, number]> = [
      ['a', 1, 1],
      ['b', 1, 1],
      ['b', 3, 1],
      ['b', 5, 1],
      ['c', 6, 1],
      ['a', 10, 1],
      ['c', 11, 1],
    ];
    const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(2);
    const got = await env
      .fromSource(
        pacedSource(input.length, (i) => input[i], 1),
        WatermarkStrategy.forMonotonousTimestamps<[string, number, number]>().withTimestampAssigner((t) => t[1]),
        'SessionWindowing',
      )
      .setParallelism(1)
      .keyBy((t) => t[0])
      .window(EventTimeSessionWindows.withGap(3))
      .sum(2)
      .map((t) => `(${t.join(',')})`)
      .executeAndCollect();
    expect(got.sort()).toEqual(['(a,1,1)', '(c,6,1)', '(c,11,1)', '(b,1,3)', '(a,10,1)'].sort());
  });
});

describe('count windows', () => {
  const r = prng(7);
  const recs: Rec[] = Array.from({ length: 200 }, (_, i) => ({ key: `k${Math.floor(r() * 4)}`, ts: i, v: Math.floor(r() * 100) }));
  const byKey = new Map<string, number[]>();
  for (const rec of recs) byKey.set(rec.key, [...(byKey.get(rec.key) ?? []), rec.v]);

  for (const parallelism of [1, 3]) {
    it(`countWindow(5): one sum per 5 records of a key (parallelism ${parallelism})`, async () => {
      const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(parallelism);
      const got = await inOrder(env, recs)
        .keyBy((x) => x.key)
        .countWindow(5)
        .reduce((a, b) => ({ ...a, v: a.v + b.v }))
        .map((x) => `${x.key}:${x.v}`)
        .executeAndCollect();
      const want: string[] = [];
      for (const [k, vs] of byKey) for (let i = 0; i + 5 <= vs.length; i += 5) want.push(`${k}:${vs.slice(i, i + 5).reduce((a, b) => a + b, 0)}`);
      expect(got.sort()).toEqual(want.sort());
    });

    it(`countWindow(4, 2): the last 4 records every 2 records (parallelism ${parallelism})`, async () => {
      const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(parallelism);
      const got = await inOrder(env, recs)
        .keyBy((x) => x.key)
        .countWindow(4, 2)
        .process({
          process(key: string, _ctx: ProcessWindowContext<GlobalWindow>, input: Iterable<Rec>, out: Collector<string>) {
            out.collect(`${key}:${[...input].map((x) => x.v).join(',')}`);
          },
        })
        .executeAndCollect();
      const want: string[] = [];
      for (const [k, vs] of byKey) for (let n = 2; n <= vs.length; n += 2) want.push(`${k}:${vs.slice(Math.max(0, n - 4), n).join(',')}`);
      expect(got.sort()).toEqual(want.sort());
    });
  }
});

/** Twenty records of one key at 0, 10, …, 190. */
const ticks: Rec[] = Array.from({ length: 20 }, (_, i) => ({ key: 'x', ts: i * 10, v: i }));

describe('triggers and evictors', () => {
  it('ContinuousEventTimeTrigger.of(30) on 100-ms windows fires every 30 ms of event time and at the end, as in Flink', async () => {
    const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(1);
    const got = await inOrder(env, ticks)
      .keyBy((x) => x.key)
      .window(TumblingEventTimeWindows.of(100))
      .trigger(ContinuousEventTimeTrigger.of(30))
      .process(describeWindow)
      .executeAndCollect();
    const upTo = (start: number, last: number) =>
      `x@${start}:${ticks
        .filter((t) => t.ts >= start && t.ts <= last)
        .map((t) => t.ts)
        .join(',')}`;
    // [0,100): timers at 30, 60, 90 and 99 (fired once the watermark ts−1 passes them); [100,200): 120, 150, 180, 199.
    expect(got).toEqual([upTo(0, 40), upTo(0, 70), upTo(0, 90), upTo(0, 90), upTo(100, 130), upTo(100, 160), upTo(100, 190), upTo(100, 190)]);
  });

  it('CountTrigger.of(3) replaces the event-time trigger; PurgingTrigger purges on every fire', async () => {
    const run = async (purging: boolean) => {
      const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(1);
      const w = inOrder(env, ticks)
        .keyBy((x) => x.key)
        .window(TumblingEventTimeWindows.of(100));
      return w
        .trigger(purging ? PurgingTrigger.of(CountTrigger.of<Rec>(3)) : CountTrigger.of<Rec>(3))
        .process(describeWindow)
        .executeAndCollect();
    };
    expect(await run(false)).toEqual([
      'x@0:0,10,20',
      'x@0:0,10,20,30,40,50',
      'x@0:0,10,20,30,40,50,60,70,80',
      'x@100:100,110,120',
      'x@100:100,110,120,130,140,150',
      'x@100:100,110,120,130,140,150,160,170,180',
    ]);
    expect(await run(true)).toEqual(['x@0:0,10,20', 'x@0:30,40,50', 'x@0:60,70,80', 'x@100:100,110,120', 'x@100:130,140,150', 'x@100:160,170,180']);
  });

  it('TimeEvictor.of(25) keeps the records within 25 ms of the newest; CountEvictor.of(2, true) evicts after the function', async () => {
    const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(1);
    const time = await inOrder(env, ticks)
      .keyBy((x) => x.key)
      .window(TumblingEventTimeWindows.of(100))
      .evictor(TimeEvictor.of(25))
      .process(describeWindow)
      .executeAndCollect();
    expect(time).toEqual(['x@0:70,80,90', 'x@100:170,180,190']);
    const env2 = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(1);
    const after = await inOrder(env2, ticks.slice(0, 9))
      .keyBy((x) => x.key)
      .window(GlobalWindows.create())
      .trigger(CountTrigger.of(3))
      .evictor(CountEvictor.of(2, true))
      .process({
        process(_k: string, _c: ProcessWindowContext<GlobalWindow>, input: Iterable<Rec>, out: Collector<string>) {
          out.collect([...input].map((x) => x.ts).join(','));
        },
      })
      .executeAndCollect();
    expect(after).toEqual(['0,10,20', '10,20,30,40,50', '40,50,60,70,80']);
  });

  it('a custom trigger: FIRE, PURGE and FIRE_AND_PURGE by record, its timers and state cleared with the window', async () => {
    class ByValue extends Trigger<Rec, Window> {
      private readonly seen = new ValueStateDescriptor<number>('seen');
      async onElement(r: Rec, _ts: number, _w: Window, ctx: TriggerContext) {
        const seen = ctx.getPartitionedState(this.seen);
        await seen.update(((await seen.value()) ?? 0) + 1);
        return r.v % 7 === 6
          ? TriggerResult.FIRE_AND_PURGE
          : r.v % 5 === 4
            ? TriggerResult.FIRE
            : r.v % 11 === 10
              ? TriggerResult.PURGE
              : TriggerResult.CONTINUE;
      }
      onEventTime() {
        return TriggerResult.CONTINUE;
      }
      onProcessingTime() {
        return TriggerResult.CONTINUE;
      }
      async clear(_w: Window, ctx: TriggerContext) {
        await ctx.getPartitionedState(this.seen).clear();
      }
    }
    const probe = new LeftoverProbe();
    const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(1).setStateBackend(probe.wrap(BACKENDS.sqlite()));
    const got = await inOrder(env, ticks)
      .keyBy((x) => x.key)
      .window(TumblingEventTimeWindows.of(100))
      .trigger(new ByValue())
      .process(describeWindow)
      .executeAndCollect();
    // Model: v=4 FIRE [0..4], v=6 FIRE_AND_PURGE [0..6], v=9 FIRE [7..9], v=10 PURGE, v=13 FIRE_AND_PURGE [11..13], v=14 FIRE [14], v=19 FIRE [14..19].
    const ts = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => (a + i) * 10).join(',');
    expect(got).toEqual([`x@0:${ts(0, 4)}`, `x@0:${ts(0, 6)}`, `x@0:${ts(7, 9)}`, `x@100:${ts(11, 13)}`, `x@100:${ts(14, 14)}`, `x@100:${ts(14, 19)}`]);
    expect(probe.leftovers).toEqual([]);
  });

  it('session merges merge the trigger state too (CountTrigger counts across the merged sessions); apply() with a WindowFunction', async () => {
    const recs: Rec[] = [
      { key: 'x', ts: 0, v: 0 },
      { key: 'x', ts: 20, v: 1 },
      { key: 'x', ts: 10, v: 2 }, // bridges [0,15) and [20,35): one session [0,35) with a count of 3
      { key: 'x', ts: 100, v: 3 },
    ];
    const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(1);
    const got = await env
      .fromSource(
        pacedSource(recs.length, (i) => recs[i], 1),
        WatermarkStrategy.noWatermarks<Rec>().withTimestampAssigner((r) => r.ts),
        'records',
      )
      .setParallelism(1)
      .keyBy((r) => r.key)
      .window(EventTimeSessionWindows.withGap(15))
      .trigger(CountTrigger.of(3))
      .apply({
        apply(key: string, w: TimeWindow, input: Iterable<Rec>, out: Collector<string>) {
          out.collect(
            `${key}@${w.start}-${w.end}:${[...input]
              .map((r) => r.v)
              .sort()
              .join(',')}`,
          );
        },
      })
      .executeAndCollect();
    expect(got).toEqual(['x@0-35:0,1,2']);
  });

  it('a merging assigner refuses a trigger that cannot merge; aggregate on sessions needs merge()', () => {
    const env = StreamExecutionEnvironment.getExecutionEnvironment();
    const w = inOrder(env, ticks)
      .keyBy((x) => x.key)
      .window(EventTimeSessionWindows.withGap(10));
    class NoMerge extends Trigger<Rec, Window> {
      onElement() {
        return TriggerResult.CONTINUE;
      }
      onEventTime() {
        return TriggerResult.CONTINUE;
      }
      onProcessingTime() {
        return TriggerResult.CONTINUE;
      }
      clear() {}
    }
    expect(() => w.trigger(new NoMerge())).toThrow(/does not support merging/);
    expect(() => w.aggregate({ createAccumulator: () => 0, add: (_r: Rec, a: number) => a + 1, getResult: (a: number) => a })).toThrow(ConfigurationError);
    expect(() => TumblingEventTimeWindows.of(100, 100)).toThrow(/abs\(offset\) < size/);
    expect(() => EventTimeSessionWindows.withGap(0)).toThrow(/0 < gap/);
  });
});

describe('what a window keeps', () => {
  it('aggregate keeps one accumulator per window (a value), process keeps the records (a list)', async () => {
    const shapes = async (kind: 'aggregate' | 'process') => {
      const probe = new LeftoverProbe(true);
      const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(2).setStateBackend(probe.wrap(BACKENDS.sqlite()));
      // GlobalWindows never fire on their own, so the contents are still there when the job ends.
      const w = inOrder(
        env,
        ticks.map((t, i) => ({ ...t, key: `k${i % 3}` })),
      )
        .keyBy((x) => x.key)
        .window(GlobalWindows.create());
      const out =
        kind === 'aggregate'
          ? w.aggregate({ createAccumulator: () => 0, add: (_r: Rec, n: number) => n + 1, getResult: (n: number) => n })
          : w.process({ process() {} });
      await out.executeAndCollect();
      return probe.leftovers.map((l) => `${l.state}|${l.namespace}|${l.shape}`).sort();
    };
    expect(await shapes('aggregate')).toEqual(['_window/contents|global|value', '_window/contents|global|value', '_window/contents|global|value']);
    expect(await shapes('process')).toEqual(['_window/contents|global|list', '_window/contents|global|list', '_window/contents|global|list']);
  });
});

describe('ProcessWindowFunction context', () => {
  it('windowState is per window and cleared in clear(), globalState per key; output() sends to a side output at the window max timestamp', async () => {
    const fires = new OutputTag<string>('fires');
    class Fn extends ProcessWindowFunction<Rec, string, string, TimeWindow> {
      private readonly firings = new ValueStateDescriptor<number>('firings');
      private readonly windows = new ValueStateDescriptor<number>('windows');
      async process(key: string, ctx: ProcessWindowContext<TimeWindow>, input: Iterable<Rec>, out: Collector<string>) {
        const f = ctx.windowState().getState(this.firings);
        const n = ((await f.value()) ?? 0) + 1;
        await f.update(n);
        const g = ctx.globalState().getState(this.windows);
        const total = ((await g.value()) ?? 0) + 1;
        await g.update(total);
        out.collect(`${key}@${ctx.window().start} firing ${n} of ${[...input].length} records, ${total} firings of the key`);
        ctx.output(fires, `${ctx.window().start}`);
      }
      override async clear(ctx: ProcessWindowContext<TimeWindow>) {
        await ctx.windowState().getState(this.firings).clear();
      }
    }
    // A late record (ts 50 after the watermark passed 99) within the allowed lateness fires [0,100) a second time.
    const recs: Rec[] = [...ticks.slice(0, 12), { key: 'x', ts: 50, v: -1 }, ...ticks.slice(12)];
    const probe = new LeftoverProbe();
    const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(1).setStateBackend(probe.wrap(BACKENDS.heap()));
    const main = inOrder(env, recs)
      .keyBy((x) => x.key)
      .window(TumblingEventTimeWindows.of(100))
      .allowedLateness(50)
      .process(new Fn());
    const side = main.getSideOutput(fires).process({
      processElement: (v: string, ctx: { timestamp(): number | undefined }, out: Collector<string>) => out.collect(`side ${v} @${ctx.timestamp()}`),
    });
    const got = await main.union(side).executeAndCollect();
    expect(got.sort()).toEqual(
      [
        'x@0 firing 1 of 10 records, 1 firings of the key',
        'x@0 firing 2 of 11 records, 2 firings of the key',
        'x@100 firing 1 of 10 records, 3 firings of the key',
        'side 0 @99',
        'side 0 @99',
        'side 100 @199',
      ].sort(),
    );
    // The per-window state went with its window; the global state of the key stays (it is the user's).
    expect(probe.leftovers.map((l) => l.state)).toEqual(['windows']);
  });
});
