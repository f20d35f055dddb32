/**
 * IndexedDbSink in real Chromium (the browser's own IndexedDB, through idb): exactly once
 * across injected failures, and DOM events from a real element as the live source.
 */
import { describe, expect, it } from 'vitest';
import {
  EventTargetSource,
  IndexedDbSink,
  MemoryCheckpointStorage,
  RestartStrategies,
  StreamExecutionEnvironment,
  readIndexedDbSink,
} from '../../src/index.ts';
import { pacedSource } from '../helpers/sources.ts';

describe('IndexedDbSink in Chromium', () => {
  it('commits every record exactly once across two injected failures', async () => {
    const database = `eddy-sink-${Math.random().toString(36).slice(2)}`;
    const failAt = new Set([40, 130]);
    const env = StreamExecutionEnvironment.getExecutionEnvironment().enableCheckpointing(20).setRestartStrategy(RestartStrategies.fixedDelayRestart(5, 0));
    env.getCheckpointConfig().setCheckpointStorage(new MemoryCheckpointStorage());
    env
      .fromSource(
        pacedSource(200, (i) => i, 4),
        undefined,
        'paced',
      )
      .map((i: number) => {
        if (failAt.delete(i)) throw new Error(`injected at ${i}`);
        return i;
      })
      .addSink(new IndexedDbSink<number>({ database }));
    const client = await env.executeAsync('idb-sink-chromium');
    await client.result;
    expect(client.getNumRestarts()).toBe(2);
    const committed = await readIndexedDbSink<number>(database);
    expect(committed).toHaveLength(200);
    expect([...committed].sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });

  it('clicks on a real DOM element flow into the committed store', async () => {
    const database = `eddy-clicks-${Math.random().toString(36).slice(2)}`;
    const button = document.createElement('button');
    document.body.append(button);
    const env = StreamExecutionEnvironment.getExecutionEnvironment().enableCheckpointing(20);
    env.getCheckpointConfig().setCheckpointStorage(new MemoryCheckpointStorage());
    env
      .fromSource(new EventTargetSource(button, 'click', { map: (e: Event) => (e as MouseEvent).clientX, endOn: 'dblclick' }), undefined, 'clicks')
      .addSink(new IndexedDbSink<number>({ database }));
    const client = await env.executeAsync('dom-clicks');
    // The source listens once the job runs: click until the first one is committed.
    let x = 0;
    while ((await readIndexedDbSink<number>(database)).length === 0) {
      button.dispatchEvent(new MouseEvent('click', { clientX: ++x }));
      await new Promise((r) => setTimeout(r, 30));
    }
    button.dispatchEvent(new MouseEvent('dblclick'));
    await client.result;
    const committed = await readIndexedDbSink<number>(database);
    // Clicks before the listener was attached are not seen; those seen arrive once each, in order.
    expect(committed.length).toBeGreaterThan(0);
    expect(committed).toEqual(Array.from({ length: committed.length }, (_, i) => committed[0] + i));
    expect(committed.at(-1)).toBe(x);
  });
});
