/**
 * OpfsSink in real Chromium (main thread, createWritable): a keyed job whose records fail
 * twice before the key-by and whose commit fails once half-way commits exactly the lines of
 * a failure-free run, through `FileSystemFileHandle.move` and through the copy-and-remove
 * fallback of browsers without it; no hidden file is left; a record the encoder cannot
 * write is a typed error.
 */
import { describe, expect, it } from 'vitest';
import {
  MemoryCheckpointStorage,
  OpfsSink,
  RestartStrategies,
  SinkError,
  StreamExecutionEnvironment,
  readOpfsSink,
  type RuntimeContext,
} from '../../src/index.ts';
import { RunningCount, expectedRunningCounts } from '../helpers/running-count.ts';
import { pacedSource } from '../helpers/sources.ts';

/** Shared by the subtasks' copies (a class instance is not copied). */
class Trap {
  constructor(public remaining: number) {}
}

/** Fails right after committing one part file, once per trap charge: the restore must finish that commit. */
class FlakyOpfsSink<T> extends OpfsSink<T> {
  private opened = false;
  constructor(
    directory: string,
    private readonly trap: Trap,
  ) {
    super({ directory, rollSize: 150 });
  }
  override async open(ctx: RuntimeContext): Promise<void> {
    await super.open(ctx);
    this.opened = true;
  }
  protected override async publishPart(hidden: string, final: string): Promise<void> {
    await super.publishPart(hidden, final);
    if (this.opened && this.trap.remaining > 0) {
      this.trap.remaining--;
      throw new Error(`injected failure after committing ${final}`);
    }
  }
}

/** Resolves once the job ended: its restarts, and how many injected failures never fired (two in one attempt cost one restart). */
async function run(directory: string, parallelism: number, failAt: number[], commitFailures: number): Promise<{ restarts: number; unfired: number }> {
  const fail = new Set(failAt);
  const trap = new Trap(commitFailures);
  const env = StreamExecutionEnvironment.getExecutionEnvironment()
    .setParallelism(parallelism)
    .enableCheckpointing(15)
    .setRestartStrategy(RestartStrategies.fixedDelayRestart(10, 0));
  env.getCheckpointConfig().setCheckpointStorage(new MemoryCheckpointStorage());
  env
    .fromSource(
      pacedSource(240, (i) => i, 4),
      undefined,
      'paced',
    )
    .map((i: number) => {
      if (fail.delete(i)) throw new Error(`injected at record ${i}`);
      return i;
    })
    .keyBy((i: number) => i % 5)
    .map(new RunningCount(5))
    .addSink(new FlakyOpfsSink<string>(directory, trap));
  const client = await env.executeAsync('opfs-sink');
  await client.result;
  return { restarts: client.getNumRestarts(), unfired: fail.size + trap.remaining };
}

async function lines(directory: string): Promise<string[]> {
  return (await readOpfsSink(directory)).flatMap((f) => f.text.split('\n').filter((l) => l !== '')).map((l) => JSON.parse(l) as string);
}

async function hidden(directory: string): Promise<string[]> {
  let dir = await navigator.storage.getDirectory();
  for (const s of directory.split('/')) dir = await dir.getDirectoryHandle(s);
  const out: string[] = [];
  for await (const name of (dir as unknown as { keys(): AsyncIterable<string> }).keys()) if (name.startsWith('.')) out.push(name);
  return out;
}

const fresh = () => `eddy-sink-tests/run-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

describe('OpfsSink in Chromium', () => {
  it('commits every record exactly once across injected failures (parallelism 2, FileSystemFileHandle.move)', async () => {
    expect(typeof (FileSystemFileHandle.prototype as { move?: unknown }).move).toBe('function');
    const directory = fresh();
    const { restarts, unfired } = await run(directory, 2, [30, 150], 1);
    expect(unfired).toBe(0);
    expect(restarts).toBeGreaterThanOrEqual(1);
    expect((await lines(directory)).sort()).toEqual(expectedRunningCounts(240, 5));
    expect(await hidden(directory)).toEqual([]);
  });

  it('without FileSystemFileHandle.move, commits by copy and remove, still exactly once (parallelism 1, in record order)', async () => {
    const proto = FileSystemFileHandle.prototype as { move?: unknown };
    const move = Object.getOwnPropertyDescriptor(proto, 'move')!;
    delete proto.move;
    try {
      const directory = fresh();
      const { restarts, unfired } = await run(directory, 1, [70], 2);
      expect(unfired).toBe(0);
      expect(restarts).toBeGreaterThanOrEqual(1);
      const counts = new Map<number, number>();
      const inOrder = Array.from({ length: 240 }, (_, i) => {
        counts.set(i % 5, (counts.get(i % 5) ?? 0) + 1);
        return `${i % 5}:${counts.get(i % 5)}`;
      });
      expect(await lines(directory)).toEqual(inOrder);
      expect(await hidden(directory)).toEqual([]);
    } finally {
      Object.defineProperty(proto, 'move', move);
    }
  });

  it('a record the encoder cannot write fails the job with UNSERIALIZABLE_VALUE naming the sink and subtask', async () => {
    const env = StreamExecutionEnvironment.getExecutionEnvironment().setRestartStrategy(RestartStrategies.noRestart());
    env.fromCollection<unknown>([1, () => 2]).addSink(new OpfsSink<unknown>({ directory: fresh() }));
    const error = await env.execute('opfs-bad-record').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SinkError);
    expect((error as SinkError).code).toBe('UNSERIALIZABLE_VALUE');
    expect((error as Error).message).toMatch(/\[sink:opfs\].*subtask 0 cannot write a record/);
  });
});
