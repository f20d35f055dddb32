/**
 * Chaos across worker threads: a worker of the {@link WorkerExecutor} is terminated from
 * outside at a random point of the run (after its n-th message to the main thread); the
 * job must restore and commit exactly the failure-free output.
 */
import { MemoryCheckpointStorage, RestartStrategies, StreamExecutionEnvironment, WorkerExecutor } from '../../src/index.ts';
import { nodeWorkerThreads } from '../../src/runtimes/node/node-workers.ts';
import { killingPlatform } from '../helpers/killing-platform.ts';
import { prng } from '../helpers/prng.ts';
import { countJob } from '../workers/jobs.ts';
import { failed, judge, newTally, record, settleWithin, type Tally } from './tally.ts';

const ARGS = { records: 900, perPoll: 6 };

/** Kills one worker in each of `runs` runs, at message counts drawn from `seed`. */
export async function runWorkerKillChaos(runs: number, seed: number, hangAfterMs = 120_000): Promise<Tally> {
  const random = prng(seed);
  let received = 0;
  let killAt = 0;
  let kills = 0;
  const platform = killingPlatform(nodeWorkerThreads(), 'chaos-killing', () => {
    if (++received !== killAt) return false;
    kills++;
    return true;
  });
  const executor = new WorkerExecutor({ workers: 2, spareWorkers: 1, platform });
  const run = async () => {
    const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(2).setExecutor(executor);
    env.enableCheckpointing(5).setRestartStrategy(RestartStrategies.fixedDelayRestart(3, 0));
    env.getCheckpointConfig().setCheckpointStorage(new MemoryCheckpointStorage()).setMaxRetainedCheckpoints(2);
    return ((await countJob.build(env, ARGS).executeAndCollect('chaos-workers')) as string[]).sort();
  };
  const warn = console.warn;
  console.warn = () => {};
  const tally = newTally();
  try {
    killAt = 0;
    await run(); // warm-up: workers started, modules loaded
    received = 0;
    const expected = await run();
    const messages = received;
    for (let i = 0; i < runs; i++) {
      received = 0;
      // Within the first 60 % of a failure-free run's messages, so the kill happens before the end.
      killAt = 1 + Math.floor(random() * messages * 0.6);
      const before = kills;
      const settled = await settleWithin(hangAfterMs, run);
      const faults = kills - before;
      const name = `worker killed after message ${killAt}`;
      if ('hang' in settled) record(tally, name, faults, { kind: 'hang', after: hangAfterMs });
      else if ('error' in settled) record(tally, name, faults, failed(settled.error));
      else record(tally, name, faults, judge(expected, settled.value));
    }
  } finally {
    console.warn = warn;
    await executor.shutdown();
  }
  return tally;
}
