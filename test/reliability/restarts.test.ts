/**
 * Issue 14, item 7: restart strategies are validated, Flink 1.19's exponential delay is
 * the default of a checkpointed job, and a job that keeps failing shows its repeated
 * cause through its JobClient instead of only in console.warn.
 */
import { describe, expect, it } from 'vitest';
import { EddyError, RestartStrategies, StreamExecutionEnvironment, type RestartStrategy } from '../../src/index.ts';
import { RestartBackoff } from '../../src/engine/restart-backoff.ts';

const codeOf = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(EddyError);
    expect((e as Error).message).toContain('[restart-strategy]');
    return (e as EddyError).code;
  }
  return undefined;
};

describe('restart strategies are validated (issue 14, item 7)', () => {
  it.each<[string, () => unknown]>([
    ['{ maxAttempts: NaN, delayMs: 0 }', () => StreamExecutionEnvironment.getExecutionEnvironment().setRestartStrategy({ maxAttempts: NaN, delayMs: 0 })],
    ['{ maxAttempts: 1.5, delayMs: 0 }', () => StreamExecutionEnvironment.getExecutionEnvironment().setRestartStrategy({ maxAttempts: 1.5, delayMs: 0 })],
    ['{ maxAttempts: 3, delayMs: -1 }', () => StreamExecutionEnvironment.getExecutionEnvironment().setRestartStrategy({ maxAttempts: 3, delayMs: -1 })],
    [
      'an unknown strategy',
      () => StreamExecutionEnvironment.getExecutionEnvironment().setRestartStrategy({ strategy: 'sometimes' } as unknown as RestartStrategy),
    ],
    ['fixedDelayRestart(2, NaN)', () => RestartStrategies.fixedDelayRestart(2, NaN)],
    ['exponentialDelayRestart with multiplier 0.5', () => RestartStrategies.exponentialDelayRestart(10, 100, 0.5, 1000, 0)],
    ['exponentialDelayRestart with max below initial', () => RestartStrategies.exponentialDelayRestart(100, 10, 2, 1000, 0)],
    ['exponentialDelayRestart with jitter 2', () => RestartStrategies.exponentialDelayRestart(10, 100, 2, 1000, 2)],
    ['failureRateRestart(0, …)', () => RestartStrategies.failureRateRestart(0, 1000, 0)],
    ['failureRateRestart with an interval of Infinity', () => RestartStrategies.failureRateRestart(1, Infinity, 0)],
  ])('%s is refused with INVALID_CONFIG naming the restart strategy', (_, f) => {
    expect(codeOf(f)).toBe('INVALID_CONFIG');
  });

  it("a checkpointed job's default is Flink 1.19's exponential delay; without checkpoints, no restart", () => {
    const env = StreamExecutionEnvironment.getExecutionEnvironment();
    expect(env.getRestartStrategy()).toMatchObject({ maxAttempts: 0 });
    env.enableCheckpointing(1000);
    expect(env.getRestartStrategy()).toEqual({
      strategy: 'exponential-delay',
      initialBackoffMs: 1000,
      maxBackoffMs: 60_000,
      backoffMultiplier: 1.5,
      resetBackoffThresholdMs: 3_600_000,
      jitterFactor: 0.1,
      attemptsBeforeResetBackoff: Infinity,
    });
  });
});

describe('RestartBackoff follows Flink semantics', () => {
  it('exponential delay: grows by the multiplier up to the max, resets after the threshold, stops after attemptsBeforeResetBackoff', () => {
    const b = new RestartBackoff(RestartStrategies.exponentialDelayRestart(100, 1000, 2, 10_000, 0, 6));
    const delays = [0, 1, 2, 3, 4, 5].map((i) => b.onFailure(i));
    expect(delays).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(b.onFailure(6)).toBeUndefined();
    // Ran longer than threshold + last backoff without failing: back to the initial delay.
    expect(b.onFailure(6 + 11_001)).toBe(100);
  });

  it('exponential delay: jitter stays within ±jitterFactor of the backoff', () => {
    const low = new RestartBackoff(RestartStrategies.exponentialDelayRestart(1000, 60_000, 1.5, 3_600_000, 0.1), () => 0);
    const high = new RestartBackoff(RestartStrategies.exponentialDelayRestart(1000, 60_000, 1.5, 3_600_000, 0.1), () => 0.999999);
    expect(low.onFailure(0)).toBe(900);
    expect(high.onFailure(0)).toBe(1100);
    expect(low.onFailure(1)).toBe(1350);
  });

  it('failure rate: more than failureRate failures within the interval fail the job', () => {
    const b = new RestartBackoff(RestartStrategies.failureRateRestart(2, 1000, 5));
    expect(b.onFailure(0)).toBe(5);
    expect(b.onFailure(500)).toBe(5);
    expect(b.onFailure(900)).toBeUndefined();
    const c = new RestartBackoff(RestartStrategies.failureRateRestart(2, 1000, 5));
    expect([c.onFailure(0), c.onFailure(500), c.onFailure(1600), c.onFailure(1700)]).toEqual([5, 5, 5, 5]);
  });

  it('fixed delay: maxAttempts restarts, then the failure fails the job', () => {
    const b = new RestartBackoff(RestartStrategies.fixedDelayRestart(2, 7));
    expect([b.onFailure(0), b.onFailure(1), b.onFailure(2)]).toEqual([7, 7, undefined]);
  });
});

describe('a job that keeps failing shows it in its JobClient', () => {
  it('numRestarts grows, the last failure counts its repeats and the growing delay, and cancel ends the wait', { timeout: 8_000 }, async () => {
    const env = StreamExecutionEnvironment.getExecutionEnvironment()
      .enableCheckpointing(1000)
      .setRestartStrategy(RestartStrategies.exponentialDelayRestart(10, 400, 2, 3_600_000, 0));
    env
      .fromElements(1, 2, 3)
      .map((x) => {
        if (x === 2) throw new Error('disk is read-only');
        return x;
      })
      .addSink({ invoke: () => {} });
    const warnings: string[] = [];
    const warn = console.warn;
    console.warn = (m: string) => void warnings.push(m);
    try {
      const client = await env.executeAsync('keeps-failing');
      while (client.getNumRestarts() < 4) await new Promise((r) => setTimeout(r, 5));
      const last = client.getLastFailure()!;
      expect(last.repeats).toBeGreaterThanOrEqual(4);
      expect((last.error as Error).message).toContain('disk is read-only');
      expect(last.restartDelayMs).toBeGreaterThanOrEqual(80);
      const started = Date.now();
      await client.cancel();
      expect(Date.now() - started).toBeLessThan(400);
      expect(client.getJobStatus()).toBe('CANCELED');
    } finally {
      console.warn = warn;
    }
    expect(warnings.some((w) => /the same failure \d+ times in a row.*disk is read-only/.test(w))).toBe(true);
  });
});
