/**
 * OpfsSink where browser jobs are meant to run: its subtasks inside dedicated Web Workers
 * (`webWorkers()`), each opening OPFS from its worker. The committed lines equal those of
 * the same job on the local executor, also when a worker is terminated mid-run and the job
 * restores from its last checkpoint (pending part files re-committed once, none twice).
 */
import { describe, expect, it } from 'vitest';
import { CheckpointingMode, MemoryCheckpointStorage, RestartStrategies, StreamExecutionEnvironment, WorkerExecutor, readOpfsSink } from '../../src/index.ts';
import { webWorkers } from '../../src/runtimes/web/web-workers.ts';
import { killingPlatform } from '../helpers/killing-platform.ts';
import { opfsSinkJob } from '../workers/jobs.ts';

const ARGS = { records: 600, perPoll: 20 };
const fresh = () => `eddy-sink-worker-tests/run-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

function environment(executor?: WorkerExecutor) {
  const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(2).setRestartStrategy(RestartStrategies.fixedDelayRestart(3, 0));
  if (executor) env.setExecutor(executor);
  env.enableCheckpointing(20, CheckpointingMode.EXACTLY_ONCE).getCheckpointConfig().setCheckpointStorage(new MemoryCheckpointStorage());
  return env;
}

async function committedLines(directory: string): Promise<string[]> {
  const files = await readOpfsSink(directory);
  return files.flatMap((f) => f.text.split('\n').filter((l) => l !== '')).sort();
}

async function hiddenFiles(directory: string): Promise<string[]> {
  let dir = await navigator.storage.getDirectory();
  for (const s of directory.split('/')) dir = await dir.getDirectoryHandle(s);
  const out: string[] = [];
  for await (const name of (dir as unknown as { keys(): AsyncIterable<string> }).keys()) if (name.startsWith('.')) out.push(name);
  return out;
}

describe('OpfsSink in dedicated Web Workers (Chromium)', () => {
  it('commits the same lines as the local executor, also after a worker is terminated mid-run', { timeout: 120_000 }, async () => {
    const localDir = fresh();
    const localEnv = environment();
    opfsSinkJob.build(localEnv, { ...ARGS, directory: localDir });
    await localEnv.execute('opfs-sink-local');
    const expected = await committedLines(localDir);
    expect(expected.length).toBeGreaterThan(ARGS.records);

    const calmDir = fresh();
    const calm = new WorkerExecutor({ workers: 2, platform: webWorkers() });
    try {
      const env = environment(calm);
      opfsSinkJob.build(env, { ...ARGS, directory: calmDir });
      await env.execute('opfs-sink-workers');
    } finally {
      await calm.shutdown();
    }
    expect(await committedLines(calmDir)).toEqual(expected);
    expect(await hiddenFiles(calmDir)).toEqual([]);

    let received = 0;
    let killed = false;
    let killAt = 15;
    const killing = new WorkerExecutor({
      workers: 2,
      platform: killingPlatform(webWorkers(), 'killing-web-workers', () => {
        if (killed || ++received !== killAt) return false;
        killed = true;
        return true;
      }),
    });
    const warn = console.warn;
    console.warn = () => {};
    try {
      // A fast run may end before the kill point: then again with an earlier one, so that a worker really dies.
      for (; !killed; killAt = Math.max(1, Math.floor(killAt / 2))) {
        received = 0;
        const dir = fresh();
        const env = environment(killing);
        opfsSinkJob.build(env, { ...ARGS, directory: dir });
        const client = await env.executeAsync('opfs-sink-killed');
        await client.result;
        expect(await committedLines(dir), `killed at message ${killAt}`).toEqual(expected);
        if (killed) expect(client.getNumRestarts()).toBeGreaterThanOrEqual(1);
      }
    } finally {
      console.warn = warn;
      await killing.shutdown();
    }
  });
});
