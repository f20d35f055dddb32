/**
 * Windows survive failures and rescaling: a job with merged session windows (allowed
 * lateness, late-data side output) and sliding windows gives the failure-free output
 * exactly after injected failures with checkpointing, and after a savepoint taken
 * mid-stream (open windows, merged sessions) is restored at another parallelism.
 */
import { describe, expect, it } from 'vitest';
import {
  CheckpointingMode,
  CountEvictor,
  EventTimeSessionWindows,
  OutputTag,
  RestartStrategies,
  SlidingEventTimeWindows,
  StreamExecutionEnvironment,
  type AggregateFunction,
  type Collector,
  type JobClient,
  type ProcessWindowContext,
  type TimeWindow,
} from '../../src/index.ts';
import { MemoryCheckpointStorage } from '../../src/storages/memory.ts';
import { FaultyStorage } from '../helpers/faulty-storage.ts';
import { BACKENDS, CommittingSink, eventSource } from './helpers.ts';
import { events, type Ev } from './model.ts';

const EVENTS = events(4242, 400);
const BOUND = 30;
const late = new OutputTag<Ev>('late');

type Acc = { n: number; sum: number };
const count: AggregateFunction<Ev, Acc, Acc> = {
  createAccumulator: () => ({ n: 0, sum: 0 }),
  add: (e, a) => ({ n: a.n + 1, sum: a.sum + e.v }),
  getResult: (a) => a,
  merge: (a, b) => ({ n: a.n + b.n, sum: a.sum + b.sum }),
};

interface Trap {
  atSeq?: number;
  sprung: boolean;
  /** Checkpoints completed when the trap sprang (so the restart restored from one). */
  checkpointsBefore?: number;
  storage?: FaultyStorage;
}

/** The job: the trap (chained to the single source, so that watermarks stay deterministic), sessions and sliding windows. */
function job(env: StreamExecutionEnvironment, trap: Trap, onRecord?: (e: Ev) => void) {
  const source = eventSource(env, EVENTS, BOUND, true)
    .map((e: Ev) => {
      if (e.seq === trap.atSeq && !trap.sprung) {
        trap.sprung = true;
        trap.checkpointsBefore = trap.storage?.manifestWrites;
        throw new Error(`injected failure at record ${e.seq}`);
      }
      onRecord?.(e);
      return e;
    })
    .setParallelism(1)
    .uid('trap');
  const sessions = source
    .keyBy((e) => e.key)
    .window(EventTimeSessionWindows.withGap(30))
    .allowedLateness(120)
    .sideOutputLateData(late)
    .aggregate(count, {
      process(key: string, ctx: ProcessWindowContext<TimeWindow>, input: Iterable<Acc>, out: Collector<string>) {
        for (const a of input) out.collect(`S|${key}|${ctx.window().start}|${ctx.window().end}|${a.n}|${a.sum}`);
      },
    })
    .uid('sessions');
  const sliding = source
    .keyBy((e) => e.key)
    .window(SlidingEventTimeWindows.of(90, 30))
    .evictor(CountEvictor.of(3))
    .process({
      process(key: string, ctx: ProcessWindowContext<TimeWindow>, input: Iterable<Ev>, out: Collector<string>) {
        out.collect(`W|${key}|${ctx.window().start}|${[...input].map((e) => e.seq).join(',')}`);
      },
    })
    .uid('sliding');
  return sessions.union(
    sliding,
    sessions.getSideOutput(late).map((e: Ev) => `L|${e.seq}`),
  );
}

async function run(parallelism: number, backend: string, trap: Trap): Promise<string[]> {
  const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(parallelism).setStateBackend(BACKENDS[backend]());
  env.enableCheckpointing(2, CheckpointingMode.EXACTLY_ONCE).setRestartStrategy(RestartStrategies.fixedDelayRestart(3, 0));
  trap.storage = new FaultyStorage({});
  env.getCheckpointConfig().setCheckpointStorage(trap.storage);
  const warn = console.warn;
  console.warn = () => {};
  try {
    return ((await job(env, trap).executeAndCollect()) as string[]).sort();
  } finally {
    console.warn = warn;
  }
}

describe('windows under injected failures', () => {
  for (const [backend, parallelism, points] of [
    ['heap', 1, 6],
    ['heap', 3, 6],
    ['sqlite', 3, 4],
  ] as const) {
    it(`${backend}, parallelism ${parallelism}: ${points} failure points give the failure-free output exactly`, { timeout: 120_000 }, async () => {
      const expected = await run(parallelism, backend, { sprung: false });
      expect(expected.filter((s) => s.startsWith('L|')).length).toBeGreaterThan(0);
      const mismatches: string[] = [];
      let restored = 0;
      for (let i = 0; i < points; i++) {
        const trap: Trap = { atSeq: Math.floor(((i + 0.5) * EVENTS.length) / points), sprung: false };
        const got = await run(parallelism, backend, trap);
        expect(trap.sprung).toBe(true);
        if ((trap.checkpointsBefore ?? 0) > 0) restored++;
        if (JSON.stringify(got) !== JSON.stringify(expected)) {
          const extra = got.filter((g) => !expected.includes(g));
          const missing = expected.filter((g) => !got.includes(g));
          mismatches.push(
            `failure at ${trap.atSeq} (${trap.checkpointsBefore} checkpoints before): ${got.length} records, expected ${expected.length}; extra ${JSON.stringify(extra)} missing ${JSON.stringify(missing)}`,
          );
        }
      }
      expect(mismatches).toEqual([]);
      // Most restarts restored window state from a checkpoint rather than starting over.
      expect(restored).toBeGreaterThanOrEqual(points - 1);
    });
  }
});

describe('windows across a savepoint and a rescale', () => {
  for (const [from, to, backend] of [
    [2, 3, 'heap'],
    [3, 1, 'heap'],
    [2, 3, 'sqlite'],
  ] as const) {
    it(`a savepoint at parallelism ${from} (open windows, merged sessions) restores at parallelism ${to} (${backend}) with identical results`, {
      timeout: 60_000,
    }, async () => {
      const expected = await run(2, 'heap', { sprung: false });
      const storage = new MemoryCheckpointStorage();
      const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(from).setStateBackend(BACKENDS[backend]());
      env.enableCheckpointing(60_000, CheckpointingMode.EXACTLY_ONCE).getCheckpointConfig().setCheckpointStorage(storage);
      const committed: string[] = [];
      let client!: JobClient;
      let stopping: Promise<string> | undefined;
      job(env, { sprung: false }, (e) => {
        if (e.seq === 200) stopping = client.stopWithSavepoint();
      })
        .addSink(new CommittingSink((records) => committed.push(...records)))
        .uid('sink');
      client = await env.executeAsync('window-savepoint');
      await client.result.catch(() => {});
      const path = await stopping!;
      // Part of the output came before the savepoint, part is still to come from open windows.
      expect(committed.length).toBeGreaterThan(0);
      expect(committed.length).toBeLessThan(expected.length);
      const resumed = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(to).setStateBackend(BACKENDS[backend]());
      resumed.enableCheckpointing(60_000, CheckpointingMode.EXACTLY_ONCE).getCheckpointConfig().setCheckpointStorage(storage);
      // The first run's committing sink has state the collecting job has no operator for.
      resumed.fromSavepoint(path, { allowNonRestoredState: true });
      const rest = (await job(resumed, { sprung: false }).executeAndCollect('resumed')) as string[];
      expect([...committed, ...rest].sort()).toEqual(expected);
    });
  }
});
