import { afterAll, describe, expect, it } from 'vitest';
import {
  CheckpointingMode,
  MemoryCheckpointStorage,
  RestartStrategies,
  StreamExecutionEnvironment,
  WorkerExecutor,
  type SpawnedWorker,
  type WorkerPlatform,
} from '../../src/index.ts';
import { nodeWorkerThreads } from '../../src/runtimes/node/node-workers.ts';
import { countJob } from './jobs.ts';

const ARGS = { records: 1200, perPoll: 8 };
/** Kill points: 20 in `npm test`, to stay in its time budget; `npm run test:long` (EDDY_LONG=1) runs 50. */
const KILL_POINTS = process.env.EDDY_LONG === '1' ? 50 : 20;

/** Node worker_threads that terminates, from outside, the worker that sends the armed n-th message of a run. */
class KillingPlatform implements WorkerPlatform {
  readonly name = 'killing';
  private readonly base = nodeWorkerThreads();
  /** Messages received from all workers since `arm()`. */
  received = 0;
  killed = false;
  /** Whether a worker was deployed with restored state since `arm()` (a restart from a checkpoint, not from scratch). */
  restored = false;
  private atMessage = 0;

  /** Kill at the `atMessage`-th message of the next run (0: never). */
  arm(atMessage: number): void {
    this.received = 0;
    this.killed = false;
    this.restored = false;
    this.atMessage = atMessage;
  }

  spawn(index: number): SpawnedWorker {
    const handle = this.base.spawn(index);
    return {
      ...handle,
      postMessage: (message, transfer) => {
        const m = message as { t: string; restore?: unknown[] };
        if (m.t === 'deploy' && (m.restore?.length ?? 0) > 0) this.restored = true;
        handle.postMessage(message, transfer);
      },
      listen: (handlers) =>
        handle.listen({
          ...handlers,
          message: (data) => {
            handlers.message(data);
            if (++this.received === this.atMessage && !this.killed) {
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

const platform = new KillingPlatform();
// One executor for every run: surviving workers are reused, killed ones replaced by the spare.
const executor = new WorkerExecutor({ workers: 2, spareWorkers: 1, platform });
afterAll(() => executor.shutdown());

async function run(): Promise<string[]> {
  const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(2).setExecutor(executor);
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
  it(`a worker terminated from outside at ${KILL_POINTS} different points: the job restores and the output is exactly the failure-free one`, {
    timeout: 600_000,
  }, async () => {
    platform.arm(0);
    await run(); // warms the workers up, so that the next runs' message counts are steady ones
    platform.arm(0);
    const expected = await run();
    const firstCount = platform.received;
    platform.arm(0);
    expect(await run()).toEqual(expected);
    expect(expected.filter((r) => r.includes('#')).length).toBe(ARGS.records);
    // Kill points spread over the first 60% of the messages workers send in a failure-free
    // run (acks, commits, replies), so that run-to-run jitter cannot push a point past the end.
    const messages = Math.min(firstCount, platform.received);
    expect(messages).toBeGreaterThan(60);
    const mismatches: string[] = [];
    let kills = 0;
    let restored = 0;
    for (let k = 0; k < KILL_POINTS; k++) {
      // A run that ends before its kill point (runs vary in length) is repeated with an earlier point.
      for (let atMessage = 1 + Math.floor((k * 0.6 * messages) / KILL_POINTS), tries = 0; tries < 3; tries++, atMessage = Math.ceil(atMessage / 2)) {
        platform.arm(atMessage);
        const got = await run();
        if (JSON.stringify(got) !== JSON.stringify(expected))
          mismatches.push(`killed at message ${atMessage}: ${got.length} records, expected ${expected.length}`);
        if (!platform.killed) continue;
        kills++;
        if (platform.restored) restored++;
        break;
      }
    }
    expect(mismatches).toEqual([]);
    expect(kills).toBe(KILL_POINTS);
    // Most restarts restored a checkpoint (the earliest kill points come before the first one): over 70%, as 35 of 50.
    expect(restored).toBeGreaterThan(KILL_POINTS * 0.7);
  });
});
