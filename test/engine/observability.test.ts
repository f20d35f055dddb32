/**
 * Issue 19, "What the engine gains": a running job's metrics, checkpoint statistics and
 * events through JobClient, and a query of one key's state (in one thread here; in
 * workers in test/workers/observability.test.ts).
 */
import { describe, expect, it } from 'vitest';
import {
  EddyError,
  ManualClock,
  RestartStrategies,
  StreamExecutionEnvironment,
  type CheckpointStats,
  type JobClient,
  type JobEvent,
  type JobMetrics,
  type Source,
  TumblingEventTimeWindows,
  WatermarkStrategy,
} from '../../src/index.ts';
import { CollectResults } from '../../src/engine/operators/sinks.ts';
import { MAX_WATERMARK } from '../../src/api/watermarks.ts';
import { keyGroupForKey, subtaskForKeyGroup } from '../../src/format/key-groups.ts';
import { FaultyStorage } from '../helpers/faulty-storage.ts';
import { MetricsView, type SubtaskSample } from '../../src/engine/metrics.ts';
import { COUNT_TTL_MS, inspectJob, keyOf, RECENT_TTL_MS, TIMER_BASE, type InspectArgs } from '../workers/inspect-jobs.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts the inspected job at parallelism `p`, collected. */
async function start(
  p: number,
  args: InspectArgs,
  configure?: (env: StreamExecutionEnvironment) => void,
): Promise<{ client: JobClient; results: CollectResults<string> }> {
  const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(p);
  configure?.(env);
  const results = new CollectResults<string>();
  inspectJob.build(env, args).collectInto(results);
  return { client: await env.executeAsync('inspect'), results };
}

const byOperator = (m: JobMetrics, uid: string) => m.operators.filter((o) => o.uid === uid);
const sum = (list: readonly number[]) => list.reduce((a, b) => a + b, 0);

/** Waits until the keyed operator took in all `records`. */
async function processed(client: JobClient, records: number): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (sum(byOperator(await client.getMetrics(), 'inspect').map((o) => o.numRecordsIn)) === records) return;
    await sleep(5);
  }
  throw new Error('the job did not process its records');
}

describe('JobClient.getMetrics', () => {
  it('after a bounded job: records in and out per operator subtask, the final watermark, no back-pressure', async () => {
    const { client, results } = await start(2, { records: 200, keys: 5, hold: false });
    await client.result;
    expect(results.records).toHaveLength(200);
    const m = await client.getMetrics();
    expect(m.timestamp).toBeGreaterThan(0);
    // events and plain are chained, each with 2 subtasks; inspect has 2; the collect sink 1 or more.
    for (const uid of ['events', 'plain', 'inspect']) {
      const subtasks = byOperator(m, uid);
      expect(subtasks.map((o) => o.subtaskIndex)).toEqual([0, 1]);
      expect(subtasks.every((o) => o.parallelism === 2 && o.worker === undefined)).toBe(true);
      expect(sum(subtasks.map((o) => o.numRecordsOut))).toBe(200);
      if (uid !== 'events') expect(sum(subtasks.map((o) => o.numRecordsIn))).toBe(200);
    }
    expect(sum(byOperator(m, 'events').map((o) => o.numRecordsIn))).toBe(0);
    // The source's range is split evenly: 100 records per subtask.
    expect(byOperator(m, 'events').map((o) => o.numRecordsOut)).toEqual([100, 100]);
    for (const o of byOperator(m, 'inspect')) expect(o.currentInputWatermark).toBe(MAX_WATERMARK);
    expect(byOperator(m, 'events').every((o) => o.currentInputWatermark === Number.MIN_SAFE_INTEGER)).toBe(true);
    for (const o of m.operators) {
      expect(o.isBackPressured).toBe(false);
      expect(o.backPressuredTimeMsPerSecond).toBeGreaterThanOrEqual(0);
      expect(o.backPressuredTimeMsPerSecond).toBeLessThanOrEqual(1000);
    }
  });

  it('rates: a second sample a while later reports records per second over the span', async () => {
    const { client } = await start(1, { records: 100, keys: 3, hold: true });
    await processed(client, 100);
    const first = byOperator(await client.getMetrics(), 'inspect')[0];
    expect(first.numRecordsIn).toBe(100);
    await sleep(1100);
    // No new records since: the rate over the last second is 0; counters stay.
    const second = byOperator(await client.getMetrics(), 'inspect')[0];
    expect(second.numRecordsIn).toBe(100);
    expect(second.numRecordsInPerSecond).toBe(0);
    await client.cancel();
  });
});

