import { describe, expect, it } from 'vitest';
import {
  RichMapFunction,
  SnapshotError,
  StreamExecutionEnvironment,
  ValueStateDescriptor,
  type JobClient,
  type RuntimeContext,
  type ValueState,
} from '../../src/index.ts';
import { CollectResults } from '../../src/engine/operators/sinks.ts';
import { MemoryCheckpointStorage } from '../../src/storages/memory.ts';
import { pacedSource } from '../helpers/sources.ts';
import { RunningCount } from '../helpers/running-count.ts';

/** Emits `key:count` with a running count per key. */
interface Shape {
  /** uid of the counting operator; none: matched by position. */
  uid?: string;
}

const RECORDS = 600;
const PER_KEY = RECORDS / 5;

function environment(storage: MemoryCheckpointStorage) {
  const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(2);
  env.enableCheckpointing(60_000).getCheckpointConfig().setCheckpointStorage(storage);
  return env;
}

/** The job: numbers → (trigger a savepoint at the 100th) → running count per `i % 5` → `out`. */
function build(env: StreamExecutionEnvironment, shape: Shape, out: string[], onHundredth: () => void) {
  let seen = 0;
  const counted = env
    .fromSource(
      pacedSource(RECORDS, (i) => i, 3),
      undefined,
      'numbers',
    )
    .uid('numbers')
    .map((v: number) => {
      if (++seen === 100) onHundredth();
      return v;
    })
    .uid('trigger')
    .keyBy((i) => i % 5)
    .map(new RunningCount(5));
  if (shape.uid !== undefined) counted.uid(shape.uid);
  counted.addSink((v: string) => void out.push(v)).uid('sink');
}

/** Runs job `name` to its end; resolves to a savepoint taken at its 100th record. */
async function savepointOf(storage: MemoryCheckpointStorage, name: string, shape: Shape): Promise<string> {
  const env = environment(storage);
  let client: JobClient | undefined;
  let savepoint: Promise<string> | undefined;
  build(env, shape, [], () => (savepoint = client!.triggerSavepoint()));
  client = await env.executeAsync(name);
  await client.result;
  expect(savepoint, 'the savepoint was asked for').toBeDefined();
  return savepoint!;
}

/** Resumes `path` in job `name`; resolves to the per-key counts it emitted, or the error. */
async function resume(storage: MemoryCheckpointStorage, path: string, name: string, shape: Shape, settings?: { allowNonRestoredState?: boolean }) {
  const env = environment(storage);
  env.fromSavepoint(path, settings);
  const out: string[] = [];
  build(env, shape, out, () => {});
  return env.execute(name).then(
    () => {
      const counts = out.map((o) => Number(o.split(':')[1]));
      expect(counts.length).toBeGreaterThan(0);
      return { min: Math.min(...counts), max: Math.max(...counts) };
    },
    (error: unknown) => ({ error }),
  );
}

describe('state that matches no operator on restore', () => {
  it('a changed uid is refused with SNAPSHOT_INCOMPATIBLE naming the unmatched operator', async () => {
    const storage = new MemoryCheckpointStorage();
    const path = await savepointOf(storage, 'uid-job', { uid: 'counter-v1' });
    const r = await resume(storage, path, 'uid-job', { uid: 'counter-v2' });
    expect('error' in r, 'the restore must be refused').toBe(true);
    const error = (r as { error: unknown }).error;
    expect(error).toBeInstanceOf(SnapshotError);
    expect((error as SnapshotError).code).toBe('SNAPSHOT_INCOMPATIBLE');
    expect((error as Error).message).toContain('counter-v1');
    expect((error as Error).message).toContain('allowNonRestoredState');
  });

  it('allowNonRestoredState: true starts the unmatched operator without that state', async () => {
    const storage = new MemoryCheckpointStorage();
    const path = await savepointOf(storage, 'uid-job-2', { uid: 'counter-v1' });
    const r = await resume(storage, path, 'uid-job-2', { uid: 'counter-v2' }, { allowNonRestoredState: true });
    // Counts start again at 1 and never reach the per-key total.
    expect(r).toMatchObject({ min: 1 });
    expect((r as { max: number }).max).toBeLessThan(PER_KEY);
  });

  it('a checkpoint of another job whose operators match only by position is refused, naming both jobs', async () => {
    const storage = new MemoryCheckpointStorage();
    const path = await savepointOf(storage, 'job-a', {});
    const r = await resume(storage, path, 'job-b', {});
    expect('error' in r, 'the restore must be refused').toBe(true);
    const error = (r as { error: SnapshotError }).error;
    expect(error.code).toBe('SNAPSHOT_INCOMPATIBLE');
    expect(error.message).toContain('job-a');
    expect(error.message).toContain('job-b');
    expect(error.message).toContain('uid()');
  });

  it('a checkpoint of another job restores where every stateful operator has a matching uid()', async () => {
    const storage = new MemoryCheckpointStorage();
    const path = await savepointOf(storage, 'job-c', { uid: 'counter' });
    const r = await resume(storage, path, 'job-d', { uid: 'counter' });
    // Counts go on from the savepoint's and end at the per-key total.
    expect(r).toEqual({ min: expect.any(Number), max: PER_KEY });
    expect((r as { min: number }).min).toBeGreaterThan(1);
  });

  it('the collect sink of executeAndCollect (no uid possible) does not block a restore into another job', async () => {
    const storage = new MemoryCheckpointStorage();
    const env = environment(storage);
    let client: JobClient | undefined;
    let savepoint: Promise<string> | undefined;
    let seen = 0;
    const collected = env
      .fromSource(
        pacedSource(RECORDS, (i) => i, 3),
        undefined,
        'numbers',
      )
      .uid('numbers')
      .map((v: number) => {
        if (++seen === 100) savepoint = client!.triggerSavepoint();
        return v;
      })
      .uid('trigger');
    collected.collectInto(new CollectResults<number>());
    client = await env.executeAsync('collect-a');
    await client.result;
    const resumed = environment(storage);
    resumed.fromSavepoint(await savepoint!);
    const out = await resumed
      .fromSource(
        pacedSource(RECORDS, (i) => i, 3),
        undefined,
        'numbers',
      )
      .uid('numbers')
      .map((v: number) => v)
      .uid('trigger')
      .executeAndCollect('collect-b');
    // The rest of the input after the savepoint, once each.
    expect(out.length).toBeGreaterThan(0);
    expect(out.length).toBeLessThan(RECORDS);
    expect(new Set(out).size).toBe(out.length);
  });
});
