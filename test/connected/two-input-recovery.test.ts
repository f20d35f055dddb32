/**
 * Two-input operators survive failures and rescaling (issue 16): the job of keyed
 * broadcast state, keyed co-process and interval join gives the model's output exactly
 * after injected failures with checkpointing (barriers aligned over both inputs), after a
 * savepoint taken mid-stream is restored at another parallelism (broadcast state on every
 * new instance, keyed co-state and join buffers redistributed by key group), and on the
 * worker executor.
 */
import { afterAll, describe, expect, it } from 'vitest';
import {
  CheckpointingMode,
  RestartStrategies,
  StreamExecutionEnvironment,
  TwoPhaseCommitSink,
  WatermarkStrategy,
  WorkerExecutor,
  type DataStream,
  type JobClient,
  type Source,
  type SourceReader,
} from '../../src/index.ts';
import { MemoryCheckpointStorage } from '../../src/storages/memory.ts';
import { nodeWorkerThreads } from '../../src/runtimes/node/node-workers.ts';
import { FaultyStorage } from '../helpers/faulty-storage.ts';
import { BACKENDS } from '../windows/helpers.ts';
import { quietly } from './helpers.ts';
import {
  itemSource,
  items,
  JOIN_LOWER,
  JOIN_UPPER,
  JoinPairs,
  SumBoth,
  twoInputJob,
  twoInputJobDefinition,
  twoInputModel,
  type Ev,
  type Item,
} from './two-input-jobs.ts';
import { pacedSource } from '../helpers/sources.ts';

const ITEMS = items(77, 300);
const EXPECTED = twoInputModel(ITEMS);

interface Trap {
  atSeq?: number;
  sprung: boolean;
  checkpointsBefore?: number;
  storage?: FaultyStorage;
}

/** The job with a trap chained to the source (one subtask, so that the input order stays that of the source). */
function job(env: StreamExecutionEnvironment, trap: Trap, onItem?: (i: Item) => void): DataStream<string> {
  const source = itemSource(env, ITEMS)
    .map((i: Item) => {
      if (i.seq === trap.atSeq && !trap.sprung) {
        trap.sprung = true;
        trap.checkpointsBefore = trap.storage?.manifestWrites;
        throw new Error(`injected failure at item ${i.seq}`);
      }
      onItem?.(i);
      return i;
    })
    .setParallelism(1)
    .uid('trap');
  return twoInputJob(source);
}

async function run(parallelism: number, backend: string, trap: Trap): Promise<string[]> {
  const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(parallelism).setStateBackend(BACKENDS[backend]());
  env.enableCheckpointing(2, CheckpointingMode.EXACTLY_ONCE).setRestartStrategy(RestartStrategies.fixedDelayRestart(3, 0));
  trap.storage = new FaultyStorage({});
  env.getCheckpointConfig().setCheckpointStorage(trap.storage);
  return quietly(async () => (await job(env, trap).executeAndCollect()).sort());
}

describe('two-input operators under injected failures', () => {
  for (const [backend, parallelism, points] of [
    ['heap', 1, 4],
    ['heap', 3, 4],
    ['sqlite', 3, 3],
  ] as const) {
    it(`${backend}, parallelism ${parallelism}: ${points} failure points give the failure-free output exactly`, { timeout: 120_000 }, async () => {
      const mismatches: string[] = [];
      let restored = 0;
      for (let i = 0; i < points; i++) {
        const trap: Trap = { atSeq: Math.floor(((i + 0.5) * ITEMS.length) / points), sprung: false };
        const got = await run(parallelism, backend, trap);
        expect(trap.sprung).toBe(true);
        if ((trap.checkpointsBefore ?? 0) > 0) restored++;
        if (JSON.stringify(got) !== JSON.stringify(EXPECTED)) {
          const extra = got.filter((g) => !EXPECTED.includes(g));
          const missing = EXPECTED.filter((g) => !got.includes(g));
          mismatches.push(
            `failure at ${trap.atSeq}: ${got.length} records, expected ${EXPECTED.length}; extra ${extra.slice(0, 5)} missing ${missing.slice(0, 5)}`,
          );
        }
      }
      expect(mismatches).toEqual([]);
      // Most restarts restored two-input state from a checkpoint rather than starting over.
      expect(restored).toBeGreaterThanOrEqual(points - 1);
    });
  }
});

/** `pacedSource` with a pause of `pauseMs` before each poll. */
function pausingSource(evs: readonly Ev[], perPoll: number, pauseMs: number): Source<Ev> {
  const inner = pacedSource(evs.length, (i) => evs[i], perPoll);
  return {
    ...inner,
    createReader(ctx) {
      const reader = inner.createReader(ctx) as SourceReader<Ev>;
      return {
        ...reader,
        async poll(max: number) {
          if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
          return reader.poll(max);
        },
      };
    },
  };
}

