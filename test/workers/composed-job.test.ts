/**
 * A job definition built inside another one (composition): the worker executor rebuilds the
 * outer definition in every worker, so the workers' graph has the outer job's extra steps.
 * Before, the inner `build()` replaced the recorded origin and workers built the inner job
 * alone, which the graph fingerprint then refused.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryCheckpointStorage, StreamExecutionEnvironment, WorkerExecutor } from '../../src/index.ts';
import { nodeWorkerThreads } from '../../src/runtimes/node/node-workers.ts';
import { composedJob } from './jobs.ts';

const ARGS = { records: 200, perPoll: 20 };
const executor = new WorkerExecutor({ workers: 2, platform: nodeWorkerThreads() });
afterAll(() => executor.shutdown());

function environment(workers?: WorkerExecutor) {
  const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(2).enableCheckpointing(20);
  env.getCheckpointConfig().setCheckpointStorage(new MemoryCheckpointStorage());
  if (workers) env.setExecutor(workers);
  return env;
}

describe('a job definition composed of another', () => {
  it('runs on workers with the outer job graph and gives the local executor’s output', { timeout: 60_000 }, async () => {
    const expected = ((await composedJob.build(environment(), ARGS).executeAndCollect('local')) as string[]).sort();
    expect(expected.length).toBeGreaterThan(ARGS.records);
    expect(expected.every((s) => s.startsWith('composed:'))).toBe(true);
    const got = ((await composedJob.build(environment(executor), ARGS).executeAndCollect('workers')) as string[]).sort();
    expect(got).toEqual(expected);
  });
});
