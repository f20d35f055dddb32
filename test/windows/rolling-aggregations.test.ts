/** Rolling aggregations on a keyed stream (sum, min, max, minBy, maxBy) with Flink's semantics for the other fields. */
import { describe, expect, it } from 'vitest';
import { StateError, StreamExecutionEnvironment, TumblingEventTimeWindows, WatermarkStrategy } from '../../src/index.ts';
import { prng } from '../helpers/prng.ts';

type Obj = { key: string; v: number; tag: string };
const r = prng(99);
const objs: Obj[] = Array.from({ length: 120 }, (_, i) => ({ key: `k${Math.floor(r() * 3)}`, v: Math.floor(r() * 20), tag: `t${i}` }));
const tuples: Array<[string, number, string]> = objs.map((o) => [o.key, o.v, o.tag]);

/** Per key, the running result after each record, by a fold written directly. */
function expected(fold: (acc: Obj, next: Obj) => Obj): string[] {
  const acc = new Map<string, Obj>();
  const out: string[] = [];
  for (const o of objs) {
    const prev = acc.get(o.key);
    const next = prev === undefined ? o : fold(prev, o);
    acc.set(o.key, next);
    out.push(`${next.key}|${next.v}|${next.tag}`);
  }
  return out.sort();
}

const FOLDS = {
  sum: (a: Obj, b: Obj) => ({ ...a, v: a.v + b.v }),
  min: (a: Obj, b: Obj) => ({ ...a, v: Math.min(a.v, b.v) }),
  max: (a: Obj, b: Obj) => ({ ...a, v: Math.max(a.v, b.v) }),
  minBy: (a: Obj, b: Obj) => (b.v < a.v ? b : a),
  maxBy: (a: Obj, b: Obj) => (b.v > a.v ? b : a),
};

describe('rolling aggregations', () => {
  for (const op of ['sum', 'min', 'max', 'minBy', 'maxBy'] as const) {
    it(`${op} by field name (objects) and by index (arrays), parallelism 3`, async () => {
      const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(3);
      const byName = await env
        .fromCollection(objs)
        .keyBy((o) => o.key)
        [op]('v')
        .map((o) => `${o.key}|${o.v}|${o.tag}`)
        .executeAndCollect();
      expect(byName.sort()).toEqual(expected(FOLDS[op]));
      const env2 = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(3);
      const byIndex = await env2
        .fromCollection(tuples)
        .keyBy((t) => t[0])
        [op](1)
        .map((t) => t.join('|'))
        .executeAndCollect();
      expect(byIndex.sort()).toEqual(expected(FOLDS[op]));
    });
  }

  it('minBy/maxBy keep the first record on ties, or the last with first = false', async () => {
    const recs = [
      { key: 'a', v: 1, tag: 'first' },
      { key: 'a', v: 1, tag: 'second' },
    ];
    const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(1);
    const s = env.fromCollection(recs).keyBy((o) => o.key);
    const got = await s
      .minBy('v')
      .map((o) => `minBy:${o.tag}`)
      .union(s.maxBy('v', false).map((o) => `maxBy-last:${o.tag}`))
      .executeAndCollect();
    expect(got.sort()).toEqual(['maxBy-last:first', 'maxBy-last:second', 'minBy:first', 'minBy:first']);
  });

  it('the same aggregations per window: WindowedStream.sum/min/max/minBy/maxBy', async () => {
    const recs = [
      { key: 'a', v: 3, tag: 'r0', ts: 1 },
      { key: 'a', v: 1, tag: 'r1', ts: 2 },
      { key: 'a', v: 5, tag: 'r2', ts: 3 },
      { key: 'a', v: 2, tag: 'r3', ts: 12 },
    ];
    const results: string[] = [];
    for (const op of ['sum', 'min', 'max', 'minBy', 'maxBy'] as const) {
      const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(1);
      const s = env
        .fromCollection(recs)
        .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<(typeof recs)[number]>().withTimestampAssigner((r) => r.ts));
      const got = await s
        .keyBy((r) => r.key)
        .window(TumblingEventTimeWindows.of(10))
        [op]('v')
        .map((r) => `${op}:${r.v}:${r.tag}`)
        .executeAndCollect();
      results.push(...got.sort());
    }
    expect(results).toEqual(['sum:2:r3', 'sum:9:r0', 'min:1:r0', 'min:2:r3', 'max:2:r3', 'max:5:r0', 'minBy:1:r1', 'minBy:2:r3', 'maxBy:2:r3', 'maxBy:5:r2']);
  });

  it('a missing or non-numeric field fails with a typed error naming it', async () => {
    const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(1);
    const job = env
      .fromCollection(objs)
      .keyBy((o) => o.key)
      .sum('tag');
    await expect(job.executeAndCollect()).rejects.toThrow(/sum\("tag"\): field "tag" must hold numbers/);
    const env2 = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(1);
    await expect(
      env2
        .fromCollection(objs)
        .keyBy((o) => o.key)
        .max('nope')
        .executeAndCollect(),
    ).rejects.toThrow(StateError);
    expect(() =>
      env2
        .fromCollection(objs)
        .keyBy((o) => o.key)
        .min(-1),
    ).toThrow(/field name or a non-negative index/);
  });
});
