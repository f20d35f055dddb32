/** executeAndCollectAsync with a WorkerExecutor: live results from worker threads, cancel on break. */
import { afterAll, describe, expect, it } from 'vitest';
import { StreamExecutionEnvironment, WorkerExecutor } from '../../src/index.ts';
import { nodeWorkerThreads } from '../../src/runtimes/node/node-workers.ts';
import { countJob } from '../workers/jobs.ts';

const executor = new WorkerExecutor({ workers: 2, platform: nodeWorkerThreads() });
afterAll(() => executor.shutdown());

describe('executeAndCollectAsync in workers', () => {
  it('without checkpointing, results arrive from the workers while the job runs; break cancels it', { timeout: 60_000 }, async () => {
    const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(2).setExecutor(executor);
    const results = countJob.build(env, { records: 200_000, perPoll: 5 }).executeAndCollectAsync('workers-live');
    const got: unknown[] = [];
    for await (const r of results) {
      got.push(r);
      if (got.length === 10) break;
    }
    expect(got).toHaveLength(10);
    const client = await results.jobClient();
    expect(client.getJobStatus()).toBe('CANCELED');
  });
});