describe('MetricsView (rates from cumulative samples)', () => {
  const sample = (numRecordsIn: number, backPressuredMs: number, startedAt: number): SubtaskSample => ({
    operatorId: 'op',
    operatorName: 'Op',
    subtaskIndex: 0,
    parallelism: 1,
    numRecordsIn,
    numRecordsOut: numRecordsIn,
    currentInputWatermark: Number.MIN_SAFE_INTEGER,
    backPressuredMs,
    backPressuredNow: false,
    startedAt,
  });

  it('rates span back to the newest sample at least a second older; a counter that went down starts over (a restart)', () => {
    const view = new MetricsView();
    const at = (t: number, n: number, bp = 0, startedAt = -1000) => view.compute([sample(n, bp, startedAt)], t).operators[0];
    // The first sample rates from the attempt's start (counters at 0 then), a second before.
    expect(at(0, 100).numRecordsInPerSecond).toBe(100);
    expect(at(0, 0).numRecordsInPerSecond).toBe(0);
    const second = at(1000, 500, 250);
    expect(second.numRecordsInPerSecond).toBe(500);
    expect(second.numRecordsOutPerSecond).toBe(500);
    expect(second.backPressuredTimeMsPerSecond).toBe(250);
    // 500 ms later the baseline is still t=0 (t=1000 is not a second old yet).
    expect(at(1500, 600).numRecordsInPerSecond).toBe(400);
    // At 2100 the baseline moves on to t=1000.
    expect(at(2100, 720).numRecordsInPerSecond).toBeCloseTo((220 * 1000) / 1100);
    // A restarted attempt (started at 2400) counts from zero: rates from its start, never negative.
    expect(at(2500, 10, 0, 2400).numRecordsInPerSecond).toBe(100);
    expect(at(3500, 110, 0, 2400).numRecordsInPerSecond).toBe(100);
  });
});

