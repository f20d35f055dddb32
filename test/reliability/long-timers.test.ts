/**
 * Issue 14, item 8: durations above 2^31 ms (about 24.8 days) overflow platform timers,
 * which then fire at once. Checkpoint timeouts, intervals, restart delays and
 * processing-time timers of any length now wait correctly (in chunks).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  KeyedProcessFunction,
  MemoryCheckpointStorage,
  RestartStrategies,
  StreamExecutionEnvironment,
  type Collector,
  type KeyedProcessContext,
} from '../../src/index.ts';
import { MAX_TIMER_DELAY_MS, setLongTimeout } from '../../src/engine/long-timer.ts';
import { pacedSource } from '../helpers/sources.ts';

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** A storage that counts committed checkpoints. */
class CountingStorage extends MemoryCheckpointStorage {
  manifests = 0;
  override async put(path: string, data: Uint8Array): Promise<void> {
    if (path.endsWith('/_metadata')) this.manifests++;
    return super.put(path, data);
  }
}

function checkpointedJob(configure: (env: StreamExecutionEnvironment) => void) {
  const env = StreamExecutionEnvironment.getExecutionEnvironment().setRestartStrategy(RestartStrategies.noRestart());
  const storage = new CountingStorage();
  env.enableCheckpointing(10).getCheckpointConfig().setCheckpointStorage(storage);
  configure(env);
  env
    .fromSource(
      pacedSource(300, (i) => i, 3),
      undefined,
      'paced',
    )
    .keyBy((x) => x % 3)
    .map((x) => x)
    .addSink({ invoke: () => {} });
  return { env, storage };
}

describe('long durations wait correctly (issue 14, item 8)', () => {
  it('setLongTimeout waits 3e9 ms in chunks: not after 1 ms, not before its time, exactly once after', () => {
    vi.useFakeTimers();
    let fired = 0;
    setLongTimeout(() => fired++, 3e9);
    vi.advanceTimersByTime(1);
    expect(fired).toBe(0);
    vi.advanceTimersByTime(MAX_TIMER_DELAY_MS);
    expect(fired).toBe(0);
    vi.advanceTimersByTime(3e9 - MAX_TIMER_DELAY_MS);
    expect(fired).toBe(1);
    vi.advanceTimersByTime(1e10);
    expect(fired).toBe(1);
  });

  it('setLongTimeout(Infinity) never fires, and a cancelled long timer never fires', () => {
    vi.useFakeTimers();
    let fired = 0;
    setLongTimeout(() => fired++, Infinity);
    const cancel = setLongTimeout(() => fired++, 3e9);
    vi.advanceTimersByTime(MAX_TIMER_DELAY_MS + 5);
    cancel();
    vi.advanceTimersByTime(1e10);
    expect(fired).toBe(0);
  });

  for (const [label, timeout] of [
    ['Infinity', Infinity],
    ['30 days', 30 * 24 * 3600_000],
  ] as const) {
    it(`setCheckpointTimeout(${label}) lets checkpoints complete instead of expiring them at once`, { timeout: 10_000 }, async () => {
      const { env, storage } = checkpointedJob((e) => e.getCheckpointConfig().setCheckpointTimeout(timeout));
      await env.execute(`timeout-${label}`);
      expect(storage.manifests).toBeGreaterThan(1);
    });
  }

  it('enableCheckpointing(3e9) does not checkpoint every millisecond', { timeout: 10_000 }, async () => {
    const { env, storage } = checkpointedJob((e) => e.enableCheckpointing(3e9));
    await env.execute('interval-3e9');
    // Only the final checkpoint of the finished job: no periodic one within 3e9 ms.
    expect(storage.manifests).toBeLessThanOrEqual(1);
  });

  it('a processing-time timer at now + 3e9 asks the platform for no overflowing timer and does not fire', { timeout: 10_000 }, async () => {
    const spy = vi.spyOn(globalThis, 'setTimeout');
    let fired = 0;
    const env = StreamExecutionEnvironment.getExecutionEnvironment();
    env
      .fromSource(
        pacedSource(60, (i) => i, 2),
        undefined,
        'paced',
      )
      .keyBy((x) => x % 2)
      .process(
        new (class extends KeyedProcessFunction<number, number, number> {
          processElement(x: number, ctx: KeyedProcessContext<number>, out: Collector<number>) {
            ctx.timerService().registerProcessingTimeTimer(ctx.timerService().currentProcessingTime() + 3e9);
            out.collect(x);
          }
          override onTimer() {
            fired++;
          }
        })(),
      )
      .addSink({ invoke: () => {} });
    await env.execute('far-timer');
    const overflowing = spy.mock.calls.filter((c) => typeof c[1] === 'number' && c[1] > MAX_TIMER_DELAY_MS);
    expect(overflowing).toEqual([]);
    expect(fired).toBe(0);
  });

  it('refuses durations that cannot work, naming the setting', () => {
    const cfg = StreamExecutionEnvironment.getExecutionEnvironment().getCheckpointConfig();
    expect(() => cfg.setCheckpointInterval(Infinity)).toThrow(/\[checkpoint-config\] the checkpoint interval must be a positive number of ms, got Infinity/);
    expect(() => cfg.setCheckpointTimeout(NaN)).toThrow(
      /\[checkpoint-config\] the checkpoint timeout must be a positive number of ms \(or Infinity\), got NaN/,
    );
    expect(() => cfg.setMinPauseBetweenCheckpoints(-1)).toThrow(/\[checkpoint-config\] minPauseBetweenCheckpoints must be a non-negative number of ms/);
  });
});
