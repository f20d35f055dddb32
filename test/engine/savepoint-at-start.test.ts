import { describe, expect, it } from 'vitest';
import { MemoryCheckpointStorage, StreamExecutionEnvironment } from '../../src/index.ts';
import { loadCheckpoint } from '../../src/engine/checkpoint-restore.ts';
import { pacedSource } from '../helpers/sources.ts';

describe('a savepoint asked for before the job runs', () => {
  it('stopWithSavepoint() right after executeAsync() waits for the job to run and returns a savepoint that restores', async () => {
    const storage = new MemoryCheckpointStorage();
    const env = StreamExecutionEnvironment.getExecutionEnvironment();
    env.enableCheckpointing(60_000).getCheckpointConfig().setCheckpointStorage(storage);
    env
      .fromSource(
        pacedSource(1_000_000, (i) => i, 10),
        undefined,
        'numbers',
      )
      .uid('numbers')
      .keyBy((i) => i % 3)
      .map((i) => i)
      .uid('map')
      .addSink({ invoke() {} });
    const job = await env.executeAsync('savepoint-at-start');
    const path = await job.stopWithSavepoint();
    expect(path).toMatch(/^savepoint-at-start\/savepoint-\d+$/);
    await expect(loadCheckpoint(storage, path)).resolves.toBeDefined();
  });

  it('without checkpointing it is refused at once, saying what to call', async () => {
    const env = StreamExecutionEnvironment.getExecutionEnvironment();
    env
      .fromSource(
        pacedSource(1_000_000, (i) => i, 10),
        undefined,
        'numbers',
      )
      .addSink({ invoke() {} });
    const job = await env.executeAsync('no-checkpoints');
    await expect(job.stopWithSavepoint()).rejects.toMatchObject({ code: 'CHECKPOINT_FAILED', message: expect.stringContaining('enableCheckpointing') });
    await job.cancel();
  });
});
