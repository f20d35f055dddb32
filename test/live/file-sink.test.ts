/**
 * FileSink (Node): exactly-once part files across injected failures at parallelism 1 and
 * 3, a restore that must commit a pending file, leftovers that never show as output, and
 * typed errors for records it cannot write and directories it cannot use.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RestartStrategies, SinkError, StreamExecutionEnvironment, type FunctionInitializationContext, type RuntimeContext } from '../../src/index.ts';
import { FileSink, simpleStringEncoder } from '../../src/storages/fs.ts';
import { committedFiles, committedLines, hiddenFiles, runCountJob } from '../helpers/file-sink-job.ts';
import { expectedRunningCounts } from '../helpers/running-count.ts';

const made: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'eddy-file-sink-'));
  made.push(dir);
  return dir;
}
afterEach(async () => {
  for (const dir of made.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** What the running count emits in record order (parallelism 1 keeps it). */
function inOrder(records: number, keys: number): string[] {
  const counts = new Map<number, number>();
  return Array.from({ length: records }, (_, i) => {
    const n = (counts.get(i % keys) ?? 0) + 1;
    counts.set(i % keys, n);
    return `${i % keys}:${n}`;
  });
}

describe('FileSink: exactly-once across failures', () => {
  it('parallelism 1: the committed lines equal a failure-free run line for line, with rolled parts and a commit failing half-way', async () => {
    const [clean, faulty] = [await tempDir(), await tempDir()];
    const job = { parallelism: 1, records: 400, keys: 5, rollSize: 120 };
    expect(await runCountJob({ ...job, directory: clean })).toEqual({ restarts: 0, unfired: 0 });
    const { restarts, unfired } = await runCountJob({ ...job, directory: faulty, failAt: [45, 170, 333], commitFailures: 2 });
    expect(unfired).toBe(0);
    expect(restarts).toBeGreaterThanOrEqual(3);
    const expected = inOrder(400, 5);
    expect(await committedLines(clean)).toEqual(expected);
    expect(await committedLines(faulty)).toEqual(expected);
    // Files rolled by size inside a checkpoint interval, and more than one run wrote them.
    const files = await committedFiles(faulty);
    expect(files.length).toBeGreaterThan(10);
    expect(new Set(files.map((f) => f.split('-')[2])).size).toBeGreaterThan(1);
    expect(files.every((f) => /^part-0-[0-9a-z]{15}-\d+$/.test(f))).toBe(true);
    // Leftovers of the failed attempts were removed once a later checkpoint completed.
    expect(await hiddenFiles(faulty)).toEqual([]);
  });

  it('parallelism 3: the committed lines equal a failure-free run (no loss, no duplicate)', async () => {
    const [clean, faulty] = [await tempDir(), await tempDir()];
    const job = { parallelism: 3, records: 450, keys: 7 };
    await runCountJob({ ...job, directory: clean });
    const { restarts, unfired } = await runCountJob({ ...job, directory: faulty, failAt: [60, 200, 390], commitFailures: 1 });
    expect(unfired).toBe(0);
    expect(restarts).toBeGreaterThanOrEqual(1);
    const cleanLines = ((await committedLines(clean)) as string[]).sort();
    expect(cleanLines).toEqual(expectedRunningCounts(450, 7));
    expect(((await committedLines(faulty)) as string[]).sort()).toEqual(cleanLines);
    expect(new Set((await committedFiles(faulty)).map((f) => f.split('-')[1]))).toEqual(new Set(['0', '1', '2']));
    expect(await hiddenFiles(faulty)).toEqual([]);
  });
});

/** Drives a sink by hand as one subtask would: operator state in `stored`, restored when `restored`. */
async function startSubtask(directory: string, stored: { list: unknown[] }, restored: boolean, rollSize?: number): Promise<FileSink<string>> {
  const sink = new FileSink<string>({ directory, rollSize });
  const list = {
    get: async () => stored.list,
    update: async (values: Iterable<unknown>) => {
      stored.list = structuredClone([...values]);
    },
  };
  const init = { isRestored: () => restored, getOperatorStateStore: () => ({ getListState: () => list }), getKeyedStateStore: () => undefined };
  await sink.initializeState(init as unknown as FunctionInitializationContext);
  const ctx = { getIndexOfThisSubtask: () => 0, getNumberOfParallelSubtasks: () => 1, getTaskNameWithSubtasks: () => 'Sink: files (1/1)' };
  await sink.open(ctx as unknown as RuntimeContext);
  return sink;
}

