/**
 * The worker executor in real Chromium: dedicated module Web Workers, MessageChannels
 * between them, the same job module the Node tests use.
 */
import { describe, expect, it } from 'vitest';
import { CheckpointingMode, MemoryCheckpointStorage, RestartStrategies, StreamExecutionEnvironment, WorkerExecutor } from '../../src/index.ts';
import { webWorkers } from '../../src/runtimes/web/web-workers.ts';
import { killingPlatform } from '../helpers/killing-platform.ts';
import { countJob } from '../workers/jobs.ts';
import { inspectJob } from '../workers/inspect-jobs.ts';
import { CollectResults } from '../../src/engine/operators/sinks.ts';
import { keptChannelYield } from '../../src/engine/yield.ts';

const ARGS = { records: 600, perPoll: 20 };

function environment(workers?: WorkerExecutor) {
  const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(2);
  if (workers) env.setExecutor(workers);
  env.enableCheckpointing(20, CheckpointingMode.EXACTLY_ONCE).getCheckpointConfig().setCheckpointStorage(new MemoryCheckpointStorage());
  return env;
}

describe('worker executor (chromium web workers)', () => {
  it('gives the same results as the local executor for the same job', { timeout: 60_000 }, async () => {
    const expected = ((await countJob.build(environment(), ARGS).executeAndCollect('local')) as string[]).sort();
    const executor = new WorkerExecutor({ workers: 2, platform: webWorkers() });
    try {
      const got = ((await countJob.build(environment(executor), ARGS).executeAndCollect('workers')) as string[]).sort();
      expect(got.length).toBeGreaterThan(ARGS.records);
      expect(got).toEqual(expected);
    } finally {
      await executor.shutdown();
    }
  });

  it('a worker terminated at 3 points mid-run: the job restores and the output is exactly the failure-free one', { timeout: 120_000 }, async () => {
    const expected = ((await countJob.build(environment(), ARGS).executeAndCollect('local')) as string[]).sort();
    const base = webWorkers();
    let received = 0;
    let killAt = 0;
    let kills = 0;
    const platform = killingPlatform(base, 'killing-web-workers', () => {
      if (++received !== killAt) return false;
      kills++;
      return true;
    });
    const executor = new WorkerExecutor({ workers: 2, platform });
    const warn = console.warn;
    console.warn = () => {};
    try {
      for (let at of [5, 15, 25]) {
        // A fast run may end before its kill point (fewer, larger messages): then the same
        // run is repeated with an earlier point, so that every one of the 3 really kills.
        for (const before = kills; kills === before; at = Math.max(1, Math.floor(at / 2))) {
          received = 0;
          killAt = at;
          const env = environment(executor).setRestartStrategy(RestartStrategies.fixedDelayRestart(3, 0));
          const got = ((await countJob.build(env, ARGS).executeAndCollect('workers')) as string[]).sort();
          expect(got, `killed at message ${at}`).toEqual(expected);
        }
      }
      expect(kills).toBe(3);
    } finally {
      console.warn = warn;
      await executor.shutdown();
    }
  });

  it('metrics name the web worker of each subtask, and queryState is answered by the worker owning the key (issue 19)', { timeout: 60_000 }, async () => {
    const executor = new WorkerExecutor({ workers: 2, platform: webWorkers() });
    try {
      const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(2).setExecutor(executor);
      inspectJob.build(env, { records: 40, keys: 5, hold: true, clockStart: 1_000 }).collectInto(new CollectResults<string>());
      const client = await env.executeAsync('inspect-web');
      const inspected = async () => (await client.getMetrics()).operators.filter((o) => o.uid === 'inspect');
      for (let i = 0; i < 2000 && (await inspected()).reduce((n, o) => n + o.numRecordsIn, 0) < 40; i++) await new Promise((r) => setTimeout(r, 5));
      expect((await inspected()).map((o) => [o.subtaskIndex, o.worker, o.numRecordsIn > 0])).toEqual([
        [0, 0, true],
        [1, 1, true],
      ]);
      // k0 is owned by subtask 1 (worker 1): records 0, 5, …, 35.
      const view = await client.queryState('inspect', 'k0');
      expect(view).toMatchObject({ subtaskIndex: 1, worker: 1, states: { count: { kind: 'value', value: 8, ttlRemainingMs: 60_000 } } });
      await client.cancel();
    } finally {
      await executor.shutdown();
    }
  });
});

describe('keptChannelYield (the input turn of a Web Worker)', () => {
  it('lets messages that arrived on other ports before it run first, also ports made after its channel', async () => {
    const yieldOnce = keptChannelYield();
    // Made first, so its port is older than the "peer" port below (Node would serve it first).
    await yieldOnce();
    const order: string[] = [];
    const peer = new MessageChannel();
    peer.port1.onmessage = () => order.push('peer message');
    for (let round = 0; round < 3; round++) {
      peer.port2.postMessage(round);
      // Let the message arrive and queue (a timer's turn), then yield behind it.
      await new Promise((resolve) => setTimeout(resolve, 5));
      peer.port2.postMessage(round);
      await yieldOnce();
      order.push('resumed');
    }
    peer.port1.close();
    expect(order).toEqual(['peer message', 'peer message', 'resumed', 'peer message', 'peer message', 'resumed', 'peer message', 'peer message', 'resumed']);
  });
});
