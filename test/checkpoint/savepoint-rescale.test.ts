import { describe, expect, it } from 'vitest';
import {
  CheckpointingMode,
  KeyedProcessFunction,
  StreamExecutionEnvironment,
  ValueStateDescriptor,
  WatermarkStrategy,
  type Collector,
  type KeyedProcessContext,
  type OnTimerContext,
  type RuntimeContext,
  type ValueState,
  TwoPhaseCommitSink,
  type JobClient,
} from '../../src/index.ts';
import { IDBKeyRange as FakeKeyRange, IDBFactory as FakeFactory } from 'fake-indexeddb';
import { HashMapStateBackend } from '../../src/backends/memory.ts';
import { IndexedDbStateBackend } from '../../src/backends/indexeddb/index.ts';
import type { StateBackend } from '../../src/state/backend.ts';
import { MemoryCheckpointStorage } from '../../src/storages/memory.ts';
import { SqliteStateBackend } from '../../src/backends/sqlite/index.ts';
import { pacedSource } from '../helpers/sources.ts';

type Ev = { key: string; ts: number };
const RECORDS = 400;
const event = (i: number): Ev => ({ key: `k${i % 13}`, ts: i });

/** Running count per key, plus a final count per key from an event-time timer at the end. */
class CountAndFinal extends KeyedProcessFunction<string, Ev, string> {
  private count!: ValueState<number>;
  override open(ctx: RuntimeContext) {
    this.count = ctx.getState(new ValueStateDescriptor<number>('count'));
  }
  async processElement(e: Ev, ctx: KeyedProcessContext<string>, out: Collector<string>) {
    const c = ((await this.count.value()) ?? 0) + 1;
    await this.count.update(c);
    ctx.timerService().registerEventTimeTimer(10_000);
    out.collect(`${e.key}#${c}`);
  }
  override async onTimer(_ts: number, ctx: OnTimerContext<string>, out: Collector<string>) {
    out.collect(`${ctx.getCurrentKey()} final ${await this.count.value()}`);
  }
}

function job(env: StreamExecutionEnvironment) {
  return env
    .fromSource(
      pacedSource(RECORDS, event, 4),
      WatermarkStrategy.forMonotonousTimestamps<Ev>().withTimestampAssigner((e) => e.ts),
      'events',
    )
    .uid('events')
    .keyBy((e) => e.key)
    .process(new CountAndFinal())
    .uid('counter');
}

function environment(parallelism: number, storage: MemoryCheckpointStorage, intervalMs = 60_000, backend?: StateBackend) {
  const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(parallelism);
  if (backend !== undefined) env.setStateBackend(backend);
  env.enableCheckpointing(intervalMs, CheckpointingMode.EXACTLY_ONCE).getCheckpointConfig().setCheckpointStorage(storage);
  return env;
}

async function collectFrom(parallelism: number, storage: MemoryCheckpointStorage, savepoint?: string, backend?: StateBackend): Promise<string[]> {
  const env = environment(parallelism, storage, 5, backend);
  // The resumed job collects instead of using the stopped job's committing sink (uid 'sink'): its state is left out on purpose.
  if (savepoint) env.fromSavepoint(savepoint, { allowNonRestoredState: true });
  return (await job(env).executeAndCollect('resumed-job')) as string[];
}

/**
 * Starts the job on `env` with a committing sink into `committed`, and asks for a stop with
 * savepoint at the `stopAt`-th output record. `savepoint()` is the stop's answer (ask
 * once the job ended: the stop is only asked for while it runs).
 */
async function startStoppingAt(
  env: StreamExecutionEnvironment,
  name: string,
  stopAt: number,
  committed: string[],
): Promise<{ client: JobClient; savepoint: () => Promise<string> }> {
  let client!: JobClient;
  let stopping: Promise<string> | undefined;
  let seen = 0;
  job(env)
    .map((v: string) => {
      if (++seen === stopAt) stopping = client.stopWithSavepoint();
      return v;
    })
    .uid('stopper')
    .addSink(new CommittingSink(committed, new Set()))
    .uid('sink');
  client = await env.executeAsync(name);
  return { client, savepoint: () => stopping! };
}

