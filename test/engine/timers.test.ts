import { describe, expect, it } from 'vitest';
import {
  KeyedProcessFunction,
  ManualClock,
  MAX_WATERMARK,
  StreamExecutionEnvironment,
  ValueStateDescriptor,
  WatermarkStrategy,
  type Collector,
  type KeyedProcessContext,
  type OnTimerContext,
  type RuntimeContext,
  type Source,
  type ValueState,
} from '../../src/index.ts';

interface Ev {
  k: string;
  t: number;
}
const stamped = WatermarkStrategy.forMonotonousTimestamps<Ev>().withTimestampAssigner((e) => e.t);

/** A source that hands out one record per poll, so a watermark follows every record. */
function oneByOne<T>(records: T[]): Source<T> {
  return {
    boundedness: 'bounded',
    createReader: () => {
      let i = 0;
      return { poll: () => (i < records.length ? [records[i++]] : null) };
    },
  };
}

/** Registers an event-time timer at t + 10 per record and reports firings with the key's count. */
class TimerEcho extends KeyedProcessFunction<string, Ev, string> {
  private count!: ValueState<number>;
  override open(ctx: RuntimeContext) {
    this.count = ctx.getState(new ValueStateDescriptor<number>('count'));
  }
  async processElement(e: Ev, ctx: KeyedProcessContext<string>, _out: Collector<string>) {
    await this.count.update(((await this.count.value()) ?? 0) + 1);
    ctx.timerService().registerEventTimeTimer(e.t + 10);
  }
  override async onTimer(ts: number, ctx: OnTimerContext<string>, out: Collector<string>) {
    out.collect(`${ctx.getCurrentKey()}:${ts}:${await this.count.value()}:${ctx.timeDomain()}:wm=${ctx.timerService().currentWatermark()}`);
  }
}