describe('JobClient.subscribe and getCheckpointStats', () => {
  it('metrics arrive at the interval; checkpoint events go IN_PROGRESS → COMPLETED or FAILED (a failing storage), matching the stats', async () => {
    // The 3rd manifest write fails: that checkpoint is FAILED, the job goes on (tolerance 5).
    const storage = new FaultyStorage({ failManifestWrite: 3 });
    const { client } = await start(1, { records: 50, keys: 3, hold: true }, (env) =>
      env.enableCheckpointing(20).getCheckpointConfig().setCheckpointStorage(storage).setTolerableCheckpointFailureNumber(5),
    );
    const events: JobEvent[] = [];
    const unsubscribe = client.subscribe((e) => events.push(e), { metricsIntervalMs: 50 });
    const completed = () => events.filter((e) => e.type === 'checkpoint' && e.checkpoint.status === 'COMPLETED').length;
    for (let i = 0; i < 1000 && (completed() < 4 || events.filter((e) => e.type === 'metrics').length < 4); i++) await sleep(10);
    unsubscribe();
    const count = events.length;

    const metrics = events.flatMap((e) => (e.type === 'metrics' ? [e.metrics] : []));
    expect(metrics.length).toBeGreaterThanOrEqual(4);
    for (let i = 1; i < metrics.length; i++) expect(metrics[i].timestamp - metrics[i - 1].timestamp).toBeGreaterThanOrEqual(45);
    expect(byOperator(metrics.at(-1)!, 'inspect')[0].numRecordsIn).toBeGreaterThan(0);

    const checkpoints = events.flatMap((e) => (e.type === 'checkpoint' ? [e.checkpoint] : []));
    const byId = new Map<number, CheckpointStats[]>();
    for (const c of checkpoints) byId.set(c.checkpointId, [...(byId.get(c.checkpointId) ?? []), c]);
    for (const [, changes] of byId) {
      expect(changes[0].status).toBe('IN_PROGRESS');
      if (changes.length > 1) expect(changes.map((c) => c.status)).toHaveLength(2);
    }
    const failed = checkpoints.filter((c) => c.status === 'FAILED');
    expect(failed).toHaveLength(1);
    expect(failed[0].failureMessage).toContain('injected failure committing');
    const done = checkpoints.filter((c) => c.status === 'COMPLETED');
    for (const c of done) {
      expect(c.externalPath).toBe(`${c.externalPath!.split('/')[0]}/chk-${c.checkpointId}`);
      expect(c.stateSizeBytes).toBeGreaterThan(0);
      expect(c.checkpointedSizeBytes).toBe(c.stateSizeBytes); // full checkpoints write all they refer to
      expect(c.syncDurationMs).toBeGreaterThanOrEqual(0);
      expect(c.endToEndDurationMs).toBeGreaterThanOrEqual(0);
      expect(c.isSavepoint).toBe(false);
    }
    // Ids grow, and a checkpoint completes before the next one starts.
    const order = checkpoints.map((c) => c.checkpointId);
    expect([...order].sort((a, b) => a - b)).toEqual(order);

    const stats = await client.getCheckpointStats();
    expect(stats.counts.failed).toBe(1);
    expect(stats.counts.completed).toBeGreaterThanOrEqual(done.length);
    expect(stats.history.map((c) => c.checkpointId)).toEqual([...stats.history.map((c) => c.checkpointId)].sort((a, b) => b - a));
    expect(stats.history.find((c) => c.checkpointId === failed[0].checkpointId)?.status).toBe('FAILED');
    expect(stats.latestCompleted?.status).toBe('COMPLETED');
    expect(stats.latestCompleted?.checkpointId).toBe(stats.history.find((c) => c.status === 'COMPLETED')!.checkpointId);
    expect(stats.latestRestored).toBeUndefined();

    // Unsubscribed: no more events.
    await sleep(120);
    expect(events).toHaveLength(count);
    await client.cancel();
  });

  it('after a failure and restart: a restored event for the checkpoint it restarted from, and status events', async () => {
    // The 6th part write fails a checkpoint, which with tolerance 0 fails the attempt.
    const storage = new FaultyStorage({ failPartWrite: 6 });
    const { client } = await start(1, { records: 50, keys: 3, hold: true }, (env) => {
      env.enableCheckpointing(20).getCheckpointConfig().setCheckpointStorage(storage).setTolerableCheckpointFailureNumber(0);
      env.setRestartStrategy(RestartStrategies.fixedDelayRestart(3, 10));
    });
    const events: JobEvent[] = [];
    const unsubscribe = client.subscribe((e) => events.push(e), { metricsIntervalMs: 1000 });
    for (let i = 0; i < 1000 && !events.some((e) => e.type === 'restored'); i++) await sleep(10);
    const restored = events.find((e) => e.type === 'restored');
    expect(restored).toBeDefined();
    if (restored?.type !== 'restored') return;
    const completedBefore = events
      .filter((e) => e.type === 'checkpoint' && e.checkpoint.status === 'COMPLETED')
      .map((e) => (e as { checkpoint: CheckpointStats }).checkpoint);
    expect(restored.restored.checkpointId).toBe(completedBefore.at(-1)!.checkpointId);
    expect(restored.restored.externalPath).toBe(completedBefore.at(-1)!.externalPath);
    expect(restored.restored.isSavepoint).toBe(false);
    expect(restored.restored.durationMs).toBeGreaterThanOrEqual(0);
    // The restart in order: RESTARTING, the restore, RUNNING again.
    const restoredAt = events.indexOf(restored);
    for (let i = 0; i < 500 && !events.slice(restoredAt).some((e) => e.type === 'status'); i++) await sleep(5);
    expect(
      events
        .slice(0, restoredAt)
        .filter((e) => e.type === 'status')
        .at(-1),
    ).toEqual({ type: 'status', status: 'RESTARTING' });
    expect(events.slice(restoredAt).find((e) => e.type === 'status')).toEqual({ type: 'status', status: 'RUNNING' });
    const stats = await client.getCheckpointStats();
    expect(stats.counts.restored).toBe(1);
    expect(stats.latestRestored).toEqual(restored.restored);
    expect(client.getNumRestarts()).toBe(1);
    unsubscribe();
    await client.cancel();
  });
});

