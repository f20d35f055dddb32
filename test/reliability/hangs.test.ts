/**
 * Issue 14, items 5 and 6: a job must settle. Cancelling or stopping it with a savepoint
 * resolves even when its source is idle or its whole pipeline is one chained task, and a
 * user function that never resolves is abandoned instead of hanging the job forever.
 * Every test here asserts settlement itself, within a limit well below vitest's timeout
 * (see hangLimit: 3 s on an idle machine, longer on a loaded one).
 */
import { describe, expect, it } from 'vitest';
import { MemoryCheckpointStorage, RestartStrategies, StreamExecutionEnvironment, type Source } from '../../src/index.ts';
import { loadCheckpoint } from '../../src/engine/checkpoint-restore.ts';

/** Resolves to 'settled' or 'hung' (after `ms`), never waits longer. */
async function settles(p: Promise<unknown>, ms: number): Promise<'settled' | 'hung'> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<'hung'>((r) => (timer = setTimeout(() => r('hung'), ms)));
  try {
    return await Promise.race([
      p.then(
        () => 'settled' as const,
        () => 'settled' as const,
      ),
      hung,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Vitest's own bound for each test here: only a backstop, far above any hangLimit(). */
const TEST_TIMEOUT = 60_000;

/**
 * How long a job may take to settle before it counts as hung, measured in the test that
 * uses it: 20 × the wall time of 200 small jobs run to their end just now, at least 3 s and
 * at most 25 s. On an idle machine the 200 jobs take a few tens of ms, so the limit is the 3 s
 * it always was; on a loaded one (load 20+ on two cores, a file beside the engine tests) they
 * take as much longer as the settling does (100–450 ms at load 11). A hang never settles, so
 * any finite limit still catches it.
 */
async function hangLimit(): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < 200; i++) {
    const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(1);
    env
      .fromElements(0, 1, 2, 3, 4)
      .map((x) => x * 2)
      .addSink({ invoke: () => {} });
    await env.execute('baseline');
  }
  const ms = performance.now() - started;
  if (process.env.HANGS_DEBUG) console.log(`200 small jobs: ${ms.toFixed(1)} ms`);
  return Math.min(25_000, Math.max(3_000, Math.round(20 * ms)));
}

/** An unbounded source that hands out `n` records, then nothing: idle by returning [] (or a Promise that never resolves). */
function idleAfter(n: number, mode: 'empty' | 'pending'): Source<number> {
  return {
    boundedness: 'unbounded',
    replayable: true,
    createReader() {
      let next = 0;
      return {
        poll: () => {
          if (next < n) return [next++];
          return mode === 'empty' ? [] : new Promise<never>(() => {});
        },
        snapshotSplits: () => [{ next }],
        restoreSplits: (s) => void (next = (s[0] as { next: number } | undefined)?.next ?? 0),
      };
    },
  };
}

function chainedJob(mode: 'empty' | 'pending') {
  const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(1);
  const storage = new MemoryCheckpointStorage();
  env.enableCheckpointing(20).getCheckpointConfig().setCheckpointStorage(storage);
  const seen: number[] = [];
  env
    .fromSource(idleAfter(5, mode), undefined, 'Idle')
    .map((x) => x * 2)
    .addSink({ invoke: (x: number) => void seen.push(x) });
  return { env, storage, seen };
}

describe('cancel and stop-with-savepoint settle (issue 14, item 5)', () => {
  for (const mode of ['empty', 'pending'] as const) {
    it(`cancel() resolves for a chained job whose source is idle (poll → ${mode === 'empty' ? '[]' : 'a Promise that never resolves'})`, {
      timeout: TEST_TIMEOUT,
    }, async () => {
      const limit = await hangLimit();
      const { env, seen } = chainedJob(mode);
      const client = await env.executeAsync(`idle-cancel-${mode}`);
      while (seen.length < 5) await new Promise((r) => setTimeout(r, 5));
      expect(await settles(client.cancel(), limit)).toBe('settled');
      expect(client.getJobStatus()).toBe('CANCELED');
      await expect(client.result).rejects.toMatchObject({ code: 'JOB_CANCELLED' });
    });

    if (mode === 'empty') {
      it("stopWithSavepoint() returns the savepoint's path for an idle chained job (poll → [])", { timeout: TEST_TIMEOUT }, async () => {
        const limit = await hangLimit();
        const { env, storage, seen } = chainedJob(mode);
        const client = await env.executeAsync('idle-stop-empty');
        while (seen.length < 5) await new Promise((r) => setTimeout(r, 5));
        const stopping = client.stopWithSavepoint();
        expect(await settles(stopping, limit)).toBe('settled');
        const path = await stopping;
        expect(path).toMatch(/savepoint-\d+$/);
        expect(client.getJobStatus()).toBe('CANCELED');
        const loaded = await loadCheckpoint(storage, path);
        expect(loaded.manifest.savepoint).toBe(true);
        expect(seen).toEqual([0, 2, 4, 6, 8]);
      });
    } else {
      it('stopWithSavepoint() of a job whose poll never returns settles at the checkpoint timeout, naming the source, and the job keeps running', {
        timeout: TEST_TIMEOUT,
      }, async () => {
        const limit = await hangLimit();
        const { env, seen } = chainedJob(mode);
        // A fixed 300 ms even on a loaded machine: the source never acknowledges, so the savepoint expires whenever its timer fires.
        env.getCheckpointConfig().setCheckpointTimeout(300);
        const client = await env.executeAsync('idle-stop-pending');
        while (seen.length < 5) await new Promise((r) => setTimeout(r, 5));
        const stopping = client.stopWithSavepoint();
        expect(await settles(stopping, limit)).toBe('settled');
        const e = await stopping.then(
          () => undefined,
          (err: unknown) => err,
        );
        expect(e).toMatchObject({ code: 'CHECKPOINT_FAILED' });
        expect((e as Error).message).toMatch(/savepoint \d+ expired after 300 ms; not acknowledged by Idle \(1\/1\)/);
        expect(client.getJobStatus()).toBe('RUNNING');
        expect(await settles(client.cancel(), limit)).toBe('settled');
        expect(client.getJobStatus()).toBe('CANCELED');
      });
    }
  }
});

/** A job whose map never returns from its third record. */
function stuckJob(name: string, configure: (env: StreamExecutionEnvironment) => void) {
  const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(1);
  configure(env);
  const seen: number[] = [];
  env
    .fromSource(idleAfter(10, 'empty'), undefined, 'Numbers')
    .map((x) => (x === 2 ? new Promise<number>(() => {}) : x))
    .name('Stuck')
    .addSink({ invoke: (x: number) => void seen.push(x) });
  return { client: env.executeAsync(name), seen };
}

describe('a user function that never returns is abandoned and the job settles (issue 14, item 6)', () => {
  it('the checkpoint timeout fails the attempt, the stuck task is abandoned, and the job fails with the checkpoint error', {
    timeout: TEST_TIMEOUT,
  }, async () => {
    const limit = await hangLimit();
    // 200 ms timeouts even on a loaded machine: the stuck map never acknowledges, so checkpoint 1 expires whenever its timer fires.
    const { client } = stuckJob('stuck-checkpoint', (env) => {
      env.enableCheckpointing(20).setRestartStrategy(RestartStrategies.noRestart()).setTaskCancellationTimeout(200);
      env.getCheckpointConfig().setCheckpointTimeout(200);
    });
    const c = await client;
    expect(await settles(c.result, limit)).toBe('settled');
    await expect(c.result).rejects.toMatchObject({ code: 'CHECKPOINT_FAILED' });
    await expect(c.result).rejects.toThrow(/not acknowledged by Numbers \(1\/1\)/);
    expect(c.getJobStatus()).toBe('FAILED');
    expect(await settles(c.cancel(), limit / 3)).toBe('settled');
  });

  it('cancel() of a job stuck in a user function resolves after the task cancellation timeout', { timeout: TEST_TIMEOUT }, async () => {
    const limit = await hangLimit();
    const warnings: string[] = [];
    const warn = console.warn;
    console.warn = (m: string) => void warnings.push(m);
    try {
      const { client, seen } = stuckJob('stuck-cancel', (env) => env.setTaskCancellationTimeout(300));
      const c = await client;
      while (seen.length < 2) await new Promise((r) => setTimeout(r, 5));
      const started = Date.now();
      expect(await settles(c.cancel(), limit)).toBe('settled');
      // Not before the cancellation timeout (300 ms): a load only makes this later.
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
      expect(c.getJobStatus()).toBe('CANCELED');
      await expect(c.result).rejects.toMatchObject({ code: 'JOB_CANCELLED' });
      expect(seen).toEqual([0, 1]);
    } finally {
      console.warn = warn;
    }
    expect(warnings.some((w) => /Numbers \(1\/1\) did not stop within 300 ms.*abandoned/.test(w))).toBe(true);
  });

  it('setTaskCancellationTimeout refuses what is not a positive number of ms', () => {
    const env = StreamExecutionEnvironment.getExecutionEnvironment();
    for (const bad of [0, -1, NaN, '5' as unknown as number]) expect(() => env.setTaskCancellationTimeout(bad)).toThrow(/task cancellation timeout/);
  });
});

describe('a task stuck after acknowledging a checkpoint still fails the attempt', () => {
  it("the next checkpoint is triggered (and expires) although the stuck task never takes the completed one's notification", {
    timeout: TEST_TIMEOUT,
  }, async () => {
    const limit = await hangLimit();
    let writing = false;
    const storage = new (class extends MemoryCheckpointStorage {
      override async put(path: string, data: Uint8Array): Promise<void> {
        writing = true;
        await new Promise((r) => setTimeout(r, 30));
        return super.put(path, data);
      }
    })();
    const env = StreamExecutionEnvironment.getExecutionEnvironment()
      .setParallelism(1)
      .setRestartStrategy(RestartStrategies.noRestart())
      .setTaskCancellationTimeout(100);
    // Checkpoint 1 must complete (its 30-ms write included) before it times out, and on a
    // loaded machine that takes longer: 300 ms idle (limit / 10), scaled like the limit.
    env
      .enableCheckpointing(20)
      .getCheckpointConfig()
      .setCheckpointStorage(storage)
      .setCheckpointTimeout(Math.round(limit / 10));
    // Sticks on the first record after checkpoint 1 was acknowledged (its files are being written).
    env
      .fromSource(idleAfter(1e6, 'empty'), undefined, 'Numbers')
      .map((x) => (writing ? new Promise<number>(() => {}) : x))
      .addSink({ invoke: () => {} });
    const client = await env.executeAsync('stuck-after-ack');
    expect(await settles(client.result, (5 / 3) * limit)).toBe('settled');
    await expect(client.result).rejects.toMatchObject({ code: 'CHECKPOINT_FAILED' });
    await expect(client.result).rejects.toThrow(/checkpoint 2 expired/);
  });
});
