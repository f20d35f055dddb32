import { describe, expect, it } from 'vitest';
import { CheckpointingMode, MemoryCheckpointStorage, RestartStrategies, StreamExecutionEnvironment, WorkerExecutor, type SpawnedWorker, type WorkerPlatform } from '../../src/index.ts';
import { nodeWorkerThreads } from '../../src/runtimes/node-workers.ts';
import { countJob } from './jobs.ts';

const ARGS = { records: 1200, perPoll: 20 };

/** A platform that counts each worker's messages and terminates one worker from outside at a chosen message. */
class KillingPlatform implements WorkerPlatform {
  readonly name = 'killing';
  private readonly base = nodeWorkerThreads();
  /** Messages received per spawned worker, in spawn order. */
  readonly received: number[] = [];
  killed = false;
  constructor(private readonly kill?: { worker: number; atMessage: number }) {}
  spawn(index: number): SpawnedWorker {
    const handle = this.base.spawn(index);
    const n = this.received.push(0) - 1;
    return {
      ...handle,
      listen: (handlers) =>
        handle.listen({
          ...handlers,
          message: (data) => {
            const count = ++this.received[n];
            handlers.message(data);
            // Only the first worker with that index is killed: the restarted attempt runs undisturbed.
            if (this.kill && !this.killed && index === this.kill.worker && count === this.kill.atMessage) {
              this.killed = true;
              void handle.terminate();
            }
          },
        }),
    };
  }
  createChannel() {
    return this.base.createChannel();
  }
}

async function run(platform: WorkerPlatform): Promise<string[]> {
  const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(2);
  env.setExecutor(new WorkerExecutor({ workers: 2, platform }));
  env.enableCheckpointing(5, CheckpointingMode.EXACTLY_ONCE).setRestartStrategy(RestartStrategies.fixedDelayRestart(3, 0));
  env.getCheckpointConfig().setCheckpointStorage(new MemoryCheckpointStorage()).setMaxRetainedCheckpoints(2);
  const warn = console.warn;
  console.warn = () => {};
  try {
    return ((await countJob.build(env, ARGS).executeAndCollect('kill-job')) as string[]).sort();
  } finally {
    console.warn = warn;
  }
}

describe('worker executor under killed workers', () => {
  it('a worker terminated from outside at 50 different points: the job restores and the output is exactly the failure-free one', { timeout: 600_000 }, async () => {
    const baseline = new KillingPlatform();
    const expected = await run(baseline);
    expect(expected.length).toBe(ARGS.records + 0 + expected.filter((r) => r.includes('@')).length);
    // Kill points spread over the messages the smaller worker sends in a failure-free run.
    const messages = Math.min(...baseline.received);
    expect(messages).toBeGreaterThan(10);
    const points = Array.from({ length: 50 }, (_, k) => ({ worker: k % 2, atMessage: 1 + Math.floor((k * (messages - 1)) / 50) }));
    const mismatches: string[] = [];
    let kills = 0;
    for (let i = 0; i < points.length; i += 5) {
      await Promise.all(
        points.slice(i, i + 5).map(async (p) => {
          const platform = new KillingPlatform(p);
          const got = await run(platform);
          if (platform.killed) kills++;
          if (JSON.stringify(got) !== JSON.stringify(expected)) mismatches.push(`worker ${p.worker} killed at message ${p.atMessage}: ${got.length} records, expected ${expected.length}`);
        }),
      );
    }
    expect(mismatches).toEqual([]);
    expect(kills).toBe(50);
  });
});