describe('JobClient.queryState (one thread)', () => {
  const records = 100;
  const keys = 4;

  it('reads value, list, map state, TTL remaining and timers of one key, routed to its subtask; expired values are left out', async () => {
    const clock = new ManualClock(5_000);
    const { client } = await start(2, { records, keys, hold: true, clock });
    await processed(client, records);
    const seqs = Array.from({ length: records }, (_, i) => i).filter((i) => keyOf(i, keys) === 'k1');
    const view = await client.queryState('inspect', 'k1');
    const keyGroup = keyGroupForKey('k1', 128);
    expect(view).toBeDefined();
    expect(view!.key).toBe('k1');
    expect(view!.keyGroup).toBe(keyGroup);
    expect(view!.subtaskIndex).toBe(subtaskForKeyGroup(128, 2, keyGroup));
    expect(view!.worker).toBeUndefined();
    expect(view!.states.count).toEqual({ kind: 'value', value: seqs.length, ttlRemainingMs: COUNT_TTL_MS });
    // Two source subtasks feed the key: its list holds every sequence number, in arrival order.
    expect(view!.states.seen.kind).toBe('list');
    expect([...(view!.states.seen.value as number[])].sort((a, b) => a - b)).toEqual(seqs);
    expect(view!.states.bySeq.kind).toBe('map');
    expect((view!.states.bySeq.value as Array<[number, number]>).sort((a, b) => a[0] - b[0])).toEqual(seqs.map((s) => [s, s * 10]));
    const seen = view!.states.seen.value as number[];
    expect(view!.states.recent).toEqual({ kind: 'value', value: seen.at(-1), ttlRemainingMs: RECENT_TTL_MS });
    expect(view!.timers).toEqual({ eventTime: seqs.map((s) => TIMER_BASE + s), processingTime: [5_000 + TIMER_BASE] });

    // Past the short TTL: `recent` is no longer returned; the count has less time left. Nothing was refreshed by reading.
    clock.advance(RECENT_TTL_MS + 500);
    const later = await client.queryState('inspect', 'k1');
    expect(later!.states.recent).toBeUndefined();
    expect(later!.states.count.ttlRemainingMs).toBe(COUNT_TTL_MS - RECENT_TTL_MS - 500);

    expect(await client.queryState('inspect', 'no-such-key')).toBeUndefined();
    await client.cancel();
  });

  it('errors: unknown uid, an operator without keyed state, a bad key, a job that is not running', async () => {
    const { client } = await start(1, { records: 10, keys: 2, hold: true });
    await processed(client, 10);
    const failure = (p: Promise<unknown>) =>
      p.then(
        () => undefined,
        (e: unknown) => e as EddyError,
      );
    const unknown = await failure(client.queryState('nope', 'k1'));
    expect(unknown).toBeInstanceOf(EddyError);
    expect(unknown).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(unknown!.message).toMatch(/no operator has uid "nope".*"events", "plain", "inspect"/);
    const plain = await failure(client.queryState('plain', 'k1'));
    expect(plain).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(plain!.message).toContain('"plain"');
    expect(plain!.message).toContain('not keyed');
    expect(await failure(client.queryState('inspect', { not: 'a key' }))).toMatchObject({ code: 'INVALID_KEY' });
    await client.cancel();
    const stopped = await failure(client.queryState('inspect', 'k1'));
    expect(stopped).toMatchObject({ code: 'JOB_NOT_RUNNING' });
    expect(stopped!.message).toContain('CANCELED');
  });
});

describe('JobClient.queryState of a window operator', () => {
  it("reads the contents of the key's windows in flight, by window namespace (start,end); fired and purged windows are gone", async () => {
    // 150 records 10 ms of event time apart, then nothing (the job keeps running): [0, 1000) fired, [1000, 2000) is open.
    const records = 150;
    const source: Source<{ key: string; seq: number }> = {
      boundedness: 'bounded',
      replayable: true,
      createReader() {
        let next = 0;
        return {
          async poll() {
            await sleep(next < records ? 0 : 5);
            if (next >= records) return [];
            const out = Array.from({ length: Math.min(25, records - next) }, (_, j) => ({ key: keyOf(next + j, 4), seq: next + j }));
            next += out.length;
            return out;
          },
          snapshotSplits: () => [next],
          restoreSplits(restored) {
            next = (restored as number[])[0] ?? next;
          },
        };
      },
    };
    const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(1);
    env
      .fromSource(
        source,
        WatermarkStrategy.forMonotonousTimestamps<{ key: string; seq: number }>().withTimestampAssigner((e) => e.seq * 10),
        'events',
      )
      .keyBy((e) => e.key)
      .window(TumblingEventTimeWindows.of(1000))
      .aggregate({
        createAccumulator: () => 0,
        add: (_e: { key: string; seq: number }, n: number) => n + 1,
        getResult: (n: number) => n,
      })
      .uid('windows')
      .addSink(() => {});
    const client = await env.executeAsync('window-query');
    const inOpen = (key: string) => Array.from({ length: 50 }, (_, i) => 100 + i).filter((i) => keyOf(i, 4) === key).length;
    // Until the open window holds all of k1's records and the watermark passed the first one (fired, purged).
    let view: Awaited<ReturnType<JobClient['queryState']>>;
    for (let i = 0; i < 2000; i++) {
      view = client.getJobStatus() === 'RUNNING' ? await client.queryState('windows', 'k1') : undefined;
      const open = view?.namespaces?.['1000,2000']?.['_window/contents']?.value;
      if (open === inOpen('k1') && view!.namespaces!['0,1000'] === undefined) break;
      await sleep(5);
    }
    expect(view!.states).toEqual({});
    expect(view!.timers.eventTime).toEqual([1999]);
    expect(view!.namespaces).toEqual({ '1000,2000': { '_window/contents': { kind: 'aggregating', value: inOpen('k1') } } });
    await client.cancel();
  });
});

describe('subscribe options', () => {
  it('refuses a metrics interval that is not a positive number', async () => {
    const { client } = await start(1, { records: 1, keys: 1, hold: false });
    expect(() => client.subscribe(() => {}, { metricsIntervalMs: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
    await client.result;
  });
});