describe('savepoints and rescaling', () => {
  it('a savepoint taken from a running job restores into a new job: committed output + resumed output = failure-free output', async () => {
    const expected = (await collectFrom(2, new MemoryCheckpointStorage())).sort();
    const storage = new MemoryCheckpointStorage();
    const env = environment(2, storage);
    const committed: string[] = [];
    const { client, savepoint } = await startStoppingAt(env, 'savepoint-job', 150, committed);
    await expect(client.result).rejects.toMatchObject({ code: 'JOB_CANCELLED' });
    expect(client.getJobStatus()).toBe('CANCELED');
    const path = await savepoint();
    expect(path).toMatch(/^savepoint-job\/savepoint-\d+$/);
    expect(committed.length).toBeGreaterThan(0);
    const resumed = await collectFrom(2, storage, path);
    expect([...committed, ...resumed].sort()).toEqual(expected);
  });

  it.each([1, 4])('a savepoint taken at parallelism 2 restores at parallelism %i with identical results', async (p) => {
    const expected = (await collectFrom(2, new MemoryCheckpointStorage())).sort();
    const storage = new MemoryCheckpointStorage();
    const committed: string[] = [];
    const env = environment(2, storage);
    const { client, savepoint } = await startStoppingAt(env, 'rescale-job', 200, committed);
    await client.result.catch(() => {});
    const resumed = await collectFrom(p, storage, await savepoint());
    expect([...committed, ...resumed].sort()).toEqual(expected);
  });

  /** IndexedDB on fake-indexeddb: a private factory, so no other test file sees its databases. */
  const indexedDb = () => new IndexedDbStateBackend({ indexedDB: new FakeFactory(), IDBKeyRange: FakeKeyRange });

  it.each([
    ['hashmap', 'indexeddb', () => new HashMapStateBackend(), indexedDb],
    ['indexeddb', 'hashmap', indexedDb, () => new HashMapStateBackend()],
  ] as const)(
    'a savepoint of a job on the %s backend (parallelism 2) restores on the %s backend at parallelism 3 with identical results',
    async (_from, _to, before, after) => {
      const expected = (await collectFrom(2, new MemoryCheckpointStorage())).sort();
      const storage = new MemoryCheckpointStorage();
      const committed: string[] = [];
      const env = environment(2, storage, 60_000, before());
      const { client, savepoint } = await startStoppingAt(env, 'cross-backend-job', 200, committed);
      await client.result.catch(() => {});
      const resumed = await collectFrom(3, storage, await savepoint(), after());
      expect(committed.length).toBeGreaterThan(0);
      expect([...committed, ...resumed].sort()).toEqual(expected);
    },
  );
});

describe('savepoints across state backends', () => {
  const backends: Record<string, () => StateBackend> = {
    hashmap: () => new HashMapStateBackend(),
    sqlite: () => new SqliteStateBackend({ vfs: 'memory', cacheBytes: 16 << 10 }),
  };
  it.each([
    ['hashmap', 'sqlite', 4],
    ['sqlite', 'hashmap', 1],
    ['sqlite', 'sqlite', 3],
  ] as const)('a savepoint taken on %s at parallelism 2 restores into %s at parallelism %i with identical results', async (from, to, p) => {
    const expected = (await collectFrom(2, new MemoryCheckpointStorage())).sort();
    const storage = new MemoryCheckpointStorage();
    const committed: string[] = [];
    const env = environment(2, storage, 60_000, backends[from]!());
    const { client, savepoint } = await startStoppingAt(env, `cross-backend-${from}-${to}`, 200, committed);
    await client.result.catch(() => {});
    expect(committed.length).toBeGreaterThan(0);
    const resumed = await collectFrom(p, storage, await savepoint(), backends[to]!());
    expect([...committed, ...resumed].sort()).toEqual(expected);
  });
});

/** An "external system": appends each transaction's records on commit, idempotent by transaction id. */
class CommittingSink extends TwoPhaseCommitSink<string, { id: string; records: string[] }> {
  private n = 0;
  /** A closure, not the array and set themselves: plain-data fields are copied per subtask, functions are shared. */
  private readonly deliver: (txn: { id: string; records: string[] }) => void;
  constructor(target: string[], done: Set<string>) {
    super();
    this.deliver = (txn) => {
      if (done.has(txn.id)) return;
      done.add(txn.id);
      target.push(...txn.records);
    };
  }
  beginTransaction() {
    return { id: `${Math.random()}-${this.n++}`, records: [] as string[] };
  }
  invoke(txn: { records: string[] }, v: string) {
    txn.records.push(v);
  }
  preCommit() {}
  commit(txn: { id: string; records: string[] }) {
    this.deliver(txn);
  }
  abort() {}
}
