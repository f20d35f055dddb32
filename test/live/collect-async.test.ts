/** executeAndCollectAsync: live results of an unbounded job, exactly once with checkpoints, cancel on break. */
import { describe, expect, it } from 'vitest';
import { EventTargetSource, MemoryCheckpointStorage, RestartStrategies, StreamExecutionEnvironment, type JobClient } from '../../src/index.ts';
import { TrackedTarget, until } from './helpers.ts';

function numbers(target: TrackedTarget, endOn?: string): EventTargetSource<CustomEvent<number>, number> {
  return new EventTargetSource<CustomEvent<number>, number>(target, 'n', { map: (e) => e.detail, endOn });
}

describe('executeAndCollectAsync', () => {
  it('without checkpointing yields values while the unbounded job runs, and break cancels the job', async () => {
    const target = new TrackedTarget();
    const results = StreamExecutionEnvironment.getExecutionEnvironment()
      .fromSource(numbers(target), undefined, 'live')
      .map((n: number) => n * 10)
      .executeAndCollectAsync('live-values');
    const got: number[] = [];
    let sent = 0;
    await until(() => target.listeners === 1, 'the source to listen');
    target.emit('n', sent++);
    for await (const v of results) {
      got.push(v);
      if (got.length === 5) break;
      // The next value is produced only after the previous one arrived: they come live, not at the end.
      target.emit('n', sent++);
    }
    expect(got).toEqual([0, 10, 20, 30, 40]);
    const client: JobClient = await results.jobClient();
    expect(client.getJobStatus()).toBe('CANCELED');
    expect(target.listeners).toBe(0);
  });

  it('with checkpointing yields each value once its checkpoint completed, and ends with a bounded end', async () => {
    const target = new TrackedTarget();
    const env = StreamExecutionEnvironment.getExecutionEnvironment().enableCheckpointing(20);
    env.getCheckpointConfig().setCheckpointStorage(new MemoryCheckpointStorage());
    const results = env.fromSource(numbers(target, 'end'), undefined, 'live').executeAndCollectAsync('checkpointed');
    await until(() => target.listeners === 2, 'the source to listen');
    target.emit('n', 1);
    target.emit('n', 2);
    const first = await results.next();
    expect(first).toEqual({ value: 1, done: false });
    expect(await results.next()).toEqual({ value: 2, done: false });
    target.emit('n', 3);
    target.emit('end');
    expect(await results.next()).toEqual({ value: 3, done: false });
    expect(await results.next()).toEqual({ value: undefined, done: true });
    expect((await results.jobClient()).getJobStatus()).toBe('FINISHED');
  });

  it('with checkpointing nothing is repeated or lost across a restart of the job', async () => {
    let failOnce = true;
    const env = StreamExecutionEnvironment.getExecutionEnvironment().enableCheckpointing(10).setRestartStrategy(RestartStrategies.fixedDelayRestart(3, 0));
    env.getCheckpointConfig().setCheckpointStorage(new MemoryCheckpointStorage());
    // A replayable bounded source that pauses between records, so checkpoints fall in the middle.
    const results = env
      .fromGenerator((i) => i, { count: 200, ratePerSecond: 2000 })
      .map((i: number) => {
        if (i === 120 && failOnce) {
          failOnce = false;
          throw new Error('injected');
        }
        return i;
      })
      .executeAndCollectAsync('restart');
    const got: number[] = [];
    for await (const v of results) got.push(v);
    expect(failOnce).toBe(false);
    expect(got).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect((await results.jobClient()).getNumRestarts()).toBe(1);
  });

  it('without checkpointing, a restart after values were delivered fails the iteration instead of repeating them', async () => {
    let failOnce = true;
    const results = StreamExecutionEnvironment.getExecutionEnvironment()
      .setRestartStrategy(RestartStrategies.fixedDelayRestart(3, 0))
      .fromGenerator((i) => i, { count: 100, ratePerSecond: 2000 })
      .map((i: number) => {
        if (i === 50 && failOnce) {
          failOnce = false;
          throw new Error('injected');
        }
        return i;
      })
      .executeAndCollectAsync('uncheckpointed-restart');
    const got: number[] = [];
    const error = await (async () => {
      for await (const v of results) got.push(v);
    })().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'JOB_FAILED' });
    expect((error as Error).message).toContain('restarted without checkpointing');
    const client = await results.jobClient();
    await client.result.catch(() => {});
    expect(client.getJobStatus()).toBe('CANCELED');
    // What was delivered is each value once, in order.
    expect(got).toEqual(Array.from({ length: got.length }, (_, i) => i));
  });

  it("a job's failure is thrown by the iteration", async () => {
    const target = new TrackedTarget();
    const results = StreamExecutionEnvironment.getExecutionEnvironment()
      .fromSource(numbers(target), undefined, 'live')
      .map((n: number) => {
        if (n === 2) throw new Error('bad record');
        return n;
      })
      .executeAndCollectAsync('failing');
    await until(() => target.listeners === 1, 'the source to listen');
    target.emit('n', 1);
    expect(await results.next()).toEqual({ value: 1, done: false });
    target.emit('n', 2);
    await expect(results.next()).rejects.toThrow(/bad record/);
    expect(await results.next()).toEqual({ value: undefined, done: true });
  });
});
