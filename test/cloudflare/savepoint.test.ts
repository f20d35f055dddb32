/**
 * Portable savepoints between workerd and Node: a savepoint the Durable Objects of a job
 * wrote (parallelism 3) starts the same job in Node at parallelism 2, and a savepoint of
 * the Node job (parallelism 2) starts it in Durable Objects at parallelism 3. Either way
 * the output of both halves is the output of one uninterrupted run.
 */
import { fileURLToPath } from 'node:url';
import type { Miniflare } from 'miniflare';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Source } from '../../src/api/sources.ts';
import { MAX_WATERMARK } from '../../src/api/watermarks.ts';
import { StreamExecutionEnvironment } from '../../src/datastream/environment.ts';
import { MemoryCheckpointStorage } from '../../src/storages/memory.ts';
import { batches, readings, sorted, Tally, tallyWatermarks, type Reading } from './jobs.ts';
import { R2CheckpointStorage, type R2BucketLike } from '../../src/runtimes/cloudflare/index.ts';
import { bundleWorker, post, startWorkerd } from './workerd.ts';

let script: string;
const all = readings(400, 12, 5);
// A key seen only at the end of the first half: its window's timer is pending in the
// savepoint and nothing after it registers that timer again, so only a restored timer reports it.
const solo: Reading = { key: 'solo', kind: 'a', amount: 1, ts: all[199]!.ts };
const firstHalf = [...all.slice(0, 200), solo];
const secondHalf = all.slice(200);
const events = [...firstHalf, ...secondHalf];
let expected: unknown[];

beforeAll(async () => {
  script = await bundleWorker(fileURLToPath(new URL('./fixtures/tally-worker.ts', import.meta.url)));
  expected = await tallyInNode(StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(2), events);
}, 60_000);

function tallyInNode(env: StreamExecutionEnvironment, input: Reading[]): Promise<unknown[]> {
  return env
    .fromCollection(input)
    .assignTimestampsAndWatermarks(tallyWatermarks())
    .setParallelism(1)
    .keyBy((r) => r.key)
    .process(new Tally())
    .uid('process')
    .executeAndCollect('tally');
}

/** Posts events in batches of 25 (ids prefixed), optionally ending event time; returns the output. */
async function postEvents(mf: Miniflare, input: Reading[], prefix: string, end: boolean): Promise<unknown[]> {
  const output: unknown[] = [];
  const bodies: unknown[] = batches(input, 25).map((b, i) => ({ id: `${prefix}${i}`, events: b }));
  if (end) bodies.push({ id: `${prefix}end`, events: [], watermark: MAX_WATERMARK });
  for (const body of bodies) {
    const { status, json } = await post(mf, '/events', body);
    expect(status, JSON.stringify(json)).toBe(200);
    output.push(...json.output);
  }
  return output;
}

describe('savepoints between Durable Objects and Node', () => {
  it('a savepoint taken in workerd at parallelism 3 restores in Node at parallelism 2', async () => {
    const mf = await startWorkerd(script, { BACKEND: 'durable-object', PARALLELISM: '3', JOB_ID: 'edge' });
    const storage = new MemoryCheckpointStorage();
    let first: unknown[];
    let path: string;
    try {
      first = await postEvents(mf, firstHalf, 'a', false);
      const taken = await post(mf, '/savepoint', { checkpointId: 7 });
      expect(taken.status, JSON.stringify(taken.json)).toBe(200);
      path = taken.json.path!;
      expect(path).toBe('edge/savepoint-7');
      // Node reads the bucket through miniflare's binding, with the same R2CheckpointStorage.
      const r2 = new R2CheckpointStorage((await mf.getR2Bucket('SAVEPOINTS')) as unknown as R2BucketLike);
      const files = await r2.list(`${path}/`);
      expect(files).toEqual([`${path}/_metadata`, `${path}/process-0`, `${path}/process-1`, `${path}/process-2`]);
      for (const file of files) await storage.put(file, (await r2.get(file))!);
    } finally {
      await mf.dispose();
    }
    const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(2);
    env.getCheckpointConfig().setCheckpointStorage(storage);
    const second = await tallyInNode(env.fromSavepoint(path), secondHalf);
    expect(sorted([...first, ...second])).toEqual(sorted(expected));
  });

  it('a savepoint taken in Node at parallelism 2 starts Durable Objects at parallelism 3', async () => {
    const storage = new MemoryCheckpointStorage();
    const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(2);
    env.enableCheckpointing(3_600_000).getCheckpointConfig().setCheckpointStorage(storage);
    // The first half, then nothing until the job is stopped with a savepoint.
    let sent = false;
    const halfThenWait: Source<Reading> = {
      boundedness: 'unbounded',
      replayable: true,
      createReader: () => ({
        snapshotSplits: () => (sent ? [] : ['first-half']),
        restoreSplits: () => {},
        poll: async () => {
          if (!sent) {
            sent = true;
            return firstHalf;
          }
          await new Promise((r) => setTimeout(r, 5));
          return [];
        },
      }),
    };
    const first: unknown[] = [];
    env
      .fromSource(halfThenWait, tallyWatermarks(), 'readings')
      .keyBy((r) => r.key)
      .process(new Tally())
      .uid('process')
      .addSink({ invoke: (v: unknown) => void first.push(v) });
    const job = await env.executeAsync('node-half');
    // Every reading was counted (one output each) before the savepoint is taken.
    while (first.filter((o) => 'n' in (o as object)).length < firstHalf.length) await new Promise((r) => setTimeout(r, 10));
    const path = await job.stopWithSavepoint();

    const mf = await startWorkerd(script, { BACKEND: 'durable-object', PARALLELISM: '3', JOB_ID: 'from-node', FROM_SAVEPOINT: path });
    try {
      const r2 = new R2CheckpointStorage((await mf.getR2Bucket('SAVEPOINTS')) as unknown as R2BucketLike);
      for (const file of await storage.list(`${path}/`)) await r2.put(file, (await storage.get(file))!);
      const second = await postEvents(mf, secondHalf, 'n', true);
      expect(sorted([...first, ...second])).toEqual(sorted(expected));
    } finally {
      await mf.dispose();
    }
  });
});
