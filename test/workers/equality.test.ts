import { describe, expect, it } from 'vitest';
import { CheckpointingMode, MemoryCheckpointStorage, StreamExecutionEnvironment, WorkerExecutor } from '../../src/index.ts';
import { nodeWorkerThreads } from '../../src/runtimes/node-workers.ts';
import { countJob } from './jobs.ts';

const ARGS = { records: 2000, perPoll: 50 };

function environment(parallelism: number, workers?: number) {
  const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(parallelism);
  if (workers !== undefined) env.setExecutor(new WorkerExecutor({ workers, platform: nodeWorkerThreads() }));
  env.enableCheckpointing(20, CheckpointingMode.EXACTLY_ONCE).getCheckpointConfig().setCheckpointStorage(new MemoryCheckpointStorage());
  return env;
}

describe('worker executor (node worker_threads)', () => {
  it('gives the same results as the local executor for the same job', { timeout: 60_000 }, async () => {
    const expected = ((await countJob.build(environment(2), ARGS).executeAndCollect('local')) as string[]).sort();
    const got = ((await countJob.build(environment(2, 2), ARGS).executeAndCollect('workers')) as string[]).sort();
    expect(got.length).toBe(expected.length);
    expect(got).toEqual(expected);
  });
});
