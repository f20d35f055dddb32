/**
 * Bad input to a hosted keyed job is a typed EddyError with a stable code, named by
 * component and job: bad options at once in `keyedJob()`, bad batches and keys with a
 * 400 answer in workerd, a changed parallelism refused by the objects (it goes through a
 * savepoint), and nothing applied by any of them.
 */
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { EddyError } from '../../src/api/errors.ts';
import { keyGroupForKey, subtaskForKeyGroup } from '../../src/format/key-groups.ts';
import { keyedJob } from '../../src/runtimes/cloudflare/keyed-job.ts';
import { readings, Tally } from './jobs.ts';
import { bundleWorker, persistDir, post, startWorkerd } from './workerd.ts';

describe('keyedJob() options', () => {
  const ok = { keyBy: (r: { key: string }) => r.key, process: new Tally(), parallelism: 2 };
  it.each([
    ['parallelism 0', { ...ok, parallelism: 0 }, /parallelism must be an integer in 1\.\.128/],
    ['parallelism over maxParallelism', { ...ok, parallelism: 9, maxParallelism: 8 }, /parallelism must be an integer in 1\.\.8/],
    ['keyBy missing', { ...ok, keyBy: undefined }, /keyBy must be a function/],
    ['process without processElement', { ...ok, process: {} }, /process must be a KeyedProcessFunction/],
    ['retainedBatches 0', { ...ok, retainedBatches: 0 }, /retainedBatches must be a positive integer/],
  ])('%s is an INVALID_CONFIG error', (_name, options, message) => {
    let error: unknown;
    try {
      keyedJob(options as never);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(EddyError);
    expect(error).toMatchObject({ code: 'INVALID_CONFIG', message: expect.stringMatching(message) });
    expect((error as Error).message).toMatch(/\[runtime:cloudflare\] keyedJob\(\)/);
  });
});

describe('bad input in workerd', () => {
  let script: string;
  beforeAll(async () => {
    script = await bundleWorker(fileURLToPath(new URL('./fixtures/tally-worker.ts', import.meta.url)));
  }, 60_000);

  it('refuses a malformed batch and an event without a valid key, and applies nothing of it', async () => {
    const mf = await startWorkerd(script, { PARALLELISM: '2' });
    try {
      const notArray = await post(mf, '/events', { id: 'x', events: 'nope' });
      expect(notArray.status).toBe(400);
      expect(notArray.json.error).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/events is not an array/) });
      const badId = await post(mf, '/events', { id: '', events: [] });
      expect(badId.json.error).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/id must be a non-empty string/) });
      // keyBy gives undefined for an event without `key`: eddy's key rules refuse it in the Worker.
      const [good] = readings(1);
      const badKey = await post(mf, '/events', { id: 'k', events: [good, { amount: 1, ts: 5 }] });
      expect(badKey.status).toBe(400);
      expect(badKey.json.error?.code).toBe('INVALID_KEY');
      // Nothing of the refused batch was applied: the first reading counts 1 when it comes alone.
      const next = await post(mf, '/events', { id: 'k2', events: [good] });
      expect(next.json.output).toEqual([expect.objectContaining({ key: good.key, n: 1 })]);
    } finally {
      await mf.dispose();
    }
  });

  it('refuses to run objects at another parallelism than they were started with', async () => {
    const dir = persistDir();
    let mf = await startWorkerd(script, { PARALLELISM: '2' }, dir.path);
    try {
      const events = readings(40);
      expect((await post(mf, '/events', { id: 'p0', events })).status).toBe(200);
      await mf.dispose();
      mf = await startWorkerd(script, { PARALLELISM: '3' }, dir.path);
      // Only events of subtask 2 of 3: an object that never existed, which alone would accept them.
      const onlyNew = events.filter((r) => subtaskForKeyGroup(128, 3, keyGroupForKey(r.key, 128)) === 2);
      expect(onlyNew.length).toBeGreaterThan(0);
      const answer = await post(mf, '/events', { id: 'p1', events: onlyNew });
      expect(answer.status).toBe(400);
      expect(answer.json.error).toMatchObject({
        code: 'INVALID_CONFIG',
        // Subtask 0 is asked first, before any object gets a batch.
        message: expect.stringMatching(/subtask 0: .*this object is subtask 0 of 2 .*asked to be subtask 0 of 3.*through a savepoint/),
      });
    } finally {
      await mf.dispose();
      dir.dispose();
    }
  });
});
