/**
 * Every event-time assigner against the reference model (test/windows/model.ts) over
 * random out-of-order streams with late records (fixed seeds), with and without allowed
 * lateness, at parallelism 1 and 3, on the heap and SQLite backends; late records go to
 * the late-data side output; no window state is left once the job ends.
 */
import { describe, expect, it } from 'vitest';
import {
  EventTimeSessionWindows,
  OutputTag,
  ProcessWindowFunction,
  SlidingEventTimeWindows,
  StreamExecutionEnvironment,
  TimeWindow,
  TumblingEventTimeWindows,
  type AggregateFunction,
  type Collector,
  type ProcessWindowContext,
  type WindowAssigner,
} from '../../src/index.ts';
import { BACKENDS, eventSource, LeftoverProbe } from './helpers.ts';
import { events, model, type Ev } from './model.ts';

const BOUND = 30;
const describeWindow = (key: string, w: TimeWindow, recs: readonly Ev[]) =>
  `${key}|${w.start}|${w.end}|${recs.length}|${recs.reduce((s, r) => s + r.v, 0)}|${recs
    .map((r) => r.seq)
    .sort((a, b) => a - b)
    .join(',')}`;

type Acc = { n: number; sum: number; seqs: number[] };
const collectAll: AggregateFunction<Ev, Acc, Acc> = {
  createAccumulator: () => ({ n: 0, sum: 0, seqs: [] }),
  add: (e, a) => ({ n: a.n + 1, sum: a.sum + e.v, seqs: [...a.seqs, e.seq] }),
  getResult: (a) => a,
  merge: (a, b) => ({ n: a.n + b.n, sum: a.sum + b.sum, seqs: [...a.seqs, ...b.seqs] }),
};

class Describe extends ProcessWindowFunction<Acc, string, string, TimeWindow> {
  process(key: string, ctx: ProcessWindowContext<TimeWindow>, input: Iterable<Acc>, out: Collector<string>) {
    for (const a of input) out.collect(`${key}|${ctx.window().start}|${ctx.window().end}|${a.n}|${a.sum}|${[...a.seqs].sort((x, y) => x - y).join(',')}`);
  }
}

class DescribeRecords extends ProcessWindowFunction<Ev, string, string, TimeWindow> {
  process(key: string, ctx: ProcessWindowContext<TimeWindow>, input: Iterable<Ev>, out: Collector<string>) {
    out.collect(describeWindow(key, ctx.window(), [...input]));
  }
}

type Fn = 'aggregate' | 'reduce' | 'process';
interface Case {
  name: string;
  assigner: () => WindowAssigner<Ev, TimeWindow>;
  assign: (e: Ev) => TimeWindow[];
  merging: boolean;
  fn: Fn;
}

const tumblingStart = (ts: number, size: number, offset: number) => TimeWindow.getWindowStartWithOffset(ts, offset, size);
function sliding(ts: number, size: number, slide: number, offset: number): TimeWindow[] {
  const out: TimeWindow[] = [];
  for (let s = TimeWindow.getWindowStartWithOffset(ts, offset, slide); s > ts - size; s -= slide) out.push(new TimeWindow(s, s + size));
  return out;
}

const CASES: Case[] = [
  {
    name: 'TumblingEventTimeWindows.of(100)',
    assigner: () => TumblingEventTimeWindows.of(100),
    assign: (e) => [new TimeWindow(tumblingStart(e.ts, 100, 0), tumblingStart(e.ts, 100, 0) + 100)],
    merging: false,
    fn: 'aggregate',
  },
  {
    name: 'TumblingEventTimeWindows.of(100, 30)',
    assigner: () => TumblingEventTimeWindows.of(100, 30),
    assign: (e) => [new TimeWindow(tumblingStart(e.ts, 100, 30), tumblingStart(e.ts, 100, 30) + 100)],
    merging: false,
    fn: 'reduce',
  },
  {
    name: 'SlidingEventTimeWindows.of(150, 50)',
    assigner: () => SlidingEventTimeWindows.of(150, 50),
    assign: (e) => sliding(e.ts, 150, 50, 0),
    merging: false,
    fn: 'process',
  },
  {
    name: 'SlidingEventTimeWindows.of(100, 30, 10)',
    assigner: () => SlidingEventTimeWindows.of(100, 30, 10),
    assign: (e) => sliding(e.ts, 100, 30, 10),
    merging: false,
    fn: 'aggregate',
  },
  {
    name: 'EventTimeSessionWindows.withGap(30)',
    assigner: () => EventTimeSessionWindows.withGap(30),
    assign: (e) => [new TimeWindow(e.ts, e.ts + 30)],
    merging: true,
    fn: 'aggregate',
  },
  {
    name: 'EventTimeSessionWindows.withGap(25) (process, list merge)',
    assigner: () => EventTimeSessionWindows.withGap(25),
    assign: (e) => [new TimeWindow(e.ts, e.ts + 25)],
    merging: true,
    fn: 'process',
  },
  {
    name: 'EventTimeSessionWindows.withDynamicGap(v * 6)',
    assigner: () => EventTimeSessionWindows.withDynamicGap<Ev>((e) => e.v * 6),
    assign: (e) => [new TimeWindow(e.ts, e.ts + e.v * 6)],
    merging: true,
    fn: 'reduce',
  },
];

