/**
 * How a worker's tasks are tuned: the source batch size comes from the executor's option,
 * else from the platform (Web Workers read more per poll, since their messages are dear),
 * else the one-thread default; the options are checked.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { StreamExecutionEnvironment, WorkerExecutor } from '../../src/index.ts';
import { SOURCE_BATCH_SIZE } from '../../src/engine/task.ts';
import { nodeWorkerThreads } from '../../src/runtimes/node/node-workers.ts';
import { pollSizeJob } from './jobs.ts';

const executors: WorkerExecutor[] = [];
afterAll(() => Promise.all(executors.map((e) => e.shutdown())));

async function pollSizes(options: { platformBatch?: number; sourceBatchSize?: number }): Promise<number[]> {
  const platform = { ...nodeWorkerThreads(), ...(options.platformBatch === undefined ? {} : { sourceBatchSize: options.platformBatch }) };
  const executor = new WorkerExecutor({ workers: 2, platform, sourceBatchSize: options.sourceBatchSize });
  executors.push(executor);
  const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(2).setExecutor(executor);
  return (await pollSizeJob.build(env, {}).executeAndCollect('poll sizes')) as number[];
}

describe('worker task tuning', () => {
  it("a source in a worker polls the executor's sourceBatchSize, else the platform's, else the one-thread default", { timeout: 60_000 }, async () => {
    expect(await pollSizes({})).toEqual([SOURCE_BATCH_SIZE, SOURCE_BATCH_SIZE]);
    expect(await pollSizes({ platformBatch: 77 })).toEqual([77, 77]);
    expect(await pollSizes({ platformBatch: 77, sourceBatchSize: 33 })).toEqual([33, 33]);
  });
});
