/**
 * A checkpointed job with a restart, under `deno test` (issue 21: Deno as a full runtime):
 * keyed running counts on the SQLite-WASM and in-memory backends, checkpoints in a
 * directory (`FileSystemCheckpointStorage`), a user function that fails once mid-stream.
 * The job restarts from its last completed checkpoint and commits exactly the output of
 * a run without the failure.
 *
 *   npm run test:deno
 */
import assert from 'node:assert/strict';
import {
  CheckpointingMode,
  HashMapStateBackend,
  RestartStrategies,
  RichMapFunction,
  StreamExecutionEnvironment,
  ValueStateDescriptor,
  type RuntimeContext,
  type StateBackend,
  type ValueState,
} from '../../src/index.ts';
import { SqliteStateBackend } from '../../src/backends/sqlite/index.ts';
import { FileSystemCheckpointStorage } from '../../src/storages/fs.ts';
import { expectedRunningCounts } from '../helpers/running-count.ts';
import { pacedSource } from '../helpers/sources.ts';

interface DenoLike {
  test(name: string, fn: () => Promise<void>): void;
  makeTempDir(options?: { prefix?: string }): Promise<string>;
  remove(path: string, options?: { recursive?: boolean }): Promise<void>;
}
const Deno = (globalThis as unknown as { Deno: DenoLike }).Deno;

const RECORDS = 600;
const KEYS = 7;

/** Shared by every per-subtask copy of the function (a class instance is not copied). */
class Trap {
  sprung = false;
  checkpointsBefore = 0;
  constructor(readonly atRecord: number) {}
}

/** The running count per key, failing once at the trap's record. */
class FailingCount extends RichMapFunction<number, string> {
  private count!: ValueState<number>;
  constructor(
    private readonly trap: Trap,
    private readonly storage: FileSystemCheckpointStorage,
  ) {
    super();
  }
  override open(ctx: RuntimeContext) {
    this.count = ctx.getState(new ValueStateDescriptor<number>('count'));
  }
  async map(v: number): Promise<string> {
    if (v === this.trap.atRecord && !this.trap.sprung) {
      this.trap.sprung = true;
      this.trap.checkpointsBefore = (await this.storage.list('deno-restart/')).filter((p) => p.endsWith('/_metadata')).length;
      throw new Error(`injected failure at record ${v}`);
    }
    const n = ((await this.count.value()) ?? 0) + 1;
    await this.count.update(n);
    return `${v % KEYS}:${n}`;
  }
}

for (const [name, backend] of [
  ['SQLite-WASM', () => new SqliteStateBackend({ vfs: 'memory' })],
  ['in-memory', () => new HashMapStateBackend()],
] as Array<[string, () => StateBackend]>) {
  Deno.test(`a checkpointed job on ${name} restarts after a failure from its checkpoint, with exactly-once output`, async () => {
    const dir = await Deno.makeTempDir({ prefix: 'eddy-deno-job-' });
    const warn = console.warn;
    console.warn = () => {};
    try {
      const storage = new FileSystemCheckpointStorage(dir);
      const trap = new Trap(400);
      const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(2).setStateBackend(backend());
      env.enableCheckpointing(10, CheckpointingMode.EXACTLY_ONCE).setRestartStrategy(RestartStrategies.fixedDelayRestart(2, 0));
      env.getCheckpointConfig().setCheckpointStorage(storage);
      const client = await env
        .fromSource(
          pacedSource(RECORDS, (i) => i, 5),
          undefined,
          'numbers',
        )
        .uid('numbers')
        .keyBy((v) => v % KEYS)
        .map(new FailingCount(trap, storage))
        .uid('count')
        .executeAndCollect('deno-restart');
      assert.equal(trap.sprung, true);
      assert.ok(trap.checkpointsBefore > 0, 'the failure came after completed checkpoints, so the restart restored one');
      assert.deepEqual((client as string[]).sort(), expectedRunningCounts(RECORDS, KEYS));
    } finally {
      console.warn = warn;
      await Deno.remove(dir, { recursive: true });
    }
  });
}