describe('two inputs from independent sources under injected failures', () => {
  // Two sources at their own pace: barriers reach the two inputs at different times, so
  // only alignment over both inputs keeps records after a barrier out of the snapshot.
  const left = ITEMS.filter((i): i is Ev => i.kind === 'event' && i.seq % 2 === 0);
  const right = ITEMS.filter((i): i is Ev => i.kind === 'event' && i.seq % 2 === 1);
  const expected = EXPECTED.filter((s) => !s.startsWith('E|'));

  function independentJob(env: StreamExecutionEnvironment, trap: Trap): DataStream<string> {
    const source = (name: string, evs: readonly Ev[], perPoll: number, pauseMs = 0) =>
      env
        .fromSource(
          pausingSource(evs, perPoll, pauseMs),
          WatermarkStrategy.forMonotonousTimestamps<Ev>().withTimestampAssigner((e) => e.ts),
          name,
        )
        .setParallelism(1)
        .uid(name);
    const even = source('left', left, 2)
      .map((e: Ev) => {
        if (e.seq === trap.atSeq && !trap.sprung) {
          trap.sprung = true;
          trap.checkpointsBefore = trap.storage?.manifestWrites;
          throw new Error(`injected failure at item ${e.seq}`);
        }
        return e;
      })
      .setParallelism(1)
      .uid('trap');
    // The right source pauses between polls: its barriers lag the left one's by several polls.
    const odd = source('right', right, 5, 10);
    const sums = even
      .connect(odd)
      .keyBy(
        (e) => e.key,
        (e) => e.key,
      )
      .process(new SumBoth())
      .uid('sum-both');
    const joined = even
      .keyBy((e) => e.key)
      .intervalJoin(odd.keyBy((e) => e.key))
      .between(JOIN_LOWER, JOIN_UPPER)
      .process(new JoinPairs())
      .uid('join');
    return sums.union(joined);
  }

  it('heap, parallelism 3: 6 failure points give the failure-free output exactly', { timeout: 120_000 }, async () => {
    const mismatches: string[] = [];
    let restored = 0;
    for (let i = 0; i < 6; i++) {
      const trap: Trap = { atSeq: left[Math.floor(((i + 0.5) * left.length) / 6)].seq, sprung: false };
      const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(3).setStateBackend(BACKENDS.heap());
      env.enableCheckpointing(2, CheckpointingMode.EXACTLY_ONCE).setRestartStrategy(RestartStrategies.fixedDelayRestart(3, 0));
      trap.storage = new FaultyStorage({});
      env.getCheckpointConfig().setCheckpointStorage(trap.storage);
      const got = await quietly(async () => (await independentJob(env, trap).executeAndCollect()).sort());
      expect(trap.sprung).toBe(true);
      if ((trap.checkpointsBefore ?? 0) > 0) restored++;
      if (JSON.stringify(got) !== JSON.stringify(expected)) {
        mismatches.push(
          `failure at ${trap.atSeq}: extra ${got.filter((g) => !expected.includes(g)).slice(0, 3)} missing ${expected.filter((g) => !got.includes(g)).slice(0, 3)}`,
        );
      }
    }
    expect(mismatches).toEqual([]);
    expect(restored).toBeGreaterThanOrEqual(5);
  });
});

/** Commits into the test's list through a closure (arrays in a function's fields are copied per subtask). */
class CommittingSink extends TwoPhaseCommitSink<string, { records: string[] }> {
  constructor(private readonly onCommit: (records: string[]) => void) {
    super();
  }
  beginTransaction() {
    return { records: [] as string[] };
  }
  invoke(txn: { records: string[] }, v: string) {
    txn.records.push(v);
  }
  preCommit() {}
  commit(txn: { records: string[] }) {
    this.onCommit(txn.records);
  }
  abort() {}
}

describe('two-input operators across a savepoint and a rescale', () => {
  for (const [from, to, backend] of [
    [2, 3, 'heap'],
    [3, 1, 'heap'],
    [2, 3, 'sqlite'],
  ] as const) {
    it(`a savepoint at parallelism ${from} restores at parallelism ${to} (${backend}): broadcast state on every instance, keyed state rescaled`, {
      timeout: 60_000,
    }, async () => {
      const storage = new MemoryCheckpointStorage();
      const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(from).setStateBackend(BACKENDS[backend]());
      env.enableCheckpointing(60_000, CheckpointingMode.EXACTLY_ONCE).getCheckpointConfig().setCheckpointStorage(storage);
      const committed: string[] = [];
      let client!: JobClient;
      let stopping: Promise<string> | undefined;
      job(env, { sprung: false }, (i) => {
        if (i.seq === 150) stopping = client.stopWithSavepoint();
      })
        .addSink(new CommittingSink((records) => committed.push(...records)))
        .uid('sink');
      client = await env.executeAsync('two-input-savepoint');
      await client.result.catch(() => {});
      const path = await stopping!;
      expect(committed.length).toBeGreaterThan(0);
      expect(committed.length).toBeLessThan(EXPECTED.length);
      const resumed = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(to).setStateBackend(BACKENDS[backend]());
      resumed.enableCheckpointing(60_000, CheckpointingMode.EXACTLY_ONCE).getCheckpointConfig().setCheckpointStorage(storage);
      resumed.fromSavepoint(path, { allowNonRestoredState: true });
      const rest = await quietly(() => job(resumed, { sprung: false }).executeAndCollect('resumed'));
      expect([...committed, ...rest].sort()).toEqual(EXPECTED);
    });
  }
});

describe('two-input operators on the worker executor', () => {
  const executor = new WorkerExecutor({ workers: 2, platform: nodeWorkerThreads() });
  afterAll(() => executor.shutdown());
  it('parallelism 3 on 2 workers gives the model output', { timeout: 60_000 }, async () => {
    const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(3).setExecutor(executor);
    env.enableCheckpointing(10, CheckpointingMode.EXACTLY_ONCE).getCheckpointConfig().setCheckpointStorage(new MemoryCheckpointStorage());
    const got = await quietly(() => twoInputJobDefinition.build(env, { seed: 77, count: 300 }).executeAndCollect('workers'));
    expect(got.sort()).toEqual(EXPECTED);
  });
});
