/**
 * Built-in operators take the synchronous state path where state is resident: reduce and
 * the rolling aggregations, and the window operator's per-record and timer paths. On the in-memory
 * backend the Promise-based state methods are then never called per record; results stay
 * those of the asynchronous path (which the window and rolling-aggregation suites pin on
 * every backend).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  KeyedProcessFunction,
  StreamExecutionEnvironment,
  TumblingEventTimeWindows,
  WatermarkStrategy,
  type Collector,
  type KeyedProcessContext,
  type OnTimerContext,
  type ProcessWindowContext,
  type TimeWindow,
} from '../../src/index.ts';
import { AggregatingStateImpl } from '../../src/state/aggregating-state.ts';
import { ValueStateImpl } from '../../src/state/keyed-states.ts';
import { SyncAggregatingStateImpl } from '../../src/state/sync-states.ts';

afterEach(() => vi.restoreAllMocks());

const env = () => StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(2);
const records = Array.from({ length: 300 }, (_, i) => ({ k: `k${i % 7}`, n: i, t: i * 10 }));

describe('built-in operators use the synchronous state path on a synchronous backend', () => {
  it('reduce and sum: correct running results, and no Promise-based value()/update() call at all', async () => {
    const value = vi.spyOn(ValueStateImpl.prototype, 'value');
    const update = vi.spyOn(ValueStateImpl.prototype, 'update');
    const reduced = await env()
      .fromCollection(records)
      .keyBy((r) => r.k)
      .reduce((a, b) => ({ k: a.k, n: a.n + b.n, t: b.t }))
      .executeAndCollect();
    const summed = await env()
      .fromCollection(records)
      .keyBy((r) => r.k)
      .sum('n')
      .executeAndCollect();
    const last = (out: Array<{ k: string; n: number }>) => new Map(out.map((r) => [r.k, r.n]));
    const expected = new Map<string, number>();
    for (const r of records) expected.set(r.k, (expected.get(r.k) ?? 0) + r.n);
    expect(reduced).toHaveLength(records.length);
    expect(last(reduced)).toEqual(expected);
    expect(last(summed)).toEqual(expected);
    expect(value).not.toHaveBeenCalled();
    expect(update).not.toHaveBeenCalled();
  });

  it('an asynchronous reduce function still works (the fold awaits it, then stores)', async () => {
    const out = await env()
      .fromCollection(records.slice(0, 40))
      .keyBy((r) => r.k)
      .reduce(async (a, b) => ({ k: a.k, n: a.n + b.n, t: b.t }))
      .executeAndCollect();
    const expected = new Map<string, number>();
    for (const r of records.slice(0, 40)) expected.set(r.k, (expected.get(r.k) ?? 0) + r.n);
    expect(new Map(out.map((r) => [r.k, r.n]))).toEqual(expected);
  });

  it('a tumbling event-time aggregate window adds every record without the Promise-based add(), and counts right', async () => {
    const add = vi.spyOn(AggregatingStateImpl.prototype, 'add');
    const out = await env()
      .fromCollection(records)
      .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<(typeof records)[0]>().withTimestampAssigner((r) => r.t))
      .keyBy((r) => r.k)
      .window(TumblingEventTimeWindows.of(500))
      .aggregate(
        { createAccumulator: () => 0, add: (_r: unknown, acc: number) => acc + 1, getResult: (acc: number) => acc },
        {
          process(key: string, ctx: ProcessWindowContext<TimeWindow>, counts: Iterable<number>, o: Collector<string>) {
            for (const c of counts) o.collect(`${key}@${ctx.window().start}:${c}`);
          },
        },
      )
      .executeAndCollect();
    const expected = new Map<string, number>();
    for (const r of records) {
      const id = `${r.k}@${r.t - (r.t % 500)}`;
      expected.set(id, (expected.get(id) ?? 0) + 1);
    }
    expect(out.sort()).toEqual([...expected].map(([id, c]) => `${id}:${c}`).sort());
    expect(add).not.toHaveBeenCalled();
  });

  const windowed = (process: (key: string, ctx: ProcessWindowContext<TimeWindow>, counts: Iterable<number>, o: Collector<string>) => void | Promise<void>) =>
    env()
      .fromCollection(records)
      .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<(typeof records)[0]>().withTimestampAssigner((r) => r.t))
      .keyBy((r) => r.k)
      .window(TumblingEventTimeWindows.of(500))
      .aggregate({ createAccumulator: () => 0, add: (_r: unknown, acc: number) => acc + 1, getResult: (acc: number) => acc }, { process })
      .executeAndCollect();
  const expectedCounts = () => {
    const expected = new Map<string, number>();
    for (const r of records) {
      const id = `${r.k}@${r.t - (r.t % 500)}`;
      expected.set(id, (expected.get(id) ?? 0) + 1);
    }
    return [...expected].map(([id, c]) => `${id}:${c}`).sort();
  };

  it('window timers fire and clean up without the Promise-based get()/clear() when the trigger and window function answer at once', async () => {
    const get = vi.spyOn(AggregatingStateImpl.prototype, 'get');
    const clear = vi.spyOn(AggregatingStateImpl.prototype, 'clear');
    const out = await windowed((key, ctx, counts, o) => {
      for (const c of counts) o.collect(`${key}@${ctx.window().start}:${c}`);
    });
    expect(out.sort()).toEqual(expectedCounts());
    expect(get).not.toHaveBeenCalled();
    expect(clear).not.toHaveBeenCalled();
  });

  it('a window function answering a Promise: the rest of its timer (the cleanup) follows the Promise, each window cleared once', async () => {
    const clear = vi.spyOn(AggregatingStateImpl.prototype, 'clear');
    const syncClear = vi.spyOn(SyncAggregatingStateImpl.prototype, 'clear');
    const out = await windowed(async (key, ctx, counts, o) => {
      await Promise.resolve();
      for (const c of counts) o.collect(`${key}@${ctx.window().start}:${c}`);
    });
    expect(out.sort()).toEqual(expectedCounts());
    // Every fired window's state was cleared at its cleanup time once, after the function's
    // Promise; the state being resident, without the Promise-based clear().
    expect(syncClear).toHaveBeenCalledTimes(expectedCounts().length);
    expect(clear).not.toHaveBeenCalled();
  });

  it('synchronous onTimer calls of one watermark run back to back, without a microtask turn between them', async () => {
    class Timers extends KeyedProcessFunction<string, (typeof records)[0], string> {
      private turned = false;
      processElement(_r: (typeof records)[0], ctx: KeyedProcessContext<string>): void {
        ctx.timerService().registerEventTimeTimer(1_000_000);
      }
      override onTimer(_ts: number, ctx: OnTimerContext<string>, out: Collector<string>): void {
        out.collect(`${ctx.getCurrentKey()}:${this.turned ? 'after a turn' : 'back to back'}`);
        this.turned = false;
        queueMicrotask(() => {
          this.turned = true;
        });
      }
    }
    const out = (await StreamExecutionEnvironment.getExecutionEnvironment()
      .setParallelism(1)
      .fromCollection(records)
      .keyBy((r) => r.k)
      .process(new Timers())
      .executeAndCollect()) as string[];
    expect(out).toHaveLength(7);
    expect(out.filter((s) => s.endsWith('after a turn'))).toEqual([]);
  });
});
