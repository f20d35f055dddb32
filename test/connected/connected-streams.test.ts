/**
 * Connected streams (issue 16): `connect` with a CoMap/CoFlatMap/CoProcess function, and
 * `connect(...).keyBy(keyA, keyB)` with a KeyedCoProcessFunction whose keyed state and
 * timers both inputs share; the operator's watermark is the minimum of both inputs'.
 */
import { describe, expect, it } from 'vitest';
import {
  CoProcessFunction,
  EddyError,
  KeyedCoProcessFunction,
  ManualClock,
  OutputTag,
  StreamExecutionEnvironment,
  ValueStateDescriptor,
  type Collector,
  type KeyedProcessContext,
  type OnTimerContext,
  type ProcessContext,
  type RuntimeContext,
  type ValueState,
} from '../../src/index.ts';
import { BACKENDS } from '../windows/helpers.ts';
import { recSource, type Rec } from './helpers.ts';

const A: Rec[] = Array.from({ length: 60 }, (_, i) => ({ key: `k${i % 7}`, ts: i * 10, v: i, seq: i }));
const B: Rec[] = Array.from({ length: 45 }, (_, i) => ({ key: `k${i % 5}`, ts: i * 13, v: 100 + i, seq: i }));

function env(parallelism: number, backend = 'heap'): StreamExecutionEnvironment {
  return StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(parallelism).setStateBackend(BACKENDS[backend]());
}

/** Per key: the sum of both inputs' values and the count of each, emitted by a timer at the end of input. */
class SumBoth extends KeyedCoProcessFunction<string, Rec, Rec, string> {
  private sum!: ValueState<number>;
  private counts!: ValueState<[number, number]>;
  override open(ctx: RuntimeContext) {
    this.sum = ctx.getState(new ValueStateDescriptor<number>('sum'));
    this.counts = ctx.getState(new ValueStateDescriptor<[number, number]>('counts'));
  }
  private async add(r: Rec, input: 0 | 1, ctx: KeyedProcessContext<string>) {
    await this.sum.update(((await this.sum.value()) ?? 0) + r.v);
    const c = (await this.counts.value()) ?? [0, 0];
    c[input]++;
    await this.counts.update(c);
    ctx.timerService().registerEventTimeTimer(10_000);
  }
  processElement1(r: Rec, ctx: KeyedProcessContext<string>) {
    return this.add(r, 0, ctx);
  }
  processElement2(r: Rec, ctx: KeyedProcessContext<string>) {
    return this.add(r, 1, ctx);
  }
  override async onTimer(ts: number, ctx: OnTimerContext<string>, out: Collector<string>) {
    const c = (await this.counts.value())!;
    out.collect(`${ctx.getCurrentKey()}|${ts}|${await this.sum.value()}|${c[0]}|${c[1]}`);
  }
}

function expectedSums(): string[] {
  const keys = new Map<string, { sum: number; a: number; b: number }>();
  for (const [recs, i] of [
    [A, 0],
    [B, 1],
  ] as const) {
    for (const r of recs) {
      const k = keys.get(r.key) ?? { sum: 0, a: 0, b: 0 };
      k.sum += r.v;
      if (i === 0) k.a++;
      else k.b++;
      keys.set(r.key, k);
    }
  }
  return [...keys].map(([key, k]) => `${key}|10000|${k.sum}|${k.a}|${k.b}`).sort();
}

