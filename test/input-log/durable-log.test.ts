/** The durable input log: appends, typed errors, truncation only on completed checkpoints, exactly-once replay after failures. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputLogError } from '../../src/api/errors.ts';
import type { SourceReader } from '../../src/api/sources.ts';
import { DurableLog } from '../../src/engine/input-log/durable-log.ts';
import { RestartStrategies, RichMapFunction, StreamExecutionEnvironment, MemoryCheckpointStorage } from '../../src/index.ts';
import { FileInputLogStore } from '../../src/storages/fs-input-log.ts';
import { MemoryInputLogStore } from '../../src/storages/memory-input-log.ts';
import { expectedRunningCounts, RunningCount } from '../helpers/running-count.ts';

const base = await mkdtemp(join(tmpdir(), 'eddy-durable-log-'));
afterAll(() => rm(base, { recursive: true, force: true }));
let n = 0;
const memoryLog = () => DurableLog.open<unknown>(new MemoryInputLogStore(`t-${Date.now()}-${++n}`));

async function caught(p: Promise<unknown>): Promise<InputLogError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(InputLogError);
  return e as InputLogError;
}

describe('DurableLog', () => {
  it('hands out consecutive offsets and reads back what was appended', async () => {
    const log = await memoryLog();
    expect(await log.append({ a: 1 })).toBe(0);
    expect(await log.appendAll(['x', 2n, [1, 2]])).toBe(1);
    expect(log.nextOffset).toBe(4);
    const reader = (await log.source().createReader({ subtaskIndex: 0, parallelism: 1 })) as SourceReader<unknown>;
    expect(await reader.poll(10)).toEqual([{ a: 1 }, 'x', 2n, [1, 2]]);
    await log.close();
  });

  it('writes a synchronous burst of appends as one round (one store write), not its first value alone and then the rest', async () => {
    const rounds: number[] = [];
    class CountingStore extends MemoryInputLogStore {
      override append(offset: number, entries: readonly Uint8Array[]) {
        rounds.push(entries.length);
        return super.append(offset, entries);
      }
    }
    const log = await DurableLog.open<number>(new CountingStore(`burst-${++n}`));
    await Promise.all(Array.from({ length: 1000 }, (_, i) => log.append(i)));
    await Promise.all(Array.from({ length: 10 }, (_, i) => log.append(i)));
    expect(rounds).toEqual([1000, 10]);
    expect(log.durableOffset).toBe(1010);
    await log.close();
  });

  it('refuses a value that cannot be encoded with UNSERIALIZABLE_VALUE naming the log, and appends nothing of the batch', async () => {
    const log = await DurableLog.open<unknown>(new MemoryInputLogStore(`bad-${++n}`), { name: 'clicks' });
    await log.append(1);
    const e = await caught(log.appendAll([2, () => 3, 4]));
    expect(e.code).toBe('UNSERIALIZABLE_VALUE');
    expect(e.message).toContain('[input-log:clicks]');
    expect(e.message).toContain('value #1');
    expect(log.nextOffset).toBe(1);
    expect(await log.store.read(0, 10)).toHaveLength(1);
    // The log stays usable.
    expect(await log.append(5)).toBe(1);
    await log.close();
  });

  it('refuses a second writer of the same log with STORAGE_LOCKED, and lets it in once the first closed', async () => {
    const dir = join(base, 'locked');
    const first = await DurableLog.open(new FileInputLogStore(dir), { name: 'sensor' });
    const e = await caught(DurableLog.open(new FileInputLogStore(dir), { name: 'sensor' }));
    expect(e.code).toBe('STORAGE_LOCKED');
    expect(e.message).toContain('[input-log:sensor]');
    await first.append('kept');
    await first.close();
    const second = await DurableLog.open(new FileInputLogStore(dir));
    expect(second.nextOffset).toBe(1);
    await second.close();
  });

  it('truncates only when a checkpoint completes, to the offset that checkpoint recorded', async () => {
    const log = await memoryLog();
    await log.appendAll([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const reader = (await log.source().createReader({ subtaskIndex: 0, parallelism: 1 })) as SourceReader<unknown>;
    await reader.poll(3);
    reader.snapshotSplits!(1);
    await reader.poll(4);
    reader.snapshotSplits!(2);
    expect(log.firstOffset).toBe(0); // snapshots alone release nothing
    await reader.notifyCheckpointComplete!(1);
    expect(log.firstOffset).toBe(3);
    await reader.notifyCheckpointComplete!(1); // a repeated notification changes nothing
    expect(log.firstOffset).toBe(3);
    // Checkpoint 2 never completes (aborted); a restore of checkpoint 1 replays from 3.
    const restored = (await log.source().createReader({ subtaskIndex: 0, parallelism: 1 })) as SourceReader<unknown>;
    await restored.restoreSplits!([{ log: log.name, offset: 3 }]);
    expect(await restored.poll(100)).toEqual([3, 4, 5, 6, 7, 8, 9]);
    await log.close();
  });

  it('refuses to restore an offset that was truncated, is past the end, or belongs to another log', async () => {
    const log = await memoryLog();
    await log.appendAll([0, 1, 2, 3]);
    await log.truncate(2);
    const reader = (await log.source().createReader({ subtaskIndex: 0, parallelism: 1 })) as SourceReader<unknown>;
    for (const split of [
      { log: log.name, offset: 1 },
      { log: log.name, offset: 9 },
      { log: 'other', offset: 2 },
    ]) {
      let e: unknown;
      try {
        await reader.restoreSplits!([split]);
      } catch (x) {
        e = x;
      }
      expect(e).toBeInstanceOf(InputLogError);
      expect((e as InputLogError).code).toBe('SNAPSHOT_INCOMPATIBLE');
    }
    await log.close();
  });

  it('a file log keeps unacknowledged input across a reopen (a crash before any checkpoint)', async () => {
    const dir = join(base, 'reopen');
    const a = await DurableLog.open<number>(new FileInputLogStore(dir, { segmentBytes: 64 }));
    await a.appendAll(Array.from({ length: 40 }, (_, i) => i));
    await a.truncate(15);
    await a.close();
    const b = await DurableLog.open<number>(new FileInputLogStore(dir, { segmentBytes: 64 }));
    expect([b.firstOffset, b.nextOffset]).toEqual([15, 40]);
    const reader = (await b.source().createReader({ subtaskIndex: 0, parallelism: 1 })) as SourceReader<number>;
    expect(await reader.poll(100)).toEqual(Array.from({ length: 25 }, (_, i) => i + 15));
    await b.close();
  });
});

/** Throws once at each record in `at` (shared across restarts: a module-level set). */
const thrown = new Set<number>();
class FailAt extends RichMapFunction<number, number> {
  constructor(private readonly at: readonly number[]) {
    super();
  }
  map(v: number): number {
    if (this.at.includes(v) && !thrown.has(v)) {
      thrown.add(v);
      throw new Error(`injected failure at ${v}`);
    }
    return v;
  }
}

