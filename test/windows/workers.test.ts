/** Windows on the worker executor (Node worker_threads) give the local executor's results. */
import { afterAll, describe, expect, it } from 'vitest';
import { CheckpointingMode, MemoryCheckpointStorage, StreamExecutionEnvironment, WorkerExecutor } from '../../src/index.ts';
import { nodeWorkerThreads } from '../../src/runtimes/node/node-workers.ts';
import { windowJob } from './window-jobs.ts';

const executor = new WorkerExecutor({ workers: 2, platform: nodeWorkerThreads() });
afterAll(() => executor.shutdown());

function environment(parallelism: number) {
  const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(parallelism);
  env.enableCheckpointing(10, CheckpointingMode.EXACTLY_ONCE).getCheckpointConfig().setCheckpointStorage(new MemoryCheckpointStorage());
  return env;
}

describe('windows on the worker executor', () => {
  it('sessions, sliding windows and the late-data side output at parallelism 3 on 2 workers equal the local run', { timeout: 60_000 }, async () => {
    const args = { seed: 5, count: 300 };
    const expected = ((await windowJob.build(environment(3), args).executeAndCollect('local')) as string[]).sort();
    const got = ((await windowJob.build(environment(3).setExecutor(executor), args).executeAndCollect('workers')) as string[]).sort();
    expect(expected.some((s) => s.startsWith('L|'))).toBe(true);
    expect(expected.some((s) => s.startsWith('S|'))).toBe(true);
    expect(got).toEqual(expected);
  });
});