describe('timers and watermarks', () => {
  it('event-time timers fire in timestamp order once the watermark passes them', async () => {
    const events: Ev[] = [
      { k: 'a', t: 1 },
      { k: 'b', t: 2 },
      { k: 'a', t: 30 },
      { k: 'b', t: 50 },
    ];
    const out = await StreamExecutionEnvironment.getExecutionEnvironment()
      .fromSource(oneByOne(events), stamped, 'events')
      .keyBy((e) => e.k)
      .process(new TimerEcho())
      .executeAndCollect();
    // Timers at 11 and 12 fire when the watermark that follows a@30 (30 - 1 = 29) passes them,
    // so before b counts its second record.
    expect(out.slice(0, 2)).toEqual(['a:11:2:EVENT_TIME:wm=29', 'b:12:1:EVENT_TIME:wm=29']);
    // a@40 fires behind b@50 (watermark 49); b@60 only at the final watermark of the bounded input.
    expect(out.slice(2)).toEqual(['a:40:2:EVENT_TIME:wm=49', `b:60:2:EVENT_TIME:wm=${MAX_WATERMARK}`]);
  });

  it('deduplicates timers per key and timestamp, and deleted timers do not fire', async () => {
    class Dedup extends KeyedProcessFunction<string, Ev, string> {
      processElement(e: Ev, ctx: KeyedProcessContext<string>) {
        ctx.timerService().registerEventTimeTimer(100);
        ctx.timerService().registerEventTimeTimer(100);
        ctx.timerService().registerEventTimeTimer(200);
        if (e.t === 2) ctx.timerService().deleteEventTimeTimer(200);
      }
      override onTimer(ts: number, ctx: OnTimerContext<string>, out: Collector<string>) {
        out.collect(`${ctx.getCurrentKey()}@${ts}`);
      }
    }
    const out = await StreamExecutionEnvironment.getExecutionEnvironment()
      .setParallelism(2)
      .fromElements<Ev>({ k: 'x', t: 1 }, { k: 'x', t: 2 }, { k: 'y', t: 3 })
      .keyBy((e) => e.k)
      .process(new Dedup())
      .executeAndCollect();
    expect(out.sort()).toEqual(['x@100', 'y@100', 'y@200']);
  });

  it('timers registered in onTimer at or before the watermark fire in the same advance', async () => {
    class Chain extends KeyedProcessFunction<string, Ev, number> {
      processElement(_e: Ev, ctx: KeyedProcessContext<string>) {
        ctx.timerService().registerEventTimeTimer(1);
      }
      override onTimer(ts: number, ctx: OnTimerContext<string>, out: Collector<number>) {
        out.collect(ts);
        if (ts < 3) ctx.timerService().registerEventTimeTimer(ts + 1);
      }
    }
    const out = await StreamExecutionEnvironment.getExecutionEnvironment()
      .fromElements<Ev>({ k: 'x', t: 100 })
      .assignTimestampsAndWatermarks(stamped)
      .keyBy((e) => e.k)
      .process(new Chain())
      .executeAndCollect();
    expect(out).toEqual([1, 2, 3]);
  });

  it('processing-time timers fire when a ManualClock is advanced, before the next record', async () => {
    const clock = new ManualClock(1_000);
    class Proc extends KeyedProcessFunction<string, string, string> {
      processElement(v: string, ctx: KeyedProcessContext<string>, out: Collector<string>) {
        out.collect(`record ${v} at ${ctx.timerService().currentProcessingTime()}`);
        if (v === 'register') ctx.timerService().registerProcessingTimeTimer(1_500);
        if (v === 'tick') clock.advance(600);
      }
      override onTimer(ts: number, ctx: OnTimerContext<string>, out: Collector<string>) {
        out.collect(`timer ${ts} ${ctx.timeDomain()} key=${ctx.getCurrentKey()} now=${ctx.timerService().currentProcessingTime()}`);
      }
    }
    const out = await StreamExecutionEnvironment.getExecutionEnvironment()
      .setClock(clock)
      .fromElements('register', 'tick', 'after')
      .keyBy(() => 'k')
      .process(new Proc())
      .executeAndCollect();
    expect(out).toEqual(['record register at 1000', 'record tick at 1000', 'timer 1500 PROCESSING_TIME key=k now=1600', 'record after at 1600']);
  });

  it('a ManualClock moved by a source fires the timers that became due, and not the others', async () => {
    const clock = new ManualClock(0);
    class Proc extends KeyedProcessFunction<string, number, string> {
      processElement(v: number, ctx: KeyedProcessContext<string>) {
        ctx.timerService().registerProcessingTimeTimer(v);
      }
      override onTimer(ts: number, ctx: OnTimerContext<string>, out: Collector<string>) {
        out.collect(`${ctx.getCurrentKey()}@${ts}`);
      }
    }
    const out = await StreamExecutionEnvironment.getExecutionEnvironment()
      .setClock(clock)
      .fromSource(
        {
          boundedness: 'bounded',
          createReader: () => {
            let step = 0;
            return {
              poll: async () => {
                step++;
                if (step === 1) return [100, 200, 300];
                if (step === 2) clock.set(250);
                // Give the keyed task its turn to run the mail before the input ends.
                await new Promise((r) => setTimeout(r, 5));
                return step < 4 ? [] : null;
              },
            };
          },
        },
        undefined,
        'ticking source',
      )
      .keyBy((v) => `k${v}`)
      .process(new Proc())
      .executeAndCollect();
    // 300 is not due when the input ends; pending processing-time timers are dropped then, as in Flink.
    expect(out.sort()).toEqual(['k100@100', 'k200@200']);
  });

  it('processing-time timers fire with the system clock', async () => {
    class Proc extends KeyedProcessFunction<string, number, string> {
      processElement(_v: number, ctx: KeyedProcessContext<string>) {
        ctx.timerService().registerProcessingTimeTimer(ctx.timerService().currentProcessingTime() + 5);
      }
      override onTimer(_ts: number, ctx: OnTimerContext<string>, out: Collector<string>) {
        out.collect(`fired ${ctx.getCurrentKey()}`);
      }
    }
    const out = await StreamExecutionEnvironment.getExecutionEnvironment()
      .fromGenerator((i) => i, { count: 40, ratePerSecond: 400 })
      .keyBy((i) => (i === 0 ? 'first' : 'rest'))
      .process(new Proc())
      .executeAndCollect();
    expect(out).toContain('fired first');
  });

  it('the watermark of a task is the minimum over its inputs', async () => {
    const e = StreamExecutionEnvironment.getExecutionEnvironment();
    const fast = e.fromElements<Ev>({ k: 'fast', t: 1000 }).assignTimestampsAndWatermarks(stamped);
    const slow = e.fromGenerator<Ev>((i) => ({ k: 'slow', t: i }), { count: 3 }).assignTimestampsAndWatermarks(stamped);
    class Watch extends KeyedProcessFunction<string, Ev, string> {
      processElement(ev: Ev, ctx: KeyedProcessContext<string>, out: Collector<string>) {
        const wm = ctx.timerService().currentWatermark();
        // The fast input alone would allow a watermark of 999; the slow one holds it back.
        if (wm !== -Infinity) out.collect(`${ev.k}:${wm <= 2 ? 'held back' : 'advanced'}`);
      }
    }
    const out = await fast
      .union(slow)
      .keyBy(() => 'one')
      .process(new Watch())
      .executeAndCollect();
    expect(out.every((s) => s.endsWith('held back'))).toBe(true);
  });

  it('watermarks trail the largest timestamp by the bounded out-of-orderness', async () => {
    const seen: number[] = [];
    class Watch extends KeyedProcessFunction<string, Ev, number> {
      processElement(_e: Ev, ctx: KeyedProcessContext<string>) {
        seen.push(ctx.timerService().currentWatermark());
      }
    }
    await StreamExecutionEnvironment.getExecutionEnvironment()
      .fromSource(
        {
          boundedness: 'bounded',
          createReader: () => {
            let batch = 0;
            return { poll: () => (batch++ === 0 ? [{ k: 'a', t: 100 }] : batch === 2 ? [{ k: 'a', t: 90 }] : null) };
          },
        },
        WatermarkStrategy.forBoundedOutOfOrderness<Ev>(20).withTimestampAssigner((e) => e.t),
        'two batches',
      )
      .keyBy((e) => e.k)
      .process(new Watch())
      .executeAndCollect();
    expect(seen).toEqual([-Infinity, 79]);
  });
});
