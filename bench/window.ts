/**
 * window: a 1-second tumbling event-time window count, 1,000,000 events over 10,000 keys
 * spanning 10 s of event time (100,000 windows), parallelism 1: the window operator with
 * incremental aggregation (`window(TumblingEventTimeWindows.of(1000)).aggregate(count, fn)`)
 * vs the same count written by hand in a KeyedProcessFunction with ValueState and timers.
 * Both read the same pre-generated array with the same watermarks (forMonotonousTimestamps,
 * one per source batch) and produce [key, windowStart, count] per window, verified.
 * Second and third lines: sliding windows and session windows over the same events, each
 * against the tumbling job measured in the same run.
 */
import {
  EventTimeSessionWindows,
  KeyedProcessFunction,
  SlidingEventTimeWindows,
  StreamExecutionEnvironment,
  TumblingEventTimeWindows,
  ValueStateDescriptor,
  WatermarkStrategy,
  type Collector,
  type KeyedProcessContext,
  type OnTimerContext,
  type ProcessWindowContext,
  type RuntimeContext,
  type TimeWindow,
  type ValueState,
} from '../src/index.ts';
import { report, round, timeInterleaved } from './common.ts';

const EVENTS = 1_000_000;
const KEYS = 10_000;
const SPAN_MS = 10_000;
const SIZE = 1000;
const FLOOR = 0.8;
/** The sliding windows of the second line: 10 s every 1 s, so each event is in 10 windows. */
const SLIDING_SIZE = 10_000;
/**
 * The session gap of the third line: a key's events come 100 ms apart, so every event
 * after a key's first merges into its one session (the merge path on every record).
 */
const SESSION_GAP = 150;

interface TEv {
  k: string;
  ts: number;
}
type Out = [string, number, number];

function generate(): TEv[] {
  const evs = new Array<TEv>(EVENTS);
  for (let i = 0; i < EVENTS; i++) evs[i] = { k: 'k' + (i % KEYS), ts: Math.floor((i * SPAN_MS) / EVENTS) };
  return evs;
}

function source(events: readonly TEv[]) {
  return StreamExecutionEnvironment.getExecutionEnvironment()
    .setParallelism(1)
    .fromCollection(events)
    .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<TEv>().withTimestampAssigner((e) => e.ts));
}

function runWindow(events: readonly TEv[], kind: 'tumbling' | 'sliding' | 'session' = 'tumbling'): Promise<Out[]> {
  return source(events)
    .keyBy((e) => e.k)
    .window(
      kind === 'sliding'
        ? SlidingEventTimeWindows.of(SLIDING_SIZE, SIZE)
        : kind === 'session'
          ? EventTimeSessionWindows.withGap(SESSION_GAP)
          : TumblingEventTimeWindows.of(SIZE),
    )
    .aggregate(
      { createAccumulator: () => 0, add: (_e: TEv, acc: number) => acc + 1, getResult: (acc: number) => acc, merge: (a: number, b: number) => a + b },
      {
        process(key: string, ctx: ProcessWindowContext<TimeWindow>, counts: Iterable<number>, out: Collector<Out>) {
          for (const c of counts) out.collect([key, ctx.window().start, c]);
        },
      },
    )
    .executeAndCollect();
}

/**
 * The hand-written count: the current window's start and count per key in ValueState, a
 * timer at the window's end. Events come in timestamp order, so a key's next window may
 * only begin before its previous window's timer fired at a batch boundary: it then emits
 * the previous window itself (its count is final).
 */
class HandWindowCount extends KeyedProcessFunction<string, TEv, Out> {
  private state!: ValueState<[number, number]>;
  override open(ctx: RuntimeContext) {
    this.state = ctx.getState(new ValueStateDescriptor<[number, number]>('window'));
  }
  async processElement(e: TEv, ctx: KeyedProcessContext<string>, out: Collector<Out>) {
    const start = e.ts - (e.ts % SIZE);
    const cur = await this.state.value();
    if (cur !== undefined && cur[0] === start) {
      cur[1]++;
      await this.state.update(cur);
      return;
    }
    if (cur !== undefined) out.collect([ctx.getCurrentKey(), cur[0], cur[1]]);
    await this.state.update([start, 1]);
    ctx.timerService().registerEventTimeTimer(start + SIZE - 1);
  }
  override async onTimer(ts: number, ctx: OnTimerContext<string>, out: Collector<Out>) {
    const cur = await this.state.value();
    if (cur === undefined || cur[0] + SIZE - 1 !== ts) return;
    out.collect([ctx.getCurrentKey(), cur[0], cur[1]]);
    await this.state.update(undefined);
  }
}

function runHand(events: readonly TEv[]): Promise<Out[]> {
  return source(events)
    .keyBy((e) => e.k)
    .process(new HandWindowCount())
    .executeAndCollect();
}