describe('FileSink: recovery by hand', () => {
  it('a restore commits the pending file its checkpoint names, once; in-progress leftovers never become output and are removed', async () => {
    const dir = await tempDir();
    const stored = { list: [] as unknown[] };
    const first = await startSubtask(dir, stored, false, 1);
    for (const r of ['a', 'b', 'c']) await first.write(r, undefined as never);
    await first.snapshotState({ getCheckpointId: () => 1, getCheckpointTimestamp: () => 0 });
    const checkpoint1 = structuredClone(stored.list);
    // rollSize 1: every record has a part file of its own. After the checkpoint: more records,
    // each rolled into an in-progress file of its own, then the process dies
    // before checkpoint 1's completion reached the sink (no notifyCheckpointComplete, no close).
    for (const r of ['lost-1', 'lost-2', 'lost-3']) await first.write(r, undefined as never);
    expect(await committedFiles(dir)).toEqual([]);
    const pendingBefore = await hiddenFiles(dir);
    expect(pendingBefore).toHaveLength(6);

    // The restart restores checkpoint 1: its pending files are committed during initialization.
    stored.list = structuredClone(checkpoint1);
    const second = await startSubtask(dir, stored, true);
    expect(await committedLines(dir)).toEqual(['a', 'b', 'c']);
    // Restoring the same checkpoint again (a second failure) commits nothing twice.
    stored.list = structuredClone(checkpoint1);
    const third = await startSubtask(dir, stored, true);
    expect(await committedLines(dir)).toEqual(['a', 'b', 'c']);
    // The lost attempt's files stay hidden until a checkpoint of the new run completes; then
    // they go, with the probe of a run that died in open(), but not files of others.
    await writeFile(join(dir, '.part-0-0aaaaaaaaaaaaaa.probe'), '');
    await writeFile(join(dir, '.other-tool.inprogress'), '');
    await writeFile(join(dir, '.part-0-not_ours-1.inprogress'), '');
    await third.write('d', undefined as never);
    await third.snapshotState({ getCheckpointId: () => 2, getCheckpointTimestamp: () => 0 });
    await third.notifyCheckpointComplete(2);
    expect(await committedLines(dir)).toEqual(['a', 'b', 'c', 'd']);
    expect((await hiddenFiles(dir)).sort()).toEqual(['.other-tool.inprogress', '.part-0-not_ours-1.inprogress']);
    const text = (await Promise.all((await committedFiles(dir)).map((f) => readFile(join(dir, f), 'utf8')))).join('');
    expect(text).not.toContain('lost');
    await Promise.all([second.close(), third.close()]);
  });

  it('an aborted transaction (closed before its checkpoint) leaves no file', async () => {
    const dir = await tempDir();
    const sink = await startSubtask(dir, { list: [] }, false, 1);
    await sink.write('never', undefined as never);
    expect((await readdir(dir)).length).toBe(1);
    await sink.close();
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('FileSink: names and encoders', () => {
  it('prefix, suffix and an encoder shape the committed files; the default writes JSON Lines', async () => {
    const dir = await tempDir();
    const run = (sink: FileSink<unknown>) => {
      const env = StreamExecutionEnvironment.getExecutionEnvironment();
      env.fromCollection<unknown>([1, 'a\nb', { k: [true] }]).addSink(sink);
      return env.execute('names');
    };
    await run(new FileSink({ directory: dir, prefix: 'plain', suffix: '.txt', encoder: simpleStringEncoder }));
    await run(new FileSink({ directory: dir, prefix: 'json', suffix: '.jsonl' }));
    await run(new FileSink({ directory: dir, prefix: 'bytes', encoder: (r) => new Uint8Array([typeof r === 'number' ? 0x31 : 0x2a]) }));
    const files = await readdir(dir);
    const read = async (prefix: string) => {
      const names = files.filter((f) => f.startsWith(`${prefix}-`));
      expect(names).toHaveLength(1);
      return { name: names[0]!, text: await readFile(join(dir, names[0]!), 'utf8') };
    };
    const plain = await read('plain');
    expect(plain.name).toMatch(/^plain-0-[0-9a-z]{15}-0\.txt$/);
    expect(plain.text).toBe('1\na\nb\n[object Object]\n');
    const json = await read('json');
    expect(json.name).toMatch(/^json-0-[0-9a-z]{15}-0\.jsonl$/);
    expect(json.text).toBe('1\n"a\\nb"\n{"k":[true]}\n');
    expect((await read('bytes')).text).toBe('1**');
    expect(files.filter((f) => f.startsWith('.'))).toEqual([]);
  });
});

describe('FileSink: bad input', () => {
  async function failure(run: Promise<unknown>): Promise<SinkError> {
    const error = await run.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SinkError);
    return error as SinkError;
  }
  const job = (sink: FileSink<unknown>, values: unknown[]) => {
    const env = StreamExecutionEnvironment.getExecutionEnvironment().setRestartStrategy(RestartStrategies.noRestart());
    env.fromCollection(values).addSink(sink);
    return env.execute('bad-file-sink');
  };

  it('a record the encoder cannot write fails with UNSERIALIZABLE_VALUE naming the sink and subtask', async () => {
    const dir = await tempDir();
    const error = await failure(job(new FileSink({ directory: dir }), [{ ok: 1 }, { n: 10n }]));
    expect(error.code).toBe('UNSERIALIZABLE_VALUE');
    expect(error.message).toContain('[sink:file]');
    expect(error.message).toContain('subtask 0');
    expect(error.message).toMatch(/BigInt/);
    const custom = await failure(job(new FileSink({ directory: dir, encoder: () => 42 as never }), ['x']));
    expect(custom.message).toMatch(/encoder returned number/);
    expect(await committedFiles(dir)).toEqual([]);
  });

  it('a missing directory, or a file in its place, fails at open with INVALID_CONFIG', async () => {
    const dir = await tempDir();
    const missing = await failure(job(new FileSink({ directory: join(dir, 'nope') }), [1]));
    expect(missing.code).toBe('INVALID_CONFIG');
    expect(missing.message).toMatch(/output directory ".*nope" does not exist/);
    await writeFile(join(dir, 'file'), 'x');
    const notDir = await failure(job(new FileSink({ directory: join(dir, 'file') }), [1]));
    expect(notDir.code).toBe('INVALID_CONFIG');
    expect(notDir.message).toMatch(/is not a directory/);
  });

  it('bad options are refused when the sink is made', () => {
    expect(() => new FileSink({ directory: '' })).toThrow(/FileSink needs \{ directory/);
    expect(() => new FileSink({ directory: '/tmp', prefix: '.hidden' })).toThrow(/prefix/);
    expect(() => new FileSink({ directory: '/tmp', suffix: '/x' })).toThrow(/suffix/);
    expect(() => new FileSink({ directory: '/tmp', rollSize: 0 })).toThrow(/rollSize/);
  });
});
