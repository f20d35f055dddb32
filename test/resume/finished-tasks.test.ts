/**
 * Checkpoints after tasks finish (Flink's FLIP-147): a job whose bounded source finishes
 * early goes on checkpointing (the finished tasks contribute their final state), a
 * restart after that does not replay the finished source, and a source subtask restored
 * without splits does not block savepoints.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  RichMapFunction,
  StreamExecutionEnvironment,
  TwoPhaseCommitSink,
  ValueStateDescriptor,
  type RuntimeContext,
  type ValueState,
} from '../../src/index.ts';
import { listCompletedCheckpoints } from '../../src/engine/checkpoint-restore.ts';
import { MemoryCheckpointStorage } from '../../src/storages/memory.ts';
import { pacedSource } from '../helpers/sources.ts';

/** Committed records by transaction id; module-level so that every per-subtask copy of the sink shares it. */
const committed = new Map<string, string[]>();
const output = () => [...committed.values()].flat().sort();
afterEach(() => committed.clear());

/** Throws once at one record, on the first attempt; a class instance so that every subtask's copy shares it. */
class Trap {
  sprung = false;
  constructor(readonly at: number) {}
}

class Count extends RichMapFunction<number, string> {
  private c!: ValueState<number>;
  constructor(private readonly trap?: Trap) {
    super();
  }
  override open(ctx: RuntimeContext) {
    this.c = ctx.getState(new ValueStateDescriptor<number>('c'));
  }
  async map(v: number) {
    if (this.trap && v === this.trap.at && !this.trap.sprung) {
      this.trap.sprung = true;
      throw new Error(`injected failure at ${v}`);
    }
    const n = ((await this.c.value()) ?? 0) + 1;
    await this.c.update(n);
    return `${v % 5}:${n}`;
  }
}

class MapSink extends TwoPhaseCommitSink<string, { id: string; records: string[] }> {
  beginTransaction() {
    return { id: Math.random().toString(36).slice(2), records: [] as string[] };
  }
  invoke(txn: { records: string[] }, v: string) {
    txn.records.push(v);
  }
  preCommit() {}
  commit(txn: { id: string; records: string[] }) {
    committed.set(txn.id, txn.records);
  }
  abort() {}
}

function expected(values: number[]): string[] {
  const counts = new Map<number, number>();
  return values
    .map((v) => {
      const n = (counts.get(v % 5) ?? 0) + 1;
      counts.set(v % 5, n);
      return `${v % 5}:${n}`;
    })
    .sort();
}

describe('checkpoints after tasks finish', () => {
  it('go on after a bounded source finished early; a restart then does not replay it: output equals a failure-free run', { timeout: 30_000 }, async () => {
    const storage = new MemoryCheckpointStorage();
    const trap = new Trap(1_400);
    const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(2);
    env.enableCheckpointing(10);
    env.getCheckpointConfig().setCheckpointStorage(storage).setMaxRetainedCheckpoints(1_000);
    // Ten records, read at once: the source finishes long before the first checkpoint.
    const early = env
      .fromSource(
        pacedSource(10, (i) => 10_000 + i, 10),
        undefined,
        'early',
      )
      .uid('early');
    const late = env
      .fromSource(
        pacedSource(600, (i) => 1_000 + i, 2),
        undefined,
        'late',
      )
      .uid('late');
    early
      .union(late)
      .keyBy((v) => v % 5)
      .map(new Count(trap))
      .uid('count')
      .addSink(new MapSink())
      .uid('sink');
    await env.execute('finished-early');
    expect(trap.sprung).toBe(true);
    // On the old code the early source's finish stopped every checkpoint: none completed.
    expect((await listCompletedCheckpoints(storage, 'finished-early')).length).toBeGreaterThanOrEqual(3);
    const all = [...Array.from({ length: 10 }, (_, i) => 10_000 + i), ...Array.from({ length: 600 }, (_, i) => 1_000 + i)];
    expect(output()).toEqual(expected(all));
  });

  it('a source subtask restored without splits does not block a savepoint', { timeout: 30_000 }, async () => {
    const storage = new MemoryCheckpointStorage();
    const build = (env: StreamExecutionEnvironment) =>
      env
        .fromSource(
          pacedSource(400, (i) => i, 1),
          undefined,
          'numbers',
        )
        .uid('numbers')
        .keyBy((v) => v % 5)
        .map(new Count())
        .uid('count')
        .addSink(new MapSink())
        .uid('sink');
    const first = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(1);
    first.enableCheckpointing(10).getCheckpointConfig().setCheckpointStorage(storage);
    build(first);
    const job = await first.executeAsync('split-less');
    while (output().length < 50) await new Promise((r) => setTimeout(r, 2));
    const savepoint = await job.stopWithSavepoint();

    // At parallelism 2 the one split goes to subtask 0; subtask 1 finishes at once.
    const second = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(2).fromSavepoint(savepoint);
    second.enableCheckpointing(10).getCheckpointConfig().setCheckpointStorage(storage);
    build(second);
    const resumed = await second.executeAsync('split-less');
    await new Promise((r) => setTimeout(r, 30));
    expect(resumed.getJobStatus()).toBe('RUNNING');
    expect(await resumed.triggerSavepoint()).toMatch(/^split-less\/savepoint-\d+$/);
    await resumed.result;
    expect(output()).toEqual(expected(Array.from({ length: 400 }, (_, i) => i)));
  });
});
