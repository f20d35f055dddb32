import { afterAll, describe, expect, it } from 'vitest';
import { CheckpointingMode, MemoryCheckpointStorage, RestartStrategies, StreamExecutionEnvironment, WorkerExecutor } from '../../src/index.ts';
import { nodeWorkerThreads } from '../../src/runtimes/node/node-workers.ts';
import { countJob, throwingJob } from './jobs.ts';

const ARGS = { records: 1200, perPoll: 8 };
const executor = new WorkerExecutor({ workers: 2, platform: nodeWorkerThreads() });
afterAll(() => executor.shutdown());

function environment() {
  const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(2).setExecutor(executor);
  env.enableCheckpointing(5, CheckpointingMode.EXACTLY_ONCE).getCheckpointConfig().setCheckpointStorage(new MemoryCheckpointStorage());
  return env;
}

describe('worker executor when user code throws in a worker', () => {
  it('restarts from the latest checkpoint and gives exactly the failure-free output', { timeout: 60_000 }, async () => {
    const expected = ((await countJob.build(environment(), ARGS).executeAndCollect('ok')) as string[]).sort();
    const warnings: string[] = [];
    const warn = console.warn;
    console.warn = (m: string) => warnings.push(m);
    try {
      for (const throwAt of [300, 900]) {
        const env = environment().setRestartStrategy(RestartStrategies.fixedDelayRestart(3, 0));
        const got = ((await throwingJob.build(env, { ...ARGS, throwAt }).executeAndCollect('throws')) as string[]).sort();
        expect(got, `throwing at ${throwAt}`).toEqual(expected);
      }
    } finally {
      console.warn = warn;
    }
    expect(warnings.filter((w) => w.includes('injected failure at record 300')).length).toBeGreaterThan(0);
    expect(warnings.filter((w) => w.includes('injected failure at record 900')).length).toBeGreaterThan(0);
  });

  it("without restarts the job fails with the worker's typed error, naming operator and key", { timeout: 60_000 }, async () => {
    const env = environment().setRestartStrategy(RestartStrategies.noRestart());
    const run = throwingJob.build(env, { ...ARGS, throwAt: 1100 }).executeAndCollect('fails');
    await expect(run).rejects.toMatchObject({ code: 'USER_FUNCTION_FAILED' });
    await expect(run).rejects.toThrow(/\[operator:ThrowOnce \(\d\/2\)\].*\[key:"k\d+"\].*injected failure at record 1100/);
  });
});
