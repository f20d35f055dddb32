/**
 * Processing-time windows on a ManualClock: records arrive in phases, the clock moves
 * between phases (after the phase's records went through), and each window fires once its
 * end passed, with the records that arrived during it.
 */
import { describe, expect, it } from 'vitest';
import {
  ManualClock,
  ProcessingTimeSessionWindows,
  SlidingProcessingTimeWindows,
  StreamExecutionEnvironment,
  TimeWindow,
  TumblingProcessingTimeWindows,
  type Collector,
  type ProcessWindowContext,
  type WindowAssigner,
} from '../../src/index.ts';

type Rec = { key: string; id: string };
/** Phases: the clock time and the records that arrive at it. */
const PHASES: Array<[number, Rec[]]> = [
  [
    1000,
    [
      { key: 'x', id: 'a1' },
      { key: 'y', id: 'a2' },
      { key: 'x', id: 'a3' },
    ],
  ],
  [1400, [{ key: 'x', id: 'b1' }]],
  [
    2600,
    [
      { key: 'y', id: 'c1' },
      { key: 'x', id: 'c2' },
    ],
  ],
  [3050, [{ key: 'x', id: 'd1' }]],
];
const END = 10_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function run(assigner: WindowAssigner<Rec, TimeWindow>, parallelism: number): Promise<string[]> {
  const clock = new ManualClock(PHASES[0][0]);
  const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(parallelism).setClock(clock);
  async function* phases() {
    for (const [t, recs] of PHASES) {
      clock.set(t);
      await sleep(30); // timers due at t fire before the phase's records
      yield* recs;
      await sleep(30); // the phase's records reach the window operator at time t
    }
    clock.set(END);
    await sleep(30);
  }
  return (await env
    .fromAsyncIterable(phases())
    .keyBy((r) => r.key)
    .window(assigner)
    .process({
      process(key: string, ctx: ProcessWindowContext<TimeWindow>, input: Iterable<Rec>, out: Collector<string>) {
        out.collect(
          `${key}@${ctx.window().start}-${ctx.window().end}:${[...input]
            .map((r) => r.id)
            .sort()
            .join(',')}`,
        );
      },
    })
    .executeAndCollect()) as string[];
}

/** Each window once, with the records that arrived during it (what the phases allow). */
function model(assign: (t: number) => TimeWindow[], merge: boolean): string[] {
  const byKey = new Map<string, Array<{ w: TimeWindow; ids: string[] }>>();
  for (const [t, recs] of PHASES) {
    for (const r of recs) {
      const list = byKey.get(r.key) ?? [];
      byKey.set(r.key, list);
      for (const w of assign(t)) {
        if (!merge) {
          const found = list.find((o) => o.w.equals(w));
          if (found) found.ids.push(r.id);
          else list.push({ w, ids: [r.id] });
          continue;
        }
        const overlapping = list.filter((o) => o.w.intersects(w));
        let cover = w;
        for (const o of overlapping) cover = cover.cover(o.w);
        const ids = [...overlapping.flatMap((o) => o.ids), r.id];
        for (const o of overlapping) list.splice(list.indexOf(o), 1);
        list.push({ w: cover, ids });
      }
    }
  }
  return [...byKey].flatMap(([k, list]) => list.map((o) => `${k}@${o.w.start}-${o.w.end}:${o.ids.sort().join(',')}`));
}

describe('processing-time windows (ManualClock)', () => {
  for (const parallelism of [1, 3]) {
    it(`TumblingProcessingTimeWindows.of(1000) (parallelism ${parallelism})`, { timeout: 20_000 }, async () => {
      const want = model((t) => [new TimeWindow(t - (t % 1000), t - (t % 1000) + 1000)], false);
      expect((await run(TumblingProcessingTimeWindows.of(1000), parallelism)).sort()).toEqual(want.sort());
    });
    it(`SlidingProcessingTimeWindows.of(1000, 500) (parallelism ${parallelism})`, { timeout: 20_000 }, async () => {
      const want = model((t) => [0, 500].map((back) => t - (t % 500) - back).map((s) => new TimeWindow(s, s + 1000)), false);
      expect((await run(SlidingProcessingTimeWindows.of(1000, 500), parallelism)).sort()).toEqual(want.sort());
    });
    it(`ProcessingTimeSessionWindows.withGap(500) merges sessions (parallelism ${parallelism})`, { timeout: 20_000 }, async () => {
      const want = model((t) => [new TimeWindow(t, t + 500)], true);
      // x: a1,a3 at 1000 and b1 at 1400 merge into one session.
      expect(want).toContain('x@1000-1900:a1,a3,b1');
      expect((await run(ProcessingTimeSessionWindows.withGap(500), parallelism)).sort()).toEqual(want.sort());
    });
  }
});
