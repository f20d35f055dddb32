/** Window assigners, TimeWindow and the namespaced timers the window operator relies on. */
import { describe, expect, it } from 'vitest';
import {
  ConfigurationError,
  EventTimeSessionWindows,
  GlobalWindow,
  GlobalWindows,
  KeyGroupRange,
  SlidingEventTimeWindows,
  StreamExecutionEnvironment,
  TimeWindow,
  TumblingEventTimeWindows,
  TumblingProcessingTimeWindows,
} from '../../src/index.ts';
import { InternalTimerService } from '../../src/engine/timers.ts';
import { ByteWriter } from '../../src/format/bytes.ts';
import { canonicalKeyBytes } from '../../src/format/key-bytes.ts';

const ctx = { getCurrentProcessingTime: () => 12_345 };
const ns = (ws: TimeWindow[]) => ws.map((w) => `[${w.start},${w.end})`);

describe('TimeWindow.getWindowStartWithOffset (Flink)', () => {
  it.each([
    [0, 0, 5000, 0],
    [4999, 0, 5000, 0],
    [5000, 0, 5000, 5000],
    [100, 100, 5000, 100],
    [99, 100, 5000, -4900],
    [5099, 100, 5000, 100],
    [-1, 0, 5000, -5000],
    [-5000, 0, 5000, -5000],
    [-5001, 0, 5000, -10000],
    [6, -3, 5, 2],
    [7, -3, 5, 7],
  ])('timestamp %i, offset %i, size %i → %i', (ts, offset, size, start) => {
    expect(TimeWindow.getWindowStartWithOffset(ts, offset, size)).toBe(start);
  });
});

describe('assigners', () => {
  it('tumbling windows, with and without offset; maxTimestamp is end − 1', () => {
    expect(ns(TumblingEventTimeWindows.of(5000).assignWindows(null, 4999, ctx))).toEqual(['[0,5000)']);
    expect(ns(TumblingEventTimeWindows.of(5000, 100).assignWindows(null, 5100, ctx))).toEqual(['[5100,10100)']);
    expect(TumblingEventTimeWindows.of(5000).assignWindows(null, 1, ctx)[0].maxTimestamp()).toBe(4999);
    expect(ns(TumblingProcessingTimeWindows.of(1000).assignWindows(null, NaN, ctx))).toEqual(['[12000,13000)']);
  });

  it('sliding windows: every window of `size` starting at a multiple of `slide` that holds the timestamp, latest first', () => {
    expect(ns(SlidingEventTimeWindows.of(5000, 1000).assignWindows(null, 2500, ctx))).toEqual([
      '[2000,7000)',
      '[1000,6000)',
      '[0,5000)',
      '[-1000,4000)',
      '[-2000,3000)',
    ]);
    expect(ns(SlidingEventTimeWindows.of(3000, 1000, 500).assignWindows(null, 500, ctx))).toEqual(['[500,3500)', '[-500,2500)', '[-1500,1500)']);
    // A slide larger than the size leaves gaps: some timestamps are in no window.
    expect(SlidingEventTimeWindows.of(1000, 5000).assignWindows(null, 1500, ctx)).toEqual([]);
  });

  it('session windows merge overlapping and touching windows, not separate ones; equal windows are one', () => {
    const merges: string[] = [];
    EventTimeSessionWindows.withGap(10).mergeWindows(
      [new TimeWindow(0, 10), new TimeWindow(10, 20), new TimeWindow(5, 12), new TimeWindow(30, 40), new TimeWindow(30, 40), new TimeWindow(50, 55)],
      (merged, result) => merges.push(`${ns(merged).join('+')}=${ns([result])}`),
    );
    expect(merges).toEqual(['[0,10)+[5,12)+[10,20)=[0,20)']);
    expect(ns(EventTimeSessionWindows.withDynamicGap<{ g: number }>((e) => e.g).assignWindows({ g: 7 }, 100))).toEqual(['[100,107)']);
    expect(() => EventTimeSessionWindows.withDynamicGap<{ g: number }>((e) => e.g).assignWindows({ g: 0 }, 100)).toThrow(/0 < gap/);
  });

  it('GlobalWindows: one window that ends at the end of time', () => {
    expect(GlobalWindows.create().assignWindows()).toEqual([GlobalWindow.get()]);
    expect(GlobalWindow.get().maxTimestamp()).toBe(Number.MAX_SAFE_INTEGER);
  });

  it("bad parameters are typed errors with Flink's messages", () => {
    expect(() => TumblingEventTimeWindows.of(0)).toThrow(ConfigurationError);
    expect(() => SlidingEventTimeWindows.of(1000, 100, 100)).toThrow(/abs\(offset\) < slide and size > 0/);
    expect(() => SlidingEventTimeWindows.of(0, 100)).toThrow(ConfigurationError);
    expect(() => EventTimeSessionWindows.withGap(-1)).toThrow(ConfigurationError);
  });

  it('an event-time window over records without timestamps fails the job naming the cause', async () => {
    const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(1);
    const job = env
      .fromElements(1, 2, 3)
      .keyBy((n) => n % 2)
      .window(TumblingEventTimeWindows.of(10))
      .reduce((a, b) => a + b);
    await expect(job.executeAndCollect()).rejects.toThrow(/without a timestamp: did you forget assignTimestampsAndWatermarks/);
  });
});

describe('timers with a namespace', () => {
  it('the same key and timestamp in two namespaces are two timers; deleting one keeps the other', () => {
    const t = new InternalTimerService(KeyGroupRange.of(0, 127));
    expect(t.register('EVENT_TIME', 'k', 3, 99, '0,100')).toBe(true);
    expect(t.register('EVENT_TIME', 'k', 3, 99, '50,100')).toBe(true);
    expect(t.register('EVENT_TIME', 'k', 3, 99, '0,100')).toBe(false);
    expect(t.register('EVENT_TIME', 'k', 3, 99)).toBe(true);
    t.delete('EVENT_TIME', 'k', 3, 99, '50,100');
    const fired = [];
    let timer;
    while ((timer = t.pollDue('EVENT_TIME', 1000)) !== undefined) fired.push(timer.namespace);
    expect(fired).toEqual(['0,100', '']);
  });

  it('namespaces survive snapshot and restore; timers of snapshots without namespaces still restore', async () => {
    const t = new InternalTimerService(KeyGroupRange.of(0, 127));
    t.register('EVENT_TIME', 'k', 3, 99, '0,100');
    t.register('PROCESSING_TIME', 'k', 3, 42, 'global');
    t.register('EVENT_TIME', 'j', 5, 7);
    const restored = new InternalTimerService(KeyGroupRange.of(0, 127));
    restored.restore(await t.snapshot());
    const events = [];
    let timer;
    while ((timer = restored.pollDue('EVENT_TIME', 1000)) !== undefined) events.push(`${String(timer.key)}@${timer.timestamp}/${timer.namespace}`);
    expect(events).toEqual(['j@7/', 'k@99/0,100']);
    expect(restored.pollDue('PROCESSING_TIME', 1000)?.namespace).toBe('global');
    // The format before namespaces: domain byte, key bytes, timestamp.
    const w = new ByteWriter();
    w.u8(0);
    w.lenBytes(canonicalKeyBytes('old'));
    w.f64(5);
    const old = new InternalTimerService(KeyGroupRange.of(0, 127));
    old.restore(new Map([[9, w.finish()]]));
    const o = old.pollDue('EVENT_TIME', 10)!;
    expect([o.key, o.timestamp, o.namespace]).toEqual(['old', 5, '']);
  });
});
