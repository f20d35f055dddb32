/**
 * SQLite incremental checkpoints in a job with state and event-time timers: checkpoints
 * are taken every few ms while records, timers and writes go on (deltas pending while
 * the job runs), the job fails, and its last completed checkpoint (a chain of deltas)
 * is resumed at another parallelism. The final per-key results equal those of a run
 * that never failed.
 */
import { describe, expect, it } from 'vitest';
import {
  KeyedProcessFunction,
  MapStateDescriptor,
  RestartStrategies,
  StreamExecutionEnvironment,
  ValueStateDescriptor,
  WatermarkStrategy,
  type Collector,
  type KeyedProcessContext,
  type MapState,
  type OnTimerContext,
  type RuntimeContext,
  type ValueState,
} from '../../src/index.ts';
import { SqliteStateBackend } from '../../src/backends/sqlite/index.ts';
import { decodeManifest } from '../../src/format/checkpoint-format.ts';
import { listCompletedCheckpoints } from '../../src/engine/checkpoint-restore.ts';
import { MemoryCheckpointStorage } from '../../src/storages/memory.ts';
import { pacedSource } from '../helpers/sources.ts';

type Ev = { key: string; ts: number; v: number };
const RECORDS = 1_500;
const FINAL = 1_000_000;
const event = (i: number): Ev => ({ key: `k${(i * 7) % 41}`, ts: i, v: i % 11 });

/** Fails once at record `at`; shared by every subtask's copy of the function. */
class Trap {
  sprung = false;
  constructor(readonly at: number) {}
}

/**
 * Per key: a sum (cleared on v = 0), a map of v → count, and a count of fired timers; a
 * timer 25 ms of event time after each record, and a final one emitting the results.
 */
class SumAndTimers extends KeyedProcessFunction<string, Ev, string> {
  private sum!: ValueState<number>;
  private fired!: ValueState<number>;
  private seen!: MapState<number, number>;
  constructor(private readonly trap: Trap) {
    super();
  }
  override open(ctx: RuntimeContext) {
    this.sum = ctx.getState(new ValueStateDescriptor<number>('sum'));
    this.fired = ctx.getState(new ValueStateDescriptor<number>('fired'));
    this.seen = ctx.getMapState(new MapStateDescriptor<number, number>('seen'));
  }
  async processElement(e: Ev, ctx: KeyedProcessContext<string>, _out: Collector<string>) {
    if (e.ts === this.trap.at && !this.trap.sprung) {
      this.trap.sprung = true;
      throw new Error('injected');
    }
    if (e.v === 0) await this.sum.clear();
    else await this.sum.update(((await this.sum.value()) ?? 0) + e.v);
    await this.seen.put(e.v, ((await this.seen.get(e.v)) ?? 0) + 1);
    ctx.timerService().registerEventTimeTimer(e.ts + 25);
    ctx.timerService().registerEventTimeTimer(FINAL);
  }
  override async onTimer(ts: number, ctx: OnTimerContext<string>, out: Collector<string>) {
    if (ts !== FINAL) {
      await this.fired.update(((await this.fired.value()) ?? 0) + 1);
      return;
    }
    const seen: Array<[number, number]> = [];
    for await (const entry of this.seen.entries()) seen.push(entry);
    seen.sort(([a], [b]) => a - b);
    out.collect(`${ctx.getCurrentKey()} sum=${await this.sum.value()} fired=${await this.fired.value()} seen=${JSON.stringify(seen)}`);
  }
}

async function run(parallelism: number, trap: Trap, storage?: MemoryCheckpointStorage, from?: string): Promise<string[]> {
  const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(parallelism);
  env.setStateBackend(new SqliteStateBackend({ vfs: 'memory', cacheBytes: 4096 }));
  env.setRestartStrategy(RestartStrategies.noRestart());
  if (storage !== undefined) {
    env.enableCheckpointing(3);
    env.getCheckpointConfig().setCheckpointStorage(storage).setMaxRetainedCheckpoints(6).enableIncrementalCheckpoints(true);
  }
  if (from !== undefined) env.fromSavepoint(from);
  const out = await env
    .fromSource(
      pacedSource(RECORDS, event, 5),
      WatermarkStrategy.forMonotonousTimestamps<Ev>().withTimestampAssigner((e) => e.ts),
      'events',
    )
    .uid('events')
    // One source subtask: each key's records arrive in one order in every run (the sum's clears depend on it).
    .setParallelism(1)
    .keyBy((e) => e.key)
    .process(new SumAndTimers(trap))
    .uid('sum')
    .executeAndCollect('sqlite-incremental-rescale');
  return (out as string[]).sort();
}

describe('SQLite incremental checkpoints in a job with timers', () => {
  it('a failed job resumed from its last chain of deltas at another parallelism ends with the results of a run that never failed', async () => {
    const expected = await run(2, new Trap(-1));
    expect(expected.length).toBe(41);
    const storage = new MemoryCheckpointStorage();
    const trap = new Trap(1_200);
    const warn = console.warn;
    console.warn = () => {};
    try {
      await expect(run(2, trap, storage)).rejects.toThrow(/injected/);
    } finally {
      console.warn = warn;
    }
    expect(trap.sprung).toBe(true);
    // Every eighth checkpoint is full (FULL_CHECKPOINT_EVERY): resume from the newest retained one that is a base and deltas.
    const dirs = await listCompletedCheckpoints(storage, 'sqlite-incremental-rescale');
    const chainLength = async (dir: string) => {
      const manifest = decodeManifest((await storage.get(`${dir}/_metadata`))!, dir);
      return Math.max(...manifest.operators.filter((o) => o.operatorId === 'sum').flatMap((o) => o.parts.map((c) => c?.length ?? 0)));
    };
    let last: string | undefined;
    // Newest first.
    for (const dir of dirs) {
      if ((await chainLength(dir)) > 1) {
        last = dir;
        break;
      }
    }
    expect(last, `a retained checkpoint with deltas among ${dirs.length}`).toBeDefined();
    expect(await run(3, trap, storage, last!)).toEqual(expected);
  }, 120_000);
});
