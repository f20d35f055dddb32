/**
 * Issue 14, item 9: timestamps past the final watermark never fire and a watermark of
 * Infinity (or NaN) stops event time for good. eddy, like Flink with its longs, keeps
 * event time within Number.MAX_SAFE_INTEGER (MAX_WATERMARK, the end of input): such
 * timers, timestamps and watermarks are refused with a typed error naming the operator.
 */
import { describe, expect, it } from 'vitest';
import {
  EddyError,
  KeyedProcessFunction,
  MAX_WATERMARK,
  StreamExecutionEnvironment,
  WatermarkStrategy,
  type Collector,
  type KeyedProcessContext,
} from '../../src/index.ts';

const env = () => StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(1);

function timerJob(at: number | ((ctx: KeyedProcessContext<string>) => void), domain: 'event' | 'processing' = 'event') {
  const fired: number[] = [];
  const out = env()
    .fromElements('a', 'b')
    .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<string>().withTimestampAssigner(() => 1))
    .keyBy((x) => x)
    .process(
      new (class extends KeyedProcessFunction<string, string, string> {
        processElement(x: string, ctx: KeyedProcessContext<string>, o: Collector<string>) {
          if (typeof at === 'function') at(ctx);
          else if (domain === 'event') ctx.timerService().registerEventTimeTimer(at);
          else ctx.timerService().registerProcessingTimeTimer(at);
          o.collect(x);
        }
        override onTimer(ts: number) {
          fired.push(ts);
        }
      })(),
    )
    .name('Timers')
    .executeAndCollect();
  return { out, fired };
}

async function failure(p: Promise<unknown>): Promise<EddyError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(EddyError);
  return e as EddyError;
}

describe('event time stays within MAX_WATERMARK (issue 14, item 9)', () => {
  it.each([
    ['Infinity', Infinity],
    ['-Infinity', -Infinity],
    ['MAX_SAFE_INTEGER + 2', Number.MAX_SAFE_INTEGER + 2],
    ['1e300', 1e300],
  ])('an event-time timer at %s is refused with INVALID_ARGUMENT naming the operator and key', async (_, at) => {
    const e = await failure(timerJob(at).out);
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toMatch(/\[timers\] \[operator:Timers \(1\/1\)\] \[key:"a"\] a event-time timer needs a finite timestamp/);
  });

  it('a processing-time timer at Infinity is refused', async () => {
    const e = await failure(timerJob(Infinity, 'processing').out);
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toContain('processing-time timer');
  });

  it('a timer at MAX_WATERMARK fires at the end of input', async () => {
    const { out, fired } = timerJob(MAX_WATERMARK);
    expect(await out).toEqual(['a', 'b']);
    expect(fired).toEqual([MAX_WATERMARK, MAX_WATERMARK]);
  });

  it.each([
    ['NaN', NaN],
    ['Infinity', Infinity],
    ['MAX_SAFE_INTEGER + 2', Number.MAX_SAFE_INTEGER + 2],
  ])('a watermark generator emitting %s fails the job with a typed error naming the operator', async (_, wm) => {
    const strategy = WatermarkStrategy.forGenerator<number>(() => ({ onEvent: () => {}, onPeriodicEmit: (o) => o.emitWatermark(wm) })).withTimestampAssigner(
      (x) => x,
    );
    const e = await failure(env().fromElements(1, 2).assignTimestampsAndWatermarks(strategy).name('Stamps').executeAndCollect());
    expect(e.code).toBe('USER_FUNCTION_FAILED');
    expect(e.message).toMatch(/\[watermarks\] \[operator:Stamps \(1\/1\)\] the watermark generator emitted a watermark of/);
  });

  it('a timestamp assigner returning Infinity is refused', async () => {
    const e = await failure(
      env()
        .fromElements(1)
        .assignTimestampsAndWatermarks(WatermarkStrategy.forMonotonousTimestamps<number>().withTimestampAssigner(() => Infinity))
        .executeAndCollect(),
    );
    expect(e.code).toBe('USER_FUNCTION_FAILED');
    expect(e.message).toContain('timestamp assigner returned Infinity');
  });
});
