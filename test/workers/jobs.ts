/**
 * Jobs for the worker executor tests. Every worker imports this module to rebuild the
 * job, so it must not import vitest or do anything on import.
 */
import {
  defineJob,
  KeyedProcessFunction,
  OpfsSink,
  MapStateDescriptor,
  ValueStateDescriptor,
  WatermarkStrategy,
  type Collector,
  type KeyedProcessContext,
  type MapState,
  type OnTimerContext,
  type RuntimeContext,
  type ValueState,
} from '../../src/index.ts';
import { pacedSource } from '../helpers/sources.ts';

/** An event of the test jobs. */
export type Ev = { key: string; ts: number; seq: number };
const event = (i: number): Ev => ({ key: `k${(i * 7) % 23}`, ts: i, seq: i });

/** Running count per key plus per-key 10-ms windows in MapState, emitted by event-time timers. */
export class CountAndWindows extends KeyedProcessFunction<string, Ev, string> {
  private count!: ValueState<number>;
  private windows!: MapState<number, number>;
  override open(ctx: RuntimeContext) {
    this.count = ctx.getState(new ValueStateDescriptor<number>('count'));
    this.windows = ctx.getMapState(new MapStateDescriptor<number, number>('windows'));
  }
  async processElement(e: Ev, ctx: KeyedProcessContext<string>, out: Collector<string>) {
    const c = ((await this.count.value()) ?? 0) + 1;
    await this.count.update(c);
    out.collect(`${e.key}#${c}`);
    const start = Math.floor(e.ts / 10) * 10;
    await this.windows.put(start, ((await this.windows.get(start)) ?? 0) + 1);
    ctx.timerService().registerEventTimeTimer(start + 9);
  }
  override async onTimer(ts: number, ctx: OnTimerContext<string>, out: Collector<string>) {
    const start = ts - 9;
    out.collect(`${ctx.getCurrentKey()}@${start}:${await this.windows.get(start)}`);
    await this.windows.remove(start);
  }
}

/** Arguments of {@link countJob}. */
export interface CountArgs {
  readonly records: number;
  /** Records per poll of the paced source (smaller: slower, more checkpoints in between). */
  readonly perPoll: number;
  /** The source's own parallelism (default: the job's). */
  readonly sourceParallelism?: number;
}

/** A keyed job with value, map state and timers; collected by the caller. */
export const countJob = defineJob(import.meta.url, 'countJob', (env, args: CountArgs) => {
  const source = env
    .fromSource(
      pacedSource(args.records, event, args.perPoll),
      WatermarkStrategy.forMonotonousTimestamps<Ev>().withTimestampAssigner((e) => e.ts),
      'events',
    )
    .uid('events');
  if (args.sourceParallelism !== undefined) source.setParallelism(args.sourceParallelism);
  return source
    .keyBy((e) => e.key)
    .process(new CountAndWindows())
    .uid('counter');
});

/** {@link countJob} into an exactly-once {@link OpfsSink} in `directory` (browsers only: the sink opens OPFS where its subtask runs). */
export const opfsSinkJob = defineJob(import.meta.url, 'opfsSinkJob', (env, args: CountArgs & { directory: string }) => {
  countJob.build(env, args).addSink(new OpfsSink<string>({ directory: args.directory, rollSize: 400 }));
});

/** {@link countJob} built inside another definition, with one more step: workers must rebuild this one, not the inner. */
export const composedJob = defineJob(import.meta.url, 'composedJob', (env, args: CountArgs) => countJob.build(env, args).map((s) => `composed:${s}`));

/** A job whose graph depends on the thread it is built in (a marker global set only in the test's thread): workers must refuse it. */
export const unstableJob = defineJob(import.meta.url, 'unstableJob', (env, args: CountArgs) => {
  const inMain = (globalThis as { eddyTestMainThread?: boolean }).eddyTestMainThread === true;
  return env
    .fromSource(pacedSource(args.records, event, args.perPoll), undefined, inMain ? 'events' : 'events-in-worker')
    .keyBy((e) => e.key)
    .process(new CountAndWindows());
});

/** Records at which this thread's {@link throwingJob} already threw: each throws once per thread. */
const thrownHere = new Set<number>();

/** {@link countJob} whose keyed function throws at record `throwAt` (once per thread). */
export const throwingJob = defineJob(import.meta.url, 'throwingJob', (env, args: CountArgs & { throwAt: number }) =>
  env
    .fromSource(
      pacedSource(args.records, event, args.perPoll),
      WatermarkStrategy.forMonotonousTimestamps<Ev>().withTimestampAssigner((e) => e.ts),
      'events',
    )
    .uid('events')
    .keyBy((e) => e.key)
    .process(new ThrowOnce(args.throwAt))
    .uid('counter'),
);

/** CountAndWindows that throws at one record. */
class ThrowOnce extends CountAndWindows {
  constructor(private readonly throwAt: number) {
    super();
  }
  override async processElement(e: Ev, ctx: KeyedProcessContext<string>, out: Collector<string>) {
    if (e.seq === this.throwAt && !thrownHere.has(e.seq)) {
      thrownHere.add(e.seq);
      throw new Error(`injected failure at record ${e.seq}`);
    }
    await super.processElement(e, ctx, out);
  }
}

/** {@link countJob} whose map never returns from record `stickAt` (a user function that hangs). */
export const stuckJob = defineJob(import.meta.url, 'stuckJob', (env, args: CountArgs & { stickAt: number }) =>
  env
    .fromSource(pacedSource(args.records, event, args.perPoll), undefined, 'events')
    .map((e: Ev) => (e.seq === args.stickAt ? new Promise<string>(() => {}) : `${e.seq}`))
    .name('Sticky'),
);

/** Each source subtask emits once the `max` its first poll was asked for (the source batch size of its thread). */
export const pollSizeJob = defineJob(import.meta.url, 'pollSizeJob', (env, _args: Record<string, never>) =>
  env.fromSource<number>(
    {
      boundedness: 'bounded',
      createReader() {
        let done = false;
        return {
          poll(max) {
            if (done) return null;
            done = true;
            return [max];
          },
        };
      },
    },
    undefined,
    'poll sizes',
  ),
);
