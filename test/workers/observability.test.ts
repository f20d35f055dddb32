/**
 * Issue 19 on the WorkerExecutor (Node worker_threads): metrics name the worker of each
 * subtask, and a state query is routed to the worker that owns the key and answers the
 * same as in one thread.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryCheckpointStorage, StreamExecutionEnvironment, WorkerExecutor, type JobClient, type JobEvent } from '../../src/index.ts';
import { CollectResults } from '../../src/engine/operators/sinks.ts';
import { keyGroupForKey, subtaskForKeyGroup } from '../../src/format/key-groups.ts';
import { nodeWorkerThreads } from '../../src/runtimes/node/node-workers.ts';
import { COUNT_TTL_MS, inspectJob, keyOf, RECENT_TTL_MS, TIMER_BASE } from './inspect-jobs.ts';

const executor = new WorkerExecutor({ workers: 2, platform: nodeWorkerThreads() });
afterAll(() => executor.shutdown());
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const records = 120;
const keys = 5;

async function processed(client: JobClient): Promise<void> {
  for (let i = 0; i < 4000; i++) {
    const m = await client.getMetrics();
    if (m.operators.filter((o) => o.uid === 'inspect').reduce((n, o) => n + o.numRecordsIn, 0) === records) return;
    await sleep(5);
  }
  throw new Error('the job did not process its records');
}

describe('metrics and state queries on the WorkerExecutor', () => {
  it('metrics name each subtask’s worker; queryState reads from the owning worker; checkpoints are reported', { timeout: 60_000 }, async () => {
    const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(2).setExecutor(executor);
    env.enableCheckpointing(30).getCheckpointConfig().setCheckpointStorage(new MemoryCheckpointStorage());
    const results = new CollectResults<string>();
    inspectJob.build(env, { records, keys, hold: true, clockStart: 7_000 }).collectInto(results);
    const client = await env.executeAsync('inspect-workers');
    const events: JobEvent[] = [];
    const unsubscribe = client.subscribe((e) => events.push(e), { metricsIntervalMs: 100 });
    await processed(client);

    const m = await client.getMetrics();
    const inspect = m.operators.filter((o) => o.uid === 'inspect');
    expect(inspect.map((o) => [o.subtaskIndex, o.worker])).toEqual([
      [0, 0],
      [1, 1],
    ]);
    expect(m.operators.filter((o) => o.uid === 'events').reduce((n, o) => n + o.numRecordsOut, 0)).toBe(records);

    const workers = new Set<number | undefined>();
    // k0 is owned by subtask 1 (worker 1), k3 by subtask 0 (worker 0).
    for (const key of ['k0', 'k3']) {
      const seqs = Array.from({ length: records }, (_, i) => i).filter((i) => keyOf(i, keys) === key);
      const view = await client.queryState('inspect', key);
      const keyGroup = keyGroupForKey(key, 128);
      const subtask = subtaskForKeyGroup(128, 2, keyGroup);
      expect(view).toBeDefined();
      expect(view!).toMatchObject({ key, keyGroup, subtaskIndex: subtask, worker: subtask % 2 });
      expect(view!.states.count).toEqual({ kind: 'value', value: seqs.length, ttlRemainingMs: COUNT_TTL_MS });
      expect([...(view!.states.seen.value as number[])].sort((a, b) => a - b)).toEqual(seqs);
      expect((view!.states.bySeq.value as Array<[number, number]>).sort((a, b) => a[0] - b[0])).toEqual(seqs.map((s) => [s, s * 10]));
      expect(view!.states.recent.ttlRemainingMs).toBe(RECENT_TTL_MS);
      expect(view!.timers).toEqual({ eventTime: seqs.map((s) => TIMER_BASE + s), processingTime: [7_000 + TIMER_BASE] });
      workers.add(view!.worker);
    }
    expect(workers).toEqual(new Set([0, 1]));
    expect(await client.queryState('inspect', 'nobody')).toBeUndefined();
    await expect(client.queryState('nope', 'k0')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(client.queryState('plain', 'k0')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });

    for (let i = 0; i < 500 && !events.some((e) => e.type === 'checkpoint' && e.checkpoint.status === 'COMPLETED'); i++) await sleep(10);
    const completed = events.find((e) => e.type === 'checkpoint' && e.checkpoint.status === 'COMPLETED');
    expect(completed).toBeDefined();
    if (completed?.type === 'checkpoint') {
      expect(completed.checkpoint.syncDurationMs).toBeGreaterThanOrEqual(0);
      expect(completed.checkpoint.stateSizeBytes).toBeGreaterThan(0);
    }
    // Metrics come on their interval, which a fast run may not have reached yet: wait for one.
    const fromWorker1 = () => events.some((e) => e.type === 'metrics' && e.metrics.operators.some((o) => o.worker === 1));
    for (let i = 0; i < 500 && !fromWorker1(); i++) await sleep(10);
    expect(fromWorker1()).toBe(true);
    unsubscribe();
    await client.cancel();
    await expect(client.queryState('inspect', 'k0')).rejects.toMatchObject({ code: 'JOB_NOT_RUNNING' });
  });
});
