/**
 * `WatermarkStrategy.withIdleness` (issue 16): a source that stays quiet is marked idle
 * after the timeout, so downstream event time follows the sources that have data
 * instead of waiting for the quiet one (Flink's `withIdleness` and `WatermarkStatus`).
 */
import { describe, expect, it } from 'vitest';
import {
  ConfigurationError,
  ManualClock,
  StreamExecutionEnvironment,
  TumblingEventTimeWindows,
  WatermarkStrategy,
  type Collector,
  type ProcessWindowContext,
  type TimeWindow,
} from '../../src/index.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Windows fired so far (module scope: functions are copied per subtask). */
const fired: string[] = [];

/** `records`, then quiet until `release()`. */
function quiet<T>(records: T[]) {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  async function* gen() {
    yield* records;
    await released;
  }
  return { gen: gen(), release };
}

async function run(idleTimeout: number | undefined): Promise<{ whileQuiet: string[]; atEnd: string[] }> {
  fired.length = 0;
  const clock = new ManualClock(0);
  const env = StreamExecutionEnvironment.getExecutionEnvironment().setClock(clock);
  const strategy = <T extends { ts: number }>() => {
    const s = WatermarkStrategy.forBoundedOutOfOrderness<T>(0).withTimestampAssigner((e) => e.ts);
    return idleTimeout === undefined ? s : s.withIdleness(idleTimeout);
  };
  const busy = quiet(Array.from({ length: 30 }, (_, i) => ({ key: `k${i % 2}`, ts: i * 100 })));
  const silent = quiet<{ key: string; ts: number }>([]);
  const events = env
    .fromAsyncIterable(busy.gen)
    .assignTimestampsAndWatermarks(strategy())
    .union(env.fromAsyncIterable(silent.gen).assignTimestampsAndWatermarks(strategy()));
  const result = events
    .keyBy((e) => e.key)
    .window(TumblingEventTimeWindows.of(1000))
    .process({
      process(key: string, ctx: ProcessWindowContext<TimeWindow>, input: Iterable<{ ts: number }>, out: Collector<string>) {
        const line = `${key}@${ctx.window().start}:${[...input].length}`;
        fired.push(line);
        out.collect(line);
      },
    })
    .executeAndCollect();
  await sleep(50); // the busy source's records went through; both sources now wait
  for (let t = 200; t <= 3000; t += 200) {
    clock.set(t); // periodic watermark emission every 200 ms of (manual) processing time
    await sleep(5);
  }
  await sleep(50);
  const whileQuiet = [...fired].sort();
  busy.release();
  silent.release();
  await result;
  return { whileQuiet, atEnd: [...fired].sort() };
}

const ALL = ['k0@0:5', 'k0@1000:5', 'k0@2000:5', 'k1@0:5', 'k1@1000:5', 'k1@2000:5'];

describe('WatermarkStrategy.withIdleness', () => {
  it('without it, a quiet source holds event time back: no window fires until the end of input', async () => {
    const got = await run(undefined);
    expect(got.whileQuiet).toEqual([]);
    expect(got.atEnd).toEqual(ALL);
  });

  it('with it, the quiet source is idle after the timeout and the windows fire while the job still runs', async () => {
    const got = await run(1000);
    // The busy source's watermark is 2899: windows up to [1000, 2000) are complete.
    expect(got.whileQuiet).toEqual(['k0@0:5', 'k0@1000:5', 'k1@0:5', 'k1@1000:5']);
    expect(got.atEnd).toEqual(ALL);
  });

  it('takes a positive number of ms', () => {
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, '1000' as unknown as number]) {
      expect(() => WatermarkStrategy.forMonotonousTimestamps().withIdleness(bad)).toThrow(ConfigurationError);
    }
  });
});
