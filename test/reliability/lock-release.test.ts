/**
 * Issue 14, item 10: when the checkpoint directory goes read-only during a run, the
 * checkpoint write fails and then releasing the lock fails too; the job must report the
 * failed write (the cause), not the release (a symptom), and still mention the release.
 */
import { describe, expect, it } from 'vitest';
import { MemoryCheckpointStorage, RestartStrategies, StreamExecutionEnvironment, type StorageLock } from '../../src/index.ts';
import { pacedSource } from '../helpers/sources.ts';

class ReadOnlyAfterStart extends MemoryCheckpointStorage {
  override async put(path: string): Promise<void> {
    throw Object.assign(new Error(`EACCES: permission denied, open '${path}'`), { code: 'EACCES' });
  }
  override async lock(scope: string): Promise<StorageLock> {
    await super.lock(scope);
    return {
      release: async () => {
        throw Object.assign(new Error(`EACCES: permission denied, release lock ${scope}/.lock`), { code: 'EACCES' });
      },
    } as StorageLock;
  }
}

describe('a failing lock release does not hide the real error (issue 14, item 10)', () => {
  it('the job fails with the checkpoint write error; the release failure is reported beside it', { timeout: 8_000 }, async () => {
    const warnings: string[] = [];
    const warn = console.warn;
    console.warn = (m: string) => void warnings.push(m);
    try {
      const env = StreamExecutionEnvironment.getExecutionEnvironment().setRestartStrategy(RestartStrategies.noRestart());
      env.enableCheckpointing(10).getCheckpointConfig().setCheckpointStorage(new ReadOnlyAfterStart());
      env
        .fromSource(
          pacedSource(2000, (i) => i, 2),
          undefined,
          'paced',
        )
        .addSink({ invoke: () => {} });
      const e = await env.execute('read-only').then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(e).toMatchObject({ code: 'CHECKPOINT_FAILED' });
      expect((e as Error).message).toMatch(/writing the state of .* failed: EACCES: permission denied, open/);
      expect((e as Error).message).not.toContain('release lock');
    } finally {
      console.warn = warn;
    }
    expect(warnings.some((w) => /releasing the checkpoint storage lock failed too \(EACCES: permission denied, release lock/.test(w))).toBe(true);
  });
});
