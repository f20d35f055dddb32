/**
 * CountTrigger and PurgingTrigger on event-time sliding windows against a reference model
 * over random out-of-order streams with late records (fixed seeds), at parallelism 1 and
 * 3, on the heap and SQLite backends: a window fires every 3rd record it accepts (with all
 * its records, or those since the last firing when purging), records of windows past their
 * cleanup time are dropped or go to the late side output, and no state is left behind.
 */
import { describe, expect, it } from 'vitest';
import {
  CountTrigger,
  OutputTag,
  PurgingTrigger,
  SlidingEventTimeWindows,
  StreamExecutionEnvironment,
  TimeWindow,
  type Collector,
  type ProcessWindowContext,
} from '../../src/index.ts';
import { BACKENDS, eventSource, LeftoverProbe } from './helpers.ts';
import { events, watermarks, type Ev } from './model.ts';

const BOUND = 30;
const LATENESS = 50;
const late = new OutputTag<Ev>('late');
const describeFiring = (key: string, w: TimeWindow, recs: readonly Ev[]) =>
  `${key}|${w.start}|${recs
    .map((r) => r.seq)
    .sort((a, b) => a - b)
    .join(',')}`;

function model(evs: readonly Ev[], purging: boolean): string[] {
  const wms = watermarks(evs, BOUND);
  const open = new Map<string, { w: TimeWindow; records: Ev[]; count: number }>();
  const out: string[] = [];
  let wm = -Infinity;
  evs.forEach((e, i) => {
    let skipped = true;
    for (let s = TimeWindow.getWindowStartWithOffset(e.ts, 0, 50); s > e.ts - 100; s -= 50) {
      const w = new TimeWindow(s, s + 100);
      if (w.maxTimestamp() + LATENESS <= wm) continue;
      skipped = false;
      const id = `${e.key}|${s}`;
      const o = open.get(id) ?? { w, records: [], count: 0 };
      open.set(id, o);
      o.records.push(e);
      if (++o.count === 3) {
        o.count = 0;
        out.push(describeFiring(e.key, w, o.records));
        if (purging) o.records = [];
      }
    }
    if (skipped && e.ts + LATENESS <= wm) out.push(`late|${e.seq}`);
    wm = Math.max(wm, wms[i]);
    for (const [id, o] of open) if (o.w.maxTimestamp() + LATENESS <= wm) open.delete(id);
  });
  return out.sort();
}

describe('CountTrigger / PurgingTrigger against a model', () => {
  for (const purging of [false, true]) {
    for (const [backend, parallelism] of [
      ['heap', 1],
      ['heap', 3],
      ['sqlite', 3],
    ] as const) {
      it(`${purging ? 'PurgingTrigger.of(CountTrigger.of(3))' : 'CountTrigger.of(3)'} on SlidingEventTimeWindows.of(100, 50), lateness ${LATENESS}, ${backend}, parallelism ${parallelism}`, {
        timeout: 60_000,
      }, async () => {
        const evs = events(purging ? 11 : 12, 300);
        const want = model(evs, purging);
        expect(want.filter((s) => s.startsWith('late|')).length).toBeGreaterThan(0);
        const probe = new LeftoverProbe();
        const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(parallelism).setStateBackend(probe.wrap(BACKENDS[backend]()));
        const trigger = purging ? PurgingTrigger.of(CountTrigger.of<Ev>(3)) : CountTrigger.of<Ev>(3);
        const fired = eventSource(env, evs, BOUND)
          .keyBy((e) => e.key)
          .window(SlidingEventTimeWindows.of(100, 50))
          .trigger(trigger)
          .allowedLateness(LATENESS)
          .sideOutputLateData(late)
          .process({
            process(key: string, ctx: ProcessWindowContext<TimeWindow>, input: Iterable<Ev>, out: Collector<string>) {
              out.collect(describeFiring(key, ctx.window(), [...input]));
            },
          });
        const got = (await fired.union(fired.getSideOutput(late).map((e: Ev) => `late|${e.seq}`)).executeAndCollect()) as string[];
        expect(got.sort()).toEqual(want);
        expect(probe.leftovers).toEqual([]);
      });
    }
  }
});