describe('connected streams', () => {
  for (const p of [1, 3]) {
    it(`map/flatMap: map1 and map2 see their own input only (parallelism ${p})`, async () => {
      const e = env(p);
      const a = recSource(e, 'a', A, 10);
      const b = recSource(e, 'b', B, 10);
      const mapped = a.connect(b).map({ map1: (r: Rec) => `A${r.seq}`, map2: (r: Rec) => `B${r.seq}` });
      const flat = a.connect(b.map((r) => r.v)).flatMap({
        flatMap1: (r: Rec, out: Collector<string>) => {
          out.collect(`a${r.seq}`);
          out.collect(`a${r.seq}'`);
        },
        flatMap2: (v: number, out: Collector<string>) => out.collect(`b${v}`),
      });
      const got = (await mapped.union(flat).executeAndCollect()).sort();
      const expected = [
        ...A.map((r) => `A${r.seq}`),
        ...B.map((r) => `B${r.seq}`),
        ...A.flatMap((r) => [`a${r.seq}`, `a${r.seq}'`]),
        ...B.map((r) => `b${r.v}`),
      ].sort();
      expect(got).toEqual(expected);
    });

    for (const backend of p === 3 ? ['heap', 'sqlite'] : ['heap']) {
      it(`keyBy(keyA, keyB).process: keyed state and timers shared by both inputs (parallelism ${p}, ${backend})`, { timeout: 30_000 }, async () => {
        const e = env(p, backend);
        const a = recSource(e, 'a', A, 7);
        const b = recSource(e, 'b', B, 5);
        const got = await a
          .connect(b)
          .keyBy(
            (r) => r.key,
            (r) => r.key,
          )
          .process(new SumBoth())
          .executeAndCollect();
        expect(got.sort()).toEqual(expectedSums());
      });
    }
  }

  it('a stream connected with itself, or with a union, feeds each input its own records', async () => {
    const e = env(3);
    const a = recSource(e, 'a', A.slice(0, 20), 5);
    const b = recSource(e, 'b', B.slice(0, 10), 5);
    const got = await a
      .connect(a.union(b))
      .map({ map1: (r: Rec) => `1:${r.seq}`, map2: (r: Rec) => `2:${r.seq}` })
      .executeAndCollect();
    const expected = [...A.slice(0, 20).map((r) => `1:${r.seq}`), ...A.slice(0, 20).map((r) => `2:${r.seq}`), ...B.slice(0, 10).map((r) => `2:${r.seq}`)];
    expect(got.sort()).toEqual(expected.sort());
  });

  it('a.keyBy(k).connect(b.keyBy(k)) is keyed as well', async () => {
    const e = env(3);
    const got = await recSource(e, 'a', A, 7)
      .keyBy((r) => r.key)
      .connect(recSource(e, 'b', B, 5).keyBy((r) => r.key))
      .process(new SumBoth())
      .executeAndCollect();
    expect(got.sort()).toEqual(expectedSums());
  });

  it("the operator's watermark is the minimum of both inputs': a timer fires only once the slower input passed it", async () => {
    // Input 1 races to t=5000 in one batch; input 2 crawls one record per poll. A timer at
    // 500 may fire only after input 2's watermark passed 500, i.e. after its records up to 500.
    const fast: Rec[] = Array.from({ length: 501 }, (_, i) => ({ key: 'k', ts: i * 10, v: 1, seq: i }));
    const slow: Rec[] = Array.from({ length: 80 }, (_, i) => ({ key: 'k', ts: i * 10, v: 1, seq: i }));
    const e = env(2);
    const got = await recSource(e, 'fast', fast, 1000)
      .connect(recSource(e, 'slow', slow, 1))
      .keyBy(
        (r) => r.key,
        (r) => r.key,
      )
      .process(
        new (class extends KeyedCoProcessFunction<string, Rec, Rec, string> {
          private slowSeen!: ValueState<number>;
          override open(ctx: RuntimeContext) {
            this.slowSeen = ctx.getState(new ValueStateDescriptor<number>('slow-seen'));
          }
          processElement1(r: Rec, ctx: KeyedProcessContext<string>) {
            if (r.seq === 0) ctx.timerService().registerEventTimeTimer(500);
          }
          async processElement2(r: Rec) {
            await this.slowSeen.update(Math.max((await this.slowSeen.value()) ?? -1, r.ts));
          }
          override async onTimer(ts: number, ctx: OnTimerContext<string>, out: Collector<string>) {
            out.collect(`timer ${ts} at watermark ${ctx.timerService().currentWatermark()} after slow ts ${await this.slowSeen.value()}`);
          }
        })(),
      )
      .executeAndCollect();
    // forMonotonousTimestamps: watermark = newest ts - 1, so 500 is passed after the slow record at 510.
    expect(got).toEqual(['timer 500 at watermark 509 after slow ts 510']);
  });

  it('processing-time timers of a KeyedCoProcessFunction fire when the clock passes them, with their key', async () => {
    const clock = new ManualClock(1_000);
    const e = env(2).setClock(clock);
    const got = await e
      .fromElements('register')
      .connect(e.fromElements('tick'))
      .keyBy(
        () => 'k',
        () => 'k',
      )
      .process(
        new (class extends KeyedCoProcessFunction<string, string, string, string> {
          processElement1(_v: string, ctx: KeyedProcessContext<string>) {
            ctx.timerService().registerProcessingTimeTimer(1_500);
          }
          processElement2() {
            clock.advance(600);
          }
          override onTimer(ts: number, ctx: OnTimerContext<string>, out: Collector<string>) {
            out.collect(`timer ${ts} ${ctx.timeDomain()} key=${ctx.getCurrentKey()} now=${ctx.timerService().currentProcessingTime()}`);
          }
        })(),
      )
      .executeAndCollect();
    expect(got).toEqual(['timer 1500 PROCESSING_TIME key=k now=1600']);
  });

  it('a CoProcessFunction emits to side outputs; timers are refused on connected streams that are not keyed', async () => {
    const tag = new OutputTag<string>('odd');
    const e = env(2);
    const main = recSource(e, 'a', A.slice(0, 10), 5)
      .connect(recSource(e, 'b', B.slice(0, 10), 5))
      .process(
        new (class extends CoProcessFunction<Rec, Rec, string> {
          processElement1(r: Rec, ctx: ProcessContext, out: Collector<string>) {
            if (r.seq % 2 === 1) ctx.output(tag, `A${r.seq}@${ctx.timestamp()}`);
            else out.collect(`A${r.seq}`);
          }
          processElement2(r: Rec, _ctx: ProcessContext, out: Collector<string>) {
            out.collect(`B${r.seq}`);
          }
        })(),
      );
    const got = await main.union(main.getSideOutput(tag)).executeAndCollect();
    expect(got.sort()).toEqual(
      [...A.slice(0, 10).map((r) => (r.seq % 2 === 1 ? `A${r.seq}@${r.ts}` : `A${r.seq}`)), ...B.slice(0, 10).map((r) => `B${r.seq}`)].sort(),
    );

    const e2 = env(1);
    const refused = recSource(e2, 'a', A.slice(0, 3), 5)
      .connect(recSource(e2, 'b', B.slice(0, 3), 5))
      .process({
        processElement1: (_r: Rec, ctx: ProcessContext) => ctx.timerService().registerEventTimeTimer(5),
        processElement2: () => {},
      })
      .executeAndCollect();
    await expect(refused).rejects.toSatisfy((e: unknown) => e instanceof EddyError && e.code === 'NO_KEY_CONTEXT' && /keyed stream/.test(e.message));
  });

  it('a KeyedCoProcessFunction on connected streams that are not keyed is refused when the job is built', () => {
    const e = env(1);
    expect(() =>
      recSource(e, 'a', A, 5)
        .connect(recSource(e, 'b', B, 5))
        .process(new SumBoth()),
    ).toThrow(/both inputs are keyed/);
  });
});
