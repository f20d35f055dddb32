/** Window jobs defined with `defineJob`, so that worker threads can build them too. */
import {
  defineJob,
  EventTimeSessionWindows,
  OutputTag,
  SlidingEventTimeWindows,
  type Collector,
  type ProcessWindowContext,
  type TimeWindow,
} from '../../src/index.ts';
import { eventSource } from './helpers.ts';
import { events, type Ev } from './model.ts';

const late = new OutputTag<Ev>('late');

/** Sessions (aggregate with merge, lateness, late side output) and sliding windows (reduce), over `events(seed, count)`. */
export const windowJob = defineJob(import.meta.url, 'windowJob', (env, args: { seed: number; count: number }) => {
  const source = eventSource(env, events(args.seed, args.count), 30, true);
  const sessions = source
    .keyBy((e) => e.key)
    .window(EventTimeSessionWindows.withGap(30))
    .allowedLateness(100)
    .sideOutputLateData(late)
    .aggregate(
      { createAccumulator: () => 0, add: (e: Ev, a: number) => a + e.v, getResult: (a: number) => a, merge: (a: number, b: number) => a + b },
      {
        process(key: string, ctx: ProcessWindowContext<TimeWindow>, sums: Iterable<number>, out: Collector<string>) {
          for (const s of sums) out.collect(`S|${key}|${ctx.window().start}|${ctx.window().end}|${s}`);
        },
      },
    )
    .uid('sessions');
  const sliding = source
    .keyBy((e) => e.key)
    .window(SlidingEventTimeWindows.of(100, 50))
    .reduce((a: Ev, b: Ev) => ({ ...a, v: a.v + b.v }))
    .map((e: Ev) => `W|${e.key}|${e.v}`)
    .uid('sliding');
  return sessions.union(
    sliding,
    sessions.getSideOutput(late).map((e: Ev) => `L|${e.seq}`),
  );
});
