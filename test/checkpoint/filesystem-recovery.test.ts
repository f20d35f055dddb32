import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  RestartStrategies,
  RichMapFunction,
  type CheckpointListener,
  StreamExecutionEnvironment,
  ValueStateDescriptor,
  type RuntimeContext,
  type ValueState,
} from '../../src/index.ts';
import { listCompletedCheckpoints } from '../../src/engine/checkpoint-restore.ts';
import { FileSystemCheckpointStorage } from '../../src/storages/fs.ts';
import { pacedSource } from '../helpers/sources.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** Where the job fails once: at the first record after `afterCheckpoints` checkpoints completed. */
/** When to fail; a class instance, so every per-subtask copy of the function shares it. */
class FailurePlan {
  readonly completed = new Set<number>();
  done = false;
  constructor(readonly afterCheckpoints: number) {}
}

class Count extends RichMapFunction<number, string> implements CheckpointListener {
  private c!: ValueState<number>;
  constructor(private readonly plan: FailurePlan) {
    super();
  }
  override open(ctx: RuntimeContext) {
    this.c = ctx.getState(new ValueStateDescriptor<number>('c'));
  }
  notifyCheckpointComplete(checkpointId: number) {
    this.plan.completed.add(checkpointId);
  }
  async map(v: number) {
    // Failing only once checkpoints completed makes the restart come from files, however slow the disk.
    if (!this.plan.done && this.plan.completed.size >= this.plan.afterCheckpoints) {
      this.plan.done = true;
      throw new Error('crash');
    }
    const n = ((await this.c.value()) ?? 0) + 1;
    await this.c.update(n);
    return `${v % 7}:${n}`;
  }
}

async function run(dir: string, plan: FailurePlan) {
  const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(2);
  env.enableCheckpointing(3).setRestartStrategy(RestartStrategies.fixedDelayRestart(2, 0));
  env.getCheckpointConfig().setCheckpointStorage(new FileSystemCheckpointStorage(dir)).setMaxRetainedCheckpoints(2);
  const warn = console.warn;
  console.warn = () => {};
  try {
    return (
      (await env
        .fromSource(
          pacedSource(400, (i) => i, 1),
          undefined,
          'n',
        )
        .keyBy((i) => i % 7)
        .map(new Count(plan))
        .executeAndCollect('fs-job')) as string[]
    ).sort();
  } finally {
    console.warn = warn;
  }
}

describe('recovery from a filesystem checkpoint', () => {
  it('a job checkpointing to disk restarts from its files with exactly-once output and retains two checkpoints', async () => {
    const expected = await run((dirs[dirs.length] = await mkdtemp(join(tmpdir(), 'eddy-fs-'))), { afterCheckpoints: 0, completed: new Set(), done: true });
    const dir = (dirs[dirs.length] = await mkdtemp(join(tmpdir(), 'eddy-fs-')));
    const plan = new FailurePlan(2);
    expect(await run(dir, plan)).toEqual(expected);
    expect(plan.done).toBe(true);
    const retained = await listCompletedCheckpoints(new FileSystemCheckpointStorage(dir), 'fs-job');
    expect(retained).toHaveLength(2);
  });
});
