/**
 * The continuous side of a hosted job in workerd: batches over a WebSocket, and
 * processing-time timers that fire on the objects' alarms.
 */
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_WATERMARK } from '../../src/api/watermarks.ts';
import { StreamExecutionEnvironment } from '../../src/datastream/environment.ts';
import { batches, readings, sorted, Tally, tallyWatermarks } from './jobs.ts';
import { bundleWorker, post, startWorkerd, type Answer } from './workerd.ts';

let script: string;
beforeAll(async () => {
  script = await bundleWorker(fileURLToPath(new URL('./fixtures/tally-worker.ts', import.meta.url)));
}, 60_000);

describe('keyedJob streams and alarms (workerd)', () => {
  it('takes a stream of batches over a WebSocket and answers each in order', async () => {
    const events = readings(200, 8, 11);
    const expected = await StreamExecutionEnvironment.getExecutionEnvironment()
      .setParallelism(3)
      .fromCollection(events)
      .assignTimestampsAndWatermarks(tallyWatermarks())
      .setParallelism(1)
      .keyBy((r) => r.key)
      .process(new Tally())
      .executeAndCollect('tally');
    const mf = await startWorkerd(script, { PARALLELISM: '2' });
    try {
      const response = await mf.dispatchFetch('http://localhost/events', { headers: { Upgrade: 'websocket' } });
      expect(response.status).toBe(101);
      const ws = response.webSocket!;
      ws.accept();
      const answers: Answer[] = [];
      const messages = [...batches(events, 20).map((b, i) => ({ id: `w${i}`, events: b })), { id: 'w-end', events: [], watermark: MAX_WATERMARK }];
      const done = new Promise<void>((resolve) => {
        ws.addEventListener('message', (e) => {
          answers.push(JSON.parse(String(e.data)) as Answer);
          if (answers.length === messages.length) resolve();
        });
      });
      // All sent at once: the Worker answers them one after the other.
      for (const m of messages) ws.send(JSON.stringify(m));
      await done;
      ws.close();
      expect(answers.map((a) => a.id)).toEqual(messages.map((m) => m.id));
      expect(answers.every((a) => a.error === undefined)).toBe(true);
      expect(sorted(answers.flatMap((a) => a.output))).toEqual(sorted(expected));
    } finally {
      await mf.dispose();
    }
  });

  it('fires processing-time timers on the alarm; their output survives a reset and goes out with the next batch', async () => {
    const mf = await startWorkerd(script, { BACKEND: 'durable-object', JOB: 'idle', PARALLELISM: '2' });
    try {
      const events = readings(30, 4, 3);
      const first = await post(mf, '/events', { id: 'i0', events });
      expect(first.status).toBe(200);
      expect(first.json.output).toEqual([]); // nothing is idle yet
      // The timers are 300 ms of processing time away; the alarms fire them, then the objects are reset.
      await new Promise((r) => setTimeout(r, 1_000));
      for (const subtask of [0, 1]) await mf.dispatchFetch(`http://localhost/test/abort?subtask=${subtask}`);
      const keys = [...new Set(events.map((e) => e.key))].sort();
      const got: unknown[] = [];
      // A loaded machine may run an alarm late: poll (an empty batch) until every key reported.
      for (let poll = 1; got.length < keys.length && poll < 40; poll++) {
        const next = await post(mf, '/events', { id: `i${poll}`, events: [] });
        expect(next.status).toBe(200);
        got.push(...next.json.output);
        if (got.length < keys.length) await new Promise((r) => setTimeout(r, 250));
      }
      const seen = Object.fromEntries(keys.map((k) => [k, events.filter((e) => e.key === k).length]));
      expect(sorted(got)).toEqual(sorted(keys.map((key) => ({ key, idle: true, seen: seen[key], domain: 'PROCESSING_TIME' }))));
      // Delivered once: the outbox was emptied in the batch's transaction.
      const after = await post(mf, '/events', { id: 'i-last', events: [] });
      expect(after.json.output).toEqual([]);
    } finally {
      await mf.dispose();
    }
  });
});
