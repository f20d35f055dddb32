/**
 * Periodic watermark emission (issue 16): every `autoWatermarkInterval` ms of processing
 * time the generators are asked for a watermark, so that a quiet source still advances
 * event time (Flink's `ExecutionConfig.setAutoWatermarkInterval`, default 200 ms).
 */
import { describe, expect, it } from 'vitest';
import {
  ConfigurationError,
  KeyedProcessFunction,
  ManualClock,
  StreamExecutionEnvironment,
  WatermarkStrategy,
  type Collector,
  type KeyedProcessContext,
  type OnTimerContext,
  type WatermarkOutput,
} from '../../src/index.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Timers that fired, with the watermark then (module scope: functions are copied per subtask). */
const fired: string[] = [];

class TimerAt5000 extends KeyedProcessFunction<string, number, string> {
  processElement(_v: number, ctx: KeyedProcessContext<string>): void {
    ctx.timerService().registerEventTimeTimer(5000);
  }
  override onTimer(ts: number, ctx: OnTimerContext<string>, out: Collector<string>): void {
    fired.push(`${ts}@${ctx.timerService().currentWatermark()}`);
    out.collect(`fired ${ts}`);
  }
}

/** One record, then a source that stays quiet until `release()`. */
function quietSource() {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  async function* records() {
    yield 1;
    await released;
  }
  return { records: records(), release };
}

/** An ingestion-time style generator: its watermark is the processing time, emitted only periodically. */
function processingTimeWatermarks(clock: ManualClock) {
  return WatermarkStrategy.forGenerator<number>(() => ({
    onEvent() {},
    onPeriodicEmit(output: WatermarkOutput) {
      output.emitWatermark(clock.now() - 1);
    },
  })).withTimestampAssigner(() => 0);
}

async function runQuiet(
  interval: number | undefined,
  strategy: (clock: ManualClock) => WatermarkStrategy<number> = processingTimeWatermarks,
): Promise<{ whileQuiet: string[]; atEnd: string[] }> {
  fired.length = 0;
  const clock = new ManualClock(0);
  const env = StreamExecutionEnvironment.getExecutionEnvironment().setClock(clock);
  if (interval !== undefined) env.getConfig().setAutoWatermarkInterval(interval);
  const { records, release } = quietSource();
  const result = env
    .fromAsyncIterable(records)
    .assignTimestampsAndWatermarks(strategy(clock))
    .keyBy(() => 'k')
    .process(new TimerAt5000())
    .executeAndCollect();
  await sleep(50); // the record went through; the source now waits
  clock.set(6000);
  await sleep(50);
  const whileQuiet = [...fired];
  release();
  await result;
  return { whileQuiet, atEnd: [...fired] };
}

describe('periodic watermark emission', () => {
  it('a quiet source still advances event time every autoWatermarkInterval (default 200 ms)', async () => {
    const got = await runQuiet(undefined);
    expect(got.whileQuiet).toEqual(['5000@5999']);
    expect(got.atEnd).toEqual(['5000@5999']);
  });

  it('setAutoWatermarkInterval(0) turns it off: the timer waits for the end of input', async () => {
    const got = await runQuiet(0);
    expect(got.whileQuiet).toEqual([]);
    expect(got.atEnd).toEqual([`5000@${Number.MAX_SAFE_INTEGER}`]);
  });

  it('WatermarkStrategy.noWatermarks(): periodic emission asks, nothing advances; only the end of input fires the timer', async () => {
    const got = await runQuiet(undefined, () => WatermarkStrategy.noWatermarks<number>().withTimestampAssigner(() => 0));
    expect(got.whileQuiet).toEqual([]);
    expect(got.atEnd).toEqual([`5000@${Number.MAX_SAFE_INTEGER}`]);
  });

  it('the interval is a whole number of ms ≥ 0', () => {
    const config = StreamExecutionEnvironment.getExecutionEnvironment().getConfig();
    expect(config.getAutoWatermarkInterval()).toBe(200);
    expect(config.setAutoWatermarkInterval(50).getAutoWatermarkInterval()).toBe(50);
    for (const bad of [-1, 1.5, Number.NaN, '200' as unknown as number]) {
      expect(() => config.setAutoWatermarkInterval(bad)).toThrow(ConfigurationError);
    }
  });
});
