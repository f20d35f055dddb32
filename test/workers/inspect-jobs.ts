/**
 * The job of the metrics and state-query tests (issue 19), run in one thread and in
 * workers. Workers import this module to rebuild the job, so it must not import vitest
 * or do anything on import.
 */
import {
  defineJob,
  KeyedProcessFunction,
  ListStateDescriptor,
  ManualClock,
  MapStateDescriptor,
  StateTtlConfig,
  ValueStateDescriptor,
  type Collector,
  type KeyedProcessContext,
  type ListState,
  type MapState,
  type RuntimeContext,
  type Source,
  type ValueState,
} from '../../src/index.ts';

/** An event of the inspected job. */
export type Ev = { key: string; seq: number };

/** TTL of the `count` state and of the short-lived `recent` state. */
export const COUNT_TTL_MS = 60_000;
export const RECENT_TTL_MS = 1_000;
/** Event-time timers are set at this plus the sequence number; a processing-time one at now plus this. */
export const TIMER_BASE = 1_000_000;

/** Per key: a count (TTL), the sequence numbers seen (list), seq → seq * 10 (map), the last seq (short TTL), and timers. */
export class Inspected extends KeyedProcessFunction<string, Ev, string> {
  private count!: ValueState<number>;
  private seen!: ListState<number>;
  private bySeq!: MapState<number, number>;
  private recent!: ValueState<number>;
  override open(ctx: RuntimeContext) {
    this.count = ctx.getState(new ValueStateDescriptor<number>('count').enableTimeToLive(StateTtlConfig.newBuilder(COUNT_TTL_MS).build()));
    this.seen = ctx.getListState(new ListStateDescriptor<number>('seen'));
    this.bySeq = ctx.getMapState(new MapStateDescriptor<number, number>('bySeq'));
    this.recent = ctx.getState(new ValueStateDescriptor<number>('recent').enableTimeToLive(StateTtlConfig.newBuilder(RECENT_TTL_MS).build()));
  }
  async processElement(e: Ev, ctx: KeyedProcessContext<string>, out: Collector<string>) {
    await this.count.update(((await this.count.value()) ?? 0) + 1);
    await this.seen.add(e.seq);
    await this.bySeq.put(e.seq, e.seq * 10);
    await this.recent.update(e.seq);
    ctx.timerService().registerEventTimeTimer(TIMER_BASE + e.seq);
    ctx.timerService().registerProcessingTimeTimer(ctx.timerService().currentProcessingTime() + TIMER_BASE);
    out.collect(`${e.key}:${e.seq}`);
  }
}

/** Arguments of {@link inspectJob}. */
export interface InspectArgs {
  readonly records: number;
  readonly keys: number;
  /** After the records, keep the job running (polls return nothing) until it is cancelled. */
  readonly hold: boolean;
  /** The job's clock: a manual one (one thread) or a manual one started at this time (workers). */
  readonly clock?: ManualClock;
  readonly clockStart?: number;
}

/** The key of record `i`. */
export const keyOf = (i: number, keys: number): string => `k${i % keys}`;

/** `records` events, then either the end or (with `hold`) nothing until the job is cancelled. */
function heldSource(records: number, keys: number, hold: boolean): Source<Ev> {
  return {
    boundedness: 'bounded',
    replayable: true,
    createReader({ subtaskIndex, parallelism }) {
      let next = Math.floor((records * subtaskIndex) / parallelism);
      const end = Math.floor((records * (subtaskIndex + 1)) / parallelism);
      return {
        async poll() {
          await new Promise((r) => setTimeout(r, next < end ? 0 : 5));
          if (next >= end) return hold ? [] : null;
          const n = Math.min(16, end - next);
          const out = Array.from({ length: n }, (_, j) => ({ key: keyOf(next + j, keys), seq: next + j }));
          next += n;
          return out;
        },
        snapshotSplits: () => [next],
        restoreSplits(restored) {
          next = (restored as number[])[0] ?? next;
        },
      };
    },
  };
}

/** source → keyBy(key) → Inspected (uid `inspect`) → collected; a map without keyed state (uid `plain`) in front. */
export const inspectJob = defineJob(import.meta.url, 'inspectJob', (env, args: InspectArgs) => {
  const clock = args.clock ?? (args.clockStart !== undefined ? new ManualClock(args.clockStart) : undefined);
  if (clock) env.setClock(clock);
  return env
    .fromSource(heldSource(args.records, args.keys, args.hold), undefined, 'events')
    .uid('events')
    .map((e) => e)
    .uid('plain')
    .keyBy((e) => e.key)
    .process(new Inspected())
    .uid('inspect');
});