function verify(out: readonly Out[], who: string): void {
  const windows = KEYS * (SPAN_MS / SIZE);
  if (out.length !== windows) throw new Error(`${who}: expected ${windows} windows, got ${out.length}`);
  const seen = new Set<string>();
  let total = 0;
  for (const [k, start, c] of out) {
    if (c !== EVENTS / windows) throw new Error(`${who}: window ${k}@${start} counted ${c}, expected ${EVENTS / windows}`);
    seen.add(`${k}@${start}`);
    total += c;
  }
  if (seen.size !== windows || total !== EVENTS) throw new Error(`${who}: ${seen.size} distinct windows, ${total} events`);
}

/** Sessions: one per key, spanning the key's whole input, every event counted once. */
function verifySessions(out: readonly Out[]): void {
  if (out.length !== KEYS) throw new Error(`session: expected ${KEYS} sessions, got ${out.length}`);
  let total = 0;
  for (const [, , c] of out) total += c;
  if (total !== EVENTS) throw new Error(`session: counted ${total} events, expected ${EVENTS}`);
}

/** Sliding windows: 19 per key (starts −9 s … 9 s), every event counted in 10 of them. */
function verifySliding(out: readonly Out[]): void {
  const perKey = SPAN_MS / SIZE + SLIDING_SIZE / SIZE - 1;
  if (out.length !== KEYS * perKey) throw new Error(`sliding: expected ${KEYS * perKey} windows, got ${out.length}`);
  let total = 0;
  for (const [, , c] of out) total += c;
  if (total !== EVENTS * (SLIDING_SIZE / SIZE)) throw new Error(`sliding: counted ${total} window memberships, expected ${EVENTS * (SLIDING_SIZE / SIZE)}`);
}

export async function windowBench(runs: number): Promise<void> {
  const events = generate();
  const [win, hand] = await timeInterleaved(
    [
      { name: 'window', run: async () => verify(await runWindow(events), 'window') },
      { name: 'hand', run: async () => verify(await runHand(events), 'hand') },
    ],
    runs,
  );
  const ratio = hand!.medianMs / win!.medianMs;
  report({
    bench: 'window',
    events: EVENTS,
    keys: KEYS,
    windows: KEYS * (SPAN_MS / SIZE),
    parallelism: 1,
    input: 'same pre-generated array on both sides (fromCollection + forMonotonousTimestamps); generation not timed; result check timed on both sides',
    stat: `median of ${runs} interleaved runs after 1 warm-up each`,
    engineEventsPerSec: Math.round(EVENTS / (win!.medianMs / 1000)),
    baselineEventsPerSec: Math.round(EVENTS / (hand!.medianMs / 1000)),
    baseline: 'KeyedProcessFunction: ValueState<[start, count]> + event-time timer per key and window',
    ratio: round(ratio, 4),
    bestRatio: round(hand!.bestMs / win!.bestMs, 4),
    engineMs: win!.ms,
    baselineMs: hand!.ms,
    floor: FLOOR,
    pass: ratio >= FLOOR,
  });
  const [slide, tumble] = await timeInterleaved(
    [
      { name: 'sliding', run: async () => verifySliding(await runWindow(events, 'sliding')) },
      { name: 'tumbling', run: async () => verify(await runWindow(events), 'window') },
    ],
    runs,
  );
  report({
    bench: 'window-sliding',
    events: EVENTS,
    keys: KEYS,
    sliding: `SlidingEventTimeWindows.of(${SLIDING_SIZE}, ${SIZE}): every event in ${SLIDING_SIZE / SIZE} windows`,
    stat: `median of ${runs} interleaved runs after 1 warm-up each`,
    engineEventsPerSec: Math.round(EVENTS / (slide!.medianMs / 1000)),
    baselineEventsPerSec: Math.round(EVENTS / (tumble!.medianMs / 1000)),
    baseline: 'the tumbling 1 s window count above',
    ratio: round(tumble!.medianMs / slide!.medianMs, 4),
    engineMs: slide!.ms,
    baselineMs: tumble!.ms,
    floor: null,
    pass: true,
  });
  const [session, tumbling] = await timeInterleaved(
    [
      { name: 'session', run: async () => verifySessions(await runWindow(events, 'session')) },
      { name: 'tumbling', run: async () => verify(await runWindow(events), 'window') },
    ],
    runs,
  );
  report({
    bench: 'window-session',
    events: EVENTS,
    keys: KEYS,
    session: `EventTimeSessionWindows.withGap(${SESSION_GAP}): a key's events 100 ms apart, so every event after its first merges into the key's one session (${KEYS} sessions)`,
    stat: `median of ${runs} interleaved runs after 1 warm-up each`,
    engineEventsPerSec: Math.round(EVENTS / (session!.medianMs / 1000)),
    baselineEventsPerSec: Math.round(EVENTS / (tumbling!.medianMs / 1000)),
    baseline: 'the tumbling 1 s window count of the first line',
    ratio: round(tumbling!.medianMs / session!.medianMs, 4),
    engineMs: session!.ms,
    baselineMs: tumbling!.ms,
    floor: null,
    pass: true,
  });
}
