import { describe, expect, it } from 'vitest';
import { RestartStrategies, SnapshotError, StreamExecutionEnvironment } from '../../src/index.ts';
import { listCompletedCheckpoints } from '../../src/engine/checkpoint-restore.ts';
import { MemoryCheckpointStorage } from '../../src/storages/memory.ts';
import { pacedSource } from '../helpers/sources.ts';

const RECORDS = 3000;

/**
 * Once two checkpoints are complete and half the input is through, truncates a part of
 * the newest checkpoint and fails the task: the restart cannot use the newest checkpoint.
 */
function corruptNewestThenFail(storage: MemoryCheckpointStorage, jobId: string) {
  const trap = { sprung: false, seen: 0 };
  const fn = async (v: number): Promise<number> => {
    trap.seen++;
    if (!trap.sprung && trap.seen > RECORDS / 2) {
      const dirs = await listCompletedCheckpoints(storage, jobId);
      if (dirs.length >= 2) {
        trap.sprung = true;
        const part = (await storage.list(`${dirs[0]}/`)).find((p) => !p.endsWith('_metadata'))!;
        const bytes = (await storage.get(part))!;
        await storage.put(part, bytes.slice(0, bytes.length - 3));
        throw new Error('injected failure after corrupting the newest checkpoint');
      }
    }
    return v;
  };
  return { trap, fn };
}

function env(storage: MemoryCheckpointStorage) {
  const e = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(2);
  e.enableCheckpointing(5).getCheckpointConfig().setCheckpointStorage(storage).setMaxRetainedCheckpoints(2);
  e.setRestartStrategy(RestartStrategies.fixedDelayRestart(2, 0));
  return e;
}

describe('falling back past a committed checkpoint', () => {
  it('executeAndCollect never returns duplicates: a fallback past output the newest checkpoint committed fails the job with SNAPSHOT_CORRUPT', async () => {
    const storage = new MemoryCheckpointStorage();
    const { trap, fn } = corruptNewestThenFail(storage, 'fallback-collect');
    const e = env(storage);
    const result = await e
      .fromSource(
        pacedSource(RECORDS, (i) => i, 7),
        undefined,
        'numbers',
      )
      .map(fn)
      .executeAndCollect('fallback-collect')
      .then(
        (records) => ({ records }),
        (error: unknown) => ({ error }),
      );
    expect(trap.sprung).toBe(true);
    if ('records' in result) {
      // Were the output returned, it would have to be exactly the input, once each.
      expect(new Set(result.records).size).toBe(result.records.length);
      expect(result.records.length).toBe(RECORDS);
    }
    // The chosen behaviour: the fallback cannot be exactly-once, so it is refused with a typed error.
    expect('error' in result).toBe(true);
    const error = (result as { error: unknown }).error;
    expect(error).toBeInstanceOf(SnapshotError);
    expect((error as SnapshotError).code).toBe('SNAPSHOT_CORRUPT');
    expect((error as Error).message).toMatch(/exactly-once/);
    expect((error as Error).message).toMatch(/chk-\d+/);
  });

  it('a job without committing sinks still falls back to the previous checkpoint and finishes', async () => {
    const storage = new MemoryCheckpointStorage();
    const { trap, fn } = corruptNewestThenFail(storage, 'fallback-plain');
    const e = env(storage);
    const seen: number[] = [];
    e.fromSource(
      pacedSource(RECORDS, (i) => i, 7),
      undefined,
      'numbers',
    )
      .map(fn)
      .addSink((v: number) => void seen.push(v));
    await e.execute('fallback-plain');
    expect(trap.sprung).toBe(true);
    // At-least-once output: everything arrives, possibly more than once.
    expect(new Set(seen).size).toBe(RECORDS);
  });
});
