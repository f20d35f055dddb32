import { afterAll, describe, expect, it } from 'vitest';
import { CheckpointingMode, MemoryCheckpointStorage, StreamExecutionEnvironment, WorkerExecutor } from '../../src/index.ts';
import { CollectResults } from '../../src/engine/operators/sinks.ts';
import { nodeWorkerThreads } from '../../src/runtimes/node/node-workers.ts';
import { countJob } from './jobs.ts';

// One source subtask at every scale: a restored source subtask without splits would finish at
// once, and no checkpoint (so no savepoint) is taken once any task has finished.
const ARGS = { records: 2000, perPoll: 4, sourceParallelism: 1 };
const platform = nodeWorkerThreads();
const executors = new Map<number, WorkerExecutor>();
afterAll(() => Promise.all([...executors.values()].map((e) => e.shutdown())));

/** An environment at parallelism `p` on `p` workers (one executor per worker count, reused). */
function environment(p: number, storage: MemoryCheckpointStorage, savepoint?: string) {
  if (!executors.has(p)) executors.set(p, new WorkerExecutor({ workers: p, platform }));
  const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(p).setExecutor(executors.get(p)!);
  env.enableCheckpointing(10, CheckpointingMode.EXACTLY_ONCE).getCheckpointConfig().setCheckpointStorage(storage);
  if (savepoint) env.fromSavepoint(savepoint);
  return env;
}

/** Runs the job until its first committed output, then stops it with a savepoint; returns what it committed and the savepoint. */
async function runAndStop(p: number, storage: MemoryCheckpointStorage, savepoint?: string): Promise<{ committed: string[]; savepoint: string }> {
  const env = environment(p, storage, savepoint);
  const results = new CollectResults<string>();
  countJob.build(env, ARGS).collectInto(results);
  const client = await env.executeAsync('rescale-job');
  while (results.records.length === 0) await new Promise((r) => setTimeout(r, 2));
  const path = await client.stopWithSavepoint();
  await expect(client.result).rejects.toMatchObject({ code: 'JOB_CANCELLED' });
  return { committed: results.records, savepoint: path };
}

describe('worker executor rescaling', () => {
  it('savepoints carry the job from 2 workers to 3 to 1: committed output + resumed output = the failure-free output', { timeout: 120_000 }, async () => {
    const local = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(2);
    const expected = ((await countJob.build(local, ARGS).executeAndCollect('local')) as string[]).sort();
    const storage = new MemoryCheckpointStorage();
    const first = await runAndStop(2, storage);
    const second = await runAndStop(3, storage, first.savepoint);
    const rest = (await countJob.build(environment(1, storage, second.savepoint), ARGS).executeAndCollect('rescale-job')) as string[];
    // Every stage did part of the work: the savepoints really were taken mid-stream.
    expect(first.committed.length).toBeGreaterThan(0);
    expect(second.committed.length).toBeGreaterThan(0);
    expect(rest.length).toBeGreaterThan(0);
    expect([...first.committed, ...second.committed, ...rest].sort()).toEqual(expected);
  });
});

describe('worker executor configuration errors', () => {
  it('a graph built differently in a worker is refused with INVALID_CONFIG naming the difference', { timeout: 60_000 }, async () => {
    (globalThis as { eddyTestMainThread?: boolean }).eddyTestMainThread = true;
    const env = StreamExecutionEnvironment.getExecutionEnvironment()
      .setParallelism(2)
      .setExecutor(new WorkerExecutor({ workers: 2, platform }));
    const run = unstable(env);
    await expect(run).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    await expect(run).rejects.toThrow(/differs from the main thread's.*"events".*"events-in-worker"/);
  });

  it('a job not built by defineJob cannot run in workers: INVALID_CONFIG', async () => {
    const env = StreamExecutionEnvironment.getExecutionEnvironment().setExecutor(new WorkerExecutor({ workers: 1, platform }));
    const run = env.fromElements(1, 2, 3).executeAndCollect();
    await expect(run).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    await expect(run).rejects.toThrow(/defineJob/);
  });
});

async function unstable(env: StreamExecutionEnvironment): Promise<unknown> {
  const { unstableJob } = await import('./jobs.ts');
  return unstableJob.build(env, ARGS).executeAndCollect();
}
