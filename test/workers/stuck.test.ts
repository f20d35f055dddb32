/**
 * Issue 14, item 6 with workers: a user function that never returns in a worker is
 * abandoned; the worker that does not come back from its reset is terminated, the job
 * settles, and the executor's next job runs on a replacement worker.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryCheckpointStorage, RestartStrategies, StreamExecutionEnvironment, WorkerExecutor } from '../../src/index.ts';
import { nodeWorkerThreads } from '../../src/runtimes/node/node-workers.ts';
import { countJob, stuckJob } from './jobs.ts';

const executor = new WorkerExecutor({ workers: 1, platform: nodeWorkerThreads() });
afterAll(() => executor.shutdown());

describe('worker executor with a user function that never returns', () => {
  it('the job fails at the checkpoint timeout within bounds, and the next job runs on a fresh worker', { timeout: 60_000 }, async () => {
    const env = StreamExecutionEnvironment.getExecutionEnvironment()
      .setExecutor(executor)
      .setRestartStrategy(RestartStrategies.noRestart())
      .setTaskCancellationTimeout(500);
    env.enableCheckpointing(20).getCheckpointConfig().setCheckpointStorage(new MemoryCheckpointStorage()).setCheckpointTimeout(300);
    const started = Date.now();
    const run = stuckJob.build(env, { records: 400, perPoll: 4, stickAt: 50 }).executeAndCollect('stuck');
    // Bounded by the test itself: a hang shows as 'hung', not as a vitest timeout.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const outcome = await Promise.race([
      run.then(
        () => 'resolved',
        () => 'settled',
      ),
      new Promise<string>((r) => (timer = setTimeout(() => r('hung'), 30_000))),
    ]);
    clearTimeout(timer);
    expect(outcome).toBe('settled');
    await expect(run).rejects.toMatchObject({ code: 'CHECKPOINT_FAILED' });
    // Generous for a loaded machine (without abandonment it never settles at all).
    expect(Date.now() - started).toBeLessThan(30_000);
    const next = StreamExecutionEnvironment.getExecutionEnvironment().setExecutor(executor);
    const out = (await countJob.build(next, { records: 100, perPoll: 10 }).executeAndCollect('after-stuck')) as string[];
    expect(out.filter((s) => s.includes('#')).length).toBe(100);
  });
});