describe('a job reading a durable log', () => {
  it('emits every appended event exactly once across injected failures, and truncates the log behind completed checkpoints', async () => {
    const N = 1200;
    const log = await DurableLog.open<number>(new FileInputLogStore(join(base, 'job')));
    // The producer appends while the job runs, as a socket would.
    const producing = (async () => {
      for (let i = 0; i < N; i += 40) {
        await log.appendAll(Array.from({ length: Math.min(40, N - i) }, (_, k) => i + k));
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(2);
    env.enableCheckpointing(5).setRestartStrategy(RestartStrategies.fixedDelayRestart(5, 0));
    env.getCheckpointConfig().setCheckpointStorage(new MemoryCheckpointStorage());
    const truncations: number[] = [];
    const truncate = log.truncate.bind(log);
    log.truncate = async (before: number) => {
      truncations.push(before);
      return truncate(before);
    };
    const output = (await env
      .fromSource(log.source({ stopAtOffset: N }), undefined, 'log')
      .uid('log')
      .map(new FailAt([150, 610, 1001]))
      .uid('fail')
      .keyBy((v) => v % 7)
      .map(new RunningCount(7))
      .uid('count')
      .executeAndCollect('log-exactly-once')) as string[];
    await producing;
    expect(thrown.size).toBe(3);
    expect(output.sort()).toEqual(expectedRunningCounts(N, 7));
    // Truncated behind completed checkpoints: in order, never past what the job read.
    expect(truncations.length).toBeGreaterThan(0);
    expect(truncations).toEqual([...truncations].sort((a, b) => a - b));
    expect(log.firstOffset).toBe(truncations.at(-1));
    expect(log.firstOffset).toBeLessThanOrEqual(N);
    await log.close();
  }, 60_000);
});

describe('FileInputLogStore after a crash', () => {
  it('cuts a torn frame off the end of the last segment and appends after the last whole entry', async () => {
    const { appendFile, readdir } = await import('node:fs/promises');
    const dir = join(base, 'torn');
    const a = new FileInputLogStore(dir);
    await a.open();
    await a.append(0, [new Uint8Array([1, 2, 3]), new Uint8Array([4])]);
    await a.close();
    const [segment] = (await readdir(dir)).filter((f) => f.startsWith('seg-'));
    // A frame header announcing 100 bytes, with 2 of them written: an append cut short by the crash.
    await appendFile(join(dir, segment!), new Uint8Array([100, 0, 0, 0, 9, 9, 9, 9, 7, 7]));
    const b = new FileInputLogStore(dir);
    expect(await b.open()).toEqual({ first: 0, next: 2 });
    await b.append(2, [new Uint8Array([5])]);
    expect(await b.read(0, 10)).toEqual([new Uint8Array([1, 2, 3]), new Uint8Array([4]), new Uint8Array([5])]);
    await b.close();
  });

  it('refuses a damaged segment that is not the last one with SNAPSHOT_CORRUPT, naming the log', async () => {
    const { readdir, writeFile, readFile } = await import('node:fs/promises');
    const dir = join(base, 'damaged');
    const a = new FileInputLogStore(dir, { segmentBytes: 16 });
    await a.open();
    for (let i = 0; i < 4; i++) await a.append(i, [new Uint8Array(12).fill(i)]);
    await a.close();
    const [first] = (await readdir(dir)).filter((f) => f.startsWith('seg-')).sort();
    const bytes = await readFile(join(dir, first!));
    bytes[10]! ^= 0xff; // flips a payload byte: the CRC no longer matches
    await writeFile(join(dir, first!), bytes);
    const e = await caught(new FileInputLogStore(dir, { segmentBytes: 16 }).open());
    expect(e.code).toBe('SNAPSHOT_CORRUPT');
    expect(e.message).toContain(dir);
  });

  it('a file system error while recovering comes out as STORAGE_FAILURE naming the log, and frees the lock', async () => {
    const { mkdir } = await import('node:fs/promises');
    const dir = join(base, 'unreadable');
    // A directory where the `first` file belongs: reading it fails with EISDIR, not ENOENT.
    await mkdir(join(dir, 'first'), { recursive: true });
    const e = await caught(new FileInputLogStore(dir).open());
    expect(e.code).toBe('STORAGE_FAILURE');
    expect(e.message).toContain(`input-log:file:${dir}`);
    expect(e.message).toContain('cannot open the log');
    expect((e.cause as NodeJS.ErrnoException).code).toBe('EISDIR');
    // The failed open released the lock: another writer is not refused with STORAGE_LOCKED.
    const again = await caught(new FileInputLogStore(dir).open());
    expect(again.code).toBe('STORAGE_FAILURE');
  });
});
