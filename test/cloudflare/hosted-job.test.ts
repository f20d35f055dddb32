/**
 * A keyed job hosted in Durable Objects, in real workerd: its output equals the same job
 * run by the local executor in Node, also when objects are reset mid-stream, when a batch
 * is retried, and when a batch fails half-way in one object.
 */
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_WATERMARK } from '../../src/api/watermarks.ts';
import { StreamExecutionEnvironment } from '../../src/datastream/environment.ts';
import { batches, LARGE, readings, sorted, Tally, tallyWatermarks, type Reading } from './jobs.ts';
import { bundleWorker, persistDir, post, startWorkerd, type Answer } from './workerd.ts';

let script: string;
beforeAll(async () => {
  script = await bundleWorker(fileURLToPath(new URL('./fixtures/tally-worker.ts', import.meta.url)));
}, 60_000);

/** The Tally job in Node (local executor): main output and the LARGE side output. */
async function runInNode(events: Reading[], parallelism: number): Promise<{ output: unknown[]; large: unknown[] }> {
  const build = () => {
    const env = StreamExecutionEnvironment.getExecutionEnvironment().setParallelism(parallelism);
    return env
      .fromCollection(events)
      .assignTimestampsAndWatermarks(tallyWatermarks())
      .setParallelism(1)
      .keyBy((r) => r.key)
      .process(new Tally())
      .uid('process');
  };
  const output = await build().executeAndCollect('tally');
  const large = await build().getSideOutput(LARGE).executeAndCollect('tally-large');
  return { output, large };
}

/** Posts the events in batches of `size` (ids `b0`, `b1`, …), then the final watermark; collects the answers. */
async function postAll(send: (body: unknown) => Promise<{ status: number; json: Answer }>, events: Reading[], size: number) {
  const output: unknown[] = [];
  const large: unknown[] = [];
  const parts = batches(events, size);
  for (let i = 0; i <= parts.length; i++) {
    const body = i < parts.length ? { id: `b${i}`, events: parts[i] } : { id: 'end', events: [], watermark: MAX_WATERMARK };
    const { status, json } = await send(body);
    expect(status, JSON.stringify(json)).toBe(200);
    output.push(...json.output);
    large.push(...(json.sideOutputs[LARGE.id] ?? []));
  }
  return { output, large };
}

describe.each(['heap', 'durable-object', 'durable-object-cache'])('keyedJob in Durable Objects (workerd), keyed state: %s', (backend) => {
  const events = readings(400);
  let expected: { output: unknown[]; large: unknown[] };
  beforeAll(async () => {
    expected = await runInNode(events, 2);
  });

  it('processes a stream across three objects with the output of the local executor', async () => {
    const mf = await startWorkerd(script, { BACKEND: backend, PARALLELISM: '3' });
    try {
      const got = await postAll((b) => post(mf, '/events', b), events, 25);
      expect(expected.output.length).toBeGreaterThan(400); // records and timer reports
      expect(expected.large.length).toBeGreaterThan(0);
      expect(sorted(got.output)).toEqual(sorted(expected.output));
      expect(sorted(got.large)).toEqual(sorted(expected.large));
    } finally {
      await mf.dispose();
    }
  });

  it('keeps its state when objects are reset mid-stream: one object, then the whole runtime', async () => {
    const dir = persistDir();
    let mf = await startWorkerd(script, { BACKEND: backend, PARALLELISM: '3' }, dir.path);
    try {
      const parts = batches(events, 25);
      const output: unknown[] = [];
      const large: unknown[] = [];
      for (let i = 0; i <= parts.length; i++) {
        if (i === 5) {
          // ctx.abort(): the object loses its memory, keeps its storage.
          const reset = await mf.dispatchFetch('http://localhost/test/abort?subtask=1');
          expect(await reset.text()).toMatch(/reset by the test/);
        }
        if (i === 10) {
          // Every object and the Worker gone; only the persisted storage is left.
          await mf.dispose();
          mf = await startWorkerd(script, { BACKEND: backend, PARALLELISM: '3' }, dir.path);
        }
        const body = i < parts.length ? { id: `b${i}`, events: parts[i] } : { id: 'end', events: [], watermark: MAX_WATERMARK };
        const { status, json } = await post(mf, '/events', body);
        expect(status, JSON.stringify(json)).toBe(200);
        expect(json.replayed).toEqual([]);
        output.push(...json.output);
        large.push(...(json.sideOutputs[LARGE.id] ?? []));
      }
      expect(sorted(output)).toEqual(sorted(expected.output));
      expect(sorted(large)).toEqual(sorted(expected.large));
    } finally {
      await mf.dispose();
      dir.dispose();
    }
  });

  it('answers a retried batch with its stored output and does not apply it twice', async () => {
    const mf = await startWorkerd(script, { BACKEND: backend, PARALLELISM: '3' });
    try {
      let retried = 0;
      const got = await postAll(
        async (body) => {
          const first = await post(mf, '/events', body);
          // Every third batch is sent again, as a client would after a lost answer.
          if ((body as { id: string }).id.slice(1) !== '' && Number((body as { id: string }).id.slice(1)) % 3 === 0) {
            const again = await post(mf, '/events', body);
            expect(again.status).toBe(200);
            expect(again.json.output).toEqual(first.json.output);
            expect(again.json.replayed.length).toBeGreaterThan(0);
            retried++;
          }
          return first;
        },
        events,
        25,
      );
      expect(retried).toBeGreaterThan(3);
      expect(sorted(got.output)).toEqual(sorted(expected.output));
      expect(sorted(got.large)).toEqual(sorted(expected.large));
    } finally {
      await mf.dispose();
    }
  });

  it('rolls a batch back in the object where the function threw, and applies it once on retry', async () => {
    const mf = await startWorkerd(script, { BACKEND: backend, PARALLELISM: '3' });
    try {
      const parts = batches(events, 25);
      // The 10th reading of batch 4 throws after its state writes: that object must roll back all of batch 4.
      const poisoned = parts[4][10];
      await mf.dispatchFetch(`http://localhost/test/fail-once?reading=${encodeURIComponent(`${poisoned.key}@${poisoned.ts}`)}`);
      let failures = 0;
      const got = await postAll(
        async (body) => {
          let answer = await post(mf, '/events', body);
          if (answer.status !== 200) {
            failures++;
            expect(answer.json.error?.code).toBe('USER_FUNCTION_FAILED');
            expect(answer.json.error?.message).toMatch(/poisoned reading/);
            answer = await post(mf, '/events', body);
            // The objects that had applied it answer from storage; the failed one applies it now.
            expect(answer.json.replayed.length).toBeGreaterThan(0);
          }
          return answer;
        },
        events,
        25,
      );
      expect(failures).toBe(1);
      expect(sorted(got.output)).toEqual(sorted(expected.output));
      expect(sorted(got.large)).toEqual(sorted(expected.large));
    } finally {
      await mf.dispose();
    }
  });
});
