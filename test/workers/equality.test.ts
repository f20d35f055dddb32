import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CheckpointingMode,
  MemoryCheckpointStorage,
  RestartStrategies,
  StreamExecutionEnvironment,
  WorkerExecutor,
  type CheckpointStorage,
} from '../../src/index.ts';
import { nodeWorkerThreads } from '../../src/runtimes/node/node-workers.ts';
import { FileSystemCheckpointStorage } from '../../src/storages/fs.ts';
import { killingPlatform } from '../helpers/killing-platform.ts';
import { countJob } from './jobs.ts';

const ARGS = { records: 2000, perPoll: 20 };
const executor = new WorkerExecutor({ workers: 2, platform: nodeWorkerThreads() });
afterAll(() => executor.shutdown());

function environment(parallelism: number, storage: CheckpointStorage = new MemoryCheckpointStorage()) {
  const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(parallelism);
  env.enableCheckpointing(10, CheckpointingMode.EXACTLY_ONCE).getCheckpointConfig().setCheckpointStorage(storage);
  return env;
}

describe('worker executor (node worker_threads)', () => {
  it('gives the same results as the local executor for the same job', { timeout: 60_000 }, async () => {
    const expected = ((await countJob.build(environment(2), ARGS).executeAndCollect('local')) as string[]).sort();
    const got = ((await countJob.build(environment(2).setExecutor(executor), ARGS).executeAndCollect('workers')) as string[]).sort();
    expect(got.length).toBeGreaterThan(ARGS.records);
    expect(got).toEqual(expected);
  });

  it('runs parallelism 3 on 2 workers (subtask 2 shares worker 0) with the same results', { timeout: 60_000 }, async () => {
    const expected = ((await countJob.build(environment(3), ARGS).executeAndCollect('local')) as string[]).sort();
    const got = ((await countJob.build(environment(3).setExecutor(executor), ARGS).executeAndCollect('workers')) as string[]).sort();
    expect(got).toEqual(expected);
  });

  it('incremental checkpoints to the filesystem storage restore after a killed worker with exact results', { timeout: 60_000 }, async () => {
    const expected = ((await countJob.build(environment(2), ARGS).executeAndCollect('local')) as string[]).sort();
    const dir = await mkdtemp(join(tmpdir(), 'eddy-workers-'));
    const base = nodeWorkerThreads();
    let received = 0;
    let killed = false;
    const platform = killingPlatform(base, 'killing', () => {
      // Late enough that incremental checkpoints (deltas over a full one) were completed.
      if (++received !== 60 || killed) return false;
      killed = true;
      return true;
    });
    const killing = new WorkerExecutor({ workers: 2, platform });
    const warn = console.warn;
    console.warn = () => {};
    try {
      const env = environment(2, new FileSystemCheckpointStorage(dir)).setExecutor(killing).setRestartStrategy(RestartStrategies.fixedDelayRestart(2, 0));
      env.getCheckpointConfig().enableIncrementalCheckpoints(true);
      const got = ((await countJob.build(env, { records: 2000, perPoll: 4 }).executeAndCollect('incremental')) as string[]).sort();
      expect(killed).toBe(true);
      expect(got).toEqual(expected);
    } finally {
      console.warn = warn;
      await killing.shutdown();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
