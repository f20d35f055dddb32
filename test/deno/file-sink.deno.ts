/**
 * `FileSink` under `deno test` (DESIGN §4: one thin test per runtime; the full cases run
 * under vitest in Node, test/live/file-sink.test.ts): the keyed job of
 * test/helpers/file-sink-job.ts at parallelism 2, with failures before the key-by and a
 * commit failing half-way, commits exactly the lines of a failure-free run; a missing
 * directory is a typed error at open.
 *
 *   npm run test:deno
 */
import assert from 'node:assert/strict';
import { RestartStrategies, SinkError, StreamExecutionEnvironment } from '../../src/index.ts';
import { FileSink } from '../../src/storages/fs.ts';
import { committedLines, hiddenFiles, runCountJob } from '../helpers/file-sink-job.ts';
import { expectedRunningCounts } from '../helpers/running-count.ts';

interface DenoLike {
  test(name: string, fn: () => Promise<void>): void;
  makeTempDir(options?: { prefix?: string }): Promise<string>;
  remove(path: string, options?: { recursive?: boolean }): Promise<void>;
}
const Deno = (globalThis as unknown as { Deno: DenoLike }).Deno;

async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const warn = console.warn;
  console.warn = () => {};
  try {
    return await fn();
  } finally {
    console.warn = warn;
  }
}

Deno.test('FileSink commits exactly the lines of a failure-free run across injected failures (parallelism 2)', async () => {
  const dir = await Deno.makeTempDir({ prefix: 'eddy-deno-file-sink-' });
  try {
    const { restarts, unfired } = await quietly(() =>
      runCountJob({ directory: dir, parallelism: 2, records: 300, keys: 5, rollSize: 200, failAt: [50, 210], commitFailures: 1 }),
    );
    assert.equal(unfired, 0);
    assert.ok(restarts >= 1, `${restarts} restarts`);
    assert.deepEqual(((await committedLines(dir)) as string[]).sort(), expectedRunningCounts(300, 5));
    assert.deepEqual(await hiddenFiles(dir), []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test('FileSink into a missing directory fails at open with INVALID_CONFIG', async () => {
  const dir = await Deno.makeTempDir({ prefix: 'eddy-deno-file-sink-' });
  try {
    const env = StreamExecutionEnvironment.getExecutionEnvironment().setRestartStrategy(RestartStrategies.noRestart());
    env.fromCollection([1, 2]).addSink(new FileSink<number>({ directory: `${dir}/missing` }));
    const error = await env.execute('deno-missing-dir').then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(error instanceof SinkError, String(error));
    assert.equal(error.code, 'INVALID_CONFIG');
    assert.match(error.message, /\[sink:file\].*does not exist/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