const lateTag = new OutputTag<Ev>('late');

async function runJob(c: Case, evs: Ev[], lateness: number, parallelism: number, backend: string, probe?: LeftoverProbe) {
  const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(parallelism);
  const b = BACKENDS[backend]();
  env.setStateBackend(probe ? probe.wrap(b) : b);
  const windowed = eventSource(env, evs, BOUND)
    .keyBy((e) => e.key)
    .window(c.assigner())
    .allowedLateness(lateness)
    .sideOutputLateData(lateTag);
  const results =
    c.fn === 'aggregate'
      ? windowed.aggregate(collectAll, new Describe())
      : c.fn === 'process'
        ? windowed.process(new DescribeRecords())
        : windowed
            // The reduce keeps a record-shaped accumulator: v summed, seq lists in `key`.
            .reduce(
              (a: Ev, b: Ev) =>
                ({
                  key: `${a.key}`,
                  ts: Math.min(a.ts, b.ts),
                  v: a.v + b.v,
                  seq: -1,
                  seqs: [...((a as Ev & { seqs?: number[] }).seqs ?? [a.seq]), ...((b as Ev & { seqs?: number[] }).seqs ?? [b.seq])],
                }) as Ev,
              {
                process(key: string, ctx: ProcessWindowContext<TimeWindow>, input: Iterable<Ev>, out: Collector<string>) {
                  for (const r of input) {
                    const seqs = (r as Ev & { seqs?: number[] }).seqs ?? [r.seq];
                    out.collect(`${key}|${ctx.window().start}|${ctx.window().end}|${seqs.length}|${r.v}|${[...seqs].sort((x, y) => x - y).join(',')}`);
                  }
                },
              },
            );
  const late = results.getSideOutput(lateTag).map((e) => `late|${e.seq}`);
  return ((await results.union(late).executeAndCollect()) as string[]).sort();
}

function expected(c: Case, evs: Ev[], lateness: number): string[] {
  const { out, late } = model(evs, BOUND, lateness, c.assign, c.merging, describeWindow);
  return [...out, ...late.map((e) => `late|${e.seq}`)].sort();
}

describe('event-time windows against the reference model', () => {
  CASES.forEach((c, i) => {
    for (const lateness of [0, 120]) {
      for (const parallelism of [1, 3]) {
        it(`${c.name} (${c.fn}), allowedLateness ${lateness}, parallelism ${parallelism}, heap`, { timeout: 60_000 }, async () => {
          const evs = events(1000 + i * 10 + lateness, 300);
          const want = expected(c, evs, lateness);
          // The streams really exercise lateness: some records are late, some windows fire more than once when lateness is allowed.
          expect(want.filter((s) => s.startsWith('late|')).length).toBeGreaterThan(0);
          // And windows hold several records (sessions: several merged ones).
          expect(want.filter((s) => !s.startsWith('late|') && Number(s.split('|')[3]) > 2).length).toBeGreaterThan(5);
          expect(await runJob(c, evs, lateness, parallelism, 'heap')).toEqual(want);
        });
      }
    }
    it(`${c.name} (${c.fn}), allowedLateness 120, parallelism 3, SQLite: same output, and no window state left behind`, { timeout: 60_000 }, async () => {
      const evs = events(2000 + i, 300);
      const probe = new LeftoverProbe();
      expect(await runJob(c, evs, 120, 3, 'sqlite', probe)).toEqual(expected(c, evs, 120));
      expect(probe.leftovers).toEqual([]);
    });
  });

  it('sessions and sliding windows on the IndexedDB backend (fake-indexeddb) give the model output, no state left behind', { timeout: 60_000 }, async () => {
    for (const c of [CASES[3], CASES[5]]) {
      const evs = events(3000, 250);
      const probe = new LeftoverProbe();
      expect(await runJob(c, evs, 120, 3, 'indexeddb', probe)).toEqual(expected(c, evs, 120));
      expect(probe.leftovers).toEqual([]);
    }
  });

  it('late firings happen: with allowed lateness some windows fire more than once, with updated results', () => {
    const c = CASES[0];
    const evs = events(1000, 300);
    const fired = model(evs, BOUND, 120, c.assign, false, describeWindow).out.map((s) => s.split('|').slice(0, 3).join('|'));
    expect(new Set(fired).size).toBeLessThan(fired.length);
  });

  it('no window state is left behind on the heap backend either (sessions with lateness)', { timeout: 60_000 }, async () => {
    const probe = new LeftoverProbe();
    const evs = events(77, 300);
    await runJob(CASES[4], evs, 120, 3, 'heap', probe);
    expect(probe.leftovers).toEqual([]);
  });
});
